import time

from django.conf import settings


class NoStoreMiddleware:
    """Keep pages of signed-in users out of browser and proxy caches.

    A shared computer's back button or disk cache must not show a person's case to the
    next user.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if getattr(request, "user", None) is not None and request.user.is_authenticated:
            response["Cache-Control"] = "no-store"
        return response


def session_renewal_seconds() -> int:
    """How often an active session's expiry is pushed forward (at most once a minute)."""
    return min(60, settings.SESSION_COOKIE_AGE // 10)


class SlidingSessionMiddleware:
    """Renew a signed-in user's session at most once a minute instead of on every request.

    The session still ends after SESSION_COOKIE_AGE without activity (give or take the
    renewal interval, which the browser's inactivity clock allows for), but a page view no
    longer costs a database write and commit.
    """

    KEY = "_renewed_at"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = int(time.time())
            if now - request.session.get(self.KEY, 0) >= session_renewal_seconds():
                request.session[self.KEY] = now  # marks the session modified: saved
        return self.get_response(request)
