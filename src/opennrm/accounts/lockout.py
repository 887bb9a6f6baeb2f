"""What django-axes and the audit trail know of a sign-in attempt: who (the typed username,
kept only when it names a user) and from where (the client's address, found by django-ipware,
from X-Forwarded-For only behind a trusted reverse proxy).

settings.py points `AXES_USERNAME_CALLABLE` and `AXES_CLIENT_IP_CALLABLE` here.
"""

from django.conf import settings
from django.http import HttpRequest
from ipware.ip import get_client_ip

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
    """AXES_CLIENT_IP_CALLABLE: the address a sign-in comes from, found by django-ipware with
    django-axes' AXES_IPWARE_* settings (settings.py derives them from
    OPENNRM_TRUSTED_PROXY_COUNT), or else the peer's address.

    This is the call django-axes makes itself when ipware is installed. The one thing added:
    ipware answers None when X-Forwarded-For has fewer entries than the configured proxies
    (it applies the proxy count to REMOTE_ADDR as well). Such a request did not come through
    the proxies, so the peer is the client; None would count all such requests as one.
    """
    address, _routable = get_client_ip(
        request,
        proxy_order=settings.AXES_IPWARE_PROXY_ORDER,
        proxy_count=settings.AXES_IPWARE_PROXY_COUNT,
        proxy_trusted_ips=settings.AXES_IPWARE_PROXY_TRUSTED_IPS,
        request_header_order=settings.AXES_IPWARE_META_PRECEDENCE_ORDER,
    )
    return address or request.META.get("REMOTE_ADDR")
