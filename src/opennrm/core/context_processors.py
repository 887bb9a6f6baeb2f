"""Values every page template needs."""

from django.conf import settings

from opennrm.core.middleware import session_renewal_seconds


def session_timeout(request) -> dict:
    """When the browser should warn about, and then end, an idle session (seconds)."""
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    # The server may have renewed the session up to one renewal interval before this page.
    return {
        "session_timeout_seconds": settings.SESSION_COOKIE_AGE - session_renewal_seconds(),
        "session_warning_seconds": min(settings.OPENNRM_SESSION_WARNING_SECONDS,
                                       settings.SESSION_COOKIE_AGE),
    }
