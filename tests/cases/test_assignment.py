"""A supervisor assigns and reassigns the caseworker of their agency's cases, one from the
case page or several from the case list; each change is audited and the caseworker told."""

import pytest
from django.core.exceptions import ValidationError

from opennrm.accounts.models import Role
from opennrm.audit.models import AuditEntry
from opennrm.cases import access
from opennrm.cases.assignment import assign_case, assign_cases
from opennrm.reminders.models import Notification
from tests.factories import make_case, make_user
from tests.helpers import as_user


@pytest.fixture
def supervisor(ngo):
    return make_user(Role.SUPERVISOR, ngo, "supervisor")


@pytest.fixture
def colleague(ngo):
    return make_user(Role.CASEWORKER, ngo, "colleague")


def test_a_supervisor_assigns_a_case_and_the_caseworker_is_told(supervisor, colleague, case):
    assign_case(supervisor, case, colleague, channel="web")
    case.refresh_from_db()
    assert case.assigned_to == colleague
    entry = AuditEntry.objects.filter(object_ref=case.case_number,
                                      fields=["assigned_to"]).get()
    assert entry.actor_username == "supervisor" and entry.reason == "assigned to colleague"
    notice = Notification.objects.get(user=colleague, kind="case_assigned")
    assert notice.case_number == case.case_number


def test_reassigning_to_the_same_caseworker_changes_nothing(supervisor, caseworker, case):
    assert case.assigned_to == caseworker  # whoever registers it
    audited = AuditEntry.objects.count()
    assign_case(supervisor, case, caseworker)
    assert AuditEntry.objects.count() == audited
    assert not Notification.objects.filter(kind="case_assigned").exists()


def test_a_caseworker_cannot_assign(caseworker, colleague, case):
    with pytest.raises(access.CaseAccessDenied):
        assign_case(caseworker, case, colleague)


def test_another_agencys_supervisor_cannot_assign(police, colleague, case):
    with pytest.raises(access.CaseNotFound):
        assign_case(make_user(Role.SUPERVISOR, police), case, colleague)


def test_only_a_caseworker_of_the_owning_agency_may_be_given_the_case(supervisor, police,
                                                                      case):
    with pytest.raises(ValidationError) as error:
        assign_case(supervisor, case, make_user(Role.CASEWORKER, police))
    assert "assigned_to" in error.value.message_dict
    case.refresh_from_db()
    assert case.assigned_to.username == "caseworker"


def test_bulk_assignment_is_all_or_nothing(supervisor, colleague, caseworker, police):
    own = make_case(caseworker)
    other = make_case(make_user(Role.CASEWORKER, police), given_name="Ana")
    with pytest.raises(access.CaseNotFound):
        assign_cases(supervisor, [own, other], colleague)
    own.refresh_from_db()
    assert own.assigned_to == caseworker


def test_the_case_page_offers_the_supervisor_the_choice(client, supervisor, colleague, case):
    content = as_user(client, supervisor).get(f"/cases/{case.case_number}/").content.decode()
    assert f'action="/cases/{case.case_number}/assign/"' in content
    assert "colleague" in content


def test_the_case_page_does_not_offer_it_to_a_caseworker(client, caseworker, case):
    content = as_user(client, caseworker).get(f"/cases/{case.case_number}/").content.decode()
    assert "/assign/" not in content


def test_assigning_from_the_case_page(client, supervisor, colleague, case):
    response = as_user(client, supervisor).post(f"/cases/{case.case_number}/assign/",
                                                {"assign-assigned_to": colleague.pk})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.assigned_to == colleague


def test_unassigning_from_the_case_page(client, supervisor, case):
    as_user(client, supervisor).post(f"/cases/{case.case_number}/assign/",
                                     {"assign-assigned_to": ""})
    case.refresh_from_db()
    assert case.assigned_to is None


def test_bulk_assigning_from_the_case_list(client, supervisor, colleague, caseworker):
    cases = [make_case(caseworker, given_name=name) for name in ("Ana", "Ion", "Maria")]
    assign_cases(supervisor, cases, None)  # the supervisor's "cases without a caseworker"
    client = as_user(client, supervisor)
    listing = client.get("/cases/?assigned=nobody").content.decode()
    assert 'action="/cases/assign/"' in listing
    response = client.post("/cases/assign/", {
        "case": [case.case_number for case in cases[:2]], "assign-assigned_to": colleague.pk,
        "next": "/cases/?assigned=nobody"})
    assert response.status_code == 302 and response["Location"] == "/cases/?assigned=nobody"
    for case in cases[:2]:
        case.refresh_from_db()
        assert case.assigned_to == colleague
    cases[2].refresh_from_db()
    assert cases[2].assigned_to is None
    assert AuditEntry.objects.filter(fields=["assigned_to"],
                                     reason="assigned to colleague").count() == 2


def test_a_caseworker_cannot_bulk_assign(client, caseworker, colleague, case):
    assert "/cases/assign/" not in as_user(client, caseworker).get("/cases/").content.decode()
    response = client.post("/cases/assign/", {"case": [case.case_number],
                                              "assign-assigned_to": colleague.pk})
    assert response.status_code == 403
    case.refresh_from_db()
    assert case.assigned_to == caseworker


def test_bulk_assigning_another_agencys_case_is_a_404(client, police, colleague, ngo):
    other = make_case(make_user(Role.CASEWORKER, police))
    response = as_user(client, make_user(Role.SUPERVISOR, ngo)).post(
        "/cases/assign/", {"case": [other.case_number], "assign-assigned_to": colleague.pk})
    assert response.status_code == 404
    other.refresh_from_db()
    assert other.assigned_to.agency == police


def test_bulk_assignment_only_allows_post(client, supervisor):
    assert as_user(client, supervisor).get("/cases/assign/").status_code == 405
