"""What django-axes and the audit trail know of a sign-in attempt: who (the typed username,
kept only when it names a user) and from where (the client's address, taken from
X-Forwarded-For only behind a trusted reverse proxy).

settings.py points `AXES_USERNAME_CALLABLE` and `AXES_CLIENT_IP_CALLABLE` here.
"""

import ipaddress

from django.conf import settings
from django.http import HttpRequest

from opennrm.accounts.models import User
from opennrm.core.keyring import get_keyring

# Keeps the keyed hash of a typed username apart from every other use of the index key.
_DOMAIN = "sign-in username\0"
UNKNOWN_PREFIX = "unknown:"


def recorded_username(typed: str) -> str:
    """The typed username when it names a user, else `unknown:` and a keyed hash of it.

    People type their password into the username field; what they typed must not be kept
    in clear. The hash (HMAC with the key ring's index key) still lets an auditor see that
    the same unknown name was tried again, and lets the lockout count it.
    """
    if typed and User.objects.filter(username=typed).exists():
        return typed
    return UNKNOWN_PREFIX + get_keyring().blind_index(_DOMAIN + typed)[:32]


def axes_username(request: HttpRequest, credentials: dict | None) -> str:
    """AXES_USERNAME_CALLABLE: the name axes stores and locks out (see `recorded_username`)."""
    field = settings.AXES_USERNAME_FORM_FIELD
    if credentials is not None and field in credentials:
        typed = credentials.get(field)
    else:
        typed = request.POST.get(field) if request is not None else None
    return recorded_username(str(typed or ""))


def client_ip(request: HttpRequest) -> str | None:
    """AXES_CLIENT_IP_CALLABLE: the address a sign-in comes from.

    Without a trusted proxy (OPENNRM_TRUSTED_PROXY_COUNT = 0) it is the peer's address and
    X-Forwarded-For is ignored: anyone can send that header. Behind N trusted proxies, each
    appends the address it received the request from, so the client is the N-th address
    from the right; what the client wrote further left is ignored. A header with fewer
    addresses than proxies means the request did not come through them: the peer is used.
    """
    remote = request.META.get("REMOTE_ADDR")
    count = settings.OPENNRM_TRUSTED_PROXY_COUNT
    if count <= 0:
        return remote
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    hops = [hop for hop in hops if hop]
    if len(hops) < count:
        return remote
    candidate = hops[-count]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote
