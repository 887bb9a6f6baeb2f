"""Settings for the test suite: the real settings, with a throw-away key ring."""

import os
import tempfile

os.environ.setdefault("OPENNRM_TESTING", "1")
os.environ.setdefault("OPENNRM_DEBUG", "0")
os.environ.setdefault("OPENNRM_SSL_REDIRECT", "0")
os.environ.setdefault("OPENNRM_ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
os.environ.setdefault("OPENNRM_KEYRING", os.path.join(tempfile.mkdtemp(), "keyring.json"))
if os.environ.get("PYTEST_XDIST_WORKER"):
    # Each pytest-xdist worker its own ring: the workers inherit the controller's variable,
    # and one worker's key rotation tests must not retire the keys of another's data.
    os.environ["OPENNRM_KEYRING"] = os.path.join(tempfile.mkdtemp(), "keyring.json")
os.environ.setdefault("OPENNRM_MFA_ROLES", "")

from opennrm.settings import *  # noqa: E402,F403

# Fast hashing: the suite creates many users; production keeps Argon2.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A real file, so tests can read what lands on disk (pytest-xdist adds a suffix).
    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": os.path.join(tempfile.mkdtemp(), "opennrm-test.sqlite3")
    }

if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":  # noqa: F405
    # PostgreSQL's backend, emptied faster between transactional tests (see its docstring).
    DATABASES["default"]["ENGINE"] = "tests.postgresql_backend"  # noqa: F405
    # A test's commit need not wait for the disk: a lost test database is made again.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c synchronous_commit=off"  # noqa: F405

STATIC_ROOT = tempfile.mkdtemp()  # noqa: F405 - WhiteNoise warns about a missing folder
