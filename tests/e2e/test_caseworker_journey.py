"""A caseworker's day in a real browser, from signing in to being signed out when idle."""

import re

import pytest
from django.utils import translation
from playwright.sync_api import Page, expect

from opennrm.audit.models import AuditEntry
from opennrm.cases.models import Case
from opennrm.core import codelists
from tests.e2e.browser import screenshot, sign_in

pytestmark = pytest.mark.browser

GIVEN_NAME = "Elena"
FAMILY_NAME = "Popescu"
BIRTH_DATE = "1998-04-12"
DOCUMENT_NUMBER = "AB1234567"


def field(scope, label: str):
    """The form control labelled `label`, whether or not it is marked "(required)"."""
    return scope.get_by_label(re.compile(rf"^{re.escape(label)}(\s*\(required\))?$"))


def stage_heading(page: Page, name: str):
    return page.get_by_role("heading", level=2, name=name, exact=True)


def fill_the_register_form(page: Page) -> None:
    """Everything but the date of first contact."""
    field(page, "Given name").fill(GIVEN_NAME)
    field(page, "Family name").fill(FAMILY_NAME)
    field(page, "Birth date").fill(BIRTH_DATE)
    field(page, "Document 1: type").select_option("passport")
    field(page, "Document 1: number").fill(DOCUMENT_NUMBER)
    field(page, "Document 1: issuing country").select_option("MD")
    field(page, "Gender").select_option("female")
    choose(page, "Citizenship", ["Moldova"])
    choose(page, "Languages spoken", ["Romanian", "Russian"])
    choose(page, "Forms of exploitation", ["Forced labour"])
    choose(page, "Exploited in", ["Russian Federation"])
    field(page, "Notes").fill("Met at the bus station.")


def choose(page: Page, label: str, names: list[str]) -> None:
    """Several choices of a list, as a caseworker types them in its combobox."""
    box = page.get_by_role("combobox", name=label)
    for name in names:
        box.fill(name)
        box.press("Enter")


def at(base: str, path: str) -> re.Pattern:
    """The page's address, ignoring a #fragment (a link in the error summary leaves one)."""
    return re.compile(rf"^{re.escape(base + path)}(#[\w-]*)?$")


def selected(locator) -> list[str]:
    return locator.evaluate("select => Array.from(select.selectedOptions, o => o.value)")


