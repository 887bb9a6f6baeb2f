from opennrm.cases import services
from opennrm.cases.models import CaseStatus
from tests.helpers import as_user


def url(case) -> str:
    return f"/cases/{case.case_number}/reopen/"


def test_it_works(client, caseworker, case):
    services.close_case(caseworker, case, "lost_contact")
    response = as_user(client, caseworker).post(url(case))
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.ACTIVE and case.closure_reason == ""


def test_it_only_allows_post(client, caseworker, case):
    assert as_user(client, caseworker).get(url(case)).status_code == 405


def test_an_open_case_stays_open_with_a_message(client, caseworker, case):
    response = as_user(client, caseworker).post(url(case), follow=True)
    assert b"This case is not closed." in response.content


def test_it_validates_ownership(client, caseworker, police_officer, case):
    services.close_case(caseworker, case, "lost_contact")
    response = as_user(client, police_officer).post(url(case))
    assert response.status_code == 404
    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED
