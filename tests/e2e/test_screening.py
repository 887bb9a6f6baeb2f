"""Screening in a real browser: ticking indicators updates the outcome live (htmx)."""

import re

import pytest
from playwright.sync_api import Page, expect

from opennrm.accounts.models import Role
from opennrm.cases import services as case_services
from opennrm.screening import indicator_sets
from opennrm.screening.models import Screening
from tests.e2e.browser import assert_accessible, open_page, screenshot, sign_in
from tests.factories import make_agency, make_labour_indicator_set, make_user, person_data

ADULT = make_labour_indicator_set("adult")
CHILD = make_labour_indicator_set("child")

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def test_lists(monkeypatch):
    """The web tests' lists stand in for the data files (the live server shares the
    process, so it sees them too)."""
    monkeypatch.setattr(indicator_sets, "all_sets",
                        lambda: {ADULT.key: ADULT, CHILD.key: CHILD})


@pytest.fixture
def case(transactional_db, live_server):
    ngo = make_agency("la-strada", "ngo")
    caseworker = make_user(Role.CASEWORKER, ngo, "caseworker")
    return case_services.register_case(caseworker, person_data())


def indicator(page: Page, label: str):
    return page.get_by_role("checkbox", name=re.compile(rf"^{re.escape(label)}\b"))


def test_a_caseworker_screens_a_case_and_sees_the_outcome_live(page: Page, live_server,
                                                                case):
    base = live_server.url
    sign_in(page, base, "caseworker")
    page.goto(f"{base}/cases/{case.case_number}/")
    identification = page.locator("#stage-identification")
    expect(identification.get_by_text("Not screened against the indicators yet.")).to_be_visible()
    identification.get_by_role("link", name="Screen against the indicators").click()
    expect(page).to_have_url(f"{base}/cases/{case.case_number}/screenings/new/")
    expect(page.get_by_role("heading", level=1, name="Screen against the indicators")
           ).to_be_visible()
    expect(page.get_by_role("radio", name="Adults, labour exploitation")).to_be_checked()

    outcome = page.locator("#screening-outcome")
    expect(outcome).to_have_attribute("role", "status")
    expect(outcome).to_contain_text("Indicators not met")

    # Recruitment and exploitation: possible, and the explanation says what is missing.
    for label in ("Coercive recruitment: strong sign 0", "Coercive recruitment: strong sign 1",
                  "Exploitative conditions: strong sign 0"):
        indicator(page, label).check()
    expect(outcome).to_contain_text("Possible victim — gather more information")
    expect(outcome).to_contain_text("Coercive recruitment: present — 2 strong")
    # A note box appears beside a ticked indicator.
    note = page.get_by_label("Note (optional): Coercive recruitment: strong sign 0")
    expect(note).to_be_visible()
    expect(page.get_by_label("Note (optional): Coercive recruitment: medium sign 0")
           ).to_be_hidden()
    note.fill("Threatened with a knife at the border.")
    indicator(page, "Exploitative conditions: medium sign 0").check()
    expect(outcome).to_contain_text(
        "Exploitative conditions: present — 1 strong (Exploitative conditions: strong sign 0)"
        " + 1 medium")
    expect(outcome).to_contain_text("Missing for a probable victim: one of Coercion at "
                                    "destination")

    # The means at destination: probable.
    indicator(page, "Coercion at destination: strong sign 0").check()
    indicator(page, "Coercion at destination: weak sign 1").check()
    expect(outcome).to_contain_text("Probable victim — refer")
    expect(outcome).to_contain_text("Coercion at destination: present — 1 strong")
    expect(outcome).not_to_contain_text("Missing for a probable victim")
    assert not Screening.objects.exists()  # a preview stores nothing
    screenshot(page, "screening-form")

    page.get_by_role("button", name="Record screening").click()
    expect(page).to_have_url(f"{base}/cases/{case.case_number}/")
    expect(page.get_by_role("status").filter(has_text="Screening recorded")).to_contain_text(
        "Screening recorded: Probable victim — refer.")
    screenings = page.get_by_role("table", name="Screenings against the trafficking indicators")
    expect(screenings).to_contain_text("Adults, labour exploitation")
    expect(screenings).to_contain_text("Probable victim — refer")
    screening = Screening.objects.get()
    assert screening.outcome == "probable"
    assert screening.notes == {
        "coercive_recruitment_s0": "Threatened with a knife at the border."}

    screenings.get_by_role("link", name=re.compile("^Open")).click()
    expect(page).to_have_url(f"{base}/cases/{case.case_number}/screenings/{screening.pk}/")
    expect(page.get_by_text("Threatened with a knife at the border.")).to_be_visible()
    screenshot(page, "screening-summary")
    assert page.csp_violations == [] and page.script_errors == []


def test_changing_the_list_brings_its_indicators(page: Page, live_server, case):
    base = live_server.url
    sign_in(page, base, "caseworker")
    page.goto(f"{base}/cases/{case.case_number}/screenings/new/")
    indicator(page, "Coercive recruitment: strong sign 0").check()
    page.get_by_role("radio", name="Children, labour exploitation").check()
    shown = page.locator("input[name=shown_set]")
    expect(shown).to_have_value("test-child-labour:1")
    # The same indicator code exists in both test lists: its tick is kept.
    expect(indicator(page, "Coercive recruitment: strong sign 0")).to_be_checked()
    expect(page.get_by_role("radio", name="Children, labour exploitation")).to_be_focused()
    assert page.csp_violations == [] and page.script_errors == []


def test_the_screening_pages_are_accessible(browser, live_server, case):
    page = open_page(browser, bypass_csp=True)
    base = live_server.url
    sign_in(page, base, "caseworker")
    page.goto(f"{base}/cases/{case.case_number}/screenings/new/")
    indicator(page, "Coercive recruitment: strong sign 0").check()
    expect(page.locator("#screening-outcome")).to_contain_text("Possible victim")
    assert_accessible(page, "screening form")
    page.get_by_label("Screened on").fill("")
    page.get_by_role("button", name="Record screening").click()
    expect(page.get_by_role("alert")).to_be_visible()
    assert_accessible(page, "screening form with an error")
    page.get_by_label("Screened on").fill("2026-03-05")
    page.get_by_role("button", name="Record screening").click()
    screening = Screening.objects.get()
    page.goto(f"{base}/cases/{case.case_number}/screenings/{screening.pk}/")
    assert_accessible(page, "screening summary")
