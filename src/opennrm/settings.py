"""Django settings, read from the environment.

Safe by default: DEBUG is off unless OPENNRM_DEBUG=1 (which `opennrm run` sets for the
local demo). In production the operator must set OPENNRM_SECRET_KEY, OPENNRM_ALLOWED_HOSTS,
DATABASE_URL and OPENNRM_KEYRING.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(os.environ.get("OPENNRM_VAR_DIR", Path.cwd() / "var"))


def env_flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_flag("OPENNRM_DEBUG")

SECRET_KEY = os.environ.get("OPENNRM_SECRET_KEY", "")
if not SECRET_KEY:
    # Commands of the `opennrm` CLI sign nothing, so they may run without a secret key.
    if not DEBUG and not env_flag("OPENNRM_TESTING") and not env_flag("OPENNRM_CLI"):
        raise ImproperlyConfigured(
            "OPENNRM_SECRET_KEY is not set. Set it to a long random value "
            "(python -c 'import secrets; print(secrets.token_urlsafe(50))')."
        )
    SECRET_KEY = "insecure-local-development-only-" + "x" * 20

ALLOWED_HOSTS = env_list("OPENNRM_ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("OPENNRM_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "django_htmx",
    "csp",
    "ninja",
    "opennrm.core",
    "opennrm.accounts",
    "opennrm.audit",
    "opennrm.cases",
    "opennrm.screening",
    "opennrm.services",
    "opennrm.referrals",
    "opennrm.protection",
    "opennrm.casefile",
    "opennrm.justice",
    "opennrm.reminders",
    "opennrm.statistics",
    "opennrm.transnational",
    "opennrm.linkage",
    "opennrm.linkage.crossborder",
    "opennrm.regional",
    "opennrm.reports",
    "opennrm.workspace",
    "opennrm.api",
    "django_tasks",
    "django_tasks_db",
]
# The case file (opennrm.casefile, docs/casefile.md): attachments of at most this size, of
# these types (read from the content), kept in memory while uploaded, never in a temporary
# file in clear; the marking every page of a printed case summary carries (empty: the
# built-in, translated one).
OPENNRM_ATTACHMENT_MAX_BYTES = int(os.environ.get("OPENNRM_ATTACHMENT_MAX_BYTES",
                                                  str(10 * 1024 * 1024)))
OPENNRM_ATTACHMENT_TYPES = env_list("OPENNRM_ATTACHMENT_TYPES",
                                    "application/pdf,image/jpeg,image/png,image/webp")
FILE_UPLOAD_MAX_MEMORY_SIZE = OPENNRM_ATTACHMENT_MAX_BYTES + 1024 * 1024
OPENNRM_SUMMARY_MARKING = os.environ.get("OPENNRM_SUMMARY_MARKING", "")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before anything reads a body: too large (413) or not UTF-8 (400) is refused unread.
    "opennrm.core.middleware.RequestBodyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "opennrm.core.middleware.SlidingSessionMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "opennrm.core.middleware.NoStoreMiddleware",
    # Axes must be last so that it sees the outcome of authentication.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "opennrm.urls"
WSGI_APPLICATION = "opennrm.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "opennrm.core.context_processors.session_timeout",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'opennrm.sqlite3'}"),
        conn_max_age=int(os.environ.get("OPENNRM_DB_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # WAL lets readers work while one writer commits; IMMEDIATE avoids "database is locked"
    # upgrades in the middle of a write transaction.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "opennrm.accounts.backends.AgencyModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Sessions: short, sliding, gone when the browser closes (shared screens, shared laptops).
SESSION_COOKIE_AGE = int(os.environ.get("OPENNRM_SESSION_SECONDS", str(30 * 60)))
# Renewed at most once a minute by core.middleware.SlidingSessionMiddleware, not on every request.
SESSION_SAVE_EVERY_REQUEST = False
# The browser warns this many seconds before the session ends, then signs the user out and
# clears the screen (a caseworker may have walked away from a shared computer).
OPENNRM_SESSION_WARNING_SECONDS = int(os.environ.get("OPENNRM_SESSION_WARNING_SECONDS", "120"))
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# Cookies ignore ports: nodes side by side on one host (`opennrm demo-network`) need their own
# cookie names, or signing in to one signs out of the other.
SESSION_COOKIE_NAME = os.environ.get("OPENNRM_SESSION_COOKIE_NAME", "sessionid")
CSRF_COOKIE_NAME = os.environ.get("OPENNRM_CSRF_COOKIE_NAME", "csrftoken")

# Login lockout (django-axes): 5 failures lock the username from that address for 30 minutes.
AXES_FAILURE_LIMIT = int(os.environ.get("OPENNRM_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = float(os.environ.get("OPENNRM_LOGIN_COOLOFF_HOURS", "0.5"))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
# A typed username is kept (and locked out) as it is only when it names a user, otherwise as
# a keyed hash: people type their password into the username field.
AXES_USERNAME_CALLABLE = "opennrm.accounts.lockout.axes_username"
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "code"]
# Behind a reverse proxy: how many proxies in front of the node append to X-Forwarded-For.
# 0 (the default) ignores that header, which any client can send; see docs/security.md.
OPENNRM_TRUSTED_PROXY_COUNT = int(os.environ.get("OPENNRM_TRUSTED_PROXY_COUNT", "0"))
# django-ipware finds the client's address, as django-axes configures it. Each proxy appends
# the address it received the request from ("left-most": client first), and the last proxy
# is the peer (REMOTE_ADDR), not in the header: N proxies leave N - 1 entries right of the
# client, which is ipware's proxy count. Entries further left, written by the client, are
# ignored; lenient parsing (IPWARE_STRICT = False) reads the header even when they are there
# or are not addresses, instead of counting every such client as the proxy.


def trusted_proxy_ipware(count: int) -> dict[str, object]:
    """django-axes' ipware settings for `count` trusted proxies (tests override with them)."""
    if count <= 0:
        return {"AXES_IPWARE_META_PRECEDENCE_ORDER": ("REMOTE_ADDR",),
                "AXES_IPWARE_PROXY_COUNT": None}
    return {"AXES_IPWARE_META_PRECEDENCE_ORDER": ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"),
            "AXES_IPWARE_PROXY_COUNT": count - 1}


