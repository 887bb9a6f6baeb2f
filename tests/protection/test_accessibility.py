"""axe-core finds no serious or critical WCAG 2.2 AA problem on the protection pages, and
the forms work in a real browser (Chromium, CSP enforced)."""

from datetime import date

import pytest
from playwright.sync_api import expect

from opennrm.accounts.models import Role
from opennrm.cases import services as case_services
from opennrm.protection import services
from tests.e2e.browser import assert_accessible, browser, open_page, sign_in  # noqa: F401 - fixture
from tests.factories import make_agency, make_user, person_data

pytestmark = pytest.mark.browser


@pytest.fixture
def protected_case(transactional_db, live_server):
    """A case with a step of every kind, so every section and table has rows."""
    ngo = make_agency("la-strada", "ngo")
    caseworker = make_user(Role.CASEWORKER, ngo, "caseworker")
    case = case_services.register_case(caseworker, person_data(citizenships=["UA"]))
    period = services.grant_reflection_period(
        caseworker, case, date(2026, 3, 3), date(2026, 4, 2), date(2026, 3, 3),
        deciding_agency_code="la-strada")
    services.extend_reflection_period(caseworker, period, date(2026, 5, 2), "recovery_needed",
                                      date(2026, 4, 1), deciding_authority="Coordinator")
    permit = services.record_residence_permit(caseworker, case, "cooperation",
                                              date(2026, 3, 20))
    services.decide_residence_permit(caseworker, permit, "granted", date(2026, 4, 1),
                                     date(2026, 10, 1), deciding_authority="Migration")
    services.record_proceeding(caseworker, case, "investigation", "victim", date(2026, 3, 10),
                               deciding_authority="Prosecutor", case_reference="2026-0417")
    services.record_compensation_claim(caseworker, case, "offender", date(2026, 3, 15), "MDL",
                                       "5000")
    services.plan_return(caseworker, case, "UA", True, date(2026, 4, 1),
                         deciding_authority="Police", risk_assessed_on=date(2026, 3, 30),
                         risk_assessed_by="IOM", risk_level="low", risk_summary="Safe.")
    plan = services.create_support_plan(caseworker, case, "Housing; a job.", date(2026, 3, 5),
                                        next_review_on=date(2026, 4, 5))
    services.add_support_action(caseworker, plan, "Counselling", due_on=date(2026, 3, 20))
    services.record_support_review(caseworker, plan, date(2026, 4, 5), "Going well.",
                                   date(2026, 5, 5))
    return case


def test_the_protection_pages_are_accessible(browser, live_server, protected_case):  # noqa: F811
    page = open_page(browser, bypass_csp=True)
    sign_in(page, live_server.url, "caseworker")
    number = protected_case.case_number
    for path in (f"/cases/{number}/", f"/cases/{number}/timeline/",
                 f"/cases/{number}/support-plan/", f"/cases/{number}/returns/new/",
                 f"/cases/{number}/proceedings/{protected_case.proceedings.get().pk}/stage/"):
        page.goto(live_server.url + path)
        expect(page.locator("#main h1")).to_be_visible()
        assert_accessible(page, path)


def test_a_rule_broken_in_the_form_shows_at_its_field(browser, live_server,  # noqa: F811
                                                      protected_case):
    page = open_page(browser)
    sign_in(page, live_server.url, "caseworker")
    page.goto(f"{live_server.url}/cases/{protected_case.case_number}/residence-permits/new/")
    page.get_by_label("Type of permit").select_option("personal_situation")
    page.get_by_label("Applied on").fill("2026-03-25")
    page.get_by_role("button", name="Record the application").click()
    expect(page.locator("#stage-protection")).to_contain_text("Applied for")
    page.goto(f"{live_server.url}/cases/{protected_case.case_number}/reflection-period/"
              f"{protected_case.reflection_periods.get().pk}/extend/")
    page.get_by_label("New last day").fill("2026-04-20")
    page.get_by_label("Reason").select_option("safety")
    page.get_by_label("Deciding authority").fill("Coordinator")
    page.get_by_role("button", name="Record the extension").click()
    expect(page.locator(".error-summary")).to_be_visible()
    expect(page.locator("#id_ends_on_error")).to_contain_text("after the current end")
    assert not page.csp_violations and not page.script_errors
