from opennrm.audit.models import AuditEntry
from opennrm.cases.models import Case, Person
from tests.factories import person_data
from tests.helpers import as_json, assert_problem


def counts() -> tuple[int, int, int]:
    return Person.objects.count(), Case.objects.count(), AuditEntry.objects.count()


def test_it_works(api, caseworker):
    response = api.post("/api/cases", as_json(person_data()))
    assert response.status_code == 201
    detail = response.json()
    case = Case.objects.get()
    assert detail["case_number"] == case.case_number
    assert response["Location"] == f"/api/cases/{case.case_number}"
    assert detail["identity"]["family_name"] == "Popescu"
    assert case.owner_agency == caseworker.agency
    assert case.person.identity_documents[0]["number"] == "AB1234567"


def test_it_is_recorded_in_the_audit_trail(api):
    number = api.post("/api/cases", as_json(person_data())).json()["case_number"]
    entry = AuditEntry.objects.get(action="create")
    assert (entry.object_ref, entry.channel) == (number, "api")
    assert "given_name" in entry.fields


def test_it_validates_ownership(api, officer_api, roles_without_cases):
    number = api.post("/api/cases", as_json(person_data())).json()["case_number"]
    assert_problem(officer_api.get(f"/api/cases/{number}"), 404)
    before = counts()
    for client in roles_without_cases:
        problem = assert_problem(client.post("/api/cases", as_json(person_data())), 403)
        assert "register" in problem["detail"]
    assert counts() == before


def test_it_names_the_wrong_field_and_changes_nothing(api):
    before = counts()
    response = api.post("/api/cases", as_json(person_data(citizenships=["XX"])))
    problem = assert_problem(response, 422)
    assert problem["errors"][0]["field"] == "citizenships"
    assert "XX" in problem["errors"][0]["message"]
    assert counts() == before


def test_it_reports_every_wrong_field(api):
    response = api.post("/api/cases", as_json(person_data(
        gender="robot", first_contact_on="2099-01-01", labour_sector="?")))
    problem = assert_problem(response, 422)
    assert {e["field"] for e in problem["errors"]} == {
        "gender", "first_contact_on", "labour_sector"}


def test_it_rejects_unknown_fields_and_wrong_types(api):
    before = counts()
    response = api.post("/api/cases", as_json(person_data(
        status="closed", birth_date="yesterday",
        identity_documents=[{"document_type": "passport"}])))
    problem = assert_problem(response, 422)
    assert {e["field"] for e in problem["errors"]} == {
        "status", "birth_date", "identity_documents.0.number"}
    assert counts() == before


def test_it_needs_gender_and_first_contact(api):
    problem = assert_problem(api.post("/api/cases", {"given_name": "Elena"}), 422)
    assert {e["field"] for e in problem["errors"]} == {"gender", "first_contact_on"}
