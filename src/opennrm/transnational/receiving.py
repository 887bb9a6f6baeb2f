"""The receiving side: verify, decrypt, validate, apply exactly once, answer with a signed
receipt.

A message's id is written under a unique key in the same transaction as its effect (the
handler registered for its type), so it is applied once however often it comes; a duplicate
gets the receipt stored the first time. A message of a case applies only after the previous
one of that case from the same sender: one that arrives early is stored (encrypted) and
applied when its predecessor is.
"""

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from opennrm.audit.models import Action
from opennrm.audit.services import AuditEvent, record_event
from opennrm.core.keyring import get_keyring
from opennrm.transnational import schemas
from opennrm.transnational.envelope import (
    CLAIMS,
    RECEIPT_TYP,
    Rejection,
    decrypt,
    digest,
    sign,
    signed_header,
    verify,
)
from opennrm.transnational.identity import partner_key, this_node
from opennrm.transnational.models import InboundSequence, InboxMessage, OutboxMessage, Partner

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReceivedMessage:
    """What a handler gets: the verified claims, the payload and the sending partner."""

    message_id: uuid.UUID
    type: str
    schema_version: str
    partner: Partner
    case_id: uuid.UUID | None
    sequence: int | None
    in_reply_to: uuid.UUID | None
    consent_ref: str
    issued_at: int
    payload: dict


_handlers: dict[str, Callable[[ReceivedMessage], object]] = {}
# The channel's own control messages (key rotation and revocation, audit checkpoints): every
# active partner may send them, whatever message types the administrator allowed it.
_control_types: set[str] = set()


def register_handler(message_type: str, handler: Callable[[ReceivedMessage], object],
                     control: bool = False) -> None:
    """Apply messages of `message_type` with `handler(message)`, inside the transaction that
    records the message (an exception rolls both back, and the sender tries again).
    `control`: a message of the channel itself, accepted from every active partner."""
    _handlers[message_type] = handler
    if control:
        _control_types.add(message_type)


def is_allowed(partner: Partner, message_type: str) -> bool:
    return message_type in _control_types or message_type in partner.allowed_types


@dataclass
class Answer:
    http_status: int
    body: dict


def sign_receipt(content: dict) -> str:
    kid, key = get_keyring().signing_private_key()
    return sign({"type": "opennrm-trm-receipt", **content}, key, kid, typ=RECEIPT_TYP)


def _receipt(receiver: uuid.UUID, message_id, received_digest: str, received_at: datetime,
             status: str, code: str = "", text: str = "") -> str:
    content = {"message_id": str(message_id) if message_id else None,
               "digest": received_digest, "received_at": received_at.isoformat(),
               "status": status, "receiver": str(receiver)}
    if code:
        content["code"] = code
        content["text"] = text
    return sign_receipt(content)


def _reject(receiver: uuid.UUID, partner, body: bytes, received_at, rejection: Rejection,
            claims: dict | None) -> Answer:
    claims = claims or {}
    received_digest = digest(body)
    claimed = str(claims.get("message_id") or "")[:64]
    receipt = _receipt(receiver, claimed or None, received_digest, received_at, "rejected",
                       rejection.code, rejection.text)
    InboxMessage.objects.create(
        claimed_message_id=claimed, partner=partner,
        message_type=str(claims.get("type") or "")[:60],
        schema_version=str(claims.get("schema_version") or "")[:10],
        status=InboxMessage.Status.REJECTED, reason_code=rejection.code,
        reason_text=rejection.text, digest=received_digest, size=len(body),
        received_at=received_at, receipt=receipt)
    return Answer(rejection.http_status, {"status": "rejected", "code": rejection.code,
                                          "text": rejection.text, "receipt": receipt})


def _uuid(value, name: str, required: bool = False) -> uuid.UUID | None:
    if value is None and not required:
        return None
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise Rejection("malformed", f"The claim {name} is not a UUID.") from None


