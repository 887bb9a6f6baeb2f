"""The node administrator's pages (admin_views.py): this node (set up, card, rotate, revoke),
importing a partner's card, and a partner's message types and state. Only administrators
use them."""

import json
import uuid
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from joserfc.jwk import OKPKey

from opennrm.core.keyring import get_keyring
from opennrm.transnational.identity import (
    card_fingerprint,
    format_fingerprint,
    import_partner,
    init_node,
    node_card,
)
from opennrm.transnational.models import Node, OutboxMessage, Partner
from tests.helpers import assert_no_inline_code

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def own_keyring(settings, tmp_path):
    settings.OPENNRM_KEYRING = tmp_path / "keyring.json"
    settings.OPENNRM_TRM_DELIVER_ON_COMMIT = False


@pytest.fixture
def node():
    return init_node(None, "MD", "Moldova NRM", "https://md.example")


def _card(country: str = "UA") -> dict:
    """A partner's card, with keys of its own."""
    def jwk(key, kid, use, alg):
        return {**OKPKey.import_key(key.public_key()).as_dict(private=False), "kid": kid,
                "use": use, "alg": alg}

    now = timezone.now()
    return {"type": "opennrm-node-card", "card_version": 1, "node_id": str(uuid.uuid4()),
            "country": country, "name": f"{country} NRM", "endpoint": "https://ua.example",
            "valid_from": now.isoformat(),
            "valid_until": (now + timedelta(days=700)).isoformat(),
            "keys": {"keys": [jwk(Ed25519PrivateKey.generate(), "s1", "sig", "Ed25519"),
                              jwk(X25519PrivateKey.generate(), "e1", "enc",
                                  "ECDH-ES+A256KW")]}}


def _partner(country: str = "UA") -> Partner:
    card = _card(country)
    return import_partner(None, card, card_fingerprint(card))


def _page(response) -> str:
    return response.content.decode()


def test_the_node_page_sets_up_the_node_then_shows_its_card(client, administrator):
    client.force_login(administrator)
    page = _page(client.get("/transnational/node/"))
    assert 'name="country"' in page and 'name="endpoint"' in page
    answer = client.post("/transnational/node/", {"country": "MD", "name": "Moldova NRM",
                                                  "endpoint": "not a url"})
    assert "is not an http(s) URL" in _page(answer) and not Node.objects.exists()
    answer = client.post("/transnational/node/", {"country": "MD", "name": "Moldova NRM",
                                                  "endpoint": "https://md.example"})
    assert answer.status_code == 302
    node = Node.objects.get()
    page = _page(client.get("/transnational/node/"))
    assert str(node.node_id) in page
    assert format_fingerprint(card_fingerprint(node_card())) in page  # groups of four
    assert get_keyring().active_signing_key_id in page
    download = client.get("/transnational/node/card")
    assert "attachment" in download["Content-Disposition"]
    assert json.loads(download.content) == node_card()


def test_the_pages_are_for_administrators_only(client, caseworker, node):
    partner = _partner()
    urls = ["/transnational/node/", "/transnational/node/card", "/transnational/node/rotate",
            "/transnational/node/revoke", "/transnational/partners/import",
            f"/transnational/partners/{partner.node_id}/",
            f"/transnational/partners/{partner.node_id}/types",
            f"/transnational/partners/{partner.node_id}/status"]
    for url in urls:
        assert client.get(url).status_code == 302, url  # to the sign-in page
    client.force_login(caseworker)
    for url in urls:
        assert client.get(url).status_code in (403, 405), url
        assert client.post(url, {"rotate-confirm": "on", "status": "suspended",
                                 "reason": "x", "types": ["ping"]}).status_code == 403, url
    partner.refresh_from_db()
    assert partner.status == "active" and len(get_keyring().signing_keys) == 1


def test_rotating_asks_for_confirmation_then_shows_the_new_fingerprint(client, administrator,
                                                                      node):
    partner = _partner()
    client.force_login(administrator)
    before = get_keyring().active_signing_key_id
    answer = client.post("/transnational/node/rotate", {})
    assert answer.status_code == 400 and "Tick the box" in _page(answer)
    assert get_keyring().active_signing_key_id == before
    answer = client.post("/transnational/node/rotate", {"rotate-confirm": "on"}, follow=True)
    assert get_keyring().active_signing_key_id != before
    assert format_fingerprint(card_fingerprint(node_card())) in _page(answer)
    assert OutboxMessage.objects.get().partner == partner