_ipware = trusted_proxy_ipware(OPENNRM_TRUSTED_PROXY_COUNT)
AXES_IPWARE_PROXY_ORDER = "left-most"
AXES_IPWARE_META_PRECEDENCE_ORDER = _ipware["AXES_IPWARE_META_PRECEDENCE_ORDER"]
AXES_IPWARE_PROXY_COUNT = _ipware["AXES_IPWARE_PROXY_COUNT"]
IPWARE_STRICT = False
AXES_CLIENT_IP_CALLABLE = "opennrm.accounts.lockout.client_ip"

# Roles that must present a TOTP code at login. Off for the local demo, on in production.
OPENNRM_MFA_ROLES = env_list(
    "OPENNRM_MFA_ROLES", "" if DEBUG else "administrator,national_coordinator,auditor"
)
OTP_TOTP_ISSUER = "OpenNRM"
# Personal API tokens: how many days a new one works unless a shorter or longer time (at most
# 365 days) is chosen, and the roles that may create one only in a session verified with a
# TOTP code (the roles of OPENNRM_MFA_ROLES need it too). See docs/security.md.
OPENNRM_API_TOKEN_DAYS = int(os.environ.get("OPENNRM_API_TOKEN_DAYS", "90"))
OPENNRM_TOKEN_MFA_ROLES = env_list("OPENNRM_TOKEN_MFA_ROLES",
                                   "administrator,national_coordinator,auditor")
# No throttle of django-otp's own: after a wrong code it refused even the right one for a
# while (and that refusal counted towards the lockout). The lockout above limits guessing:
# every wrong code is a failed sign-in.
OTP_TOTP_THROTTLE_FACTOR = 0

