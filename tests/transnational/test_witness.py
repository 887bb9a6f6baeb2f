"""Partners as witnesses of the audit trail, in one process (witness.py): this node (MD, the
test key ring) keeps the checkpoints a partner (UA, a key ring of its own) signs, and sends
its own to its partners. Between real nodes: test_witness_nodes.py."""

import json
import time
import uuid
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.core.exceptions import PermissionDenied
from django.test import RequestFactory
from django.utils import timezone
from joserfc import jws
from typer.testing import CliRunner

from opennrm.audit.checkpoints import sign_checkpoint, write_checkpoint
from opennrm.audit.models import AuditCheckpoint, AuditEntry
from opennrm.cli import app
from opennrm.core.keyring import KeyRing, get_keyring
from opennrm.transnational import identity, receiving, witness
from opennrm.transnational.envelope import seal
from opennrm.transnational.models import OutboxMessage, Partner, WitnessedCheckpoint
from opennrm.transnational.witness_views import witnessed_checkpoints

pytestmark = pytest.mark.django_db

runner = CliRunner()
HASH_A, HASH_B = "a" * 64, "b" * 64


@pytest.fixture(autouse=True)
def md(db, settings):
    settings.OPENNRM_TRM_DELIVER_ON_COMMIT = False  # no delivery thread: nothing listens
    return identity.init_node(None, "MD", "Moldova NRM", "https://md.example")


def make_partner(country: str, tmp_path, status=Partner.Status.ACTIVE):
    """A partner node with a key ring of its own; its card's keys imported."""
    ring = KeyRing.create(tmp_path / f"{country}-keyring.json")
    ring.add_encryption_key()
    partner = Partner.objects.create(
        node_id=uuid.uuid4(), country=country, name=f"{country} NRM",
        endpoint=f"https://{country.lower()}.example",
        valid_until=timezone.now() + timedelta(days=365), card={},
        keys=identity.public_jwks(ring), fingerprint="0" * 64, status=status,
        allowed_types=["ping", "pong"])
    return SimpleNamespace(partner=partner, ring=ring)


@pytest.fixture
def ua(tmp_path):
    return make_partner("UA", tmp_path)


def checkpoint_message(sequence: int, entry_hash: str, at=None, ring=None, **changes) -> dict:
    """The payload of an audit_checkpoint message, its token signed with `ring`."""
    at = at or timezone.now()
    payload = {"token": sign_checkpoint(sequence, entry_hash, at, ring=ring),
               "sequence": sequence, "hash": entry_hash, "time": at.isoformat()}
    return {**payload, **changes}


def send_from(partner, payload: dict) -> receiving.Answer:
    """The partner's node sends this node an audit_checkpoint, signed and sealed as its
    outbox would."""
    kid, key = partner.ring.signing_private_key()
    ring = get_keyring()
    enc_id = ring.active_encryption_key_id
    now = int(time.time())
    content = {
        "message_id": str(uuid.uuid4()), "type": "audit_checkpoint", "schema_version": "1.0",
        "sender": str(partner.partner.node_id), "recipient": str(identity.this_node().node_id),
        "issued_at": now, "expires_at": now + 3600, "in_reply_to": None, "case_id": None,
        "sequence": None, "consent_ref": "", "payload": payload,
    }
    sealed = seal(content, key, kid, ring.encryption_public_key(enc_id), enc_id)
    return receiving.receive(sealed.sealed.encode("ascii"), str(partner.partner.node_id))


# --- keeping a partner's checkpoints ----------------------------------------------------------

def test_it_keeps_a_partners_checkpoint(ua):
    answer = send_from(ua, checkpoint_message(12, HASH_A, ring=ua.ring))
    assert answer.body["status"] == "applied", answer.body
    kept = WitnessedCheckpoint.objects.get()
    assert (kept.partner, kept.sequence, kept.entry_hash, kept.conflict) == (
        ua.partner, 12, HASH_A, "")
    assert kept.key_id == ua.ring.active_signing_key_id
    # A control message: accepted although the administrator allowed only ping and pong.
    assert "audit_checkpoint" not in ua.partner.allowed_types


