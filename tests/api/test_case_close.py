from opennrm.audit.models import AuditEntry
from opennrm.cases import services
from opennrm.cases.models import CaseStatus
from tests.helpers import assert_problem


def test_it_closes_and_reopens(api, case):
    response = api.post(f"/api/cases/{case.case_number}/close",
                        {"closure_reason": "assistance_completed"})
    assert response.status_code == 200
    assert response.json()["status"] == CaseStatus.CLOSED
    assert response.json()["closed_at"] is not None

    response = api.post(f"/api/cases/{case.case_number}/reopen")
    assert response.status_code == 200
    assert response.json()["status"] == CaseStatus.ACTIVE
    assert response.json()["closure_reason"] == ""


def test_it_is_recorded_in_the_audit_trail(api, case):
    api.post(f"/api/cases/{case.case_number}/close", {"closure_reason": "lost_contact"})
    entry = AuditEntry.objects.get(action="update")
    assert (entry.channel, entry.fields) == ("api", ["closure_reason", "status"])


def test_it_needs_a_known_reason(api, case):
    problem = assert_problem(api.post(f"/api/cases/{case.case_number}/close",
                                      {"closure_reason": "bored"}), 422)
    assert problem["errors"][0]["field"] == "closure_reason"
    case.refresh_from_db()
    assert case.status == CaseStatus.ACTIVE


def test_it_reopens_only_closed_cases(api, case):
    problem = assert_problem(api.post(f"/api/cases/{case.case_number}/reopen"), 422)
    assert problem["errors"][0]["field"] == "status"


def test_it_validates_ownership(caseworker, case, officer_api, roles_without_cases):
    for client in [officer_api, *roles_without_cases]:
        assert_problem(client.post(f"/api/cases/{case.case_number}/close",
                                   {"closure_reason": "lost_contact"}), 404)
    case.refresh_from_db()
    assert case.status == CaseStatus.ACTIVE

    services.close_case(caseworker, case, "lost_contact")
    for client in [officer_api, *roles_without_cases]:
        assert_problem(client.post(f"/api/cases/{case.case_number}/reopen"), 404)
    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED
