"""A transnational referral in a real browser between two REAL nodes (tests/transnational/
nodes.py: gunicorn + `opennrm trm worker` each, own database and key ring): the caseworker at
the Moldovan node sends the offer through the web, the focal point at the Ukrainian node
accepts it through the web, and the sender's page shows it accepted (then the identity
shared)."""

import re

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from tests.e2e.browser import CHROMIUM, CHROMIUM_ARGS, screenshot
from tests.transnational.nodes import Node, two_nodes, wait_for
from tests.transnational.workflow_steps import (
    SETUP_MD,
    SETUP_UA,
    WORKFLOW_TYPES,
    new_case,
    referral_row,
)

pytestmark = [pytest.mark.browser, pytest.mark.nodes]

PASSWORD = "x" * 20  # the users of SETUP_MD and SETUP_UA


class BrowserNode(Node):
    """A node whose pages a browser signs in to over plain HTTP on loopback: cookies that are
    not Secure (as the demo network's nodes), named per node (cookies ignore ports), and no
    TOTP at login."""

    def env(self, **extra) -> dict:
        return super().env(**{
            "OPENNRM_DEBUG": "1", "OPENNRM_MFA_ROLES": "",
            "OPENNRM_SESSION_COOKIE_NAME": f"opennrm_{self.country.lower()}_session",
            "OPENNRM_CSRF_COOKIE_NAME": f"opennrm_{self.country.lower()}_csrf",
            "OPENNRM_COUNTRY": self.country, **extra})


@pytest.fixture(scope="module")
def network(tmp_path_factory):
    if not CHROMIUM.exists():
        pytest.fail(f"Chromium is missing at {CHROMIUM}: install it with "
                    "`apt-get install -y chromium` (never `playwright install`).")
    with two_nodes(tmp_path_factory.mktemp("trm-browser"), WORKFLOW_TYPES,
                   node_class=BrowserNode, setup=(SETUP_MD, SETUP_UA)) as nodes:
        yield nodes


def sign_in(page: Page, node: Node, username: str) -> None:
    page.goto(node.url + "/")
    expect(page).to_have_url(re.compile(r"/login/"))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).not_to_have_url(re.compile(r"/login/"))


def test_caseworker_sends_focal_point_accepts_sender_sees_it_accepted(network):
    md, ua = network
    case_number = new_case(md, birth_date="1994-09-12", consent_country="UA")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM),
                                             args=CHROMIUM_ARGS)
        try:
            # The caseworker at MD refers the case from its page.
            sender = browser.new_context(locale="en-GB").new_page()
            sign_in(sender, md, "md-cw")
            sender.goto(f"{md.url}/cases/{case_number}/")
            sender.get_by_role("link", name="Refer to another country").click()
            sender.get_by_label("Partner country").select_option(ua.node_id)
            sender.get_by_label("TRM stage").select_option("first_assistance")
            sender.get_by_label("Handover or shared").select_option("shared")
            sender.locator("input[name=services_asked][value=shelter]").check()
            sender.get_by_label("Urgency").select_option("urgent")
            sender.locator("input[name=shared_fields][value=given_name]").check()
            sender.locator("input[name=shared_fields][value=family_name]").check()
            sender.get_by_role("button", name="Send the offer").click()
            expect(sender).to_have_url(re.compile(r"/transnational/referrals/\d+/$"))
            expect(sender.locator("#trm-state")).to_contain_text("Offered")
            sent_url = sender.url

            # The focal point at UA sees the preview in its inbox and accepts it.
            incoming = wait_for(lambda: referral_row(ua, "in", status="offered"))
            receiver = browser.new_context(locale="en-GB").new_page()
            sign_in(receiver, ua, "ua-nc")
            receiver.goto(f"{ua.url}/transnational/referrals/")
            inbox = receiver.locator("#trm-incoming")
            expect(inbox).to_contain_text("Safe accommodation (shelter)")
            expect(inbox).not_to_contain_text("Elena")
            inbox.get_by_role("link").first.click()
            expect(receiver).to_have_url(f"{ua.url}/transnational/referrals/{incoming['id']}/")
            expect(receiver.get_by_text("Elena")).to_have_count(0)
            receiver.get_by_label("Agency that takes the case").select_option(label="UA-NGO")
            receiver.get_by_role("button", name="Accept and assign").click()
            expect(receiver.locator("#trm-state")).to_contain_text("Accepted")

            # The sender's page shows it accepted (and then the identity shared).
            def shown_accepted():
                sender.goto(sent_url)
                text = sender.locator("#trm-state").inner_text()
                return text in ("Accepted", "Identity shared, case open") and text

            wait_for(shown_accepted, timeout=30, every=0.5)
            expect(sender.locator("#trm-events")).to_contain_text("referral_accepted")
            # The receiver registered its own case with the shared identity.
            received = wait_for(lambda: (row := referral_row(ua, "in", id=incoming["id"]))
                                and row["status"] == "active" and row)
            assert received["given_name"] == "Elena" and received["agency"] == "UA-NGO"
        except Exception:
            for name, page in (("trm-sender", locals().get("sender")),
                               ("trm-receiver", locals().get("receiver"))):
                if page is not None:
                    screenshot(page, name)
            raise
        finally:
            browser.close()
