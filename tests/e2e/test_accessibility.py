"""axe-core finds no serious or critical WCAG 2.2 AA problem on the caseworker's pages.

axe-core comes from npm (package.json at the repository root; `npm ci`). The pages forbid
inline and foreign scripts (CSP), so these tests, and only these, open the browser with
`bypass_csp=True` to inject it.
"""

from datetime import date

import pytest
from playwright.sync_api import Page, expect

from opennrm.accounts.models import Role
from opennrm.cases import services
from tests.e2e.browser import assert_accessible, open_page, screenshot, sign_in
from tests.factories import make_agency, make_user

pytestmark = pytest.mark.browser

LANGUAGES = ["en", "ro"]


@pytest.fixture
def axe_page(browser) -> Page:
    return open_page(browser, bypass_csp=True)


@pytest.fixture
def seeded_case(transactional_db, live_server):
    """A case with content in every stage the pages show: identity, documents, consent."""
    ngo = make_agency("la-strada", "ngo")
    make_agency("shelter-chisinau", "ngo")
    caseworker = make_user(Role.CASEWORKER, ngo, "caseworker")
    case = services.register_case(caseworker, {
        "given_name": "Elena", "family_name": "Popescu", "aliases": ["Lena"],
        "birth_date": date(2009, 4, 12), "gender": "female", "citizenships": ["MD"],
        "languages": ["ro", "ru"], "phone": "+37369123456",
        "address": "str. Ștefan cel Mare 1, Chișinău",
        "identity_documents": [{"document_type": "passport", "number": "AB1234567",
                                "country": "MD"}],
        "first_contact_on": date(2026, 3, 2), "exploitation_forms": ["forced_labour"],
        "labour_sector": "A", "exploitation_countries": ["RU"],
        "notes": "Met at the bus station; afraid of the employer.",
    })
    services.record_consent(caseworker, case, "assistance", date(2026, 3, 2))
    services.record_consent(caseworker, case, "data_sharing", date(2026, 3, 3),
                            recipient_agency_code="shelter-chisinau")
    return case


def choose_language(page: Page, base_url: str, language: str) -> None:
    """Switch with the header's language switcher (signed out, on the sign-in page)."""
    page.goto(base_url + "/login/")
    if language != "en":
        page.get_by_label("Language", exact=True).select_option(language)
        page.get_by_role("button", name="Change language").click()
    expect(page.locator("html")).to_have_attribute("lang", language)


def open_case_page(page: Page, base_url: str, path: str, language: str) -> None:
    page.goto(base_url + path)
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.locator("#main h1")).to_be_visible()


def signed_in(page: Page, base_url: str, language: str) -> None:
    choose_language(page, base_url, "en")
    sign_in(page, base_url, "caseworker")
    choose_and_stay(page, language)


def choose_and_stay(page: Page, language: str) -> None:
    """Switch language with the header's switcher while signed in."""
    if language == "en":
        return
    page.locator("#language-select").select_option(language)
    page.locator(".language-switcher button[type=submit]").click()
    expect(page.locator("html")).to_have_attribute("lang", language)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_sign_in_page(axe_page: Page, live_server, seeded_case, language):
    choose_language(axe_page, live_server.url, language)
    assert_accessible(axe_page, f"sign-in page [{language}]")


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_sign_in_page_with_an_error(axe_page: Page, live_server, seeded_case, language):
    choose_language(axe_page, live_server.url, language)
    axe_page.locator("input[type=password]").fill("wrong")
    axe_page.locator("form:has(input[type=password]) button[type=submit]").click()
    expect(axe_page.get_by_role("alert")).to_be_visible()
    assert_accessible(axe_page, f"sign-in page with an error [{language}]")


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_home_page(axe_page: Page, live_server, seeded_case, language):
    choose_language(axe_page, live_server.url, "en")
    sign_in(axe_page, live_server.url, "caseworker")
    choose_and_stay(axe_page, language)
    open_case_page(axe_page, live_server.url, "/", language)
    expect(axe_page.locator(".worklist").first).to_be_visible()
    assert_accessible(axe_page, f"home page [{language}]")


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_case_list(axe_page: Page, live_server, seeded_case, language):
    signed_in(axe_page, live_server.url, language)
    open_case_page(axe_page, live_server.url, "/cases/", language)
    expect(axe_page.get_by_role("link", name=seeded_case.case_number)).to_be_visible()
    assert_accessible(axe_page, f"case list [{language}]")


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_case_list_after_a_name_search(axe_page: Page, live_server, seeded_case,
                                           language):
    signed_in(axe_page, live_server.url, language)
    open_case_page(axe_page, live_server.url, "/cases/", language)
    search = axe_page.locator("form[method=post].search")
    search.locator("input[name=given_name]").fill("Elena")
    search.locator("input[name=family_name]").fill("Popescu")
    search.locator("input[name=birth_date]").fill("2009-04-12")
    search.locator("button[type=submit]").click()
    expect(axe_page.get_by_role("link", name=seeded_case.case_number)).to_be_visible()
    assert_accessible(axe_page, f"case list after a name search [{language}]")


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_case_page(axe_page: Page, live_server, seeded_case, language):
    signed_in(axe_page, live_server.url, language)
    open_case_page(axe_page, live_server.url, f"/cases/{seeded_case.case_number}/", language)
    assert_accessible(axe_page, f"case page [{language}]")


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_case_page_with_the_identity_shown(axe_page: Page, live_server, seeded_case,
                                               language):
    signed_in(axe_page, live_server.url, language)
    open_case_page(axe_page, live_server.url, f"/cases/{seeded_case.case_number}/", language)
    axe_page.locator("#identity form[method=post] button[type=submit]").click()
    expect(axe_page.locator("#identity")).to_contain_text("AB1234567")
    assert_accessible(axe_page, f"case page with the identity shown [{language}]")


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_case_edit_form(axe_page: Page, live_server, seeded_case, language):
    signed_in(axe_page, live_server.url, language)
    open_case_page(axe_page, live_server.url, f"/cases/{seeded_case.case_number}/edit/",
                   language)
    expect(axe_page.locator("input[name=family_name]")).to_have_value("Popescu")
    assert_accessible(axe_page, f"case edit form [{language}]")


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_register_form_with_errors(axe_page: Page, live_server, seeded_case, language):
    signed_in(axe_page, live_server.url, language)
    open_case_page(axe_page, live_server.url, "/cases/new/", language)
    axe_page.locator("input[name=birth_date]").fill("2999-01-01")
    axe_page.locator("main form[method=post] button[type=submit].primary").click()
    expect(axe_page.locator(".error-summary")).to_be_visible()
    assert_accessible(axe_page, f"register form with errors [{language}]")