@pytest.mark.parametrize("signer", ["another key", "this node's own key"])
def test_it_refuses_a_checkpoint_not_signed_by_the_partners_key(ua, tmp_path, signer):
    ring = (KeyRing.create(tmp_path / "other.json") if signer == "another key"
            else get_keyring())
    answer = send_from(ua, checkpoint_message(12, HASH_A, ring=ring))
    assert answer.http_status == 400
    assert answer.body["code"] == "bad_checkpoint"
    assert "not in your node's card" in answer.body["text"]
    assert not WitnessedCheckpoint.objects.exists()


def test_it_refuses_a_message_that_does_not_say_what_its_checkpoint_signed(ua):
    forged = checkpoint_message(12, HASH_A, ring=ua.ring, hash=HASH_B)
    answer = send_from(ua, forged)
    assert answer.body["code"] == "bad_checkpoint"
    assert "not what its signed checkpoint says" in answer.body["text"]
    answer = send_from(ua, checkpoint_message(12, HASH_A, ring=ua.ring, token="a.b.c"))
    assert answer.body["code"] == "bad_checkpoint"
    assert not WitnessedCheckpoint.objects.exists()


def test_it_keeps_the_same_checkpoint_once(ua):
    message = checkpoint_message(12, HASH_A, ring=ua.ring)
    for _ in range(2):  # sent again while the partner's chain did not move
        assert send_from(ua, message).body["status"] == "applied"
    assert WitnessedCheckpoint.objects.count() == 1


def test_it_keeps_a_rewritten_entry_with_the_conflict(ua, caplog):
    earlier = timezone.now() - timedelta(hours=1)
    send_from(ua, checkpoint_message(12, HASH_A, at=earlier, ring=ua.ring))
    answer = send_from(ua, checkpoint_message(12, HASH_B, ring=ua.ring))
    assert answer.body["status"] == "applied"  # received: the receipt says no more
    rewritten = WitnessedCheckpoint.objects.get(entry_hash=HASH_B)
    assert "entry 12 was signed with hash aaaa" in rewritten.conflict
    assert "rewritten" in rewritten.conflict
    assert "conflicts with an earlier one" in caplog.text
    assert WitnessedCheckpoint.objects.get(entry_hash=HASH_A).conflict == ""


def test_it_keeps_a_cut_trail_with_the_conflict(ua):
    now = timezone.now()
    send_from(ua, checkpoint_message(20, HASH_A, at=now - timedelta(hours=2), ring=ua.ring))
    send_from(ua, checkpoint_message(25, HASH_A, at=now - timedelta(hours=1), ring=ua.ring))
    send_from(ua, checkpoint_message(8, HASH_B, at=now, ring=ua.ring))
    cut = WitnessedCheckpoint.objects.get(sequence=8)
    assert "entry 25 was signed on" in cut.conflict and "then only entry 8" in cut.conflict
    assert "removed from the end" in cut.conflict


def test_a_late_checkpoint_of_a_growing_trail_is_no_conflict(ua):
    """Checkpoints may arrive out of order (a retried delivery): an older, lower one is
    consistent with a newer, higher one."""
    now = timezone.now()
    send_from(ua, checkpoint_message(30, HASH_A, at=now, ring=ua.ring))
    send_from(ua, checkpoint_message(20, HASH_B, at=now - timedelta(hours=1), ring=ua.ring))
    assert not WitnessedCheckpoint.objects.exclude(conflict="").exists()


def test_it_names_the_later_checkpoint_when_the_cut_one_came_first(ua):
    now = timezone.now()
    send_from(ua, checkpoint_message(8, HASH_B, at=now, ring=ua.ring))
    send_from(ua, checkpoint_message(25, HASH_A, at=now - timedelta(hours=1), ring=ua.ring))
    late = WitnessedCheckpoint.objects.get(sequence=25)
    assert "entry 25 was signed on" in late.conflict and "then only entry 8" in late.conflict


# --- sending this node's checkpoints ----------------------------------------------------------

def test_send_checkpoint_queues_one_message_per_active_partner(ua, tmp_path):
    make_partner("RO", tmp_path)
    make_partner("PL", tmp_path, status=Partner.Status.SUSPENDED)
    checkpoint, messages = witness.send_checkpoint()
    assert sorted(m.partner.country for m in messages) == ["RO", "UA"]
    queued = OutboxMessage.objects.filter(message_type="audit_checkpoint")
    assert sorted(queued.values_list("partner__country", flat=True)) == ["RO", "UA"]
    assert checkpoint.sequence == AuditEntry.objects.count() - 1  # the event comes after
    entry = AuditEntry.objects.order_by("sequence").last()
    assert (entry.action, entry.object_type) == ("export", "audit_checkpoint")
    assert "RO, UA" in entry.reason


