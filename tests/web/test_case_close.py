from opennrm.audit.models import AuditEntry
from opennrm.cases.models import CaseStatus
from tests.helpers import as_user


def url(case) -> str:
    return f"/cases/{case.case_number}/close/"


def test_it_works(client, caseworker, case):
    response = as_user(client, caseworker).post(url(case), {"closure_reason": "lost_contact"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert (case.status, case.closure_reason) == (CaseStatus.CLOSED, "lost_contact")
    assert AuditEntry.objects.filter(action="update", object_ref=case.case_number,
                                     channel="web", fields=["closure_reason", "status"]).exists()


def test_it_only_allows_post(client, caseworker, case):
    assert as_user(client, caseworker).get(url(case)).status_code == 405


def test_it_needs_a_reason(client, caseworker, case):
    response = as_user(client, caseworker).post(url(case), {"closure_reason": ""})
    assert response.status_code == 200
    assert response.content.count(b"Choose a reason for closing the case.") == 2
    case.refresh_from_db()
    assert case.status == CaseStatus.ACTIVE


def test_it_validates_ownership(client, police_officer, case):
    response = as_user(client, police_officer).post(url(case),
                                                    {"closure_reason": "lost_contact"})
    assert response.status_code == 404
    case.refresh_from_db()
    assert case.status == CaseStatus.ACTIVE
