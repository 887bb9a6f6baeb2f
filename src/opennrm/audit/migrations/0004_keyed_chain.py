"""Re-chain the audit trail with the key ring's audit key (HMAC-SHA-256).

Entries written before this migration carry unkeyed SHA-256 hashes, which anyone with write
access to the database could recompute. This migration first checks that chain as it was
(refusing to bless a trail that is already broken, unless OPENNRM_AUDIT_RECHAIN_BROKEN=1 is
set after the problems have been looked into), then recomputes every hash with HMAC and
moves the head. A trail that is already keyed and intact (the migration unapplied, then
applied again) is left as it is. Entry contents are not touched. It runs before the triggers that make the
table append-only (0005).
"""

import hashlib
import hmac
import json
import os

from django.db import migrations

GENESIS_HASH = "0" * 64


def _content(previous_hash, entry):
    # The content as audit.services hashes it, frozen here.
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


def _keyed_chain_intact(entries, AuditHead, key):
    previous = GENESIS_HASH
    expected_sequence = 1
    for entry in entries.iterator(chunk_size=2000):
        if (entry.sequence != expected_sequence or entry.previous_hash != previous
                or hmac.new(key, _content(previous, entry), hashlib.sha256).hexdigest()
                != entry.entry_hash):
            return False
        previous = entry.entry_hash
        expected_sequence = entry.sequence + 1
    head = AuditHead.objects.filter(id=1).first()
    return head is not None and (head.last_sequence, head.last_hash) == (
        expected_sequence - 1, previous)


def rechain(apps, schema_editor):
    AuditEntry = apps.get_model("audit", "AuditEntry")
    AuditHead = apps.get_model("audit", "AuditHead")
    entries = AuditEntry.objects.using(schema_editor.connection.alias).order_by("sequence")
    if not entries.exists():
        return
    from opennrm.core.keyring import get_keyring

    key = get_keyring().audit_key
    if _keyed_chain_intact(entries, AuditHead, key):
        return  # already keyed (this migration was unapplied and is applied again)
    problems = []
    previous = GENESIS_HASH
    keyed_previous = GENESIS_HASH
    expected_sequence = 1
    batch = []
    for entry in entries.iterator(chunk_size=2000):
        if entry.sequence != expected_sequence:
            problems.append(f"entry {expected_sequence} is missing")
        if (entry.previous_hash != previous or hashlib.sha256(
                _content(entry.previous_hash, entry)).hexdigest() != entry.entry_hash):
            problems.append(f"entry {entry.sequence} does not match its hash")
        previous = entry.entry_hash
        expected_sequence = entry.sequence + 1
        entry.previous_hash = keyed_previous
        entry.entry_hash = hmac.new(key, _content(keyed_previous, entry),
                                    hashlib.sha256).hexdigest()
        keyed_previous = entry.entry_hash
        batch.append(entry)
        if len(batch) >= 2000:
            AuditEntry.objects.bulk_update(batch, ["previous_hash", "entry_hash"])
            batch = []
    head = AuditHead.objects.filter(id=1).first()
    if head and (head.last_sequence != expected_sequence - 1 or head.last_hash != previous):
        problems.append("the head does not record the last entry")
    if problems and os.environ.get("OPENNRM_AUDIT_RECHAIN_BROKEN") != "1":
        raise RuntimeError(
            "The audit trail was already broken before this upgrade, so it is not re-chained "
            "with the audit key: " + "; ".join(problems[:10]) + ". Look into it (keep a copy "
            "of the database), then migrate with OPENNRM_AUDIT_RECHAIN_BROKEN=1 to re-chain "
            "it as it is now.")
    if batch:
        AuditEntry.objects.bulk_update(batch, ["previous_hash", "entry_hash"])
    AuditHead.objects.update_or_create(
        id=1, defaults={"last_sequence": expected_sequence - 1, "last_hash": keyed_previous})


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0003_checkpoints"),
    ]

    operations = [
        migrations.RunPython(rechain, migrations.RunPython.noop, elidable=False),
    ]
