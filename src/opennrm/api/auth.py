"""Who is calling: a personal API token, or the browser's signed-in session."""

from datetime import timedelta

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from ninja.errors import HttpError
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from opennrm.accounts.models import ApiToken, User

# Recording every use would write a row per request; a minute is precise enough to spot
# forgotten or stolen tokens.
LAST_USED_PRECISION = timedelta(minutes=1)

# What a read-only token may do: read, and the POSTs that only read. Searching by name is a
# POST so that names stay out of addresses (and logs); a screening preview records nothing.
READING_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
READING_POSTS = frozenset({"api:search_cases", "api:search_persons", "api:preview_screening"})


def only_reads(request: HttpRequest) -> bool:
    """Whether the request only reads, so a read-only token may make it."""
    if request.method in READING_METHODS:
        return True
    match = request.resolver_match
    return request.method == "POST" and match is not None and match.view_name in READING_POSTS


class ApiTokenAuth(HttpBearer):
    """`Authorization: Bearer <token>` with a token from `opennrm tokens create`."""

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        if not token.startswith(ApiToken.PREFIX):
            return None
        api_token = ApiToken.find(token)
        if api_token is None or not api_token.is_usable() or not api_token.user.is_active:
            return None
        if api_token.read_only and not only_reads(request):
            raise HttpError(403, "This API token is read-only: it may read and search, but "
                                 "not change anything. Use a token with write access.")
        now = timezone.now()
        if api_token.last_used_at is None or now - api_token.last_used_at >= LAST_USED_PRECISION:
            ApiToken.objects.filter(pk=api_token.pk).update(last_used_at=now)
        # Middleware that looks at request.user (no-store caching) treats the caller as
        # signed in.
        request.user = api_token.user
        return api_token.user


class SessionAuth(APIKeyCookie):
    """The Django session of a signed-in browser; changes must carry the CSRF token.

    Unlike ninja's `django_auth`, a request without a signed-in session is simply not
    authenticated by this method (401), not refused for a missing CSRF token (403).
    """

    param_name = settings.SESSION_COOKIE_NAME

    def _get_key(self, request: HttpRequest) -> str | None:
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key: str | None) -> User | None:
        user = request.user
        if not (user.is_authenticated and user.is_active):
            return None
        if check_csrf(request):
            raise HttpError(403, "The CSRF token is missing or wrong. Reload the page.")
        return user
