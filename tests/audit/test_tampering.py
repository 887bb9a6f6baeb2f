"""Attacks on the audit trail by someone with write access to the database.

Each attack is done in raw SQL, as a database administrator would, after lifting the
triggers that refuse it (the owner of the tables can). Each must be detected by
`verify_chain`: by the keyed hashes where the attacker lacks the key ring, and by the signed
checkpoints where the attacker only removes entries and resets the head.
"""

import hashlib
import hmac
import secrets

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from joserfc import jws
from joserfc.jwk import OKPKey

from opennrm.audit.checkpoints import CheckpointError, read_checkpoint, write_checkpoint
from opennrm.audit.guard import guard_lifted
from opennrm.audit.models import AuditEntry, AuditHead
from opennrm.audit.services import GENESIS_HASH, _entry_content, verify_chain
from opennrm.cases import services
from opennrm.core.keyring import get_keyring


@pytest.fixture
def trail(case, caseworker):
    """A trail of a dozen entries, as a node has after some work."""
    for n in range(10):
        services.read_case(caseworker, case.case_number, reason=f"read {n}")
    assert verify_chain().ok
    return case


# --- what an attacker computes -------------------------------------------------------------

def sha256_hash(previous, entry):
    """The unkeyed hash the trail used before (and anyone can compute)."""
    return hashlib.sha256(_entry_content(previous, entry)).hexdigest()


ATTACKERS_KEY = secrets.token_bytes(32)


def wrong_key_hash(previous, entry):
    """The keyed hash, computed by someone who has the code but not the key ring."""
    return hmac.new(ATTACKERS_KEY, _entry_content(previous, entry), hashlib.sha256).hexdigest()


def rechain(cursor, hasher):
    """Recompute every hash from the first entry, and the head, in SQL."""
    previous = GENESIS_HASH
    last = 0
    for entry in AuditEntry.objects.order_by("sequence"):
        entry_hash = hasher(previous, entry)
        cursor.execute("UPDATE audit_auditentry SET previous_hash = %s, entry_hash = %s "
                       "WHERE id = %s", [previous, entry_hash, entry.pk])
        previous, last = entry_hash, entry.sequence
    reset_head(cursor, last, previous)


def reset_head(cursor, sequence, last_hash):
    cursor.execute("UPDATE audit_audithead SET last_sequence = %s, last_hash = %s WHERE id = 1",
                   [sequence, last_hash])


def edit_entry(cursor, sequence=3):
    cursor.execute("UPDATE audit_auditentry SET actor_username = %s WHERE sequence = %s",
                   ["someone-else", sequence])


def renumber(cursor, after, by):
    """Shift the entries after `after` by `by`, one row at a time (unique sequence)."""
    rows = list(AuditEntry.objects.filter(sequence__gt=after)
                .order_by("sequence" if by < 0 else "-sequence").values_list("id", flat=True))
    for pk in rows:
        cursor.execute("UPDATE audit_auditentry SET sequence = sequence + %s WHERE id = %s",
                       [by, pk])


# --- the attacks ---------------------------------------------------------------------------

def edit_and_recompute_with_sha256(cursor):
    edit_entry(cursor)
    rechain(cursor, sha256_hash)


def recompute_every_hash_with_sha256(cursor):
    rechain(cursor, sha256_hash)


def edit_and_recompute_without_the_key(cursor):
    edit_entry(cursor)
    rechain(cursor, wrong_key_hash)


def delete_an_entry_and_renumber(cursor):
    cursor.execute("DELETE FROM audit_auditentry WHERE sequence = 4")
    renumber(cursor, after=4, by=-1)
    rechain(cursor, sha256_hash)


def delete_an_entry_and_renumber_keeping_the_hashes(cursor):
    """Renumber only; every stored hash is left as the node wrote it."""
    cursor.execute("DELETE FROM audit_auditentry WHERE sequence = 4")
    renumber(cursor, after=4, by=-1)
    last = AuditEntry.objects.order_by("sequence").last()
    reset_head(cursor, last.sequence, last.entry_hash)


def insert_an_entry_and_renumber(cursor):
    renumber(cursor, after=4, by=1)
    template = AuditEntry.objects.get(sequence=4)
    cursor.execute(
        "INSERT INTO audit_auditentry (sequence, at, actor_id, actor_username, agency_id, "
        "action, object_type, object_ref, fields, reason, channel, previous_hash, entry_hash) "
        "VALUES (5, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        [template.at, template.actor_id, template.actor_username, template.agency_id,
         "read", "case", "NRM-FAKE-0001", '["given_name"]', "planted", "web",
         template.entry_hash, "0" * 64])
    rechain(cursor, sha256_hash)


