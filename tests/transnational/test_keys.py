"""Rotating and revoking keys (keys.py) in one process: this node's side (the key ring, the
card, the messages queued for the partners) and what it does with a partner's announcements,
received through `receiving.receive` from a partner made here with keys of its own. Between
real nodes: test_key_nodes.py."""

import time
import uuid
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from django.core.exceptions import PermissionDenied
from django.utils import timezone
from joserfc.jwk import OKPKey

from opennrm.audit.models import AuditEntry
from opennrm.core.keyring import KeyRing, get_keyring
from opennrm.transnational import envelope, keys, services
from opennrm.transnational.envelope import Rejection
from opennrm.transnational.identity import (
    IdentityError,
    card_fingerprint,
    import_partner,
    init_node,
    node_card,
    partner_key,
)
from opennrm.transnational.models import OutboxMessage, Partner
from opennrm.transnational.receiving import receive

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def node(settings, tmp_path):
    """This node (Moldova), with a key ring of its own."""
    settings.OPENNRM_KEYRING = tmp_path / "keyring.json"
    settings.OPENNRM_TRM_DELIVER_ON_COMMIT = False
    return init_node(None, "MD", "Moldova NRM", "https://md.example")


class PartnerNode:
    """A partner node made by the test: its keys, its card, and messages it seals to this
    node as the partner's own node would."""

    def __init__(self, country: str = "UA"):
        self.node_id = str(uuid.uuid4())
        self.country = country
        self.signing = {"ua-sig-1": Ed25519PrivateKey.generate()}
        self.active = "ua-sig-1"
        self.encryption = X25519PrivateKey.generate()

    def rotate(self, kid: str) -> None:
        self.signing = {kid: Ed25519PrivateKey.generate(), **self.signing}
        self.active = kid

    def card(self, **overrides) -> dict:
        def jwk(key, kid, use, alg):
            return {**OKPKey.import_key(key.public_key()).as_dict(private=False), "kid": kid,
                    "use": use, "alg": alg}

        now = timezone.now()
        card = {
            "type": "opennrm-node-card", "card_version": 1, "node_id": self.node_id,
            "country": self.country, "name": f"{self.country} NRM",
            "endpoint": "https://ua.example", "valid_from": now.isoformat(),
            "valid_until": (now + timedelta(days=700)).isoformat(),
            "keys": {"keys": [jwk(self.signing[self.active], self.active, "sig", "Ed25519"),
                              jwk(self.encryption, "ua-enc-1", "enc", "ECDH-ES+A256KW"),
                              *[jwk(key, kid, "sig", "Ed25519")
                                for kid, key in self.signing.items() if kid != self.active]]},
        }
        card.update(overrides)
        return card

    def imported(self) -> Partner:
        card = self.card()
        return import_partner(None, card, card_fingerprint(card))

    def send(self, message_type: str, payload: dict, kid: str | None = None,
             enc_kid: str | None = None):
        """The answer of this node's `receive` to a message from this partner, signed with
        its key `kid` (its active one) and sealed to this node's encryption key `enc_kid`
        (the first one of this node's card)."""
        enc = next(key for key in node_card()["keys"]["keys"]
                   if key["use"] == "enc" and enc_kid in (None, key["kid"]))
        kid = kid or self.active
        now = int(time.time())
        content = {
            "message_id": str(uuid.uuid4()), "type": message_type, "schema_version": "1.0",
            "sender": self.node_id, "recipient": str(node_card()["node_id"]),
            "issued_at": now, "expires_at": now + 3600, "in_reply_to": None,
            "case_id": None, "sequence": None, "consent_ref": "", "payload": payload,
        }
        sealed = envelope.seal(content, self.signing[kid], kid, enc, enc["kid"])
        return receive(sealed.sealed.encode("ascii"), self.node_id)


def _signed_kid(message: OutboxMessage) -> str:
    return envelope.signed_header(message.signed)["kid"]


def _signed_payload(message: OutboxMessage) -> dict:
    ring = get_keyring()
    kid = _signed_kid(message)
    return envelope.verify(message.signed, ring.signing_public_key(kid))["payload"]