def _check_claims(claims: dict, partner: Partner, node_id: uuid.UUID) -> None:
    missing = [name for name in CLAIMS if name not in claims]
    if missing:
        raise Rejection("malformed", f"The signed message lacks {', '.join(missing)}.")
    if str(claims["sender"]) != str(partner.node_id):
        raise Rejection("sender_mismatch",
                        "The signed sender is not the node the message came from.", 403)
    if str(claims["recipient"]) != str(node_id):
        raise Rejection("wrong_recipient",
                        f"The message is addressed to node {claims['recipient']}, "
                        f"not to this node ({node_id}).")
    skew = settings.OPENNRM_TRM_CLOCK_SKEW_SECONDS
    now = time.time()
    issued, expires = claims["issued_at"], claims["expires_at"]
    if not isinstance(issued, int) or not isinstance(expires, int):
        raise Rejection("malformed", "issued_at and expires_at are whole seconds.")
    if issued > now + skew:
        raise Rejection("not_yet_valid",
                        f"The message was issued {int(issued - now)} s in this node's future "
                        f"(tolerance {skew} s): check the sender's clock.")
    if expires < now - skew:
        raise Rejection("expired", f"The message expired at "
                        f"{datetime.fromtimestamp(expires, UTC).isoformat()}.")
    if not isinstance(claims["payload"], dict):
        raise Rejection("malformed", "The payload is not a JSON object.")
    sequence = claims["sequence"]
    if claims["case_id"] is not None and (not isinstance(sequence, int) or sequence < 1):
        raise Rejection("malformed", "A message of a case needs its sequence number.")


def _sending_partner(sender: str) -> Partner | None:
    try:
        return Partner.objects.get(node_id=uuid.UUID(sender))
    except (ValueError, Partner.DoesNotExist):
        return None


def _unknown_sender(receiver: uuid.UUID, body: bytes, received_at: datetime) -> Answer:
    rejection = Rejection("unknown_sender", "This node has no partner with that node id.", 403)
    return _reject(receiver, None, body, received_at, rejection, None)


def receive(body: bytes, sender: str) -> Answer:
    """Everything the endpoint does with a message body claimed to come from `sender`."""
    received_at = timezone.now()
    receiver = this_node().node_id
    partner = _sending_partner(sender)
    if partner is None:
        return _unknown_sender(receiver, body, received_at)
    return _receive_from(receiver, partner, body, received_at)


def receive_batch(bodies: list[bytes], sender: str) -> list[Answer]:
    """Several messages from one sender in one request (the sender's worker batches what is
    due for this node): each is received exactly as `receive` would, in order, and all in one
    transaction, so that a batch costs one commit. Each message's effect is in a savepoint of
    its own (`_accept`): one refused or failing message does not undo the others. A handler
    that fails answers "handler_failed" for its message only (the sender tries that one
    again)."""
    received_at = timezone.now()
    receiver = this_node().node_id
    partner = _sending_partner(sender)
    answers = []
    with transaction.atomic():
        for body in bodies:
            if partner is None:
                answers.append(_unknown_sender(receiver, body, received_at))
                continue
            try:
                answers.append(_receive_from(receiver, partner, body, received_at))
            except Exception as error:  # a handler's bug: this message only, tried again
                log.exception("applying a message from %s failed", partner)
                answers.append(Answer(500, {
                    "status": "rejected", "code": "handler_failed",
                    "text": f"This node could not apply the message ({type(error).__name__}); "
                            "send it again later."}))
    return answers


def _receive_from(receiver: uuid.UUID, partner: Partner, body: bytes,
                  received_at: datetime) -> Answer:
    claims = None
    try:
        if partner.status != Partner.Status.ACTIVE:
            raise Rejection("partner_suspended",
                            "This node has suspended exchange with your node.", 403)
        ring = get_keyring()
        signed = decrypt(body, ring.encryption_private_key)
        kid = signed_header(signed).get("kid")
        key = partner_key(partner, "sig", kid if isinstance(kid, str) else "")
        if key is None:
            raise Rejection("unknown_signing_key",
                            f"Your node's card has no signing key {kid!r}.", 403)
        claims = verify(signed, key)
        _check_claims(claims, partner, receiver)
        message_id = _uuid(claims["message_id"], "message_id", required=True)
        # A duplicate: the receipt stored the first time, again.
        stored = InboxMessage.objects.filter(message_id=message_id).first()
        if stored is not None:
            return Answer(200, {"status": "duplicate", "receipt": stored.receipt})
        if not is_allowed(partner, claims["type"]):
            raise Rejection("type_not_allowed",
                            f"This node does not accept {claims['type']!r} messages from "
                            "your node.", 403)
        schemas.validate(claims["type"], claims["schema_version"], claims["payload"])
        message = ReceivedMessage(
            message_id=message_id, type=claims["type"],
            schema_version=claims["schema_version"], partner=partner,
            case_id=_uuid(claims["case_id"], "case_id"), sequence=claims["sequence"],
            in_reply_to=_uuid(claims["in_reply_to"], "in_reply_to"),
            consent_ref=str(claims["consent_ref"] or "")[:100], issued_at=claims["issued_at"],
            payload=claims["payload"])
        if message.type not in _handlers:
            raise Rejection("unknown_type", f"This node has no handler for {message.type!r}.")
    except Rejection as rejection:
        return _reject(receiver, partner, body, received_at, rejection, claims)
    return _accept(receiver, message, signed, claims, body, received_at)


