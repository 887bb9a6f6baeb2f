"""A real Chromium (Debian's) driven by Playwright against Django's live server: the
`browser` and `page` fixtures (tests/e2e/conftest.py offers them to the e2e tests; other
folders import them), and the helpers the browser tests share, axe-core's check among them."""

import json
import re
from pathlib import Path

import pytest
from django.db import connections
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.factories import PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
SCREENSHOTS = Path("/tmp")
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
BLOCKING_IMPACTS = {"serious", "critical"}

# Reports every CSP violation in the console, where the page fixture collects it, even one the
# browser would not print itself (Playwright's init scripts are not subject to the CSP).
_REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error("Content Security Policy violation: " + event.violatedDirective
                + " blocked " + (event.blockedURI || "inline code")
                + " at " + event.sourceFile + ":" + event.lineNumber);
});
"""


@pytest.fixture
def browser(transactional_db, live_server, monkeypatch) -> Browser:
    # The database is requested first so that it is set up before, and torn down after,
    # the live server (whose thread holds a connection until it stops).
    # Playwright's sync API runs an event loop in this thread; Django's ORM calls made here
    # (fixtures, assertions) are still synchronous, so the async-safety check is lifted for
    # these tests only.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    if not CHROMIUM.exists():
        pytest.fail(f"Chromium is missing at {CHROMIUM}: install it with "
                    "`apt-get install -y chromium` (never `playwright install`).")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM),
                                             args=CHROMIUM_ARGS)
        yield browser
        browser.close()
        # Database connections opened while Playwright runs belong to its greenlet's
        # context, which pytest-django does not see: close them, or PostgreSQL refuses to
        # drop the test database ("being accessed by other users").
        connections.close_all()


def open_page(browser: Browser, **context_options) -> Page:
    """A page in a fresh context that records CSP violations and script errors."""
    context = browser.new_context(locale="en-GB", **context_options)
    context.add_init_script(_REPORT_CSP_VIOLATIONS)
    page = context.new_page()
    page.csp_violations = []
    page.script_errors = []
    page.on("console", lambda message: "Content Security Policy" in message.text
            and page.csp_violations.append(message.text))
    page.on("pageerror", lambda error: page.script_errors.append(str(error)))
    return page


@pytest.fixture
def page(browser) -> Page:
    return open_page(browser)


def sign_in(page: Page, base_url: str, username: str) -> None:
    page.goto(base_url + "/")
    expect(page).to_have_url(re.compile(r"/login/"))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).not_to_have_url(re.compile(r"/login/"))


def screenshot(page: Page, name: str) -> None:
    """Keeps a picture of the page in /tmp to look at when a test fails; never required."""
    try:
        page.screenshot(path=str(SCREENSHOTS / f"opennrm-{name}.png"), full_page=True)
    except Exception:  # noqa: BLE001 - a missing picture must not fail a test
        pass


def run_axe(page: Page) -> dict:
    if not AXE.exists():
        pytest.fail(f"axe-core is missing at {AXE}: run `npm ci` at the repository root.")
    page.add_script_tag(path=str(AXE))
    return page.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})",
        WCAG_TAGS)


def describe(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']} "
                     f"<{violation['helpUrl']}>")
        for node in violation["nodes"][:10]:
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            lines.append(f"    {json.dumps(node['target'], ensure_ascii=False)} "
                         f"{node['html'][:160]!r} {summary[:300]}")
        if len(violation["nodes"]) > 10:
            lines.append(f"    … and {len(violation['nodes']) - 10} more elements")
    return "\n".join(lines)


def assert_accessible(page: Page, name: str) -> None:
    results = run_axe(page)
    blocking = [violation for violation in results["violations"]
                if violation["impact"] in BLOCKING_IMPACTS]
    minor = [violation for violation in results["violations"]
             if violation["impact"] not in BLOCKING_IMPACTS]
    if minor:  # Shown with -s or on failure; they do not fail the test.
        print(f"{name}: minor accessibility problems:\n{describe(minor)}")
    if blocking:
        screenshot(page, f"axe-{re.sub(r'[^a-z0-9]+', '-', name.lower())}")
    assert not blocking, (f"{name} ({page.url}): {len(blocking)} serious or critical "
                          f"accessibility problems:\n{describe(blocking)}")
