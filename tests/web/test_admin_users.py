import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from opennrm.accounts.models import ApiToken, Role, User
from opennrm.audit.models import AuditEntry
from tests.factories import PASSWORD, make_user
from tests.helpers import as_user, assert_no_inline_code

NEW_PASSWORD = "a long and unusual passphrase 42"


def new_user_data(**overrides) -> dict:
    data = {"username": "ion", "email": "", "role": "caseworker", "agency": "la-strada",
            "password": NEW_PASSWORD, "password_again": NEW_PASSWORD}
    data.update(overrides)
    return data


def manage_pages(user) -> list[str]:
    return ["/manage/users/", "/manage/users/new/", f"/manage/users/{user.pk}/",
            "/manage/agencies/", "/manage/agencies/new/", "/manage/agencies/la-strada/"]


@pytest.mark.parametrize("role", [Role.CASEWORKER, Role.SUPERVISOR, Role.NATIONAL_COORDINATOR,
                                  Role.ANALYST, Role.AUDITOR])
def test_it_is_only_for_administrators(client, ngo, role):
    user = make_user(role, ngo)
    as_user(client, user)
    for page in manage_pages(user):
        assert client.get(page).status_code == 403, page
        assert client.post(page, new_user_data()).status_code == 403, page
    for action in ("reset", "remove"):
        assert client.post(f"/manage/users/{user.pk}/totp/{action}/").status_code == 403
    assert not User.objects.filter(username="ion").exists()
    assert not AuditEntry.objects.exists()


def test_it_requires_sign_in(client, caseworker):
    response = client.get("/manage/users/")
    assert response.status_code == 302 and response.url.startswith("/login/")


def test_it_lists_users(client, administrator, caseworker, auditor):
    TOTPDevice.objects.create(user=auditor, name="phone", confirmed=True)
    response = as_user(client, administrator).get("/manage/users/")
    assert response.status_code == 200
    assert list(response.context["page"]) == [administrator, auditor, caseworker]
    assert [u.has_totp for u in response.context["page"]] == [False, True, False]
    assert_no_inline_code(response)


def test_it_filters_by_agency_and_role(client, administrator, caseworker, police_officer):
    as_user(client, administrator)
    response = client.get("/manage/users/", {"agency": "police-chisinau"})
    assert list(response.context["page"]) == [police_officer]
    response = client.get("/manage/users/", {"role": "administrator"})
    assert list(response.context["page"]) == [administrator]


def test_administrators_see_no_cases(client, administrator, case):
    response = as_user(client, administrator).get("/cases/")
    assert response.status_code == 200 and response.context["page"] is None
    assert case.case_number.encode() not in response.content
    assert as_user(client, administrator).get(f"/cases/{case.case_number}/").status_code in {
        403, 404}


def test_it_creates_a_user_who_can_sign_in(client, administrator):
    response = as_user(client, administrator).get("/manage/users/new/")
    assert response.status_code == 200
    assert_no_inline_code(response)
    response = client.post("/manage/users/new/", new_user_data())
    user = User.objects.get(username="ion")
    assert response.status_code == 302 and response.url == f"/manage/users/{user.pk}/"
    assert (user.role, user.agency.code) == ("caseworker", "la-strada")
    client.logout()
    response = client.post("/login/", {"username": "ion", "password": NEW_PASSWORD})
    assert response.status_code == 302
    assert client.get("/").context["user"] == user


def test_it_shows_errors_next_to_the_fields_and_creates_nothing(client, administrator,
                                                                 caseworker):
    response = as_user(client, administrator).post("/manage/users/new/", new_user_data(
        username="caseworker", agency="", password="zq7x", password_again="zq7x"))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert set(errors) == {"username", "agency", "password"}
    content = response.content.decode()
    assert 'value="caseworker"' in content  # input kept
    assert "zq7x" not in content  # passwords are never sent back
    assert User.objects.count() == 2
    assert not AuditEntry.objects.exists()
    assert_no_inline_code(response)


def test_it_requires_the_same_password_twice(client, administrator):
    response = as_user(client, administrator).post("/manage/users/new/", new_user_data(
        password_again=NEW_PASSWORD + "!"))
    assert response.context["form"].errors["password_again"]
    assert not User.objects.filter(username="ion").exists()


