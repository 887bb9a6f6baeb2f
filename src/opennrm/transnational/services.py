"""The one write path of the channel: messages into the outbox, partner settings, retrying
or abandoning a failed delivery; and the message log's reads.

`send_message` writes in the caller's transaction: the message exists if and only if the
change that caused it was committed. Right after the commit it is delivered by a thread of
the writing process (OPENNRM_TRM_DELIVER_ON_COMMIT) and, on PostgreSQL, the worker is woken
with NOTIFY; otherwise `opennrm trm worker` finds it within its poll interval.
"""

import uuid
from datetime import timedelta

import uuid_utils.compat as uuid_compat
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from opennrm.audit.models import Action
from opennrm.audit.services import AuditEvent, record_event
from opennrm.core.keyring import get_keyring
from opennrm.transnational import schemas
from opennrm.transnational.access import (
    ensure_can_manage_partners,
    ensure_can_read_message_log,
    ensure_can_send,
)
from opennrm.transnational.envelope import Rejection, seal
from opennrm.transnational.identity import IdentityError, partner_key, this_node
from opennrm.transnational.models import InboxMessage, OutboxMessage, Partner
from opennrm.transnational.receiving import is_allowed

NOTIFY_CHANNEL = "opennrm_trm_outbox"


class ChannelError(Exception):
    pass


def new_message_id() -> uuid.UUID:
    return uuid.UUID(str(uuid_compat.uuid7()))


def _channel(actor) -> str:
    return "trm" if actor is None else "web"


def send_message(actor, partner: Partner, message_type: str, payload: dict, case=None,
                 consent=None, in_reply_to=None, ttl: timedelta | None = None,
                 signing_key_id: str | None = None) -> OutboxMessage:
    """Sign, seal and queue a message to `partner`, in the caller's transaction.

    `case` is a case (its global id travels) or a global case id; `consent` a consent (its
    id is the reference) or a reference. Messages of one case to one partner are numbered,
    and the partner applies them in that order. `signing_key_id`: sign with that key of the
    ring instead of the active one (a key rotation is announced under the old key)."""
    ensure_can_send(actor)
    if partner.status != Partner.Status.ACTIVE:
        raise ChannelError(f"partner {partner} is suspended")
    if not is_allowed(partner, message_type):
        raise ChannelError(f"{message_type!r} messages are not allowed with {partner}")
    version = schemas.current_version(message_type)
    try:
        schemas.validate(message_type, version, payload)
    except Rejection as rejection:
        raise ChannelError(rejection.text) from None
    node = this_node()
    case_id = getattr(case, "global_id", case)
    case_id = uuid.UUID(str(case_id)) if case_id is not None else None
    consent_ref = str(getattr(consent, "pk", consent) or "")
    now = timezone.now()
    expires = now + (ttl or timedelta(hours=settings.OPENNRM_TRM_MESSAGE_TTL_HOURS))
    enc = partner_key(partner, "enc")
    if enc is None:
        raise IdentityError(f"partner {partner} has no encryption key")
    ring = get_keyring()
    kid, signing_key = ring.signing_private_key(signing_key_id)
    with transaction.atomic():
        sequence = None
        if case_id is not None:
            # The partner's row, locked: concurrent senders of one case number in turn.
            Partner.objects.select_for_update().filter(pk=partner.pk).first()
            last = OutboxMessage.objects.filter(partner=partner, case_id=case_id).aggregate(
                last=Max("sequence"))["last"]
            sequence = (last or 0) + 1
        message_id = new_message_id()
        content = {
            "message_id": str(message_id), "type": message_type, "schema_version": version,
            "sender": str(node.node_id), "recipient": str(partner.node_id),
            "issued_at": int(now.timestamp()), "expires_at": int(expires.timestamp()),
            "in_reply_to": str(in_reply_to) if in_reply_to else None,
            "case_id": str(case_id) if case_id else None, "sequence": sequence,
            "consent_ref": consent_ref, "payload": payload,
        }
        sealed = seal(content, signing_key, kid, enc, enc["kid"])
        message = OutboxMessage.objects.create(
            message_id=message_id, partner=partner, message_type=message_type,
            schema_version=version, case_id=case_id, sequence=sequence,
            consent_ref=consent_ref, in_reply_to=in_reply_to, created_at=now,
            expires_at=expires, signed=sealed.signed, sealed=sealed.sealed,
            digest=sealed.digest, next_attempt_at=now)
        if case_id is not None:
            record_event(actor, AuditEvent(
                action=Action.EXPORT, object_type="trm_message", object_ref=str(message_id),
                reason=f"{message_type} for case {case_id} to {partner.country} node "
                       f"{partner.node_id}"), channel=_channel(actor))
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_notify(%s, %s)", [NOTIFY_CHANNEL, str(message.pk)])
        if settings.OPENNRM_TRM_DELIVER_ON_COMMIT:
            from opennrm.transnational import delivery

            pk = message.pk
            transaction.on_commit(lambda: delivery.deliver_soon(pk))
    return message


def allow_types(actor, partner: Partner, types: list[str]) -> Partner:
    ensure_can_manage_partners(actor)
    unknown = sorted(set(types) - set(schemas.message_types()))
    if unknown:
        raise ChannelError(f"unknown message types: {', '.join(unknown)} (known: "
                           f"{', '.join(schemas.message_types())})")
    with transaction.atomic():
        partner.allowed_types = sorted(set(types))
        partner.save(update_fields=["allowed_types", "updated_at"])
        record_event(actor, AuditEvent(action=Action.UPDATE, object_type="trm_partner",
                                       object_ref=str(partner.node_id), fields=("allowed_types",),
                                       reason=", ".join(partner.allowed_types)),
                     channel="cli" if actor is None else "web")
    return partner