def test_send_checkpoint_takes_the_newest_when_nothing_was_appended_since(ua):
    newest = write_checkpoint(announce=False)
    checkpoint, messages = witness.send_checkpoint()
    assert checkpoint.pk == newest.pk and len(messages) == 1
    assert AuditCheckpoint.objects.count() == 1


def test_send_checkpoint_is_for_administrators(ua, caseworker, administrator):
    with pytest.raises(PermissionDenied):
        witness.send_checkpoint(caseworker)
    witness.send_checkpoint(administrator)


def test_a_checkpoint_written_goes_to_the_partners_after_its_commit(
        ua, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        checkpoint = write_checkpoint()
    assert len(callbacks) == 1
    message = OutboxMessage.objects.get(message_type="audit_checkpoint")
    assert message.partner == ua.partner
    sent = json.loads(jws.extract_compact(message.signed.encode("ascii")).payload)
    assert sent["payload"]["token"] == checkpoint.token
    # Queuing it appended nothing to the audit trail: no checkpoint causes another.
    assert checkpoint.sequence == AuditEntry.objects.count()


def test_a_partner_that_cannot_be_sent_to_does_not_fail_the_checkpoint(
        ua, tmp_path, django_capture_on_commit_callbacks, caplog):
    broken = make_partner("RO", tmp_path)
    Partner.objects.filter(pk=broken.partner.pk).update(keys={"keys": []})
    with django_capture_on_commit_callbacks(execute=True):
        checkpoint = write_checkpoint()
    assert AuditCheckpoint.objects.filter(pk=checkpoint.pk).exists()
    assert OutboxMessage.objects.get().partner == ua.partner
    assert "not sent to RO NRM" in caplog.text


# --- what this node witnessed: the CLI and the page --------------------------------------------

def test_witnessed_writes_the_file_audit_verify_reads(ua, tmp_path):
    send_from(ua, checkpoint_message(3, HASH_A, at=timezone.now() - timedelta(hours=1),
                                     ring=ua.ring))
    send_from(ua, checkpoint_message(9, HASH_B, ring=ua.ring))
    path = tmp_path / "ua-witnessed.jws"
    result = runner.invoke(app, ["trm", "witnessed", "--partner", "UA", "--output", str(path)])
    assert result.exit_code == 0, result.output
    lines = path.read_text().splitlines()
    assert lines == list(WitnessedCheckpoint.objects.order_by("signed_at")
                         .values_list("token", flat=True))
    assert AuditEntry.objects.order_by("sequence").last().object_type \
        == "trm_witnessed_checkpoints"
    refused = runner.invoke(app, ["trm", "witnessed", "--output", str(path)])
    assert refused.exit_code == 1 and "--partner" in refused.output


def test_witnessed_lists_conflicts_first(ua):
    now = timezone.now()
    send_from(ua, checkpoint_message(12, HASH_A, at=now - timedelta(hours=1), ring=ua.ring))
    send_from(ua, checkpoint_message(12, HASH_B, at=now, ring=ua.ring))
    result = runner.invoke(app, ["trm", "witnessed"])
    assert result.exit_code == 0, result.output
    assert "1 conflicting checkpoint(s)" in result.output
    assert "rewritten" in result.output


def test_the_page_shows_each_partner_and_its_conflicts(ua, administrator):
    now = timezone.now()
    send_from(ua, checkpoint_message(12, HASH_A, at=now - timedelta(hours=1), ring=ua.ring))
    send_from(ua, checkpoint_message(12, HASH_B, at=now, ring=ua.ring))
    request = RequestFactory().get("/transnational/witnessed/",
                                   {"partner": str(ua.partner.node_id)})
    request.user = administrator
    page = witnessed_checkpoints(request).content.decode()
    assert "Conflicting checkpoints" in page and "the partner&#x27;s audit trail was " \
        "rewritten" in page
    assert "Checkpoints of UA UA NRM" in page


def test_the_page_is_for_administrators(ua, caseworker, auditor):
    for user in (caseworker, auditor):
        request = RequestFactory().get("/transnational/witnessed/")
        request.user = user
        with pytest.raises(PermissionDenied):
            witnessed_checkpoints(request)
