from datetime import timedelta

import pytest
from django.test import override_settings
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from opennrm.audit.models import AuditEntry
from tests.factories import PASSWORD
from tests.helpers import as_user, assert_no_inline_code

LOGIN = "/login/"


def sign_in(client, username, password=PASSWORD, code="", **extra):
    return client.post(LOGIN, {"username": username, "password": password, "code": code},
                       **extra)


def current_code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


@pytest.fixture
def totp_device(caseworker):
    return TOTPDevice.objects.create(user=caseworker, name="phone", confirmed=True)


def test_it_shows_the_form(client, db):
    response = client.get(LOGIN)
    assert response.status_code == 200
    assert b'name="username"' in response.content and b'name="code"' in response.content
    assert_no_inline_code(response)
    assert "Content-Security-Policy" in response.headers


def test_it_works(client, caseworker):
    response = sign_in(client, "caseworker")
    assert response.status_code == 302 and response.url == reverse("home")
    assert client.get("/").context["user"] == caseworker


def test_it_records_the_login_in_the_audit_trail(client, caseworker):
    sign_in(client, "caseworker")
    entry = AuditEntry.objects.get(action="login")
    assert (entry.actor_id, entry.object_ref, entry.channel) == (caseworker.pk, "caseworker", "web")


def test_it_records_a_failed_login(client, caseworker):
    response = sign_in(client, "caseworker", password="wrong")
    assert response.status_code == 200
    assert b"username or password is not correct" in response.content
    entry = AuditEntry.objects.get(action="login_failed")
    assert (entry.object_ref, entry.channel) == ("caseworker", "web")
    assert entry.actor_id is None
    assert "_auth_user_id" not in client.session


def test_it_keeps_the_session_short_and_sliding(client, caseworker, settings):
    sign_in(client, "caseworker")
    assert client.session.get_expiry_age() == settings.SESSION_COOKIE_AGE == 30 * 60
    assert "opennrm.core.middleware.SlidingSessionMiddleware" in settings.MIDDLEWARE


def test_it_locks_out_after_five_failures(client, caseworker):
    for _ in range(4):
        assert sign_in(client, "caseworker", password="wrong").status_code == 200
    response = sign_in(client, "caseworker", password="wrong")
    assert response.status_code == 429
    assert "accounts/locked_out.html" in [t.name for t in response.templates]
    assert b"contact an administrator" in response.content
    # Even the right password is refused while the lockout lasts.
    response = sign_in(client, "caseworker")
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    assert_no_inline_code(response)


def test_lockout_is_per_username(client, caseworker, police_officer):
    for _ in range(5):
        sign_in(client, "caseworker", password="wrong")
    assert sign_in(client, "officer").status_code == 302


def test_it_redirects_only_to_local_pages(client, caseworker):
    response = client.post(LOGIN + "?next=https://evil.example/", {
        "username": "caseworker", "password": PASSWORD})
    assert response.url == reverse("home")
    client.logout()
    response = client.post(LOGIN, {"username": "caseworker", "password": PASSWORD,
                                   "next": "/cases/new/"})
    assert response.url == "/cases/new/"


def test_it_requires_the_code_when_a_device_exists(client, caseworker, totp_device):
    response = sign_in(client, "caseworker")
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert response.context["form"].errors["code"]


def test_it_accepts_a_valid_code(client, caseworker, totp_device):
    response = sign_in(client, "caseworker", code=current_code(totp_device))
    assert response.status_code == 302
    assert client.session["otp_device_id"] == totp_device.persistent_id
    assert client.get("/").context["user"].is_verified()


@override_settings(OTP_TOTP_THROTTLE_FACTOR=0)
def test_it_refuses_a_wrong_code(client, caseworker, totp_device):
    wrong = f"{(int(current_code(totp_device)) + 1) % 1000000:06d}"
    response = sign_in(client, "caseworker", code=wrong)
    assert response.status_code == 200
    assert b"not correct or has expired" in response.content
    assert "_auth_user_id" not in client.session
    assert AuditEntry.objects.filter(action="login_failed", reason="wrong one-time code").exists()


