"""Writing and verifying the audit trail."""

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from opennrm.audit.access import ensure_can_read_audit_trail
from opennrm.audit.checkpoints import CheckpointError, read_checkpoint
from opennrm.audit.models import Action, AuditCheckpoint, AuditEntry, AuditHead
from opennrm.core.access import Staff
from opennrm.core.keyring import KeyRing, get_keyring

GENESIS_HASH = "0" * 64


@dataclass(frozen=True)
class AuditEvent:
    action: str
    object_type: str
    object_ref: str = ""
    fields: tuple[str, ...] = ()
    reason: str = ""


def _entry_content(previous_hash: str, entry) -> bytes:
    """What an entry's hash covers: the previous entry's hash and this entry's content."""
    content = json.dumps(
        {
            "sequence": entry.sequence,
            "at": entry.at.isoformat(),
            "actor_id": entry.actor_id,
            "actor_username": entry.actor_username,
            "agency_id": entry.agency_id,
            "action": entry.action,
            "object_type": entry.object_type,
            "object_ref": entry.object_ref,
            "fields": list(entry.fields),
            "reason": entry.reason,
            "channel": entry.channel,
        },
        sort_keys=True,
        ensure_ascii=False,
    )
    return (previous_hash + content).encode("utf-8")


def _entry_hash(previous_hash: str, entry, ring: KeyRing | None = None) -> str:
    """HMAC-SHA-256 with the key ring's audit key (which is not in the database)."""
    return (ring or get_keyring()).audit_mac(_entry_content(previous_hash, entry))


def record_events(actor: Staff | None, events: list[AuditEvent],
                  channel: str = "") -> list[AuditEntry]:
    """Append events to the chain, in the caller's transaction.

    If the caller's transaction rolls back, its audit entries go with it: the trail records
    what happened, never what was attempted and undone.
    """
    if not events:
        return []
    with transaction.atomic(), connection.cursor() as cursor:
        last_sequence, previous = _lock_head(cursor)
        at = timezone.now()
        ring = get_keyring()
        entries = []
        for offset, event in enumerate(events, start=1):
            entry = AuditEntry(
                sequence=last_sequence + offset,
                at=at,
                actor_id=getattr(actor, "pk", None),
                actor_username=getattr(actor, "username", "") or "system",
                agency_id=getattr(actor, "agency_id", None),
                action=event.action,
                object_type=event.object_type,
                object_ref=event.object_ref,
                fields=sorted(event.fields),
                reason=event.reason,
                channel=channel,
                previous_hash=previous,
            )
            entry.entry_hash = _entry_hash(previous, entry, ring)
            previous = entry.entry_hash
            entries.append(entry)
        _insert_entries(cursor, entries)
        cursor.execute(f"UPDATE {_HEAD_TABLE} SET last_sequence = %s, last_hash = %s "
                       "WHERE id = 1", [entries[-1].sequence, previous])
    return entries


# Every read of personal data appends to the chain, so the append is written in SQL: the
# ORM spent more time building its three statements than PostgreSQL took to run them.
_HEAD_TABLE = connection.ops.quote_name(AuditHead._meta.db_table)
_ENTRY_FIELDS = [field for field in AuditEntry._meta.concrete_fields if not field.primary_key]
_INSERT_ENTRIES = "INSERT INTO {} ({}) VALUES ".format(
    connection.ops.quote_name(AuditEntry._meta.db_table),
    ", ".join(connection.ops.quote_name(field.column) for field in _ENTRY_FIELDS))
_ENTRY_ROW = "(" + ", ".join(["%s"] * len(_ENTRY_FIELDS)) + ")"
_ENTRIES_PER_INSERT = 500


def _lock_head(cursor) -> tuple[int, str]:
    """The end of the chain, locked until the transaction ends: concurrent appends queue.

    SQLite has no row locks; its write transactions (IMMEDIATE, see settings) queue instead.
    """
    lock = " FOR UPDATE" if cursor.db.features.has_select_for_update else ""
    cursor.execute(f"SELECT last_sequence, last_hash FROM {_HEAD_TABLE} WHERE id = 1{lock}")
    row = cursor.fetchone()
    if row is None:  # the first entry of a new node
        AuditHead.objects.get_or_create(id=1)
        cursor.execute(f"SELECT last_sequence, last_hash FROM {_HEAD_TABLE} WHERE id = 1{lock}")
        row = cursor.fetchone()
    return row


def _insert_entries(cursor, entries: list[AuditEntry]) -> None:
    db = cursor.db  # the connection itself: `connection` is a proxy, looked up on each use
    # Within the database's limit on parameters per statement (SQLite's is the lower).
    size = min(_ENTRIES_PER_INSERT, db.ops.bulk_batch_size(_ENTRY_FIELDS, entries))
    for start in range(0, len(entries), size):
        batch = entries[start:start + size]
        # Each value as the ORM would send it (JSON, time zones), without its compiler.
        cursor.execute(_INSERT_ENTRIES + ", ".join([_ENTRY_ROW] * len(batch)), [
            field.get_db_prep_save(getattr(entry, field.attname), db)
            for entry in batch for field in _ENTRY_FIELDS
        ])


