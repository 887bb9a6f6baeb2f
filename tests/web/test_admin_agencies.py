from opennrm.accounts.models import Agency
from opennrm.audit.models import AuditEntry
from tests.helpers import as_user, assert_no_inline_code

AGENCY = {"code": "ministry-labour", "name": "Labour Inspectorate",
          "agency_type": "labour_inspection", "country": "MD"}


def test_it_lists_agencies(client, administrator, police):
    response = as_user(client, administrator).get("/manage/agencies/")
    assert response.status_code == 200
    assert list(response.context["agencies"]) == [Agency.objects.get(code="la-strada"), police]
    assert_no_inline_code(response)


def test_it_creates_an_agency(client, administrator):
    response = as_user(client, administrator).get("/manage/agencies/new/")
    assert_no_inline_code(response)
    response = client.post("/manage/agencies/new/", AGENCY)
    assert response.status_code == 302
    agency = Agency.objects.get(code="ministry-labour")
    assert (agency.name, agency.agency_type, agency.country) == (
        "Labour Inspectorate", "labour_inspection", "MD")
    entry = AuditEntry.objects.get(action="create", object_type="agency")
    assert (entry.actor_id, entry.object_ref, entry.channel) == (
        administrator.pk, "ministry-labour", "web")


def test_it_shows_errors_next_to_the_fields_and_creates_nothing(client, administrator):
    response = as_user(client, administrator).post("/manage/agencies/new/", {
        **AGENCY, "code": "la-strada", "agency_type": ""})
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"code", "agency_type"}
    assert 'value="Labour Inspectorate"' in response.content.decode()
    assert not Agency.objects.filter(name="Labour Inspectorate").exists()
    assert not AuditEntry.objects.exists()


def test_it_edits_name_and_active(client, administrator, police):
    response = as_user(client, administrator).get("/manage/agencies/police-chisinau/")
    assert response.status_code == 200
    assert_no_inline_code(response)
    response = client.post("/manage/agencies/police-chisinau/", {"name": "Police of Chișinău"})
    assert response.status_code == 302
    police.refresh_from_db()
    assert (police.name, police.is_active) == ("Police of Chișinău", False)
    entry = AuditEntry.objects.get(action="update", object_type="agency")
    assert (entry.object_ref, entry.fields) == ("police-chisinau", ["is_active", "name"])


def test_an_inactive_agency_gets_no_new_users(client, administrator, police):
    police.is_active = False
    police.save()
    response = as_user(client, administrator).post("/manage/users/new/", {
        "username": "ion", "role": "caseworker", "agency": "police-chisinau",
        "password": "a long and unusual passphrase 42",
        "password_again": "a long and unusual passphrase 42"})
    assert response.context["form"].errors["agency"]


def test_it_handles_a_missing_agency(client, administrator):
    assert as_user(client, administrator).get("/manage/agencies/nope/").status_code == 404