OPENNRM_KEYRING = Path(os.environ.get("OPENNRM_KEYRING", VAR_DIR / "keyring.json"))
OPENNRM_COUNTRY = os.environ.get("OPENNRM_COUNTRY", "MD")
# Request bodies: the largest accepted at all (an upload: the HSDS zip holds at most 50 MiB
# of CSV, so its zip is smaller), and the largest that is not a file upload (a JSON body, a
# form). Larger ones are answered 413 before they are read (docs/security.md).
OPENNRM_MAX_BODY_BYTES = int(os.environ.get("OPENNRM_MAX_BODY_BYTES", str(52 * 1024 * 1024)))
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("OPENNRM_MAX_FORM_BYTES",
                                                 str(2 * 1024 * 1024 + 512 * 1024)))
# Statistics: the most differential-privacy budget (ε) one dataset may spend on one period,
# and the resident population for SDG 16.2.2 rates (see docs/statistics.md).
OPENNRM_DP_BUDGET = float(os.environ.get("OPENNRM_DP_BUDGET", "1.0"))
# The budget each partner may receive of one table set and period (docs/regional-statistics.md).
# Linkage across borders (docs/cross-border-linkage.md): the roles that see "also known in
# country X" on a case they may see, and whether an invitation to a round of a known
# agreement is joined without a coordinator's answer.
OPENNRM_CROSS_BORDER_PRESENCE_ROLES = env_list("OPENNRM_CROSS_BORDER_PRESENCE_ROLES",
                                               "national_coordinator,supervisor")
OPENNRM_CROSS_BORDER_AUTO_JOIN = env_flag("OPENNRM_CROSS_BORDER_AUTO_JOIN", False)
OPENNRM_REGIONAL_DP_BUDGET = float(os.environ.get("OPENNRM_REGIONAL_DP_BUDGET",
                                                  OPENNRM_DP_BUDGET))
OPENNRM_POPULATION_FILE = os.environ.get("OPENNRM_POPULATION_FILE", "")
# What a case list shows of the person to those who may see identities, for their own
# agency's cases: "initials" (M. S.), "given_name" (Maria S.), or "" (the case number only).
OPENNRM_CASE_LIST_NAMES = os.environ.get("OPENNRM_CASE_LIST_NAMES", "initials")

