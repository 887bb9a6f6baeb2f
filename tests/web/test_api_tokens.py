import re

import pytest
from django.test import Client

from opennrm.accounts.models import ApiToken
from opennrm.audit.models import AuditEntry
from tests.factories import make_user
from tests.helpers import as_user, assert_no_inline_code

PAGE = "/account/tokens/"
SECRET = re.compile(r"onrm_[A-Za-z0-9_-]{20,}")


def bearer(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}


def create_token(client, name="reporting script", **extra) -> str:
    response = client.post(PAGE, {"name": name, **extra})
    assert response.status_code == 200
    return SECRET.findall(response.content.decode())[0]


def test_it_lists_only_my_tokens(client, caseworker, police_officer):
    ApiToken.issue(caseworker, "laptop")
    ApiToken.issue(police_officer, "other laptop")
    response = as_user(client, caseworker).get(PAGE)
    assert response.status_code == 200
    assert [t.name for t in response.context["tokens"]] == ["laptop"]
    assert b"other laptop" not in response.content
    assert_no_inline_code(response)


def test_it_requires_sign_in(client, db):
    assert client.get(PAGE).status_code == 302


def test_it_shows_the_secret_once_and_the_token_works(client, caseworker, case):
    as_user(client, caseworker)
    secret = create_token(client)
    token = ApiToken.objects.get(user=caseworker)
    assert token.digest == ApiToken.digest_of(secret) and secret not in token.digest
    assert SECRET.search(client.get(PAGE).content.decode()) is None
    response = Client().get("/api/cases", headers=bearer(secret))
    assert response.status_code == 200 and response.json()["count"] == 1


def test_it_expires_after_90_days_by_default(client, caseworker):
    as_user(client, caseworker)
    create_token(client)
    create_token(client, name="short", expires_in_days="7")
    days = {t.name: round((t.expires_at - t.created_at).total_seconds() / 86400)
            for t in ApiToken.objects.all()}
    assert days == {"reporting script": 90, "short": 7}


def test_it_shows_errors_and_creates_nothing(client, caseworker):
    response = as_user(client, caseworker).post(PAGE, {"name": "", "expires_in_days": "9999"})
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"name", "expires_in_days"}
    assert not ApiToken.objects.exists()


def test_revoking_stops_the_token(client, caseworker, case):
    as_user(client, caseworker)
    secret = create_token(client)
    token = ApiToken.objects.get()
    response = client.post(f"{PAGE}{token.pk}/revoke/")
    assert response.status_code == 302 and response.url == PAGE
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert Client().get("/api/cases", headers=bearer(secret)).status_code == 401


def test_revoking_only_allows_post(client, caseworker):
    token, _ = ApiToken.issue(caseworker, "laptop")
    assert as_user(client, caseworker).get(f"{PAGE}{token.pk}/revoke/").status_code == 405


def test_it_validates_ownership(client, caseworker, police_officer):
    token, secret = ApiToken.issue(police_officer, "laptop")
    response = as_user(client, caseworker).post(f"{PAGE}{token.pk}/revoke/")
    assert response.status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_it_records_creation_and_revocation_without_the_secret(client, caseworker):
    as_user(client, caseworker)
    secret = create_token(client)
    token = ApiToken.objects.get()
    client.post(f"{PAGE}{token.pk}/revoke/")
    entries = list(AuditEntry.objects.filter(object_type="api_token")
                   .values_list("action", "object_ref", "actor_id", "channel"))
    assert entries == [("create", str(token.pk), caseworker.pk, "web"),
                       ("update", str(token.pk), caseworker.pk, "web")]
    for entry in AuditEntry.objects.all():
        assert secret not in f"{entry.object_ref} {entry.reason} {entry.fields}"


# --- privileged roles, expiry, read-only scope (defect 8) ----------------------------------

def verified_sign_in(client, user) -> None:
    """Sign in through the login page with a one-time code (a session django-otp verified)."""
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from tests.factories import PASSWORD

    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    code = f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"
    response = client.post("/login/", {"username": user.username, "password": PASSWORD,
                                       "code": code})
    assert response.status_code == 302


@pytest.mark.parametrize("role", ["administrator", "auditor", "national_coordinator"])
def test_a_privileged_role_needs_a_session_verified_with_totp(client, ngo, role):
    user = make_user(role, ngo)
    as_user(client, user)
    page = client.get(PAGE)
    assert page.status_code == 200
    assert b"one-time code" in page.content
    assert b'name="name"' not in page.content  # no form to fill in vain
    response = client.post(PAGE, {"name": "script"})
    assert response.status_code == 403
    assert SECRET.search(response.content.decode()) is None
    assert not ApiToken.objects.exists()


def test_a_privileged_role_creates_a_token_in_a_verified_session(client, administrator):
    verified_sign_in(client, administrator)
    secret = create_token(client)
    token = ApiToken.objects.get(user=administrator)
    assert token.digest == ApiToken.digest_of(secret)
    assert round((token.expires_at - token.created_at).total_seconds() / 86400) == 90


def test_the_default_lifetime_is_a_setting(client, caseworker, settings):
    settings.OPENNRM_API_TOKEN_DAYS = 30
    as_user(client, caseworker)
    create_token(client)
    token = ApiToken.objects.get()
    assert round((token.expires_at - token.created_at).total_seconds() / 86400) == 30


def test_every_token_expires(caseworker):
    token, _ = ApiToken.issue(caseworker, "laptop")
    assert token.expires_at is not None


def test_a_read_only_token_is_created_and_listed_so(client, caseworker):
    as_user(client, caseworker)
    create_token(client, read_only="on")
    assert ApiToken.objects.get().read_only
    assert b"Read only" in client.get(PAGE).content


def test_tokens_are_listed_with_their_last_use(client, caseworker, case):
    as_user(client, caseworker)
    secret = create_token(client)
    assert Client().get("/api/cases", headers=bearer(secret)).status_code == 200
    token = ApiToken.objects.get()
    listed = client.get(PAGE)
    assert list(listed.context["tokens"])[0].last_used_at == token.last_used_at is not None
    assert token.last_used_at.strftime("%Y-%m-%d %H:%M").encode() in listed.content
