"""In a real browser: the caseworker finds legal aid outside OpenNRM, records the referral,
downloads the letter and records the outcome. Every new page passes axe (WCAG 2.2 AA)."""

import re

import pytest
from playwright.sync_api import Page, expect

from opennrm.audit.models import AuditEntry
from opennrm.referrals.models import Referral, ReferralState
from tests.e2e.browser import assert_accessible, browser, open_page, screenshot, sign_in
from tests.referrals.outside import NOT_SHARED, three_legal_aid_offices
from tests.referrals.test_referral_letter import pdf_text

pytestmark = pytest.mark.browser

__all__ = ["browser"]  # the fixture, for this file's test

OUTSIDE = "(outside OpenNRM: the referral is recorded, you contact them)"


@pytest.fixture
def axe_page(browser) -> Page:
    # axe-core is injected into the page: only these pages bypass the CSP to allow it.
    return open_page(browser, bypass_csp=True)


def test_a_caseworker_refers_to_legal_aid_outside_opennrm(axe_page: Page, live_server,
                                                          caseworker, case, consent):
    three_legal_aid_offices()
    page, base = axe_page, live_server.url
    sign_in(page, base, "caseworker")
    page.goto(f"{base}/cases/{case.case_number}/")
    page.get_by_role("link", name="Refer to a service").click()
    page.get_by_label("Kind of service").select_option("legal_aid")
    page.get_by_role("button", name="Find matching services").click()

    # The three legal-aid services of the directory, each labelled outside OpenNRM.
    offered = page.get_by_role("radio", name=re.compile(re.escape(OUTSIDE)))
    expect(offered).to_have_count(3)
    assert_accessible(page, "matching services outside OpenNRM")
    page.get_by_role("radio", name=re.compile("State-Guaranteed Legal Aid, Chișinău")).check()
    page.get_by_role("checkbox", name="Given name").check()
    page.get_by_label("What the person needs", exact=True).fill("A lawyer for the hearing.")
    page.get_by_role("button", name="Record the referral").click()
    expect(page.get_by_role("status")).to_contain_text("Referral recorded. Contact "
                                                       "State-Guaranteed Legal Aid, Chișinău")
    referral = Referral.objects.get()
    assert referral.external and referral.shared_fields == ["given_name", "gender",
                                                            "age_band", "languages", "needs"]
    expect(page.get_by_text("None: the service is outside OpenNRM.")).to_be_visible()
    screenshot(page, "external-referral")
    assert_accessible(page, "referral outside OpenNRM")

    # The letter: what is shared, nothing else.
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download the referral letter (PDF)").click()
    download = download_info.value
    assert download.suggested_filename == f"referral-{referral.pk}-letter.pdf"
    with open(download.path(), "rb") as handle:
        text = pdf_text(handle.read())
    assert "Given name Elena" in text and "A lawyer for the hearing." in text
    for secret in NOT_SHARED:
        assert secret not in text, secret
    assert AuditEntry.objects.filter(action="export", object_type="referral").count() == 1

    # The outcome, first without choosing: the message is beside the choices.
    page.get_by_role("link", name="Record the outcome").click()
    expect(page.get_by_role("heading", level=1, name="Record the outcome")).to_be_visible()
    assert_accessible(page, "record the outcome")
    page.get_by_role("button", name="Record the outcome").click()
    expect(page.get_by_role("alert").filter(has_text="There is a problem")).to_be_visible()
    assert_accessible(page, "record the outcome, with an error")
    page.get_by_role("radio", name="Accepted: the service took the person on").check()
    page.get_by_label("Note (optional)").fill("Lawyer assigned; first meeting on Monday.")
    page.get_by_role("button", name="Record the outcome").click()
    expect(page.get_by_role("status")).to_contain_text("Outcome recorded.")
    expect(page.locator(".tag").filter(
        has_text="Accepted: the service took the person on").first).to_be_visible()
    expect(page.get_by_role("table", name="Every change of this referral")).to_contain_text(
        "Lawyer assigned; first meeting on Monday.")
    referral.refresh_from_db()
    assert (referral.state, referral.outcome) == (ReferralState.ACCEPTED, "accepted")
    assert page.csp_violations == [] and page.script_errors == []
