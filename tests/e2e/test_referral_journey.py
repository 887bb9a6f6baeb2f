"""A referral in a real browser: the caseworker refers, the shelter accepts, records the
assistance and closes the referral; the caseworker sees it completed."""

import re

import pytest
from playwright.sync_api import expect

from opennrm.accounts.models import Role
from opennrm.cases import services as case_services
from opennrm.referrals.models import Assistance, Referral
from opennrm.services.models import Provider, Service
from tests.e2e.browser import assert_accessible, open_page, screenshot, sign_in
from tests.factories import make_agency, make_user, person_data

pytestmark = pytest.mark.browser


@pytest.fixture
def case(transactional_db, live_server):
    ngo = make_agency("la-strada", "ngo")
    shelter = make_agency("casa-luminii", "ngo")
    caseworker = make_user(Role.CASEWORKER, ngo, "caseworker")
    make_user(Role.CASEWORKER, shelter, "shelter-worker")
    provider = Provider.objects.create(name="Casa Luminii", organisation_type="ngo",
                                       agency=shelter, country="MD")
    Service.objects.create(provider=provider, name="Women's shelter", service_type="shelter",
                           country="MD", response_days=2)
    case = case_services.register_case(caseworker, person_data())
    case_services.record_consent(caseworker, case, "referral", "2026-03-02")
    return case


def test_refer_accept_assist_and_close(browser, live_server, case):
    base = live_server.url
    page = open_page(browser)
    sign_in(page, base, "caseworker")
    page.goto(f"{base}/cases/{case.case_number}/")
    page.get_by_role("link", name="Refer to a service").click()
    page.get_by_label("Kind of service").select_option("shelter")
    page.get_by_role("button", name="Find matching services").click()
    page.get_by_role("radio", name=re.compile("Women's shelter")).check()
    expect(page.get_by_role("checkbox", name="Given name")).not_to_be_checked()
    page.get_by_role("checkbox", name="Given name").check()
    page.get_by_label("What the person needs", exact=True).fill("A bed for two weeks.")
    page.get_by_role("button", name="Send the referral").click()
    expect(page.get_by_role("status")).to_contain_text("Referral sent.")
    expect(page.locator(".tag").filter(has_text="Waiting for an answer")).to_be_visible()
    referral = Referral.objects.get()
    assert page.csp_violations == [] and page.script_errors == []

    recipient = open_page(browser)
    sign_in(recipient, base, "shelter-worker")
    recipient.get_by_role("link", name="Referrals").first.click()
    waiting = recipient.get_by_role("table",
                                    name=re.compile("Referrals waiting for your agency"))
    waiting.get_by_role("link", name=case.case_number).click()
    expect(recipient).to_have_url(f"{base}/referrals/{referral.pk}/")
    expect(recipient.get_by_text("Elena")).to_be_visible()
    expect(recipient.get_by_text("A bed for two weeks.")).to_be_visible()
    expect(recipient.get_by_text("Popescu")).to_have_count(0)
    recipient.get_by_role("link", name="Accept").click()
    recipient.get_by_role("button", name="Accept").click()
    expect(recipient.get_by_role("status")).to_contain_text("Referral accepted.")

    recipient.get_by_role("link", name="Record assistance").click()
    recipient.get_by_label("Kind of assistance").select_option("shelter")
    recipient.get_by_label("What was delivered").fill("Room 4, meals, hygiene kit.")
    recipient.get_by_role("button", name="Record assistance").click()
    expect(recipient.get_by_role("status")).to_contain_text("Assistance recorded.")
    expect(recipient.get_by_text("Room 4, meals, hygiene kit.")).to_be_visible()

    recipient.get_by_role("link", name="Close as completed").click()
    recipient.get_by_label("Note (optional)").fill("Moved to a rented flat.")
    recipient.get_by_role("button", name="Close as completed").click()
    expect(recipient.get_by_role("status")).to_contain_text("Referral closed as completed.")
    # Closed: the shared data is no longer shown to the shelter.
    expect(recipient.get_by_text("Elena")).to_have_count(0)
    screenshot(recipient, "referral-completed")
    assert recipient.csp_violations == [] and recipient.script_errors == []
    assert Assistance.objects.get().description == "Room 4, meals, hygiene kit."

    page.goto(f"{base}/referrals/{referral.pk}/")
    expect(page.get_by_text("Completed: assistance delivered", exact=True).first).to_be_visible()
    expect(page.get_by_role("table", name="Every change of this referral")).to_contain_text(
        "Accepted, in progress → Completed: assistance delivered")


def test_the_referral_pages_are_accessible(browser, live_server, case):
    base = live_server.url
    page = open_page(browser, bypass_csp=True)
    sign_in(page, base, "caseworker")
    page.goto(f"{base}/cases/{case.case_number}/referrals/new/?service_type=shelter")
    assert_accessible(page, "referral form")
    page.get_by_role("button", name="Send the referral").click()
    expect(page.get_by_role("alert")).to_be_visible()
    assert_accessible(page, "referral form with an error")
    page.get_by_role("radio", name=re.compile("Women's shelter")).check()
    page.get_by_role("button", name="Send the referral").click()
    # Opened again: the "sent" message list of base.html has its own axe finding (reported).
    page.goto(f"{base}/referrals/{Referral.objects.get().pk}/")
    assert_accessible(page, "referral page")
    page.goto(f"{base}/referrals/")
    assert_accessible(page, "referral inbox")
