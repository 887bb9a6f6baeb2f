"""This node's identity (node id, country, name, endpoint; keys in the key ring), its node
card, and the partner registry's import of other nodes' cards.

The fingerprint of a card is the SHA-256 of the canonical JSON of its node id, country and
public keys (JWKS), shown in groups of four hexadecimal digits to be read over the phone.
The endpoint and name are not in it: they may change without new keys.

The card lists the active signing and encryption keys first, then the earlier keys not
revoked (see keys.py): a partner encrypts to the first encryption key, and verifies with
an earlier signing key what was signed before a rotation. A key the partner revoked is
refused by `partner_key` ("revoked_key").
"""

import re
import uuid
from datetime import datetime, timedelta

import pycountry
import uuid_utils.compat as uuid_compat
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from joserfc.jwk import OKPKey

from opennrm.audit.models import Action
from opennrm.audit.services import AuditEvent, record_event
from opennrm.core.keyring import get_keyring
from opennrm.transnational.access import ensure_can_manage_partners
from opennrm.transnational.envelope import (
    KEY_ALGORITHM,
    SIGNING_ALGORITHM,
    Rejection,
    canonical,
    digest,
)
from opennrm.transnational.models import Node, Partner

CARD_TYPE = "opennrm-node-card"
DEFAULT_ALLOWED_TYPES = ["ping", "pong"]
CARD_VALID_DAYS = 365 * 2


class IdentityError(Exception):
    pass


class FingerprintMismatch(IdentityError):
    """The fingerprint read out by the partner is not the card's: nothing is imported."""


def this_node() -> Node:
    node = Node.objects.first()
    if node is None:
        raise IdentityError("this node has no transnational identity yet: run "
                            "`opennrm node init`")
    return node


def _check_country(country: str) -> str:
    country = (country or "").upper()
    if pycountry.countries.get(alpha_2=country) is None:
        raise IdentityError(f"{country!r} is not an ISO 3166-1 alpha-2 country code")
    return country


def _check_endpoint(endpoint: str) -> str:
    try:
        URLValidator(schemes=["http", "https"])(endpoint)
    except ValidationError:
        raise IdentityError(f"{endpoint!r} is not an http(s) URL") from None
    return endpoint.rstrip("/")


def init_node(actor, country: str, name: str, endpoint: str,
              valid_days: int = CARD_VALID_DAYS) -> Node:
    """Give this node its identity: a UUIDv7 node id, and an X25519 encryption key added to
    the key ring beside the Ed25519 signing key it already has (which it reuses)."""
    ensure_can_manage_partners(actor)
    if Node.objects.exists():
        raise IdentityError("this node already has an identity (node id "
                            f"{Node.objects.get().node_id})")
    if not name.strip():
        raise IdentityError("give the node a name")
    ring = get_keyring()
    if not ring.active_encryption_key_id:
        ring.add_encryption_key()
    now = timezone.now()
    with transaction.atomic():
        node = Node.objects.create(
            node_id=uuid.UUID(str(uuid_compat.uuid7())), country=_check_country(country),
            name=name.strip(), endpoint=_check_endpoint(endpoint), valid_from=now,
            valid_until=now + timedelta(days=valid_days))
        record_event(actor, AuditEvent(action=Action.CREATE, object_type="trm_node",
                                       object_ref=str(node.node_id),
                                       reason=f"node identity {node.country} {node.name}"),
                     channel="cli" if actor is None else "web")
    return node


def update_node(actor, *, name: str | None = None, endpoint: str | None = None) -> Node:
    ensure_can_manage_partners(actor)
    node = this_node()
    if name:
        node.name = name.strip()
    if endpoint:
        node.endpoint = _check_endpoint(endpoint)
    node.save()
    return node


def public_jwks(ring=None) -> dict:
    """This node's public keys: the active Ed25519 signing key and X25519 encryption key
    first, then the earlier ones not revoked, newest first."""
    ring = ring or get_keyring()
    if not ring.active_encryption_key_id:
        raise IdentityError("the key ring has no encryption key: run `opennrm node init`")
    keys = [_public_jwk(ring, "sig", ring.active_signing_key_id),
            _public_jwk(ring, "enc", ring.active_encryption_key_id)]
    for use, held, active in (("sig", ring.signing_keys, ring.active_signing_key_id),
                              ("enc", ring.encryption_keys, ring.active_encryption_key_id)):
        earlier = sorted((kid for kid, key in held.items()
                          if kid != active and not key.get("revoked")),
                         key=lambda kid, held=held: (held[kid]["created"], kid), reverse=True)
        keys.extend(_public_jwk(ring, use, kid) for kid in earlier)
    return {"keys": keys}


def _public_jwk(ring, use: str, kid: str) -> dict:
    if use == "sig":
        public, alg = ring.signing_public_key(kid), SIGNING_ALGORITHM
    else:
        public, alg = ring.encryption_public_key(kid), KEY_ALGORITHM
    return {**OKPKey.import_key(public).as_dict(private=False), "kid": kid, "use": use,
            "alg": alg}


