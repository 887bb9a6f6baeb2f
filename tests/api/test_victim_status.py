import pytest

from opennrm.accounts.models import Role
from opennrm.audit.models import AuditEntry
from tests.factories import make_user
from tests.helpers import ApiClient, assert_problem


@pytest.fixture
def api(ngo):
    """A national coordinator: the authority that decides formal identification by default."""
    return ApiClient(make_user(Role.NATIONAL_COORDINATOR, ngo, "coordinator"))


def url(case) -> str:
    return f"/api/cases/{case.case_number}/victim-status"


def test_it_works(api, case):
    response = api.post(url(case), {"victim_status": "identified", "decided_on": "2026-04-01"})
    assert response.status_code == 200
    detail = response.json()
    assert detail["victim_status"] == "identified"
    assert detail["victim_status_decided_on"] == "2026-04-01"
    assert detail["victim_status_decided_by"] == "la-strada"
    entry = AuditEntry.objects.get(action="update")
    assert (entry.channel, entry.fields) == ("api", ["victim_status"])


def test_it_names_the_wrong_field(api, case):
    problem = assert_problem(api.post(url(case), {"victim_status": "identified",
                                                  "decided_on": "2099-01-01"}), 422)
    assert problem["errors"][0]["field"] == "decided_on"
    problem = assert_problem(api.post(url(case), {"victim_status": "maybe",
                                                  "decided_on": "2026-04-01"}), 422)
    assert problem["errors"][0]["field"] == "victim_status"
    case.refresh_from_db()
    assert case.victim_status == "presumed"


def test_it_validates_ownership(case, officer_api, roles_without_cases):
    for client in [officer_api, *roles_without_cases]:
        assert_problem(client.post(url(case), {"victim_status": "not_a_victim",
                                               "decided_on": "2026-04-01"}), 404)
    case.refresh_from_db()
    assert case.victim_status == "presumed"


def test_a_caseworker_may_not_decide_formal_identification(case, caseworker):
    assert_problem(ApiClient(caseworker).post(url(case), {"victim_status": "identified",
                                                          "decided_on": "2026-04-01"}), 403)
    case.refresh_from_db()
    assert case.victim_status == "presumed"
