from opennrm.audit.models import AuditEntry
from opennrm.cases import services
from opennrm.cases.models import Case
from tests.helpers import assert_problem


def url(case) -> str:
    return f"/api/cases/{case.case_number}"


def test_it_changes_only_the_fields_sent(api, case):
    response = api.patch(url(case), {"phone": "+37360000000", "birth_date": "1999-05-01"})
    assert response.status_code == 200
    identity = response.json()["identity"]
    assert identity["phone"] == "+37360000000"
    assert identity["given_name"] == "Elena"
    case = Case.objects.select_related("person").get(pk=case.pk)
    assert (case.person.phone, case.person.birth_year) == ("+37360000000", 1999)
    assert case.person.address.startswith("str.")


def test_it_clears_a_field_sent_as_null(api, case):
    response = api.patch(url(case), {"phone": None, "exploitation_countries": []})
    assert response.json()["identity"]["phone"] == ""
    assert response.json()["exploitation_countries"] == []


def test_it_is_recorded_in_the_audit_trail(api, case):
    api.patch(url(case), {"phone": "+37360000000", "given_name": "Elena"})
    entry = AuditEntry.objects.get(action="update")
    assert (entry.object_ref, entry.channel, entry.fields) == (case.case_number, "api",
                                                               ["phone"])


def test_it_validates_ownership(case, officer_api, roles_without_cases):
    for client in [officer_api, *roles_without_cases]:
        response = client.patch(url(case), {"phone": "+37360000001"})
        assert_problem(response, 404)
        assert b"Popescu" not in response.content
    case.person.refresh_from_db()
    assert case.person.phone == "+37369123456"
    assert not AuditEntry.objects.filter(action="update").exists()


def test_bad_input_changes_nothing(api, case):
    before = AuditEntry.objects.count()
    problem = assert_problem(
        api.patch(url(case), {"phone": "+37360000001", "languages": ["xx-nope"]}), 422)
    assert [e["field"] for e in problem["errors"]] == ["languages"]
    case.person.refresh_from_db()
    assert case.person.phone == "+37369123456"
    assert AuditEntry.objects.count() == before


def test_it_refuses_fields_that_cannot_be_changed(api, case):
    problem = assert_problem(api.patch(url(case), {"owner_agency": "police-chisinau"}), 422)
    assert problem["errors"][0]["field"] == "owner_agency"


def test_a_closed_case_cannot_be_changed(api, caseworker, case):
    services.close_case(caseworker, case, "lost_contact")
    problem = assert_problem(api.patch(url(case), {"phone": "+37360000001"}), 422)
    assert problem["errors"][0]["field"] == "status"