def fingerprint_of(node_id: str, country: str, jwks: dict) -> str:
    return digest(canonical({"node_id": str(node_id), "country": country, "keys": jwks}))


def format_fingerprint(fingerprint: str) -> str:
    return " ".join(fingerprint[i:i + 4].upper() for i in range(0, len(fingerprint), 4))


def normalise_fingerprint(text: str) -> str:
    return re.sub(r"[^0-9a-f]", "", (text or "").lower())


def node_card() -> dict:
    node = this_node()
    return {
        "type": CARD_TYPE,
        "card_version": 1,
        "node_id": str(node.node_id),
        "country": node.country,
        "name": node.name,
        "endpoint": node.endpoint,
        "valid_from": node.valid_from.isoformat(),
        "valid_until": node.valid_until.isoformat(),
        "keys": public_jwks(),
    }


def card_fingerprint(card: dict) -> str:
    return fingerprint_of(card["node_id"], card["country"], card["keys"])


def read_card(card: dict) -> tuple[uuid.UUID, datetime]:
    """The node id and end of validity of a well-formed card (IdentityError otherwise)."""
    if not isinstance(card, dict) or card.get("type") != CARD_TYPE:
        raise IdentityError("this is not an OpenNRM node card")
    try:
        node_id = uuid.UUID(str(card["node_id"]))
        valid_until = parse_datetime(str(card["valid_until"]))
        keys = card["keys"]["keys"]
        _check_country(card["country"])
        _check_endpoint(card["endpoint"])
        str(card["name"])
    except (KeyError, TypeError, ValueError):
        raise IdentityError("the node card lacks a field or has a malformed one") from None
    if valid_until is None:
        raise IdentityError("the node card's valid_until is not a date and time")
    uses = {}
    for key in keys:
        if not isinstance(key, dict) or not isinstance(key.get("kid"), str):
            raise IdentityError("every key of the card needs a kid")
        expected = {"sig": "Ed25519", "enc": "X25519"}.get(key.get("use"))
        if key.get("kty") != "OKP" or key.get("crv") != expected or "d" in key:
            raise IdentityError(f"key {key.get('kid')!r} is not a public Ed25519 signing "
                                "or X25519 encryption key")
        try:
            OKPKey.import_key(key)
        except Exception:
            raise IdentityError(f"key {key['kid']!r} does not load") from None
        uses.setdefault(key["use"], key)
    if set(uses) != {"sig", "enc"}:
        raise IdentityError("the card needs a signing key and an encryption key")
    return node_id, valid_until


def import_partner(actor, card: dict, fingerprint: str) -> Partner:
    """Add (or, with its new keys, update) a partner node from its card, if the fingerprint
    read out by the partner's administrator matches the card's."""
    ensure_can_manage_partners(actor)
    node_id, valid_until = read_card(card)
    expected = card_fingerprint(card)
    if normalise_fingerprint(fingerprint) != expected:
        # The card's own fingerprint is not shown: it must come from the partner, not
        # from the file that may have been replaced.
        raise FingerprintMismatch("the fingerprint does not match the card: do not import "
                                  "it; ask the partner's administrator for the card again")
    own = Node.objects.first()
    if own is not None and own.node_id == node_id:
        raise IdentityError("this is this node's own card")
    if valid_until < timezone.now():
        raise IdentityError("the card has expired")
    with transaction.atomic():
        partner, created = Partner.objects.update_or_create(
            node_id=node_id, defaults=card_fields(card))
        if created:
            partner.allowed_types = list(DEFAULT_ALLOWED_TYPES)
            partner.save(update_fields=["allowed_types"])
        record_event(actor, AuditEvent(
            action=Action.CREATE if created else Action.UPDATE, object_type="trm_partner",
            object_ref=str(node_id), reason=f"partner card {partner.country} {partner.name}"),
            channel="cli" if actor is None else "web")
    return partner


def card_fields(card: dict) -> dict:
    """A partner's fields from its card (read with `read_card` first)."""
    return {"country": card["country"].upper(), "name": str(card["name"])[:200],
            "endpoint": card["endpoint"].rstrip("/"),
            "valid_until": parse_datetime(str(card["valid_until"])), "card": card,
            "keys": card["keys"], "fingerprint": card_fingerprint(card)}


def partner_key(partner: Partner, use: str, kid: str | None = None) -> dict | None:
    """The partner's public JWK for `use` ("sig" or "enc"), by kid or the first one (the
    card lists the active key first). A kid the partner revoked: Rejection "revoked_key",
    whatever a card still says."""
    if kid is not None and any(revoked.get("kid") == kid for revoked in partner.revoked_keys):
        raise Rejection("revoked_key", f"Your node revoked its key {kid!r}: sign with its "
                        "current key.", 403)
    for key in partner.keys.get("keys", []):
        if key.get("use") == use and (kid is None or key.get("kid") == kid):
            return key
    return None


def raw_public(key) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)
