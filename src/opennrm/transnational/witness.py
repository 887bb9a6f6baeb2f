"""Partner nodes as witnesses of this node's audit trail.

Each node signs checkpoints of the head of its audit chain (`audit.checkpoints`: entry
number, its hash, time; a JWS by the node's Ed25519 key). A checkpoint kept where this
node's database administrator cannot write is what shows a trail rewritten, cut at its end
or wiped. Partner nodes are such places: every checkpoint goes to every active partner as an
`audit_checkpoint` message, a control message (accepted from every active partner, whatever
types it is allowed), and the partner keeps it (`WitnessedCheckpoint`).

* Sending. `write_checkpoint` sends `audit.signals.checkpoint_written` after its commit and
  `on_checkpoint_written` queues the checkpoint to the partners: the hourly checkpoint of
  `opennrm worker` and `opennrm audit checkpoint` reach them that way, not audited (the
  message log shows them). `send_checkpoint` (`opennrm trm send-checkpoint`) sends one now,
  audited: the newest if the chain has not moved since, else a new one. No loop: a message
  without a case appends nothing to the audit trail, and nothing here writes a checkpoint
  in answer to one.
* Receiving. `receive_checkpoint` verifies the token with the partner's signing key named
  by its kid (from the partner's card, never this node's key ring) and that it says what
  the message says, then keeps it. A checkpoint that contradicts what the partner signed
  before (the same entry with another hash; a lower entry signed later than a higher one)
  is a sign its trail was rewritten or cut: it is kept with the conflict described, logged
  as a warning, and shown on the witnessed page and by `opennrm trm witnessed`. The message
  is applied either way: its receipt says it was received, not that the history is sound.
* Checking. `witnessed_tokens` gives a partner's checkpoints one a line, the file
  `opennrm audit verify --checkpoint` reads: the partner's administrator verifies its own
  chain against what its witnesses hold.

A witness alone cannot see a rewrite of entries before its newest checkpoint by someone who
also holds the node's key ring, when the later checkpoints go on from the rewritten chain
(a hash chain proves nothing about one head extending another): the node's own `audit
verify` with the witness's file shows it.
"""

import logging
from datetime import UTC, datetime

from django.db import transaction
from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from opennrm.audit import checkpoints
from opennrm.audit.models import Action, AuditCheckpoint, AuditHead
from opennrm.audit.services import GENESIS_HASH, AuditEvent, record_event
from opennrm.audit.signals import checkpoint_written
from opennrm.core.keyring import get_keyring
from opennrm.transnational import services
from opennrm.transnational.access import ensure_can_manage_partners, ensure_can_read_message_log
from opennrm.transnational.envelope import Rejection
from opennrm.transnational.identity import IdentityError, partner_key
from opennrm.transnational.models import OutboxMessage, Partner, WitnessedCheckpoint
from opennrm.transnational.receiving import ReceivedMessage, register_handler

log = logging.getLogger(__name__)

MESSAGE_TYPE = "audit_checkpoint"


# --- sending this node's checkpoints ---------------------------------------------------------

def share_checkpoint(checkpoint: AuditCheckpoint) -> list[OutboxMessage]:
    """Queue `checkpoint` to every active partner, in the caller's transaction. A partner it
    cannot be sealed for (no encryption key on its card) is skipped and logged."""
    payload = {"token": checkpoint.token, "sequence": checkpoint.sequence,
               "hash": checkpoint.entry_hash, "time": checkpoint.signed_at.isoformat()}
    messages = []
    for partner in Partner.objects.filter(status=Partner.Status.ACTIVE).order_by("country"):
        try:
            messages.append(services.send_message(None, partner, MESSAGE_TYPE, payload))
        except (services.ChannelError, IdentityError) as error:
            log.warning("audit checkpoint %s not sent to %s: %s", checkpoint.pk, partner, error)
    return messages


def on_checkpoint_written(sender, checkpoint: AuditCheckpoint, **kwargs) -> None:
    """audit.signals.checkpoint_written: send the new checkpoint to the partners."""
    with transaction.atomic():
        share_checkpoint(checkpoint)


def _checkpoint_of_the_head() -> AuditCheckpoint | None:
    """The newest checkpoint, if the chain has not moved since and the active signing key
    signed it (an older key may be gone from the partners' copy of this node's card)."""
    newest = AuditCheckpoint.objects.order_by("-signed_at", "-id").first()
    head = AuditHead.objects.filter(id=1).first()
    now = (head.last_sequence, head.last_hash) if head else (0, GENESIS_HASH)
    if (newest is not None and (newest.sequence, newest.entry_hash) == now
            and newest.key_id == get_keyring().active_signing_key_id):
        return newest
    return None


def send_checkpoint(actor=None) -> tuple[AuditCheckpoint, list[OutboxMessage]]:
    """Send this node's audit checkpoint to every active partner now: the newest one if
    nothing was appended since, else a new one. Returns it and the messages queued."""
    ensure_can_manage_partners(actor)
    with transaction.atomic():
        checkpoint = _checkpoint_of_the_head() or checkpoints.write_checkpoint(announce=False)
        messages = share_checkpoint(checkpoint)
        countries = ", ".join(message.partner.country for message in messages) or "none"
        record_event(actor, AuditEvent(
            action=Action.EXPORT, object_type="audit_checkpoint",
            object_ref=str(checkpoint.sequence),
            reason=f"signed checkpoint sent to the partner nodes: {countries}"),
            channel="cli" if actor is None else "web")
    return checkpoint, messages


# --- keeping the partners' checkpoints -------------------------------------------------------

