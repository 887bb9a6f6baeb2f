"""Rotating and revoking this node's keys, with the partners told; and applying what
partners announce of theirs.

* `rotate_keys`: a new Ed25519 signing key and a new X25519 encryption key become the
  active ones; the earlier keys stay in the key ring (messages sealed to the old encryption
  key still open; what the old signing key signed still verifies) and on the card, after the
  new ones. Every active partner gets a `key_rotation` message with the new card, signed
  with the previous signing key, which it already trusts. A suspended partner is not told
  (the channel sends nothing to it): after resuming it, exchange cards again as at first
  contact (`partner import` with the fingerprint read over the phone).
* `revoke_key`: an earlier key (never the active one: rotate first) loses its private half,
  is marked revoked in the key ring and leaves the card; every active partner gets a
  `key_revoked` message, signed with the active key, and from then on refuses what is signed
  with that key ("revoked_key", `identity.partner_key`).

Both are control messages (`receiving.register_handler(..., control=True)`): every active
partner may send them, whatever message types the administrator allowed it.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from opennrm.audit.models import Action
from opennrm.audit.services import AuditEvent, record_event
from opennrm.core.keyring import KeyRingError, get_keyring, reload_keyring
from opennrm.transnational import services
from opennrm.transnational.access import ensure_can_manage_partners
from opennrm.transnational.envelope import Rejection
from opennrm.transnational.identity import (
    CARD_VALID_DAYS,
    IdentityError,
    card_fields,
    card_fingerprint,
    fingerprint_of,
    node_card,
    partner_key,
    read_card,
    this_node,
)
from opennrm.transnational.models import Partner
from opennrm.transnational.receiving import ReceivedMessage, register_handler

ROTATION_TYPE = "key_rotation"
REVOCATION_TYPE = "key_revoked"


@dataclass(frozen=True)
class NodeKey:
    """One of this node's keys, as the administrator's page and the CLI show it."""

    kid: str
    use: str  # "sig" or "enc"
    created: str
    active: bool
    private_kept: bool
    revoked: str  # when, or ""


@dataclass(frozen=True)
class Announcement:
    """What a rotation or revocation did: the keys, and which partners were told."""

    signing_key_id: str
    encryption_key_id: str
    fingerprint: str
    told: list[Partner]
    not_told: list[Partner]  # suspended: the channel sends nothing to them


def node_keys() -> list[NodeKey]:
    """This node's keys: the active ones first, then the others, newest first."""
    ring = get_keyring()
    found = []
    for use, held, active in (("sig", ring.signing_keys, ring.active_signing_key_id),
                              ("enc", ring.encryption_keys, ring.active_encryption_key_id)):
        found.extend(NodeKey(kid=kid, use=use, created=key["created"], active=kid == active,
                             private_kept=key["private"] is not None,
                             revoked=key.get("revoked", ""))
                     for kid, key in held.items())
    found.sort(key=lambda key: (key.created, key.kid), reverse=True)
    return sorted(found, key=lambda key: (not key.active, key.use != "sig"))


def revocable_keys() -> list[NodeKey]:
    return [key for key in node_keys() if not key.active and not key.revoked]


def _tell_partners(message_type: str, payload: dict,
                   signing_key_id: str | None = None) -> tuple[list[Partner], list[Partner]]:
    """Queue the message to every active partner, in the caller's transaction."""
    partners = list(Partner.objects.order_by("country", "name"))
    told = [partner for partner in partners if partner.status == Partner.Status.ACTIVE]
    for partner in told:
        services.send_message(None, partner, message_type, payload,
                              signing_key_id=signing_key_id)
    return told, [partner for partner in partners if partner not in told]


def _countries(partners: list[Partner]) -> str:
    return ", ".join(partner.country for partner in partners) or "none"


def _channel(actor) -> str:
    return "cli" if actor is None else "web"


def rotate_keys(actor) -> Announcement:
    """New active signing and encryption keys, the card renewed for CARD_VALID_DAYS, and
    every active partner told with the new card, signed with the previous signing key.

    The key ring is a file, not part of the database transaction: if queuing the messages
    fails, the new keys are taken back out of the ring, so that no key is in use that the
    partners were not told about."""
    ensure_can_manage_partners(actor)
    node = this_node()
    ring = get_keyring()
    if not ring.active_encryption_key_id:
        raise IdentityError("the key ring has no encryption key: run `opennrm node init`")
    previous_sig, previous_enc = ring.active_signing_key_id, ring.active_encryption_key_id
    new_sig = ring.add_signing_key()
    new_enc = ring.add_encryption_key()
    try:
        with transaction.atomic():
            now = timezone.now()
            node.valid_from, node.valid_until = now, now + timedelta(days=CARD_VALID_DAYS)
            node.save(update_fields=["valid_from", "valid_until"])
            card = node_card()
            told, not_told = _tell_partners(ROTATION_TYPE, {"card": card},
                                            signing_key_id=previous_sig)
            record_event(actor, AuditEvent(
                action=Action.KEY_ROTATION, object_type="trm_node",
                object_ref=str(node.node_id),
                reason=f"new signing key {new_sig} (was {previous_sig}), encryption key "
                       f"{new_enc} (was {previous_enc}); partners told: {_countries(told)}; "
                       f"not told (suspended): {_countries(not_told)}"),
                channel=_channel(actor))
    except BaseException:
        ring.withdraw_key(new_enc, previous_enc)
        ring.withdraw_key(new_sig, previous_sig)
        reload_keyring()  # this process may have loaded the ring again meanwhile
        raise
    return Announcement(signing_key_id=new_sig, encryption_key_id=new_enc,
                        fingerprint=card_fingerprint(card), told=told, not_told=not_told)


