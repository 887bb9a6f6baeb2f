"""At phone width (390 × 844 CSS px) every main page fits the screen, tables keep their
action columns in reach, and the register form's type-ahead lists work from the keyboard.

Issue 17, "phone width" and "register form": the header folds behind "Menu", tables become
cards (tables.js labels the cells, opennrm.css lays them out), the screening outcome stays
in view, and the lists of countries and languages are comboboxes (combobox.js).
"""

from datetime import date

import pytest
from playwright.sync_api import Page, expect

from opennrm.accounts.models import Role
from opennrm.cases import services
from tests.e2e.browser import assert_accessible, open_page, screenshot, sign_in
from tests.factories import make_agency, make_agency_service, make_referral, make_user

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def referred_case(transactional_db, live_server):
    """A case of the NGO with consents, referred to the shelter (an inbox row, a deadline and
    a notification for the shelter)."""
    ngo = make_agency("la-strada", "ngo")
    shelter = make_agency("shelter-chisinau", "ngo")
    caseworker = make_user(Role.CASEWORKER, ngo, "caseworker")
    make_user(Role.CASEWORKER, shelter, "shelter")
    case = services.register_case(caseworker, {
        "given_name": "Elena", "family_name": "Popescu-Ștefănescu", "aliases": ["Lena"],
        "birth_date": date(2001, 4, 12), "gender": "female", "citizenships": ["MD", "UA"],
        "languages": ["ro", "ru"], "phone": "+37369123456",
        "address": "str. Ștefan cel Mare și Sfînt 1, ap. 12, Chișinău",
        "identity_documents": [{"document_type": "passport", "number": "AB1234567",
                                "country": "MD"}],
        "first_contact_on": date(2026, 3, 2), "first_contact_place": "MD-CU",
        "referral_source": "hotline", "exploitation_forms": ["forced_labour"],
        "labour_sector": "A", "exploitation_countries": ["RU"],
        "notes": "Met at the bus station; afraid of the employer.",
    })
    services.record_consent(caseworker, case, "assistance", date(2026, 3, 2))
    services.record_consent(caseworker, case, "referral", date(2026, 3, 2))
    services.record_consent(caseworker, case, "data_sharing", date(2026, 3, 3),
                            recipient_agency_code="shelter-chisinau")
    make_referral(caseworker, case, make_agency_service(shelter))
    return case


def phone_page(browser) -> Page:
    return open_page(browser, viewport=PHONE)


def assert_fits(page: Page, name: str) -> None:
    """No sideways scrolling, and every link and button of a table inside the screen."""
    width = page.evaluate("() => document.documentElement.scrollWidth")
    outside = page.evaluate("""() => Array.from(document.querySelectorAll(
          'main table a, main table button'))
        .filter(control => control.getClientRects().length)
        .filter(control => {
          const box = control.getBoundingClientRect();
          return box.left < 0 || box.right > document.documentElement.clientWidth + 1;
        })
        .map(control => control.textContent.trim().slice(0, 40))""")
    if width > PHONE["width"] or outside:
        screenshot(page, f"phone-{name}")
    assert width <= PHONE["width"], f"{name} is {width} px wide at {PHONE['width']} px"
    assert not outside, f"{name}: table actions outside the screen: {outside}"


PAGES = {
    "home page": ("caseworker", "/"),
    "case list": ("caseworker", "/cases/"),
    "case page": ("caseworker", "/cases/{number}/"),
    "register form": ("caseworker", "/cases/new/"),
    "case edit form": ("caseworker", "/cases/{number}/edit/"),
    "screening": ("caseworker", "/cases/{number}/screenings/new/"),
    "referral inbox": ("shelter", "/referrals/"),
    "deadlines": ("shelter", "/deadlines/"),
    "notifications": ("shelter", "/notifications/"),
}


@pytest.mark.parametrize("name", list(PAGES))
def test_pages_fit_a_phone(browser, live_server, referred_case, name):
    username, path = PAGES[name]
    page = phone_page(browser)
    sign_in(page, live_server.url, username)
    page.goto(live_server.url + path.format(number=referred_case.case_number))
    expect(page.locator("#main h1")).to_be_visible()
    assert_fits(page, name)
    assert not page.script_errors and not page.csp_violations


