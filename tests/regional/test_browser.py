"""The regional analyst in a real Chromium: opens the regional view (Moldova's release sent,
Ukraine's received over the channel), reads the regional total with the duplicates removed,
and downloads the regional PDF report."""

import re
import subprocess

import pytest
from playwright.sync_api import expect

from opennrm.regional import duplicates, services, testdata
from opennrm.statistics import releases
from tests.e2e.browser import assert_accessible, open_page, sign_in
from tests.regional.conftest import YEAR, seed, send_from

pytestmark = pytest.mark.browser


@pytest.fixture
def regional_data(transactional_db, live_server, coordinator, regional_analyst, ua):
    people = seed("MD", persons=200)
    own = services.send_release(coordinator, [ua.partner], "eurostat", *YEAR,
                                releases.policy_controls()).sent[0].payload
    mine = {p["person"]: set(p["countries"]) - {"UA"} for p in people if "UA" in p["countries"]}
    payload = {**own, "country": "UA", "persons": {**own["persons"], "total": len(mine)},
               "duplicates": [c.to_dict() for c in duplicates.control_counts(
                   duplicates.counts_by_country_set(mine), threshold=5)]}
    assert send_from(ua, payload).http_status == 200
    return testdata.truth(people, ["MD", "UA"])


def test_the_regional_analyst_opens_the_view_and_downloads_the_pdf(browser, live_server,
                                                                    regional_data):
    page = open_page(browser, accept_downloads=True)
    sign_in(page, live_server.url, "regional-analyst")
    page.goto(live_server.url + "/regional/?table_set=eurostat&period=2025")
    expect(page.get_by_role("heading", level=1, name="Regional statistics")).to_be_visible()
    expect(page.locator("#sum-of-national-totals")).to_have_text(str(regional_data["sum"]))
    expect(page.locator("#duplicates-removed")).to_have_text(
        str(regional_data["duplicates_removed"]))
    expect(page.locator("#regional-total")).to_have_text(str(regional_data["regional"]))
    expect(page.get_by_role("table", name=re.compile("Persons counted once"))).to_be_visible()

    with page.expect_download(timeout=120_000) as download_info:
        page.get_by_role("link", name="Download the regional report (PDF)").click()
    download = download_info.value
    assert download.suggested_filename == "regional-eurostat-2025.pdf"
    text = subprocess.run(["pdftotext", download.path(), "-"], capture_output=True,
                          check=True, text=True).stdout
    assert "Persons counted once across countries" in text
    assert str(regional_data["regional"]) in text
    assert "Test1" not in text
    assert page.csp_violations == [] and page.script_errors == []


def test_the_regional_view_is_accessible(browser, live_server, regional_data):
    page = open_page(browser, bypass_csp=True)
    sign_in(page, live_server.url, "regional-analyst")
    page.goto(live_server.url + "/regional/?table_set=eurostat&period=2025")
    expect(page.locator("#regional-total")).to_be_visible()
    assert_accessible(page, "regional view")
