"""The review of possible duplicates in a real browser: the coordinator opens the queue from
the menu, opens a pair side by side, confirms it, and the statistics count one person
fewer."""
# Fixtures imported from tests.linkage.node (and tests.e2e.browser) come back as arguments.
# ruff: noqa: F811

import re

import pytest
from playwright.sync_api import Page, expect

from opennrm.accounts.models import Role
from opennrm.linkage import node
from opennrm.linkage.models import CandidatePair, Trigger
from tests.e2e.browser import browser, open_page, screenshot, sign_in  # noqa: F401
from tests.factories import make_agency, make_user
from tests.linkage.node import fill_register, register_person

pytestmark = pytest.mark.browser

STATISTICS = "/statistics/?period=2026&table_set=eurostat"
SEX_AND_AGE = "Registered victims by sex and age group"


@pytest.fixture
def proposed_pair(transactional_db, live_server):
    """Elena Popescu registered twice by the coordinator's office, among thirty others; a run
    proposes the pair."""
    office = make_agency("coordination", "central_government")
    coordinator = make_user(Role.NATIONAL_COORDINATOR, office, "coordinator")
    caseworker = make_user(Role.CASEWORKER, office, "office-caseworker")
    fill_register(caseworker)
    register_person(caseworker)
    register_person(caseworker)
    node.run_linkage(coordinator, Trigger.ON_DEMAND)
    return CandidatePair.objects.get()


def persons_counted(page: Page, base: str) -> int:
    page.goto(base + STATISTICS)
    table = page.get_by_role("table", name=re.compile(SEX_AND_AGE))
    return int(table.locator("tbody tr").last.locator("td").last.inner_text())


def test_the_coordinator_confirms_a_pair_and_counts_one_person_fewer(browser, live_server,
                                                                     proposed_pair):
    base = live_server.url
    page = open_page(browser)
    sign_in(page, base, "coordinator")
    before = persons_counted(page, base)

    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Possible duplicates").click()
    expect(page.get_by_role("heading", level=1, name="Possible duplicates")).to_be_visible()
    page.get_by_role("link", name=f"Pair {proposed_pair.pk}").click()
    side_by_side = page.get_by_role("table", name="The two persons side by side")
    expect(side_by_side).to_contain_text("Popescu")
    expect(page.get_by_role("table", name=re.compile("Why the model proposes"))) \
        .to_contain_text("Document number")
    screenshot(page, "linkage-pair")

    page.get_by_role("button", name="Confirm: the same person").click()
    expect(page.get_by_role("status")).to_contain_text("now counted as one")
    expect(page.get_by_text("No pair waits for review.")).to_be_visible()
    assert persons_counted(page, base) == before - 1
    assert not page.csp_violations and not page.script_errors