def test_field_errors_are_tied_to_their_fields(axe_page: Page, live_server, seeded_case):
    """A screen reader reads a field's error with the field: aria-describedby must point at
    the element that holds the message (axe only checks that some id exists)."""
    signed_in(axe_page, live_server.url, "en")
    axe_page.goto(live_server.url + "/cases/new/")
    axe_page.locator("input[name=birth_date]").fill("2999-01-01")
    axe_page.get_by_role("button", name="Register case").click()
    expect(axe_page.locator(".error-summary")).to_be_visible()
    problems = axe_page.evaluate("""() => {
      const problems = [];
      for (const input of document.querySelectorAll('[aria-invalid="true"]')) {
        const ids = (input.getAttribute('aria-describedby') || '').split(/\\s+/).filter(Boolean);
        const missing = ids.filter(id => !document.getElementById(id));
        const errors = input.closest('.field')?.querySelectorAll('.field-error') || [];
        const described = Array.from(errors).every(error =>
            ids.some(id => document.getElementById(id)?.contains(error)));
        if (missing.length || !described) {
          problems.push(`${input.id}: aria-describedby="${ids.join(' ')}", missing ids `
                        + `${JSON.stringify(missing)}, error ids `
                        + JSON.stringify(Array.from(errors, e => e.id)));
        }
      }
      return problems;
    }""")
    assert not problems, "field errors not announced with their field:\n" + "\n".join(problems)


def test_showing_the_identity_keeps_the_keyboard_in_the_panel(axe_page: Page, live_server,
                                                              seeded_case):
    """WCAG 2.4.3: HTMX replaces the panel, and with it the focused button; the focus must
    land in the new panel, not on <body> (the next Tab would skip the identity)."""
    signed_in(axe_page, live_server.url, "en")
    axe_page.goto(f"{live_server.url}/cases/{seeded_case.case_number}/")
    axe_page.get_by_role("button", name="Show identity").focus()
    axe_page.keyboard.press("Enter")
    expect(axe_page.locator("#identity")).to_contain_text("AB1234567")
    # htmx moves the focus once the new panel has settled (after the text is in): wait for it,
    # then say where the focus went if it never arrives.
    hide = axe_page.get_by_role("button", name="Hide identity")
    try:
        expect(hide).to_be_focused(timeout=3000)
    except AssertionError:
        where = axe_page.evaluate("() => document.activeElement.outerHTML.slice(0, 100)")
        raise AssertionError(f"after showing the identity the focus is on {where}") from None
    axe_page.keyboard.press("Enter")
    # htmx moves the focus once the new panel has settled: wait for it.
    expect(axe_page.get_by_role("button", name="Show identity")).to_be_focused()


REFLOW_PAGES = {
    "sign-in page": "/login/",
    "home page": "/",
    "case list": "/cases/",
    "case page": "/cases/{number}/",
    "case edit form": "/cases/{number}/edit/",
}


@pytest.mark.parametrize("name", list(REFLOW_PAGES))
def test_pages_reflow_at_320_css_pixels(browser, live_server, seeded_case, name):
    """WCAG 1.4.10 (a 1280 px screen zoomed to 400 %): nothing but a data table may need
    horizontal scrolling."""
    page = open_page(browser, viewport={"width": 320, "height": 640})
    if name != "sign-in page":
        sign_in(page, live_server.url, "caseworker")
    page.goto(live_server.url + REFLOW_PAGES[name].format(number=seeded_case.case_number))
    # The outermost elements that stick out (their children are not listed).
    overflowing = page.evaluate("""() => {
      const width = document.documentElement.clientWidth;
      const skip = 'table, .visually-hidden, .skip-link, dialog:not([open])';
      const outside = (element) => {
        const box = element.getBoundingClientRect();
        return box.width > 0 && box.right > width + 1;
      };
      const found = [];
      for (const element of document.querySelectorAll('body *')) {
        if (element.closest(skip) || !outside(element)) continue;
        if (element.parentElement !== document.body && outside(element.parentElement)
            && !element.parentElement.closest(skip)) continue;
        const id = element.id ? '#' + element.id : '';
        const classes = Array.from(element.classList, name => '.' + name).join('');
        const right = Math.round(element.getBoundingClientRect().right);
        found.push(`${element.tagName.toLowerCase()}${id}${classes} ends at ${right}px`);
      }
      return found;
    }""")
    if overflowing:
        screenshot(page, f"reflow-{name.replace(' ', '-')}")
    assert not overflowing, (f"{name} at 320 CSS px: {len(overflowing)} elements outside "
                             "the viewport:\n" + "\n".join(overflowing[:25]))
