"""Assignment and transfer in a real browser: the NGO's supervisor assigns the cases without a
caseworker from the case list in one go, then asks the shelter to take one of them over (the
person consented); the shelter's supervisor finds it waiting and accepts it. axe checks each
new page."""

import pytest
from playwright.sync_api import expect

from opennrm.accounts.models import Role
from opennrm.cases import services as case_services
from opennrm.cases.assignment import assign_cases
from opennrm.cases.models import Case
from tests.e2e.browser import assert_accessible, open_page, screenshot, sign_in
from tests.factories import make_agency, make_user, person_data

pytestmark = pytest.mark.browser


@pytest.fixture
def cases(transactional_db, live_server):
    """Two cases of the NGO without a caseworker; the first person consented to be
    transferred to the shelter."""
    ngo = make_agency("la-strada", "ngo")
    shelter = make_agency("casa-luminii", "ngo")
    supervisor = make_user(Role.SUPERVISOR, ngo, "supervisor")
    caseworker = make_user(Role.CASEWORKER, ngo, "caseworker")
    make_user(Role.SUPERVISOR, shelter, "shelter-supervisor")
    cases = [case_services.register_case(caseworker, person_data(given_name=name))
             for name in ("Elena", "Ana")]
    assign_cases(supervisor, cases, None)
    case_services.record_consent(caseworker, cases[0], "transfer", cases[0].first_contact_on,
                                 recipient_agency_code=shelter.code)
    return cases


def test_a_supervisor_assigns_in_bulk_and_transfers_a_case(browser, live_server, cases):
    base = live_server.url
    supervisor = open_page(browser)
    sign_in(supervisor, base, "supervisor")
    axe_pages = {}  # axe is a script the CSP refuses: one page without it per user

    def check_accessible(page, username: str, name: str) -> None:
        if username not in axe_pages:
            axe_pages[username] = open_page(browser, bypass_csp=True)
            sign_in(axe_pages[username], base, username)
        axe_pages[username].goto(page.url)
        assert_accessible(axe_pages[username], name)

    supervisor.goto(f"{base}/cases/?assigned=nobody")
    bulk = supervisor.locator("#bulk-assign")
    for case in cases:
        bulk.get_by_label(case.case_number).check()
    bulk.get_by_label("Assign to").select_option(label="caseworker")
    check_accessible(supervisor, "supervisor", "Case list with bulk assignment")
    bulk.get_by_role("button", name="Assign the chosen cases").click()
    # Back on the same filtered list, which is empty now.
    expect(supervisor.get_by_role("status").filter(
        has_text="2 cases assigned to caseworker.")).to_be_visible()
    expect(supervisor.get_by_text("No case matches these filters.")).to_be_visible()
    assert all(case.assigned_to.username == "caseworker"
               for case in Case.objects.filter(pk__in=[case.pk for case in cases]))

    supervisor.goto(f"{base}/cases/{cases[0].case_number}/")
    supervisor.get_by_label("Transfer to").select_option(label="Casa Luminii")
    supervisor.get_by_role("button", name="Request the transfer").click()
    expect(supervisor.get_by_role("status")).to_contain_text(
        "Transfer requested: Casa Luminii will answer.")
    expect(supervisor.get_by_text("waiting for their answer")).to_be_visible()
    check_accessible(supervisor, "supervisor", "Case page with a transfer requested")

    shelter = open_page(browser)
    sign_in(shelter, base, "shelter-supervisor")
    shelter.goto(f"{base}/cases/")
    shelter.get_by_role("link", name="Transfers").click()
    waiting = shelter.get_by_role("table", name="Transfers waiting for your answer")
    expect(waiting.get_by_role("cell", name=cases[0].case_number, exact=True)).to_be_visible()
    check_accessible(shelter, "shelter-supervisor", "Transfers page")
    waiting.get_by_role("link", name=f"Answer the transfer of case {cases[0].case_number}"
                        ).click()
    expect(shelter.get_by_text("Elena")).to_have_count(0)
    check_accessible(shelter, "shelter-supervisor", "Answering a transfer")
    shelter.get_by_role("button", name="Accept the case").click()
    expect(shelter.get_by_role("status")).to_contain_text(
        f"Case {cases[0].case_number} is now your agency's.")
    expect(shelter.get_by_role("heading", level=1,
                               name=f"Case {cases[0].case_number}")).to_be_visible()
    screenshot(shelter, "transfer-accepted")
    assert shelter.csp_violations == [] and shelter.script_errors == []
    assert supervisor.csp_violations == [] and supervisor.script_errors == []

    moved = Case.objects.get(pk=cases[0].pk)
    assert moved.owner_agency.code == "casa-luminii" and moved.assigned_to is None