def record_event(actor: Staff | None, event: AuditEvent, channel: str = "") -> AuditEntry:
    return record_events(actor, [event], channel)[0]


@dataclass
class ChainReport:
    entries_checked: int
    problems: list[str]
    checkpoints_checked: int = 0
    latest_checkpoint: int | None = None

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_chain(max_problems: int = 20, checkpoint_tokens: Iterable[str] = ()) -> ChainReport:
    """Recompute the keyed chain from the first entry; report every entry that does not
    match, and every signed checkpoint (stored, or given in `checkpoint_tokens`) that the
    chain no longer contains: its entry gone, or holding another hash."""
    ring = get_keyring()
    problems: list[str] = []
    # sequence -> [(hash, where the checkpoint comes from)]
    expected: dict[int, list[tuple[str, str]]] = defaultdict(list)
    stored = list(AuditCheckpoint.objects.values_list("id", "sequence", "entry_hash", "token"))
    sources = [(f"stored checkpoint {pk}", token, (sequence, entry_hash))
               for pk, sequence, entry_hash, token in stored]
    sources += [(f"given checkpoint {n}", token, None)
                for n, token in enumerate(checkpoint_tokens, start=1)]
    for source, token, columns in sources:
        try:
            checkpoint = read_checkpoint(token, ring)
        except CheckpointError as error:
            problems.append(f"{source}: {error}")
            continue
        if columns is not None and columns != (checkpoint.sequence, checkpoint.entry_hash):
            problems.append(f"{source}: its columns differ from what was signed")
        if checkpoint.sequence > 0:
            expected[checkpoint.sequence].append(
                (checkpoint.entry_hash, f"{source} (entry {checkpoint.sequence}, signed "
                                        f"{checkpoint.time:%Y-%m-%d %H:%M:%S} UTC)"))
    report = ChainReport(entries_checked=0, problems=problems,
                         checkpoints_checked=len(sources),
                         latest_checkpoint=max(expected, default=None))

    previous = GENESIS_HASH
    expected_sequence = 1
    checked = 0
    for entry in AuditEntry.objects.order_by("sequence").iterator(chunk_size=2000):
        checked += 1
        if entry.sequence != expected_sequence:
            problems.append(
                f"entry {expected_sequence} is missing (next entry is {entry.sequence})"
            )
        if entry.previous_hash != previous:
            problems.append(f"entry {entry.sequence}: link to the previous entry is broken")
        if _entry_hash(entry.previous_hash, entry, ring) != entry.entry_hash:
            problems.append(f"entry {entry.sequence}: content was changed after it was written")
        for signed_hash, source in expected.pop(entry.sequence, ()):
            if signed_hash != entry.entry_hash:
                problems.append(f"entry {entry.sequence} is not the entry that {source} "
                                "signed: the chain was rewritten")
        previous = entry.entry_hash
        expected_sequence = entry.sequence + 1
        if len(problems) >= max_problems:
            break
    report.entries_checked = checked
    if len(problems) >= max_problems:
        return report
    head = AuditHead.objects.filter(id=1).first()
    if head is None and checked:
        problems.append("the head row is missing")
    if head and (head.last_sequence != expected_sequence - 1 or head.last_hash != previous):
        problems.append(
            f"the chain ends at entry {expected_sequence - 1} but the head records entry "
            f"{head.last_sequence}: entries were removed from the end"
        )
    for sequence in sorted(expected):
        for _signed_hash, source in expected[sequence]:
            problems.append(f"the chain ends at entry {expected_sequence - 1}, before the "
                            f"entry that {source} signed: entries were removed")
    return report


def audit_entries_for(user: Staff | None, *, case_number: str = "", username: str = "",
                      action: str = "") -> QuerySet[AuditEntry]:
    """The audit trail as the auditor sees it, newest first, optionally filtered."""
    ensure_can_read_audit_trail(user)
    entries = AuditEntry.objects.order_by("-sequence")
    if case_number:
        entries = entries.filter(object_ref=case_number.strip())
    if username:
        entries = entries.filter(actor_username=username.strip())
    if action:
        entries = entries.filter(action=action)
    return entries


def entries_about(object_ref: str, actions: Iterable[str]) -> QuerySet[AuditEntry]:
    """The entries of these actions on one object (a case number…), newest first. The
    caller has checked who may read them (the case's supervisor reads who viewed it)."""
    return AuditEntry.objects.filter(object_ref=object_ref, action__in=list(actions)).order_by(
        "-sequence")


__all__ = ["Action", "AuditEvent", "record_event", "record_events", "verify_chain",
           "audit_entries_for", "entries_about"]