def test_the_header_is_compact_and_its_menu_opens_without_script(browser, live_server,
                                                                 referred_case):
    page = open_page(browser, viewport=PHONE, java_script_enabled=False)
    sign_in(page, live_server.url, "caseworker")
    header = page.locator(".site-header").bounding_box()
    assert header["height"] < 80, f"the header takes {header['height']} px"
    menu = page.locator(".site-menu > summary")
    expect(page.get_by_role("link", name="Cases", exact=True)).to_be_hidden()
    menu.click()
    expect(page.get_by_role("link", name="Cases", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def test_the_menu_is_open_on_a_wide_screen(page: Page, live_server, referred_case):
    sign_in(page, live_server.url, "caseworker")
    expect(page.locator(".site-menu > summary")).to_be_hidden()
    expect(page.get_by_role("link", name="Cases", exact=True)).to_be_visible()


def test_the_case_list_keeps_its_columns_as_cards(browser, live_server, referred_case):
    page = phone_page(browser)
    sign_in(page, live_server.url, "shelter")
    page.goto(live_server.url + "/referrals/")
    row = page.locator("main table.cards tbody tr").first
    expect(row).to_be_visible()
    # Every column is still there, with its name before the value.
    labels = row.locator("[data-label]").evaluate_all(
        "cells => cells.map(cell => cell.dataset.label)")
    assert labels and all(isinstance(label, str) for label in labels)
    assert page.locator("main table.cards thead").first.evaluate(
        "head => head.getBoundingClientRect().width") <= 1


def test_the_consent_withdraw_link_is_in_reach_on_the_case_page(browser, live_server,
                                                                referred_case):
    page = phone_page(browser)
    sign_in(page, live_server.url, "caseworker")
    page.goto(f"{live_server.url}/cases/{referred_case.case_number}/")
    withdraw = page.locator("table.consents a", has_text="Withdraw").first
    withdraw.scroll_into_view_if_needed()
    expect(withdraw).to_be_in_viewport()


def test_the_screening_outcome_stays_in_view(browser, live_server, referred_case):
    page = phone_page(browser)
    sign_in(page, live_server.url, "caseworker")
    page.goto(f"{live_server.url}/cases/{referred_case.case_number}/screenings/new/")
    outcome = page.locator(".screening-outcome")
    expect(outcome).to_be_in_viewport()
    page.mouse.wheel(0, 3000)
    expect(outcome).to_be_in_viewport()


# --- the register form's type-ahead lists ------------------------------------------------

def test_the_register_form_with_comboboxes_is_accessible(browser, live_server, referred_case):
    page = open_page(browser, viewport=PHONE, bypass_csp=True)
    sign_in(page, live_server.url, "caseworker")
    page.goto(live_server.url + "/cases/new/")
    combobox = page.get_by_role("combobox", name="Citizenship")
    combobox.fill("mold")
    expect(page.locator(".combobox-listbox").get_by_role(
        "option", name="Moldova, Republic of")).to_be_visible()
    assert_accessible(page, "register form with an open combobox")
    combobox.press("Enter")
    assert_accessible(page, "register form with a chosen country")


def test_the_combobox_works_with_the_keyboard_alone(page: Page, live_server, referred_case):
    sign_in(page, live_server.url, "caseworker")
    page.goto(live_server.url + "/cases/new/")
    combobox = page.get_by_role("combobox", name="Citizenship")
    combobox.focus()
    page.keyboard.type("ukr")
    expect(combobox).to_have_attribute("aria-expanded", "true")
    expect(page.locator(".combobox-listbox [role=option]").filter(visible=True).first) \
        .to_have_text("Ukraine")
    page.keyboard.press("Enter")
    chosen = page.get_by_role("list", name="Chosen for Citizenship")
    expect(chosen).to_contain_text("Ukraine")
    expect(combobox).to_have_value("")
    # Arrows move through the matches; Enter chooses the one reached.
    page.keyboard.type("ro")
    page.keyboard.press("ArrowDown")
    active = page.locator("#" + combobox.get_attribute("aria-activedescendant"))
    second = active.inner_text()
    page.keyboard.press("Enter")
    expect(chosen).to_contain_text(second)
    assert second in page.locator("select[name=citizenships]").evaluate(
        "select => Array.from(select.selectedOptions, option => option.textContent)")
    # The chosen entries can be removed from the keyboard too.
    remove = page.get_by_role("button", name="Remove Ukraine")
    remove.focus()
    page.keyboard.press("Enter")
    expect(chosen).not_to_contain_text("Ukraine")
    assert "UA" not in page.locator("select[name=citizenships]").evaluate(
        "select => Array.from(select.selectedOptions, option => option.value)")