# --- this node's keys -------------------------------------------------------------------------

def test_rotation_puts_the_new_keys_first_and_keeps_the_earlier_ones_on_the_card():
    ring = get_keyring()
    old_sig, old_enc = ring.active_signing_key_id, ring.active_encryption_key_id
    announcement = keys.rotate_keys(None)
    card = node_card()
    assert [key["kid"] for key in card["keys"]["keys"]] == [
        announcement.signing_key_id, announcement.encryption_key_id, old_sig, old_enc]
    assert [key["use"] for key in card["keys"]["keys"]] == ["sig", "enc", "sig", "enc"]
    assert announcement.fingerprint == card_fingerprint(card)
    ring = get_keyring()
    assert ring.active_signing_key_id == announcement.signing_key_id != old_sig
    assert ring.signing_private_key(old_sig)[0] == old_sig  # kept
    assert ring.encryption_private_key(old_enc) is not None
    entry = AuditEntry.objects.filter(action="key_rotation", object_type="trm_node").get()
    assert announcement.signing_key_id in entry.reason and old_sig in entry.reason


def test_every_active_partner_gets_the_new_card_signed_with_the_old_key():
    ring = get_keyring()
    old_sig = ring.active_signing_key_id
    active = PartnerNode("UA").imported()
    suspended = PartnerNode("RO").imported()
    services.set_partner_status(None, suspended, "suspended", "audit")
    announcement = keys.rotate_keys(None)
    assert announcement.told == [active] and announcement.not_told == [suspended]
    sent = OutboxMessage.objects.get()
    assert sent.partner == active and sent.message_type == "key_rotation"
    assert _signed_kid(sent) == old_sig
    assert _signed_payload(sent) == {"card": node_card()}


def test_a_message_sealed_to_the_old_encryption_key_still_opens_after_a_rotation():
    partner = PartnerNode()
    partner.imported()
    old_enc = get_keyring().active_encryption_key_id
    keys.rotate_keys(None)
    answer = partner.send("ping", {"text": "sealed before the rotation"}, enc_kid=old_enc)
    assert answer.http_status == 200 and answer.body["status"] == "applied"


def test_a_rotation_that_cannot_be_announced_leaves_the_keys_as_they_were(monkeypatch):
    PartnerNode().imported()
    card = node_card()

    def refuse(*args, **kwargs):
        raise services.ChannelError("refused")

    monkeypatch.setattr(keys.services, "send_message", refuse)
    with pytest.raises(services.ChannelError):
        keys.rotate_keys(None)
    assert node_card()["keys"] == card["keys"]
    on_disk = KeyRing.load(get_keyring().path)
    assert len(on_disk.signing_keys) == 1 and len(on_disk.encryption_keys) == 1


def test_the_active_keys_cannot_be_revoked():
    ring = get_keyring()
    for kid in (ring.active_signing_key_id, ring.active_encryption_key_id):
        with pytest.raises(IdentityError, match="rotate first"):
            keys.revoke_key(None, kid, "lost laptop")
    keys.rotate_keys(None)
    earlier = keys.revocable_keys()[0].kid
    with pytest.raises(IdentityError, match="reason"):
        keys.revoke_key(None, earlier, " ")
    with pytest.raises(IdentityError, match="no key"):
        keys.revoke_key(None, "n-nosuchkey", "lost laptop")