def test_a_caseworker_registers_finds_shows_edits_translates_and_is_signed_out(
        page: Page, live_server, caseworker, settings):
    base = live_server.url

    # Sign in: the home page lists today's work.
    sign_in(page, base, "caseworker")
    expect(page).to_have_url(base + "/")
    expect(page.get_by_role("heading", level=1, name="Good day, caseworker")).to_be_visible()
    main_nav = page.get_by_role("navigation", name="Main")
    expect(main_nav.get_by_role("link", name="Today")).to_have_attribute("aria-current", "page")

    # Register, forgetting the date of first contact.
    main_nav.get_by_role("link", name="Register a case").click()
    expect(page).to_have_url(at(base, "/cases/new/"))
    expect(page.get_by_role("heading", level=1, name="Register a case")).to_be_visible()
    fill_the_register_form(page)
    page.get_by_role("button", name="Register case").click()

    summary = page.get_by_role("alert").filter(has_text="There is a problem")
    expect(summary).to_be_visible()
    expect(summary.get_by_role("heading", name="There is a problem")).to_be_visible()
    summary_link = summary.get_by_role("link", name=re.compile(r"^Date of first contact"))
    expect(summary_link).to_have_attribute("href", "#id_first_contact_on")
    first_contact = field(page, "Date of first contact")
    expect(first_contact).to_have_attribute("aria-invalid", "true")
    field_error = page.locator(".field.has-error").filter(has=first_contact) \
        .locator(".field-error")
    expect(field_error).to_be_visible()
    expect(field_error).not_to_be_empty()
    # The link in the summary takes the keyboard to the field.
    summary_link.click()
    expect(first_contact).to_be_focused()
    screenshot(page, "register-error")

    # Nothing typed was lost.
    expect(field(page, "Given name")).to_have_value(GIVEN_NAME)
    expect(field(page, "Family name")).to_have_value(FAMILY_NAME)
    expect(field(page, "Birth date")).to_have_value(BIRTH_DATE)
    expect(field(page, "Document 1: type")).to_have_value("passport")
    expect(field(page, "Document 1: number")).to_have_value(DOCUMENT_NUMBER)
    expect(field(page, "Document 1: issuing country")).to_have_value("MD")
    expect(field(page, "Gender")).to_have_value("female")
    # What was chosen in the comboboxes is kept in their lists (the form's own selects).
    assert selected(page.locator('select[name="citizenships"]')) == ["MD"]
    assert sorted(selected(page.locator('select[name="languages"]'))) == ["ro", "ru"]
    assert selected(page.locator('select[name="exploitation_forms"]')) == ["forced_labour"]
    assert selected(page.locator('select[name="exploitation_countries"]')) == ["RU"]
    expect(field(page, "Notes")).to_have_value("Met at the bus station.")
    assert not Case.objects.exists()

    # Fix it and register.
    first_contact.fill("2026-03-02")
    page.get_by_role("button", name="Register case").click()
    heading = page.get_by_role("heading", level=1, name=re.compile(r"^Case "))
    expect(heading).to_be_visible()
    case = Case.objects.get()
    case_number = case.case_number
    expect(heading).to_have_text(f"Case {case_number}")
    expect(page).to_have_url(at(base, f"/cases/{case_number}/"))
    expect(page.get_by_role("status").filter(has_text=f"Case {case_number} registered.")) \
        .to_be_visible()

    # Find it by its number with the list's filters.
    main_nav.get_by_role("link", name="Cases", exact=True).click()
    expect(page).to_have_url(at(base, "/cases/"))
    filters = page.get_by_role("search", name="Filter cases")
    field(filters, "Case number").fill(case_number)
    filters.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(r"[?&]q=" + re.escape(case_number)))
    results = page.locator("#case-results")
    expect(results.get_by_role("status")).to_contain_text("1 case")
    expect(results.get_by_role("link", name=case_number)).to_be_visible()
    expect(page.locator("#main")).not_to_contain_text(FAMILY_NAME)
    screenshot(page, "list-filtered")

    # Find it by the exact name and birth date.
    by_name = page.get_by_role("search", name="By name and birth date")
    field(by_name, "Given name").fill(GIVEN_NAME)
    field(by_name, "Family name").fill(FAMILY_NAME)
    field(by_name, "Birth date").fill(BIRTH_DATE)
    by_name.get_by_role("button", name="Search").click()
    expect(page.get_by_role("heading", name="Cases matching the name and birth date")) \
        .to_be_visible()
    # A POST: the name is not in the address.
    assert GIVEN_NAME not in page.url and FAMILY_NAME not in page.url
    expect(page.locator("#case-results").get_by_role("link", name=case_number)).to_be_visible()
    screenshot(page, "list-by-name")

    # Open it: the identity is masked until shown, and showing it is recorded.
    page.locator("#case-results").get_by_role("link", name=case_number).click()
    expect(page).to_have_url(at(base, f"/cases/{case_number}/"))
    identity = page.locator("#identity")
    expect(identity).to_contain_text("hidden")
    expect(page.locator("#main")).not_to_contain_text(GIVEN_NAME)
    expect(page.locator("#main")).not_to_contain_text(FAMILY_NAME)
    expect(page.locator("#main")).not_to_contain_text(DOCUMENT_NUMBER)
    for stage in ("Person", "Identification", "Assistance", "Protection", "Proceedings",
                  "Closure"):
        expect(stage_heading(page, stage)).to_be_visible()
    assert not AuditEntry.objects.filter(action="reveal").exists()
    page.get_by_role("button", name="Show identity").click()
    expect(identity).to_contain_text(f"{GIVEN_NAME} {FAMILY_NAME}")
    expect(identity).to_contain_text(DOCUMENT_NUMBER)
    expect(page.get_by_role("button", name="Hide identity")).to_be_visible()
    # HTMX swapped the panel: still the same page.
    expect(page).to_have_url(at(base, f"/cases/{case_number}/"))
    assert AuditEntry.objects.filter(action="reveal", object_ref=case_number,
                                     actor_id=caseworker.pk).count() == 1
    screenshot(page, "detail-identity")

    # Edit it.
    page.get_by_role("link", name="Edit", exact=True).click()
    expect(page).to_have_url(at(base, f"/cases/{case_number}/edit/"))
    expect(page.get_by_role("heading", level=1, name=f"Edit case {case_number}")) \
        .to_be_visible()
    expect(field(page, "Family name")).to_have_value(FAMILY_NAME)
    choose(page, "Exploited in", ["Türkiye"])
    field(page, "Notes").fill("Moved to the shelter.")
    page.get_by_role("button", name="Save changes").click()
    expect(page).to_have_url(at(base, f"/cases/{case_number}/"))
    expect(page.get_by_role("status").filter(has_text="Changes saved.")).to_be_visible()
    identification = page.locator("#stage-identification")
    expect(identification).to_contain_text(codelists.label("countries", "TR", "en"))
    page.get_by_role("button", name="Show identity").click()
    expect(identity).to_contain_text("Moved to the shelter.")
    expect(identity).not_to_contain_text("Met at the bus station.")

    # Ukrainian, with the language switcher.
    page.get_by_label("Language", exact=True).select_option("uk")
    page.get_by_role("button", name="Change language").click()
    expect(page.locator("html")).to_have_attribute("lang", "uk")
    expect(page).to_have_url(at(base, f"/cases/{case_number}/"))
    expect(stage_heading(page, "Identification")).to_have_count(0)
    expect(stage_heading(page, "Assistance")).to_have_count(0)
    with translation.override("uk"):
        identification_uk = translation.gettext("Identification")
        still_there_uk = translation.gettext("Are you still there?")
        signed_out_uk = translation.gettext(
            "You were signed out because the page was left unused. "
            "Sign in again to continue.")
    assert identification_uk != "Identification", \
        "no Ukrainian translation of 'Identification': is the catalogue compiled?"
    expect(stage_heading(page, identification_uk)).to_be_visible()
    # The identity is masked again after the page load.
    expect(page.locator("#main")).not_to_contain_text(FAMILY_NAME)
    screenshot(page, "detail-uk")

    # Walk away: the browser warns, then clears the screen and signs out.
    settings.SESSION_COOKIE_AGE = 8
    settings.OPENNRM_SESSION_WARNING_SECONDS = 4
    page.reload()
    expect(page.locator("body")).to_have_attribute("data-session-timeout", "8")
    expect(page.locator("body")).to_have_attribute("data-session-warning", "4")
    warning = page.get_by_role("dialog")
    expect(warning).to_be_hidden()
    expect(warning).to_be_visible(timeout=8_000)
    expect(warning).to_have_attribute("id", "session-warning")
    expect(warning.get_by_role("heading", level=2)).to_have_text(still_there_uk)
    expect(warning.locator("#session-stay")).to_be_focused()
    screenshot(page, "session-warning")
    expect(page).to_have_url(re.compile(r"/login/"), timeout=10_000)
    expect(page.locator("body")).not_to_contain_text(case_number)
    expect(page.locator("input[type=password]")).to_have_count(1)
    expect(page.get_by_role("status")).to_contain_text(signed_out_uk)
    screenshot(page, "signed-out")
    # The session is over on the server too, and going back shows no case.
    page.go_back()
    expect(page.locator("body")).not_to_contain_text(case_number)
    expect(page.locator("body")).not_to_contain_text(FAMILY_NAME)
    page.goto(f"{base}/cases/{case_number}/")
    expect(page).to_have_url(re.compile(r"/login/"))

    assert page.csp_violations == []
    assert page.script_errors == []
