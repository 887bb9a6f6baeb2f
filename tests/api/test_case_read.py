from opennrm.audit.models import AuditEntry
from tests.helpers import assert_problem


def test_it_works(api, case):
    response = api.get(f"/api/cases/{case.case_number}")
    assert response.status_code == 200
    detail = response.json()
    assert detail["case_number"] == case.case_number
    assert detail["identity"]["given_name"] == "Elena"
    assert detail["identity"]["birth_date"] == "1998-04-12"
    assert detail["identity"]["identity_documents"] == [
        {"document_type": "passport", "number": "AB1234567", "country": "MD"}]
    assert detail["identity"]["notes"].startswith("Met at the bus station")
    assert detail["citizenships"] == ["MD"]
    assert detail["victim_status"] == "presumed"
    assert detail["victim_status_decided_by"] == "la-strada"
    assert detail["victim_status_recorded_by"] == "caseworker"
    assert detail["status"] == "active"
    assert detail["consents"] == []


def test_it_is_recorded_in_the_audit_trail(api, case):
    api.get(f"/api/cases/{case.case_number}")
    entry = AuditEntry.objects.get(action="read")
    assert (entry.object_ref, entry.channel) == (case.case_number, "api")
    assert "given_name" in entry.fields and "notes" in entry.fields


def test_it_validates_ownership(case, officer_api, roles_without_cases):
    missing = officer_api.get("/api/cases/MD-26-NOSUCH00")
    for client in [officer_api, *roles_without_cases]:
        response = client.get(f"/api/cases/{case.case_number}")
        assert_problem(response, 404)
        # Indistinguishable from a case that does not exist.
        assert response.content == missing.content
        assert b"Popescu" not in response.content
    assert not AuditEntry.objects.filter(action="read").exists()


def test_it_handles_a_malformed_case_number(api):
    problem = assert_problem(api.get("/api/cases/not%20a%20number"), 422)
    assert problem["errors"][0]["field"] == "case_number"