@override_settings(OTP_TOTP_THROTTLE_FACTOR=0)
def test_wrong_codes_count_towards_the_lockout(client, caseworker, totp_device):
    for _ in range(5):
        response = sign_in(client, "caseworker", code="000000")
    assert response.status_code == 429
    assert sign_in(client, "caseworker", code=current_code(totp_device)).status_code == 429


@override_settings(OPENNRM_MFA_ROLES=["auditor", "administrator"])
def test_a_privileged_role_without_a_device_is_refused(client, auditor):
    response = sign_in(client, "auditor")
    assert response.status_code == 200
    assert b"no authenticator app is set up" in response.content
    assert "_auth_user_id" not in client.session


@override_settings(OPENNRM_MFA_ROLES=["auditor"])
def test_a_privileged_role_with_a_device_signs_in_with_a_code(client, auditor):
    device = TOTPDevice.objects.create(user=auditor, name="phone", confirmed=True)
    assert sign_in(client, "auditor", code=current_code(device)).status_code == 302


@override_settings(OPENNRM_MFA_ROLES=["auditor"])
def test_roles_outside_the_mfa_list_sign_in_without_a_device(client, caseworker):
    assert sign_in(client, "caseworker").status_code == 302


def test_logout_only_allows_post(client, caseworker):
    client.force_login(caseworker)
    assert client.get("/logout/").status_code == 405
    assert "_auth_user_id" in client.session


def test_logout_works(client, caseworker):
    client.force_login(caseworker)
    response = client.post("/logout/")
    assert response.status_code == 302 and response.url == reverse("login")
    assert "_auth_user_id" not in client.session


def test_signing_out_for_inactivity_says_why(client, caseworker):
    client.force_login(caseworker)
    response = client.post(reverse("logout"), {"reason": "inactivity"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("login")
    assert "signed out because the page was left unused" in response.content.decode()
    assert client.get("/").status_code == 302


def test_the_session_clock_is_on_every_signed_in_page(client, caseworker, settings):
    settings.SESSION_COOKIE_AGE = 600
    settings.OPENNRM_SESSION_WARNING_SECONDS = 60
    content = as_user(client, caseworker).get("/").content.decode()
    # The server renews a session at most once a minute: the browser's clock allows for it.
    assert 'data-session-timeout="540"' in content and 'data-session-warning="60"' in content
    assert 'src="/static/opennrm/session.js"' in content
    assert client.post("/session/keep-alive/").status_code == 204
    client.logout()
    assert "data-session-timeout" not in client.get(reverse("login")).content.decode()


def test_an_active_session_is_renewed_at_most_once_a_minute(client, caseworker, monkeypatch):
    from django.contrib.sessions.models import Session

    now = [1_800_000_000]
    monkeypatch.setattr("opennrm.core.middleware.time.time", lambda: now[0])
    as_user(client, caseworker).get("/")
    expiry = Session.objects.get().expire_date
    now[0] += 30
    client.get("/")
    assert Session.objects.get().expire_date == expiry  # no write within the minute
    now[0] += 31
    with monkeypatch.context() as patched:
        patched.setattr("django.utils.timezone.now",
                        lambda: expiry - timedelta(minutes=25))  # 5 minutes later
        client.get("/")
    assert Session.objects.get().expire_date > expiry


def test_a_correct_code_right_after_a_wrong_one_is_accepted(client, caseworker, totp_device):
    # Defect 9: django-otp's own throttle refused the right code for a while after a wrong
    # one, and the refusal counted towards the lockout. The lockout (django-axes) is the
    # limit on guessing; the right code always passes.
    wrong = f"{(int(current_code(totp_device)) + 1) % 1000000:06d}"
    assert sign_in(client, "caseworker", code=wrong).status_code == 200
    response = sign_in(client, "caseworker", code=current_code(totp_device))
    assert response.status_code == 302
    assert client.session["otp_device_id"] == totp_device.persistent_id
    assert AuditEntry.objects.filter(action="login_failed").count() == 1


def test_wrong_codes_still_lock_out_without_any_other_throttle(client, caseworker, totp_device):
    for _ in range(4):
        assert sign_in(client, "caseworker", code="000000").status_code == 200
    assert sign_in(client, "caseworker", code="000000").status_code == 429
    assert sign_in(client, "caseworker", code=current_code(totp_device)).status_code == 429
