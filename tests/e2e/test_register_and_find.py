"""A caseworker registers a case in a real browser and finds it again."""

import re
from pathlib import Path

import pytest
from django.db import connections
from playwright.sync_api import Page, expect, sync_playwright

from opennrm.accounts.models import Role
from tests.conftest import PASSWORD, make_agency, make_user

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
SCREENSHOTS = Path("/tmp")

pytestmark = pytest.mark.browser


@pytest.fixture
def page(transactional_db, live_server, monkeypatch):
    # The database is requested first so that it is set up before, and torn down after,
    # the live server (whose thread holds a connection until it stops).
    # Playwright's sync API runs an event loop in this thread; Django's ORM calls made here
    # (fixtures, assertions) are still synchronous, so the async-safety check is lifted for
    # this test only.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    if not CHROMIUM.exists():
        pytest.fail(f"Chromium is missing at {CHROMIUM}: install it with "
                    "`apt-get install -y chromium` (never `playwright install`).")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM),
                                             args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.csp_violations = []
        page.on("console", lambda message: "Content Security Policy" in message.text
                and page.csp_violations.append(message.text))
        yield page
        browser.close()
        # Database connections opened while Playwright runs belong to its greenlet's
        # context, which pytest-django does not see: close them, or PostgreSQL refuses to
        # drop the test database ("being accessed by other users").
        connections.close_all()


@pytest.fixture
def caseworker(transactional_db):
    return make_user(Role.CASEWORKER, make_agency("la-strada"), "caseworker")


def test_caseworker_registers_a_case_and_finds_it(page: Page, live_server, caseworker):
    page.goto(live_server.url + "/")
    expect(page).to_have_url(re.compile(r"/login/"))
    page.get_by_label("Username").fill("caseworker")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Cases", exact=True)).to_be_visible()

    page.get_by_role("link", name="Register a case").first.click()
    page.get_by_label("Given name").fill("Elena")
    page.get_by_label("Family name").fill("Popescu")
    page.get_by_label("Birth date").fill("1998-04-12")
    page.get_by_label("Document 1 type").select_option("passport")
    page.get_by_label("Document 1 number").fill("AB1234567")
    page.get_by_label("Document 1 issuing country").select_option("MD")
    page.get_by_label("Gender").select_option("female")
    page.get_by_label("Citizenships").select_option(["MD"])
    page.get_by_label("Languages spoken").select_option(["ro", "ru"])
    page.get_by_label("Date of first contact").fill("2026-03-02")
    page.get_by_label("Forms of exploitation").select_option(["forced_labour"])
    page.get_by_label("Exploitation countries").select_option(["RU"])
    page.get_by_label("Notes").fill("Met at the bus station.")
    page.screenshot(path=str(SCREENSHOTS / "opennrm-register.png"), full_page=True)
    page.get_by_role("button", name="Register case").click()

    heading = page.get_by_role("heading", name=re.compile(r"^Case MD-"))
    expect(heading).to_be_visible()
    case_number = heading.inner_text().removeprefix("Case ").strip()
    expect(page.get_by_text("Elena Popescu")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "opennrm-detail.png"), full_page=True)

    page.get_by_role("link", name="Cases", exact=True).first.click()
    by_number = page.get_by_role("search", name="By case number")
    by_number.get_by_role("textbox", name="Case number").fill(case_number[-8:])
    by_number.get_by_role("button", name="Search").click()
    expect(page.get_by_role("link", name=case_number)).to_be_visible()
    expect(page.get_by_text("Popescu")).to_have_count(0)

    search = page.get_by_role("search", name="By name and birth date")
    search.get_by_label("Given name").fill("Elena")
    search.get_by_label("Family name").fill("Popescu")
    search.get_by_label("Birth date").fill("1998-04-12")
    search.get_by_role("button", name="Search").click()
    results = page.get_by_role("heading", name="Cases matching the name and birth date")
    expect(results).to_be_visible()
    expect(page.get_by_role("link", name=case_number)).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "opennrm-list.png"), full_page=True)

    page.get_by_role("link", name=case_number).click()
    expect(page.get_by_text("AB1234567")).to_be_visible()
    assert page.csp_violations == []
