"""The shelter's home page in a real browser (Chromium, CSP enforced): the referral waiting
for its answer is there and new; opening it marks it read; answering it takes it off. axe
finds no serious or critical problem on the home page and the notification pages."""

import re

import pytest
from playwright.sync_api import expect

from opennrm.reminders.models import Notification
from tests.e2e.browser import assert_accessible, browser, open_page, sign_in  # noqa: F401 - fixture
from tests.reminders.world import build_world

pytestmark = pytest.mark.browser


@pytest.fixture
def referral(transactional_db, live_server):
    world = build_world()
    return world.refer(world.case())


def test_waiting_for_your_answer_open_read_and_answered(browser, live_server,  # noqa: F811
                                                        referral):
    base, number = live_server.url, referral.case.case_number
    checked = open_page(browser, bypass_csp=True)
    sign_in(checked, base, "shelter-worker")
    assert_accessible(checked, "home page with a referral waiting")
    for path in ("/notifications/", "/notifications/settings/", "/deadlines/"):
        checked.goto(base + path)
        assert_accessible(checked, path)

    page = open_page(browser)
    sign_in(page, base, "shelter-worker")
    waiting = page.get_by_role("region", name=re.compile("^Waiting for your answer"))
    entry = waiting.get_by_role("listitem").filter(has_text=number)
    expect(entry.get_by_text("New", exact=True)).to_be_visible()
    expect(page.get_by_role("region", name=re.compile("^Notifications"))).not_to_contain_text(
        number)  # one entry, not a notification besides it
    entry.get_by_role("link", name=re.compile(number)).click()
    expect(page).to_have_url(f"{base}/referrals/{referral.pk}/")
    notification = Notification.objects.get(user__username="shelter-worker")
    assert notification.read_at is not None

    page.get_by_role("link", name="Today").click()
    expect(entry).to_be_visible()
    expect(entry.get_by_text("New", exact=True)).to_have_count(0)

    entry.get_by_role("link", name=re.compile(number)).click()
    page.get_by_role("link", name="Accept").click()
    page.get_by_role("button", name="Accept").click()
    expect(page.get_by_role("status")).to_contain_text("Referral accepted.")
    page.get_by_role("link", name="Today").click()
    expect(waiting).to_contain_text("Nothing waits for your agency's answer.")
    assert page.csp_violations == [] and page.script_errors == []