def _accept(receiver: uuid.UUID, message: ReceivedMessage, signed: str, claims: dict,
            body: bytes, received_at: datetime) -> Answer:
    received_digest = digest(body)
    try:
        with transaction.atomic():
            row = InboxMessage(
                message_id=message.message_id, claimed_message_id=str(message.message_id),
                partner=message.partner, message_type=message.type,
                schema_version=message.schema_version, case_id=message.case_id,
                sequence=message.sequence, in_reply_to=message.in_reply_to,
                consent_ref=message.consent_ref, digest=received_digest, size=len(body),
                received_at=received_at, signed=signed)
            ready = True
            if message.case_id is not None:
                counter, _ = InboundSequence.objects.select_for_update().get_or_create(
                    partner=message.partner, case_id=message.case_id)
                if message.sequence <= counter.last_applied:
                    raise Rejection("sequence_reused",
                                    f"Message {message.sequence} of this case was already "
                                    "applied under another message id.")
                ready = message.sequence == counter.last_applied + 1
            status = "applied" if ready else "pending"
            row.status = status
            row.receipt = _receipt(receiver, message.message_id, received_digest, received_at,
                                   status)
            if ready:
                _apply(row, message)
            else:
                row.pending = claims
            row.save()
            if ready and message.case_id is not None:
                _apply_waiting(message.partner, message.case_id, counter)
    except IntegrityError:
        # The same message, committed by a request running beside this one.
        stored = InboxMessage.objects.filter(message_id=message.message_id).first()
        if stored is None:
            raise
        return Answer(200, {"status": "duplicate", "receipt": stored.receipt})
    except Rejection as rejection:
        return _reject(receiver, message.partner, body, received_at, rejection, claims)
    return Answer(200, {"status": status, "receipt": row.receipt})


def _apply(row: InboxMessage, message: ReceivedMessage) -> None:
    _handlers[message.type](message)
    row.applied_at = timezone.now()
    if message.in_reply_to is not None:
        # The message answered: its answer time, always; its state "answered" only once its
        # receipt is stored (a reply may overtake the receipt of what it answers, whose
        # delivery is then still queued or in flight and must go on until it has one).
        replied = OutboxMessage.objects.filter(message_id=message.in_reply_to,
                                               partner=message.partner)
        replied.filter(answered_at__isnull=True).update(answered_at=row.applied_at)
        replied.filter(status=OutboxMessage.Status.RECEIPT).update(
            status=OutboxMessage.Status.ANSWERED)
    if message.case_id is not None:
        record_event(None, AuditEvent(
            action=Action.CREATE, object_type="trm_message", object_ref=str(message.message_id),
            reason=f"{message.type} for case {message.case_id} from "
                   f"{message.partner.country} node {message.partner.node_id}"), channel="trm")


def _apply_waiting(partner: Partner, case_id: uuid.UUID, counter: InboundSequence) -> None:
    """Apply the messages of the case that waited for the one just applied, in order."""
    counter.last_applied += 1
    while True:
        waiting = InboxMessage.objects.filter(
            partner=partner, case_id=case_id, status=InboxMessage.Status.PENDING,
            sequence=counter.last_applied + 1).first()
        if waiting is None:
            break
        claims = waiting.pending
        message = ReceivedMessage(
            message_id=waiting.message_id, type=claims["type"],
            schema_version=claims["schema_version"], partner=partner, case_id=case_id,
            sequence=waiting.sequence, in_reply_to=waiting.in_reply_to,
            consent_ref=waiting.consent_ref, issued_at=claims["issued_at"],
            payload=claims["payload"])
        _apply(waiting, message)
        waiting.status = InboxMessage.Status.APPLIED
        waiting.pending = None
        waiting.save(update_fields=["status", "pending", "applied_at"])
        counter.last_applied += 1
    counter.save(update_fields=["last_applied"])
