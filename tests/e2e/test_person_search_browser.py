"""A caseworker finds a person registered in Cyrillic by the spelling of her Ukrainian
passport, in a real browser; the search page and its results pass axe-core."""

from datetime import date

import pytest
from playwright.sync_api import Page, expect

from opennrm.accounts.models import Role
from opennrm.cases import services
from tests.e2e.browser import assert_accessible, open_page, screenshot, sign_in
from tests.factories import make_agency, make_user, person_data

pytestmark = pytest.mark.browser


@pytest.fixture
def axe_page(browser) -> Page:
    return open_page(browser, bypass_csp=True)


def test_mariia_shevchenko_finds_the_person_registered_in_cyrillic(axe_page: Page, live_server):
    caseworker = make_user(Role.CASEWORKER, make_agency("la-strada", "ngo"), "caseworker")
    case = services.register_case(caseworker, person_data(
        given_name="Марія", family_name="Шевченко", birth_date=date(1991, 7, 3)))
    services.register_case(caseworker, person_data(given_name="Maria", family_name="Rusu",
                                                   birth_date=date(1991, 7, 3)))
    page = axe_page
    sign_in(page, live_server.url, "caseworker")
    page.goto(live_server.url + "/cases/")
    finder = page.get_by_role("search", name="Find a person")
    finder.get_by_label("Name").fill("Mariia Shevchenko")
    finder.get_by_role("button", name="Find").click()
    expect(page).to_have_url(live_server.url + "/cases/find/")  # no name in the address
    results = page.get_by_role("table", name="Persons found, best match first")
    first = results.get_by_role("row").nth(1)
    expect(first).to_contain_text("Марія Шевченко")
    expect(first).to_contain_text("family name (transliteration)")
    expect(first.get_by_role("link", name=case.case_number)).to_be_visible()
    screenshot(page, "person-search")
    assert_accessible(page, "person search with results")
    assert not page.script_errors