def revoke_key(actor, kid: str, reason: str) -> Announcement:
    """Revoke this node's key `kid` (an earlier signing or encryption key; the active ones
    are replaced by `rotate_keys` first) and tell every active partner.

    The key ring is changed last, inside the transaction: if that fails, nothing is sent.
    Revoke a signing key after the partners received the rotation that replaced it (the
    message log shows it): a partner that has not yet got the new keys cannot verify the
    revocation, which is signed with them."""
    ensure_can_manage_partners(actor)
    node = this_node()
    reason = (reason or "").strip()
    if not reason:
        raise IdentityError("give the reason for revoking the key")
    ring = get_keyring()
    if kid in ring.signing_keys:
        use, held, active = "sig", ring.signing_keys, ring.active_signing_key_id
    elif kid in ring.encryption_keys:
        use, held, active = "enc", ring.encryption_keys, ring.active_encryption_key_id
    else:
        raise IdentityError(f"this node has no key {kid!r}")
    if kid == active:
        raise IdentityError(f"{kid} is the node's active key: rotate first (opennrm node "
                            "rotate-keys), then revoke it")
    if held[kid].get("revoked"):
        raise IdentityError(f"the key {kid} is already revoked")
    revoked_at = timezone.now()
    with transaction.atomic():
        told, not_told = _tell_partners(REVOCATION_TYPE, {
            "kid": kid, "use": use, "revoked_at": revoked_at.isoformat(), "reason": reason})
        record_event(actor, AuditEvent(
            action=Action.KEY_ROTATION, object_type="trm_node", object_ref=str(node.node_id),
            reason=f"key {kid} ({use}) revoked: {reason}; partners told: {_countries(told)}; "
                   f"not told (suspended): {_countries(not_told)}"),
            channel=_channel(actor))
        try:
            if use == "sig":
                ring.revoke_signing_key(kid)
            else:
                ring.revoke_encryption_key(kid)
        except KeyRingError as error:
            raise IdentityError(str(error)) from None
    reload_keyring()  # this process may have loaded the ring again meanwhile
    return Announcement(signing_key_id=ring.active_signing_key_id,
                        encryption_key_id=ring.active_encryption_key_id,
                        fingerprint=card_fingerprint(node_card()), told=told,
                        not_told=not_told)


# --- what partners announce ------------------------------------------------------------------

def apply_key_rotation(message: ReceivedMessage) -> None:
    """A partner's new card replaces its keys, card, fingerprint, validity, name and
    endpoint.

    No fingerprint is compared here, unlike at import: the message is signed with a key of
    the partner's card this node already trusts, which vouches for the new card. The
    partner's row is updated in place, so the messages after this one in the same batch are
    verified with the new keys."""
    partner = message.partner
    card = message.payload["card"]
    if str(card.get("node_id")) != str(partner.node_id) or card.get("country") != partner.country:
        raise Rejection("card_mismatch", "The new card is for another node or country than "
                        "the one that sent it.", 403)
    try:
        _, valid_until = read_card(card)
    except IdentityError as error:
        raise Rejection("invalid_card", f"The new card is refused: {error}.") from None
    if valid_until < timezone.now():
        raise Rejection("invalid_card", "The new card has expired.")
    revoked = {entry.get("kid") for entry in partner.revoked_keys}
    listed = [key["kid"] for key in card["keys"]["keys"] if key["kid"] in revoked]
    if listed:
        raise Rejection("revoked_key", f"The new card lists keys your node revoked: "
                        f"{', '.join(listed)}.", 403)
    fields = card_fields(card)
    for name, value in fields.items():
        setattr(partner, name, value)
    partner.save(update_fields=[*fields, "updated_at"])
    record_event(None, AuditEvent(
        action=Action.KEY_ROTATION, object_type="trm_partner", object_ref=str(partner.node_id),
        reason=f"new card from {partner.country} node: signing key "
               f"{partner_key(partner, 'sig')['kid']}, fingerprint {partner.fingerprint}"),
        channel="trm")


def apply_key_revoked(message: ReceivedMessage) -> None:
    """The partner revoked a key: it leaves the partner's keys (and its copy of the card,
    whose fingerprint is recomputed: it is the partner's new card's) and is remembered as
    revoked, so that a message signed with it is refused."""
    partner = message.partner
    revocation = {name: message.payload[name] for name in ("kid", "use", "revoked_at",
                                                           "reason")}
    if parse_datetime(revocation["revoked_at"]) is None:
        raise Rejection("invalid_payload", "revoked_at is not a date and time.")
    keys = {"keys": [key for key in partner.keys.get("keys", [])
                     if key.get("kid") != revocation["kid"]]}
    partner.keys = keys
    if partner.card:
        partner.card = {**partner.card, "keys": keys}
    partner.fingerprint = fingerprint_of(partner.node_id, partner.country, keys)
    if all(entry.get("kid") != revocation["kid"] for entry in partner.revoked_keys):
        partner.revoked_keys = [*partner.revoked_keys, revocation]
    partner.save(update_fields=["keys", "card", "fingerprint", "revoked_keys", "updated_at"])
    record_event(None, AuditEvent(
        action=Action.KEY_ROTATION, object_type="trm_partner", object_ref=str(partner.node_id),
        reason=f"{partner.country} node revoked its key {revocation['kid']} "
               f"({revocation['use']}): {revocation['reason']}"), channel="trm")


def register() -> None:
    """Called from TransnationalConfig.ready."""
    register_handler(ROTATION_TYPE, apply_key_rotation, control=True)
    register_handler(REVOCATION_TYPE, apply_key_revoked, control=True)
