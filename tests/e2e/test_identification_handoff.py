"""The identification hand-off in a real browser: the NGO's caseworker refers a screened
case to the police for formal identification; the police decision-maker finds it on their
queue without accepting the referral first (the default policy), opens the screening from
the decision form, and decides from the referral."""

import re

import pytest
from playwright.sync_api import expect

from opennrm.accounts.models import Role
from opennrm.cases import services as case_services
from opennrm.cases.models import Case
from opennrm.referrals.models import Referral
from opennrm.screening import indicator_sets
from opennrm.screening import services as screening_services
from opennrm.services.models import Provider, Service
from tests.e2e.browser import assert_accessible, open_page, screenshot, sign_in
from tests.factories import make_agency, make_labour_indicator_set, make_user, person_data

ADULT = make_labour_indicator_set("adult")

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def test_lists(monkeypatch):
    """The web tests' list stands in for the data files (the live server shares the
    process, so it sees it too)."""
    monkeypatch.setattr(indicator_sets, "all_sets", lambda: {ADULT.key: ADULT})


@pytest.fixture
def case(transactional_db, live_server):
    """A presumed victim of the NGO, screened a probable victim, who consented to be
    referred; the police take referrals for formal identification in OpenNRM."""
    ngo = make_agency("la-strada", "ngo")
    police = make_agency("police-chisinau", "law_enforcement")
    caseworker = make_user(Role.CASEWORKER, ngo, "caseworker")
    make_user(Role.SUPERVISOR, police, "police-supervisor")
    provider = Provider.objects.create(name="General Police Inspectorate",
                                       organisation_type="government", agency=police,
                                       country="MD")
    Service.objects.create(provider=provider, name="Formal identification of victims",
                           service_type="formal_identification", country="MD",
                           response_days=5)
    case = case_services.register_case(caseworker, person_data())
    # Two strong indicators in each dimension: every dimension present, a probable victim.
    observed = {f"{dimension['code']}_s{n}": "" for dimension in ADULT.data["dimensions"]
                for n in range(2)}
    screening_services.record_screening(caseworker, case, ADULT.data["id"], "1", observed,
                                        case.first_contact_on)
    case_services.record_consent(caseworker, case, "referral", case.first_contact_on)
    return case


def test_the_police_decide_a_referred_case_without_accepting_first(browser, live_server,
                                                                   case):
    base = live_server.url
    caseworker = open_page(browser)
    sign_in(caseworker, base, "caseworker")
    caseworker.goto(f"{base}/cases/{case.case_number}/")
    caseworker.get_by_role("link", name="Refer to a service").click()
    caseworker.get_by_label("Kind of service").select_option("formal_identification")
    caseworker.get_by_role("button", name="Find matching services").click()
    caseworker.get_by_role("radio", name=re.compile("Formal identification of victims")).check()
    caseworker.get_by_label("What the person needs", exact=True).fill(
        "Screened a probable victim of forced labour: please decide.")
    caseworker.get_by_role("button", name="Send the referral").click()
    expect(caseworker.get_by_role("status")).to_contain_text("Referral sent.")
    referral = Referral.objects.get()
    assert referral.state == "sent"
    assert caseworker.csp_violations == [] and caseworker.script_errors == []

    police = open_page(browser)
    sign_in(police, base, "police-supervisor")
    # axe is injected as a script, which the CSP refuses: a second page without it checks
    # each new page the decision-maker sees.
    axe = open_page(browser, bypass_csp=True)
    sign_in(axe, base, "police-supervisor")

    def check_accessible(name: str) -> None:
        axe.goto(police.url)
        assert_accessible(axe, name)

    police.get_by_role("link", name="Identification queue").click()
    queue = police.get_by_role("table", name=re.compile("waiting for a formal identification"))
    row = queue.get_by_role("row").filter(has_text=case.case_number)
    expect(row.get_by_text("Referred for identification")).to_be_visible()
    expect(row.get_by_text("La Strada")).to_be_visible()
    screenshot(police, "identification-queue")
    # The filters find it too: the referring agency, waiting, an adult.
    police.get_by_label("Agency").select_option(label="La Strada")
    police.get_by_label("Age group").select_option("adult")
    police.get_by_role("button", name="Apply filters").click()
    expect(queue.get_by_role("row").filter(has_text=case.case_number)).to_have_count(1)
    check_accessible("Identification queue")

    police.get_by_role("link", name=f"Decide on case {case.case_number}").click()
    expect(police.get_by_role("heading", level=1,
                              name="Record the identification decision")).to_be_visible()
    check_accessible("Decision form of a referred case")
    police.get_by_role("link", name="Open the screening").click()
    expect(police.get_by_role("heading", level=1,
                              name=f"Screening, case {case.case_number}")).to_be_visible()
    expect(police.get_by_text("Probable victim — refer")).to_be_visible()
    expect(police.get_by_text("Elena")).to_have_count(0)
    check_accessible("Screening read by the decision-maker")

    police.get_by_role("link", name="Referrals").first.click()
    police.get_by_role("link", name=case.case_number).first.click()
    expect(police).to_have_url(f"{base}/referrals/{referral.pk}/")
    check_accessible("Referral for identification")
    police.get_by_role("link", name="Decide formal identification").click()
    police.get_by_role("radio", name="Identified as a victim of trafficking").check()
    police.get_by_label("Grounds").fill("Account consistent; documents withheld; threats.")
    police.get_by_role("button", name="Record decision").click()
    expect(police.get_by_role("status")).to_contain_text("Identification decision recorded.")
    expect(police).to_have_url(f"{base}/identification/queue/")
    expect(police.get_by_text("No case is waiting for a formal identification decision.")
           ).to_be_visible()
    screenshot(police, "identification-decided-from-referral")
    assert police.csp_violations == [] and police.script_errors == []

    case = Case.objects.get(pk=case.pk)
    assert case.victim_status == "identified"
    assert case.victim_status_decided_by_agency.code == "police-chisinau"
    assert Referral.objects.get().state == "sent"  # decided without accepting first
