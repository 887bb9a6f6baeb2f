"""Pages of a signed-in user must not linger on a shared computer."""

from django.conf import settings


def test_signed_in_pages_are_not_cached(client, caseworker):
    client.force_login(caseworker)
    response = client.get("/")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"


def test_sessions_expire_after_idle_time_and_at_browser_close(client, caseworker):
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    # Idle time, not time since login: renewed by the sliding-session middleware.
    assert "opennrm.core.middleware.SlidingSessionMiddleware" in settings.MIDDLEWARE
    client.force_login(caseworker)
    response = client.get("/")
    cookie = response.cookies.get(settings.SESSION_COOKIE_NAME)
    assert cookie is not None
    assert cookie["expires"] == "" and cookie["max-age"] == ""  # a browser-session cookie


def test_expired_session_is_sent_back_to_login(client, caseworker):
    from datetime import timedelta

    from django.contrib.sessions.models import Session
    from django.utils import timezone

    client.force_login(caseworker)
    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