def set_partner_status(actor, partner: Partner, status: str, reason: str = "") -> Partner:
    ensure_can_manage_partners(actor)
    with transaction.atomic():
        partner.status = Partner.Status(status)
        partner.save(update_fields=["status", "updated_at"])
        record_event(actor, AuditEvent(action=Action.UPDATE, object_type="trm_partner",
                                       object_ref=str(partner.node_id), fields=("status",),
                                       reason=f"{status}: {reason}".strip(": ")),
                     channel="cli" if actor is None else "web")
    return partner


def find_partner(text: str) -> Partner:
    """A partner by node id, or by country when the node has one partner there."""
    text = (text or "").strip()
    try:
        return Partner.objects.get(node_id=uuid.UUID(text))
    except (ValueError, Partner.DoesNotExist):
        pass
    matches = list(Partner.objects.filter(country=text.upper()))
    if len(matches) == 1:
        return matches[0]
    raise ChannelError(f"no single partner {text!r} (give its node id)")


def retry(actor, message: OutboxMessage) -> OutboxMessage:
    """Queue a failed or abandoned delivery again, now, with a fresh attempt count."""
    ensure_can_manage_partners(actor)
    if message.status not in (OutboxMessage.Status.FAILED, OutboxMessage.Status.ABANDONED):
        raise ChannelError(f"message {message.message_id} is {message.status}, not failed")
    with transaction.atomic():
        OutboxMessage.objects.filter(pk=message.pk).update(
            status=OutboxMessage.Status.QUEUED, attempts=0, next_attempt_at=timezone.now(),
            claimed_at=None)
        record_event(actor, AuditEvent(action=Action.UPDATE, object_type="trm_message",
                                       object_ref=str(message.message_id), fields=("status",),
                                       reason="retry"), channel=_channel(actor) if actor else "cli")
        if settings.OPENNRM_TRM_DELIVER_ON_COMMIT:
            from opennrm.transnational import delivery

            transaction.on_commit(lambda: delivery.deliver_soon(message.pk))
    message.refresh_from_db()
    return message


def abandon(actor, message: OutboxMessage, reason: str = "") -> OutboxMessage:
    """Stop trying to deliver a message that has not been delivered."""
    ensure_can_manage_partners(actor)
    if message.status not in (OutboxMessage.Status.FAILED, OutboxMessage.Status.QUEUED):
        raise ChannelError(f"message {message.message_id} is {message.status}")
    with transaction.atomic():
        OutboxMessage.objects.filter(pk=message.pk).update(
            status=OutboxMessage.Status.ABANDONED, reason_code="abandoned",
            reason_text=reason or "abandoned by the administrator")
        record_event(actor, AuditEvent(action=Action.UPDATE, object_type="trm_message",
                                       object_ref=str(message.message_id), fields=("status",),
                                       reason=f"abandoned: {reason}".strip(": ")),
                     channel="cli" if actor is None else "web")
    message.refresh_from_db()
    return message


# --- the message log -----------------------------------------------------------------------

def message_log(actor, direction: str = "", status: str = ""):
    """(outbox, inbox) querysets, newest first."""
    ensure_can_read_message_log(actor)
    outbox = OutboxMessage.objects.select_related("partner").defer("signed", "sealed")
    inbox = InboxMessage.objects.select_related("partner").defer("signed", "pending")
    if status:
        outbox = outbox.filter(status=status)
        inbox = inbox.filter(status=status)
    if direction == "out":
        inbox = inbox.none()
    elif direction == "in":
        outbox = outbox.none()
    return outbox, inbox


def evidence(actor, message_id) -> dict:
    """The evidence of one message: the signed message and every signed receipt (sent), or
    the signed message received and the receipt this node signed (received)."""
    ensure_can_read_message_log(actor)
    message_id = uuid.UUID(str(message_id))
    sent = OutboxMessage.objects.filter(message_id=message_id).select_related("partner").first()
    if sent is not None:
        result = {
            "direction": "sent", "message_id": str(message_id),
            "partner": {"node_id": str(sent.partner.node_id), "country": sent.partner.country,
                        "name": sent.partner.name, "fingerprint": sent.partner.fingerprint},
            "status": sent.status, "signed_message": sent.signed,
            "sealed_digest_sha256": sent.digest, "receipt": sent.receipt,
            "deliveries": [
                {"at": d.at.isoformat(), "http_status": d.http_status, "outcome": d.outcome,
                 "code": d.code, "text": d.text, "receipt": d.receipt}
                for d in sent.deliveries.all()],
        }
    else:
        received = InboxMessage.objects.filter(message_id=message_id).select_related(
            "partner").first()
        if received is None:
            raise OutboxMessage.DoesNotExist(f"no message {message_id}")
        result = {
            "direction": "received", "message_id": str(message_id),
            "partner": {"node_id": str(received.partner.node_id),
                        "country": received.partner.country, "name": received.partner.name,
                        "fingerprint": received.partner.fingerprint},
            "status": received.status, "signed_message": received.signed,
            "sealed_digest_sha256": received.digest, "receipt": received.receipt,
        }
    record_event(actor, AuditEvent(action=Action.EXPORT, object_type="trm_message",
                                   object_ref=str(message_id), reason="evidence"),
                 channel="cli" if actor is None else "web")
    return result