def test_revoking_a_key_from_the_page(client, administrator, node):
    client.force_login(administrator)
    old = get_keyring().active_signing_key_id
    page = _page(client.get("/transnational/node/"))
    assert 'id="trm-revoke"' not in page  # nothing to revoke before a rotation
    client.post("/transnational/node/rotate", {"rotate-confirm": "on"})
    answer = client.post("/transnational/node/revoke", {"revoke-kid": old,
                                                        "revoke-reason": "stolen"})
    assert answer.status_code == 400 and "Tick the box" in _page(answer)
    assert not get_keyring().signing_keys[old]["revoked"]
    answer = client.post("/transnational/node/revoke", {
        "revoke-kid": old, "revoke-reason": "stolen", "revoke-confirm": "on"}, follow=True)
    assert get_keyring().signing_keys[old]["revoked"]
    assert old not in json.dumps(node_card())
    assert "Revoked on" in _page(answer)


def test_an_import_with_a_wrong_fingerprint_imports_nothing_and_says_why(client,
                                                                         administrator, node):
    client.force_login(administrator)
    card = _card()
    answer = client.post("/transnational/partners/import", {
        "card_text": json.dumps(card), "fingerprint": "0000 " * 16})
    assert answer.status_code == 400
    assert "The fingerprint does not match the card. Nothing was imported" in _page(answer)
    assert card_fingerprint(card) not in _page(answer)  # the card's own is never shown
    assert not Partner.objects.exists()
    answer = client.post("/transnational/partners/import", {"card_text": "{not json",
                                                            "fingerprint": "00"})
    assert "not valid JSON" in _page(answer) and not Partner.objects.exists()
    upload = SimpleUploadedFile("ua-card.json", json.dumps(card).encode(), "application/json")
    answer = client.post("/transnational/partners/import", {
        "card_file": upload, "fingerprint": format_fingerprint(card_fingerprint(card))})
    partner = Partner.objects.get()
    assert answer.status_code == 302 and answer["Location"] == \
        f"/transnational/partners/{partner.node_id}/"


def test_the_partner_page_sets_the_message_types_and_suspends(client, administrator, node):
    partner = _partner()
    client.force_login(administrator)
    url = f"/transnational/partners/{partner.node_id}/"
    page = _page(client.get(url))
    assert 'value="referral_offer"' in page and 'value="ping"' in page
    assert 'value="key_rotation"' not in page  # control messages: always accepted
    client.post(url + "types", {"types": ["ping", "pong", "status_update"]})
    partner.refresh_from_db()
    assert partner.allowed_types == ["ping", "pong", "status_update"]
    answer = client.post(url + "status", {"status": "suspended"})
    assert answer.status_code == 400
    partner.refresh_from_db()
    assert partner.status == "active"
    client.post(url + "status", {"status": "suspended", "reason": "audit of their node"})
    partner.refresh_from_db()
    assert partner.status == "suspended"
    client.post(url + "status", {"status": "suspended", "reason": "sent twice"})
    partner.refresh_from_db()
    assert partner.status == "suspended"  # the state asked for, not a toggle
    assert 'value="active"' in _page(client.get(url))
    client.post(url + "status", {"status": "active", "reason": "audit done"})
    partner.refresh_from_db()
    assert partner.status == "active"
    assert client.get(f"/transnational/partners/{uuid.uuid4()}/").status_code == 404


def test_the_partner_list_links_to_the_new_pages(client, administrator, node):
    partner = _partner()
    client.force_login(administrator)
    page = _page(client.get("/transnational/partners/"))
    assert f"/transnational/partners/{partner.node_id}/" in page
    assert "/transnational/partners/import" in page and "/transnational/node/" in page


def test_the_pages_carry_no_inline_code(client, administrator, node):
    partner = _partner()
    client.force_login(administrator)
    client.post("/transnational/node/rotate", {"rotate-confirm": "on"})
    for url in ("/transnational/node/", "/transnational/partners/import",
                f"/transnational/partners/{partner.node_id}/"):
        answer = client.get(url)
        assert answer.status_code == 200, url
        assert_no_inline_code(answer)