def remove_the_last_entries_and_reset_the_head(cursor):
    """The prefix is untouched, so every remaining hash is right: only a checkpoint shows
    the entries that were there."""
    cursor.execute("DELETE FROM audit_auditentry WHERE sequence > 6")
    last = AuditEntry.objects.get(sequence=6)
    reset_head(cursor, 6, last.entry_hash)


def delete_the_head(cursor):
    cursor.execute("DELETE FROM audit_audithead")


def wipe_and_reset_the_head(cursor):
    cursor.execute("DELETE FROM audit_auditentry")
    reset_head(cursor, 0, GENESIS_HASH)


def wipe_checkpoints_too(cursor):
    wipe_and_reset_the_head(cursor)
    cursor.execute("DELETE FROM audit_auditcheckpoint")


def replace_checkpoints_with_a_forged_one(cursor):
    """Rewrite the chain with SHA-256, then plant a checkpoint of the new head signed with
    the attacker's own key under the node's key id."""
    edit_and_recompute_with_sha256(cursor)
    cursor.execute("DELETE FROM audit_auditcheckpoint")
    head = AuditHead.objects.get()
    token = forged_token(head.last_sequence, head.last_hash)
    cursor.execute(
        "INSERT INTO audit_auditcheckpoint (sequence, entry_hash, signed_at, key_id, token) "
        "VALUES (%s, %s, %s, %s, %s)",
        [head.last_sequence, head.last_hash, timezone.now(),
         get_keyring().active_signing_key_id, token])


def edit_a_checkpoint_row(cursor):
    """Point the stored checkpoint at a truncated chain's end (its columns, not its token)."""
    remove_the_last_entries_and_reset_the_head(cursor)
    last = AuditEntry.objects.get(sequence=6)
    cursor.execute("UPDATE audit_auditcheckpoint SET sequence = 6, entry_hash = %s",
                   [last.entry_hash])


def forged_token(sequence, entry_hash, key_id=None):
    key_id = key_id or get_keyring().active_signing_key_id
    payload = (f'{{"hash":"{entry_hash}","kid":"{key_id}","sequence":{sequence},'
               f'"time":"{timezone.now().isoformat()}","type":"opennrm-audit-checkpoint"}}')
    return jws.serialize_compact({"alg": "Ed25519", "kid": key_id}, payload.encode(),
                                 OKPKey.import_key(Ed25519PrivateKey.generate()),
                                 algorithms=["Ed25519"])


# Attacks the keyed hashes alone detect, without any checkpoint.
WITHOUT_CHECKPOINT = [
    edit_and_recompute_with_sha256,
    recompute_every_hash_with_sha256,
    edit_and_recompute_without_the_key,
    delete_an_entry_and_renumber,
    delete_an_entry_and_renumber_keeping_the_hashes,
    insert_an_entry_and_renumber,
    delete_the_head,
]
# Attacks that leave a valid prefix of the chain: a stored checkpoint detects them.
WITH_STORED_CHECKPOINT = [
    remove_the_last_entries_and_reset_the_head,
    wipe_and_reset_the_head,
    replace_checkpoints_with_a_forged_one,
    edit_a_checkpoint_row,
]
# The checkpoint rows are gone too: a checkpoint kept outside the database detects them.
WITH_CHECKPOINT_FILE = [
    wipe_checkpoints_too,
    remove_the_last_entries_and_reset_the_head,
    replace_checkpoints_with_a_forged_one,
]


def attack(function):
    with guard_lifted(connection), connection.cursor() as cursor:
        function(cursor)


@pytest.mark.parametrize("function", WITHOUT_CHECKPOINT, ids=lambda f: f.__name__)
def test_rewrites_are_detected_by_the_keyed_hashes(trail, function):
    attack(function)
    assert not verify_chain().ok


@pytest.mark.parametrize("function", WITH_STORED_CHECKPOINT, ids=lambda f: f.__name__)
def test_truncation_and_wipe_are_detected_by_a_stored_checkpoint(trail, caseworker, function):
    write_checkpoint()
    services.read_case(caseworker, trail.case_number)  # the chain goes on after it
    assert verify_chain().ok
    attack(function)
    report = verify_chain()
    assert not report.ok
    assert report.checkpoints_checked == 1


@pytest.mark.parametrize("function", WITH_CHECKPOINT_FILE, ids=lambda f: f.__name__)
def test_a_checkpoint_kept_outside_the_database_detects_what_its_rows_lost(trail, function):
    token = write_checkpoint().token  # e.g. appended to a file a log shipper sends away
    attack(function)
    with guard_lifted(connection), connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditcheckpoint")
    report = verify_chain(checkpoint_tokens=[token])
    assert not report.ok, function.__name__
    assert any("removed" in p or "rewritten" in p or "changed" in p or "broken" in p
               or "missing" in p for p in report.problems)