def test_revoking_an_earlier_key_takes_it_off_the_card_and_tells_the_partners():
    partner = PartnerNode().imported()
    ring = get_keyring()
    old_sig, old_enc = ring.active_signing_key_id, ring.active_encryption_key_id
    rotated = keys.rotate_keys(None)
    keys.revoke_key(None, old_sig, "the old server was stolen")
    keys.revoke_key(None, old_enc, "the old server was stolen")
    assert [key["kid"] for key in node_card()["keys"]["keys"]] == [
        rotated.signing_key_id, rotated.encryption_key_id]
    on_disk = KeyRing.load(get_keyring().path)  # the revocation is in the ring's file
    assert on_disk.signing_keys[old_sig]["private"] is None
    assert on_disk.signing_keys[old_sig]["revoked"]
    assert on_disk.signing_public_key(old_sig) is not None  # what it signed stays checkable
    assert on_disk.encryption_private_key(old_enc) is None
    revocations = OutboxMessage.objects.filter(partner=partner, message_type="key_revoked")
    assert [_signed_payload(m)["kid"] for m in revocations.order_by("created_at", "pk")] == [
        old_sig, old_enc]
    first = revocations.order_by("created_at", "pk").first()
    assert _signed_kid(first) == rotated.signing_key_id
    assert _signed_payload(first)["reason"] == "the old server was stolen"
    with pytest.raises(IdentityError, match="already revoked"):
        keys.revoke_key(None, old_sig, "again")


def test_only_administrators_rotate_and_revoke_keys(caseworker, administrator):
    ring = get_keyring()
    before = ring.active_signing_key_id
    with pytest.raises(PermissionDenied):
        keys.rotate_keys(caseworker)
    keys.rotate_keys(administrator)
    with pytest.raises(PermissionDenied):
        keys.revoke_key(caseworker, before, "no")
    assert not get_keyring().signing_keys[before].get("revoked")


# --- a partner's announcements ----------------------------------------------------------------

def test_a_partners_rotation_replaces_its_keys_and_fingerprint():
    ua = PartnerNode()
    ua.imported()
    ua.rotate("ua-sig-2")
    card = ua.card(name="Ukraine NRM", endpoint="https://trm.ua.example")
    answer = ua.send("key_rotation", {"card": card}, kid="ua-sig-1")
    assert answer.body["status"] == "applied", answer.body
    partner = Partner.objects.get(node_id=ua.node_id)
    assert partner.keys == card["keys"] and partner.card == card
    assert partner.fingerprint == card_fingerprint(card)
    assert (partner.name, partner.endpoint) == ("Ukraine NRM", "https://trm.ua.example")
    assert partner_key(partner, "sig")["kid"] == "ua-sig-2"
    assert ua.send("ping", {"text": "new key"}).body["status"] == "applied"
    assert AuditEntry.objects.filter(action="key_rotation", object_type="trm_partner",
                                     object_ref=ua.node_id).exists()


def test_a_rotation_card_of_another_node_is_refused():
    ua = PartnerNode()
    ua.imported()
    other = PartnerNode().card()
    answer = ua.send("key_rotation", {"card": other})
    assert answer.body["code"] == "card_mismatch"
    assert answer.http_status == 403
    assert Partner.objects.get(node_id=ua.node_id).keys == ua.card()["keys"]


def test_a_message_signed_with_a_revoked_key_is_refused_as_revoked():
    ua = PartnerNode()
    ua.imported()
    ua.rotate("ua-sig-2")
    assert ua.send("key_rotation", {"card": ua.card()}, kid="ua-sig-1").body["status"] == \
        "applied"
    revocation = {"kid": "ua-sig-1", "use": "sig", "revoked_at": timezone.now().isoformat(),
                  "reason": "compromised"}
    assert ua.send("key_revoked", revocation).body["status"] == "applied"
    partner = Partner.objects.get(node_id=ua.node_id)
    assert [key["kid"] for key in partner.keys["keys"]] == ["ua-sig-2", "ua-enc-1"]
    assert partner.revoked_keys == [revocation]
    answer = ua.send("ping", {"text": "old key"}, kid="ua-sig-1")
    assert (answer.http_status, answer.body["code"]) == (403, "revoked_key")
    with pytest.raises(Rejection) as refused:
        partner_key(partner, "sig", "ua-sig-1")
    assert refused.value.code == "revoked_key"
    # An old card listing the key again does not bring it back.
    stale = ua.card()
    stale["keys"]["keys"].append({**stale["keys"]["keys"][0], "kid": "ua-sig-1"})
    answer = ua.send("key_rotation", {"card": stale})
    assert answer.body["code"] == "revoked_key"
