"""Statistics in a real browser: an analyst picks a period, the tables follow (HTMX), the PDF
report downloads, and axe finds no serious accessibility problem on the pages."""

import re
import subprocess
from datetime import date

import pytest
from playwright.sync_api import Page, expect

from opennrm.accounts.models import Role
from opennrm.cases import services as case_services
from opennrm.statistics import releases
from tests.e2e.browser import assert_accessible, open_page, screenshot, sign_in
from tests.factories import make_agency, make_user, person_data

pytestmark = pytest.mark.browser

SEX_AND_AGE = "Registered victims by sex and age group"


@pytest.fixture
def statistics_data(transactional_db, live_server):
    """Eight women first met in the first quarter of 2025, six men later that year."""
    ngo = make_agency("la-strada", "ngo")
    caseworker = make_user(Role.CASEWORKER, ngo, "caseworker")
    analyst = make_user(Role.ANALYST, make_agency("coordination", "central_government"),
                        "analyst")
    for index in range(8):
        case_services.register_case(caseworker, person_data(
            given_name=f"Ana{index}", gender="female", birth_date=date(1995, 1, 1),
            first_contact_on=date(2025, 2, index + 1), identity_documents=[]))
    for index in range(6):
        case_services.register_case(caseworker, person_data(
            given_name=f"Ion{index}", gender="male", birth_date=date(1990, 1, 1),
            first_contact_on=date(2025, 8, index + 1), identity_documents=[]))
    return analyst


def period_field(page: Page):
    return page.get_by_role("textbox", name=re.compile(r"^Period"))


def sex_and_age_total(page: Page):
    """The overall total of the first Eurostat table (its last cell)."""
    table = page.get_by_role("table", name=re.compile(SEX_AND_AGE))
    return table.locator("tbody tr").last.locator("td").last


def show(page: Page, period: str, table_set: str = "eurostat") -> None:
    period_field(page).fill(period)
    page.get_by_role("combobox", name=re.compile(r"^Table set")).select_option(table_set)
    page.get_by_role("button", name="Show tables").click()


def test_an_analyst_changes_the_period_and_downloads_the_report(browser, live_server,
                                                                  statistics_data):
    base = live_server.url
    page = open_page(browser, accept_downloads=True)
    sign_in(page, base, "analyst")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Statistics").click()
    expect(page.get_by_role("heading", level=1, name="Statistics")).to_be_visible()
    expect(period_field(page)).to_have_value(str(date.today().year))

    show(page, "2025-Q1")
    expect(page).to_have_url(re.compile(r"period=2025-Q1"))
    expect(page.get_by_role("heading", name=re.compile(r"2025-01-01 – 2025-03-31"))) \
        .to_be_visible()
    expect(sex_and_age_total(page)).to_have_text("8")
    expect(page.get_by_role("status")).to_contain_text("2025-01-01 – 2025-03-31")

    show(page, "2025")
    expect(page).to_have_url(re.compile(r"period=2025(&|$)"))
    expect(sex_and_age_total(page)).to_have_text("14")
    # The women's count is published; the chart of the table says so to screen readers.
    expect(page.get_by_role("img", name=re.compile(r"Bar chart: " + SEX_AND_AGE))) \
        .to_be_visible()

    with page.expect_download(timeout=120_000) as download_info:
        page.get_by_role("link", name="PDF report of this table set").click()
    download = download_info.value
    assert download.suggested_filename == "eurostat-2025.pdf"
    text = subprocess.run(["pdftotext", download.path(), "-"], capture_output=True,
                          check=True, text=True).stdout
    for title in (SEX_AND_AGE, "Registered victims by citizenship and sex",
                  "Registered victims by form of exploitation and sex"):
        assert title in text
    assert "Ana0" not in text and "Popescu" not in text
    screenshot(page, "statistics")
    assert page.csp_violations == [] and page.script_errors == []


def test_a_wrong_period_is_shown_in_the_form(browser, live_server, statistics_data):
    page = open_page(browser)
    sign_in(page, live_server.url, "analyst")
    page.goto(live_server.url + "/statistics/?period=2025&table_set=eurostat")
    show(page, "2025-13")
    summary = page.locator(".error-summary")
    expect(summary).to_be_visible()
    summary.get_by_role("link").click()
    expect(period_field(page)).to_be_focused()
    expect(period_field(page)).to_have_value("2025-13")
    expect(page.get_by_role("table", name=re.compile(SEX_AND_AGE))).to_have_count(0)
    assert page.csp_violations == [] and page.script_errors == []


def test_the_statistics_pages_are_accessible(browser, live_server, statistics_data):
    release = releases.publish_release(statistics_data, "eurostat", date(2025, 1, 1),
                                       date(2025, 12, 31), releases.Controls())
    page = open_page(browser, bypass_csp=True)
    sign_in(page, live_server.url, "analyst")
    page.goto(live_server.url + "/statistics/?period=2025&table_set=eurostat")
    expect(page.get_by_role("table", name=re.compile(SEX_AND_AGE))).to_be_visible()
    assert_accessible(page, "statistics page")

    show(page, "2025-13")
    expect(page.locator(".error-summary")).to_be_visible()
    assert_accessible(page, "statistics page with an error")

    page.goto(live_server.url + "/statistics/releases/")
    page.get_by_label("Privacy budget to spend (ε)").fill("5")
    page.get_by_label("I understand that a published release cannot be changed").check()
    page.get_by_role("button", name="Publish release").click()
    expect(page.locator(".error-summary")).to_contain_text("privacy budget would be exceeded")
    assert_accessible(page, "releases page with a refused release")

    page.goto(f"{live_server.url}/statistics/releases/{release.pk}/")
    page.get_by_role("button", name="Check the release").click()
    expect(page.get_by_role("status")).to_contain_text("Check passed")
    assert_accessible(page, "release page")