def test_without_a_checkpoint_a_cut_at_the_end_is_not_visible(trail):
    """The limit checkpoints exist for: a valid prefix of the chain, with the head reset to
    its end, is indistinguishable from a shorter trail."""
    attack(remove_the_last_entries_and_reset_the_head)
    assert verify_chain().ok


def test_the_wipe_names_the_missing_entries(trail):
    token = write_checkpoint().token
    attack(wipe_checkpoints_too)
    report = verify_chain(checkpoint_tokens=[token])
    assert report.entries_checked == 0
    assert any("before the entry that given checkpoint 1" in p for p in report.problems)


# --- the checkpoints themselves ------------------------------------------------------------

def test_a_checkpoint_verifies_with_the_node_key(trail):
    checkpoint = write_checkpoint()
    read = read_checkpoint(checkpoint.token)
    head = AuditHead.objects.get()
    assert (read.sequence, read.entry_hash) == (head.last_sequence, head.last_hash)
    assert read.key_id == get_keyring().active_signing_key_id
    report = verify_chain()
    assert report.ok and report.latest_checkpoint == head.last_sequence


def test_a_forged_checkpoint_is_refused(trail):
    head = AuditHead.objects.get()
    with pytest.raises(CheckpointError, match="signature does not verify"):
        read_checkpoint(forged_token(head.last_sequence, head.last_hash))
    with pytest.raises(CheckpointError, match="not in the key ring"):
        read_checkpoint(forged_token(head.last_sequence, head.last_hash, key_id="n-unknown"))
    genuine = write_checkpoint().token
    header, payload, signature = genuine.split(".")
    with pytest.raises(CheckpointError):
        read_checkpoint(f"{header}.{payload[:-4]}AAAA.{signature}")
    with pytest.raises(CheckpointError):
        read_checkpoint("not a checkpoint")


def test_checkpoints_of_a_rotated_signing_key_still_verify(trail):
    old = write_checkpoint()
    ring = get_keyring()
    old_key = ring.active_signing_key_id
    ring.add_signing_key()
    ring.retire_signing_key(old_key)
    new = write_checkpoint()
    assert new.key_id != old.key_id == old_key
    assert verify_chain().ok


# --- the database's own guard --------------------------------------------------------------

def refused(sql, params=()):
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_the_database_refuses_to_change_or_delete_entries(trail):
    refused("UPDATE audit_auditentry SET reason = 'x' WHERE sequence = 2")
    refused("DELETE FROM audit_auditentry WHERE sequence = 2")
    refused("DELETE FROM audit_auditentry")
    write_checkpoint()
    refused("UPDATE audit_auditcheckpoint SET sequence = 1")
    refused("DELETE FROM audit_auditcheckpoint")
    assert verify_chain().ok


def test_the_head_only_moves_forward(trail, caseworker):
    head = AuditHead.objects.get()
    refused("UPDATE audit_audithead SET last_sequence = 0, last_hash = %s", [GENESIS_HASH])
    refused("UPDATE audit_audithead SET last_hash = %s", [GENESIS_HASH])
    refused("DELETE FROM audit_audithead")
    services.read_case(caseworker, trail.case_number)  # appending still works
    assert AuditHead.objects.get().last_sequence == head.last_sequence + 1
    assert verify_chain().ok


@pytest.mark.skipif(connection.vendor != "postgresql", reason="TRUNCATE is PostgreSQL's")
def test_the_database_refuses_truncate(trail):
    for table in ("audit_auditentry", "audit_audithead", "audit_auditcheckpoint"):
        refused(f"TRUNCATE {table}")
    assert verify_chain().ok


@pytest.mark.skipif(connection.vendor != "postgresql", reason="database roles are PostgreSQL's")
def test_harden_takes_the_privileges_from_the_application_role(trail, caseworker):
    from opennrm.audit.guard import HardenError, harden

    role = f"opennrm_app_{secrets.token_hex(4)}"  # rolled back with the test's transaction
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE ROLE {role} NOLOGIN")
        cursor.execute(f"GRANT ALL ON ALL TABLES IN SCHEMA public TO {role}")
    harden(connection, role)
    with connection.cursor() as cursor:
        cursor.execute(f"SET ROLE {role}")
    try:
        services.read_case(caseworker, trail.case_number)  # the application still appends
        refused("UPDATE audit_auditentry SET reason = 'x'")
        refused("DELETE FROM audit_auditentry")
        refused("TRUNCATE audit_auditentry")
        refused("ALTER TABLE audit_auditentry DISABLE TRIGGER USER")  # not the owner
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")
    assert verify_chain().ok
    with pytest.raises(HardenError, match="superuser"):
        harden(connection, "postgres")