# The node's own address, for links in e-mail notifications (`opennrm run` sets it from its
# host and port when it is not set).
OPENNRM_BASE_URL = os.environ.get("OPENNRM_BASE_URL", "http://127.0.0.1:8000")
# Background work (reminder sweeps, e-mail): the Django Tasks API with its database backend,
# run by `opennrm worker`. No broker: the queue is a table in the node's own database.
TASKS = {
    "default": {
        "BACKEND": os.environ.get("OPENNRM_TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}

# Notifications: a real node sets an SMTP backend (EMAIL_HOST, …); the demo prints them.
EMAIL_BACKEND = os.environ.get("OPENNRM_EMAIL_BACKEND",
                               "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("OPENNRM_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("OPENNRM_EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("OPENNRM_EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("OPENNRM_EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = os.environ.get("OPENNRM_EMAIL_USE_TLS", "0") == "1"
DEFAULT_FROM_EMAIL = os.environ.get("OPENNRM_FROM_EMAIL", "opennrm@localhost")

# Who decides formal identification ("role:agency type", "*" = any type). Each country
# names its competent authority: police, prosecution, a multidisciplinary commission…
OPENNRM_IDENTIFICATION_DECIDERS = env_list(
    "OPENNRM_IDENTIFICATION_DECIDERS",
    "national_coordinator:*,supervisor:law_enforcement,supervisor:prosecution")
# When a case referred to the competent authority for formal identification reaches its
# decision-makers' queue: "referred" (as soon as it is referred, the consent in force) or
# "accepted" (once the authority has accepted the referral).
OPENNRM_IDENTIFICATION_QUEUE = os.environ.get("OPENNRM_IDENTIFICATION_QUEUE", "referred")
if OPENNRM_IDENTIFICATION_QUEUE not in ("referred", "accepted"):
    raise ImproperlyConfigured('OPENNRM_IDENTIFICATION_QUEUE must be "referred" or "accepted".')
# The recovery and reflection period a country grants at least (CETS 197 art. 13: never
# fewer than 30 days; the service refuses a setting below that).
OPENNRM_REFLECTION_PERIOD_MIN_DAYS = int(os.environ.get("OPENNRM_REFLECTION_PERIOD_MIN_DAYS",
                                                        "30"))
# Folders with a country's own indicator lists (JSON files, same schema as the built-in ones).
OPENNRM_INDICATOR_DIRS = env_list("OPENNRM_INDICATOR_DIRS", "")
# Folders with a country's own statistics table sets (TOML files, same schema as the
# built-in ones in statistics/definitions/; see docs/data-files.md).
OPENNRM_TABLE_SET_DIRS = env_list("OPENNRM_TABLE_SET_DIRS", "")

# The transnational channel (docs/transnational.md): the largest message a partner may send,
# how many a partner may send a minute, the clock skew tolerated, how long a message is
# valid, the delivery backoff (exponential, with jitter, capped) and the lease after which
# the sweeper takes back a delivery a dead worker left.
OPENNRM_TRM_MAX_MESSAGE_BYTES = int(os.environ.get("OPENNRM_TRM_MAX_MESSAGE_BYTES",
                                                   str(512 * 1024)))
OPENNRM_TRM_RATE_PER_MINUTE = int(os.environ.get("OPENNRM_TRM_RATE_PER_MINUTE", "6000"))
OPENNRM_TRM_CLOCK_SKEW_SECONDS = int(os.environ.get("OPENNRM_TRM_CLOCK_SKEW_SECONDS", "300"))
OPENNRM_TRM_MESSAGE_TTL_HOURS = float(os.environ.get("OPENNRM_TRM_MESSAGE_TTL_HOURS", "168"))
OPENNRM_TRM_BACKOFF_BASE_SECONDS = float(os.environ.get("OPENNRM_TRM_BACKOFF_BASE_SECONDS",
                                                        "1"))
OPENNRM_TRM_BACKOFF_MAX_SECONDS = float(os.environ.get("OPENNRM_TRM_BACKOFF_MAX_SECONDS",
                                                       "300"))
OPENNRM_TRM_LEASE_SECONDS = float(os.environ.get("OPENNRM_TRM_LEASE_SECONDS", "60"))
# Deliver right after the sender's commit (a thread of the process that wrote it) as well
# as from `opennrm trm worker`; 0 leaves delivery to the worker alone.
OPENNRM_TRM_DELIVER_ON_COMMIT = env_flag("OPENNRM_TRM_DELIVER_ON_COMMIT", True)
# The most messages the worker sends a partner in one request (POST /trm/v1/batch), and the
# most this node accepts in one.
OPENNRM_TRM_BATCH_SIZE = int(os.environ.get("OPENNRM_TRM_BATCH_SIZE", "50"))
# Batches in flight to one partner at a time (each partner's server works on that many at
# once; a case's messages that overtake each other wait at the receiver for their turn).
OPENNRM_TRM_IN_FLIGHT = int(os.environ.get("OPENNRM_TRM_IN_FLIGHT", "4"))

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("ro", "Română"), ("uk", "Українська"), ("ru", "Русский")]
TIME_ZONE = os.environ.get("OPENNRM_TIME_ZONE", "UTC")
USE_I18N = True
LOCALE_PATHS = [Path(__file__).resolve().parent / "locale"]
FORMAT_MODULE_PATH = ["opennrm.formats"]
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("OPENNRM_STATIC_ROOT", VAR_DIR / "static"))
# WhiteNoise serves the CSS and icons; without `collectstatic` it finds them in the apps.
WHITENOISE_USE_FINDERS = True

X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
# Not "no-referrer": browsers then send "Origin: null" on form posts and CSRF refuses them.
# "same-origin" still sends nothing to other sites.
SECURE_REFERRER_POLICY = "same-origin"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}
if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_flag("OPENNRM_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = int(os.environ.get("OPENNRM_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

NINJA_PAGINATION_PER_PAGE = 50

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("OPENNRM_LOG_LEVEL", "WARNING")},
}