def read_partner_checkpoint(partner: Partner, token: str) -> checkpoints.Checkpoint:
    """The checkpoint in `token` if a signing key of the partner's card (named by the
    token's kid) signed it; else Rejection "bad_checkpoint"."""
    try:
        return checkpoints.verify_checkpoint(
            token, lambda kid: partner_key(partner, "sig", kid), "your node's card")
    except checkpoints.CheckpointError as error:
        raise Rejection("bad_checkpoint", f"The audit checkpoint is refused: {error}.") from None


def find_conflict(partner: Partner, checkpoint: checkpoints.Checkpoint) -> str:
    """How `checkpoint` contradicts a checkpoint `partner` signed before, or ""."""
    earlier = WitnessedCheckpoint.objects.filter(partner=partner)
    found = []
    other_hash = earlier.filter(sequence=checkpoint.sequence).exclude(
        entry_hash=checkpoint.entry_hash).order_by("signed_at").first()
    if other_hash is not None:
        found.append(
            f"entry {checkpoint.sequence} was signed with hash {other_hash.entry_hash[:16]}… "
            f"on {_when(other_hash.signed_at)} and with {checkpoint.entry_hash[:16]}… on "
            f"{_when(checkpoint.time)}: the partner's audit trail was rewritten")
    # The chain only grows: a checkpoint signed later is never at a lower entry.
    higher_before = earlier.filter(sequence__gt=checkpoint.sequence,
                                   signed_at__lt=checkpoint.time).order_by("-sequence").first()
    if higher_before is not None:
        found.append(_cut(higher_before.sequence, higher_before.signed_at,
                          checkpoint.sequence, checkpoint.time))
    lower_after = earlier.filter(sequence__lt=checkpoint.sequence,
                                 signed_at__gt=checkpoint.time).order_by("sequence").first()
    if lower_after is not None:
        found.append(_cut(checkpoint.sequence, checkpoint.time,
                          lower_after.sequence, lower_after.signed_at))
    return "; ".join(found)


def _cut(sequence: int, signed_at: datetime, later_sequence: int, later: datetime) -> str:
    return (f"entry {sequence} was signed on {_when(signed_at)}, then only entry "
            f"{later_sequence} on {_when(later)}: entries were removed from the end of the "
            "partner's audit trail")


def _when(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"


def _time(text: str) -> datetime | None:
    try:
        return parse_datetime(text)
    except ValueError:  # well formed, but no such day or hour
        return None


def receive_checkpoint(message: ReceivedMessage) -> None:
    """audit_checkpoint: keep the partner's signed checkpoint, with the conflict described
    when it contradicts what the partner signed before."""
    partner = message.partner
    checkpoint = read_partner_checkpoint(partner, message.payload["token"])
    said = message.payload
    if checkpoint.time.tzinfo is None:
        raise Rejection("bad_checkpoint", "The signed checkpoint's time has no time zone.")
    if ((said["sequence"], said["hash"]) != (checkpoint.sequence, checkpoint.entry_hash)
            or _time(said["time"]) != checkpoint.time):
        raise Rejection("bad_checkpoint", "The message's sequence, hash or time is not what "
                                          "its signed checkpoint says.")
    if WitnessedCheckpoint.objects.filter(partner=partner, token=checkpoint.token).exists():
        return  # the same checkpoint again: the partner's chain has not moved
    conflict = find_conflict(partner, checkpoint)
    WitnessedCheckpoint.objects.create(
        partner=partner, sequence=checkpoint.sequence, entry_hash=checkpoint.entry_hash,
        signed_at=checkpoint.time, key_id=checkpoint.key_id, token=checkpoint.token,
        received_at=timezone.now(), conflict=conflict)
    if conflict:
        log.warning("audit checkpoint of partner %s conflicts with an earlier one: %s",
                    partner, conflict)


# --- what this node witnessed ----------------------------------------------------------------

def witnessed(actor, partner: Partner | None = None) -> QuerySet[WitnessedCheckpoint]:
    """The partners' checkpoints this node keeps, newest first."""
    ensure_can_read_message_log(actor)
    found = WitnessedCheckpoint.objects.select_related("partner")
    return found.filter(partner=partner) if partner is not None else found


def witnesses_by_partner(actor) -> QuerySet[Partner]:
    """Every partner, with how many checkpoints of it this node keeps (`witnessed`), how
    many conflict (`conflicts`), and its newest entry and signing time."""
    ensure_can_read_message_log(actor)
    return Partner.objects.annotate(
        witnessed=Count("witnessed_checkpoints"),
        conflicts=Count("witnessed_checkpoints",
                        filter=~Q(witnessed_checkpoints__conflict="")),
        newest_sequence=Max("witnessed_checkpoints__sequence"),
        newest_signed_at=Max("witnessed_checkpoints__signed_at"),
    ).order_by("country", "name")


def witnessed_tokens(actor, partner: Partner) -> list[str]:
    """The partner's checkpoints this node keeps, oldest first: the lines of the file the
    partner's `opennrm audit verify --checkpoint` reads. Audited (an export)."""
    tokens = list(witnessed(actor, partner).order_by("signed_at", "id")
                  .values_list("token", flat=True))
    record_event(actor, AuditEvent(
        action=Action.EXPORT, object_type="trm_witnessed_checkpoints",
        object_ref=str(partner.node_id),
        reason=f"{len(tokens)} audit checkpoints of {partner.country} node"),
        channel="cli" if actor is None else "web")
    return tokens


def register() -> None:
    register_handler(MESSAGE_TYPE, receive_checkpoint, control=True)
    checkpoint_written.connect(on_checkpoint_written, dispatch_uid="transnational_witness")