def test_it_records_the_new_user_without_the_password(client, administrator):
    as_user(client, administrator).post("/manage/users/new/", new_user_data())
    entry = AuditEntry.objects.get(action="create", object_type="user")
    assert (entry.actor_id, entry.object_ref, entry.channel) == (administrator.pk, "ion", "web")
    for entry in AuditEntry.objects.all():
        assert NEW_PASSWORD not in f"{entry.fields} {entry.reason} {entry.object_ref}"


def test_it_edits_role_and_agency(client, administrator, caseworker, police):
    response = as_user(client, administrator).get(f"/manage/users/{caseworker.pk}/")
    assert response.status_code == 200
    assert_no_inline_code(response)
    response = client.post(f"/manage/users/{caseworker.pk}/", {
        "role": "supervisor", "agency": "police-chisinau", "is_active": "on"})
    assert response.status_code == 302
    caseworker.refresh_from_db()
    assert (caseworker.role, caseworker.agency) == ("supervisor", police)
    entry = AuditEntry.objects.get(action="update", object_type="user")
    assert (entry.object_ref, entry.fields, entry.channel) == (
        "caseworker", ["agency", "role"], "web")


def test_it_handles_a_missing_user(client, administrator):
    assert as_user(client, administrator).get("/manage/users/9999/").status_code == 404


def test_an_administrator_cannot_demote_or_deactivate_themself(client, administrator):
    as_user(client, administrator)
    response = client.post(f"/manage/users/{administrator.pk}/", {
        "role": "caseworker", "agency": "la-strada"})
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"role", "is_active"}
    administrator.refresh_from_db()
    assert (administrator.role, administrator.is_active) == ("administrator", True)
    assert not AuditEntry.objects.filter(action="update").exists()


def test_a_deactivated_user_is_signed_out_and_cannot_sign_in(client, administrator,
                                                            caseworker, case):
    _, secret = ApiToken.issue(caseworker, "laptop")
    user_client = client.__class__()
    as_user(user_client, caseworker)
    response = as_user(client, administrator).post(f"/manage/users/{caseworker.pk}/", {
        "role": "caseworker", "agency": "la-strada"})
    assert response.status_code == 302
    caseworker.refresh_from_db()
    assert not caseworker.is_active
    assert caseworker.api_tokens.get().revoked_at is not None
    assert user_client.get("/").status_code == 302  # back to the sign-in page
    response = user_client.get("/api/cases", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 401
    user_client.logout()
    response = user_client.post("/login/", {"username": "caseworker", "password": PASSWORD})
    assert response.status_code == 200 and "_auth_user_id" not in user_client.session
    assert AuditEntry.objects.filter(action="update", object_type="api_token",
                                     reason="user deactivated").count() == 1


def test_it_sets_up_an_authenticator_app_and_shows_it_once(client, administrator,
                                                          caseworker):
    as_user(client, administrator)
    assert client.get(f"/manage/users/{caseworker.pk}/totp/reset/").status_code == 405
    response = client.post(f"/manage/users/{caseworker.pk}/totp/reset/")
    assert response.status_code == 200
    assert b"otpauth://totp/" in response.content
    assert_no_inline_code(response)
    device = TOTPDevice.objects.get(user=caseworker)
    assert device.confirmed
    assert b"otpauth://" not in client.get(f"/manage/users/{caseworker.pk}/").content
    entry = AuditEntry.objects.get(action="update", object_type="user")
    assert entry.fields == ["totp_device"] and device.key not in entry.reason


def test_it_removes_the_authenticator_app(client, administrator, caseworker):
    TOTPDevice.objects.create(user=caseworker, name="phone", confirmed=True)
    response = as_user(client, administrator).post(
        f"/manage/users/{caseworker.pk}/totp/remove/")
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=caseworker).exists()
    assert AuditEntry.objects.filter(object_ref="caseworker", fields=["totp_device"]).exists()


def test_the_menu_shows_the_pages_to_administrators_only(client, administrator, caseworker):
    assert b'href="/manage/users/"' in as_user(client, administrator).get("/").content
    assert b'href="/manage/users/"' not in as_user(client, caseworker).get("/").content
