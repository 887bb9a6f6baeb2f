"""`opennrm audit checkpoint`, `audit verify --checkpoint`, `db harden`, the worker's task."""

from django.db import connection
from typer.testing import CliRunner

from opennrm.audit.checkpoints import read_checkpoint
from opennrm.audit.guard import guard_lifted
from opennrm.audit.models import AuditCheckpoint, AuditHead
from opennrm.cli import app

runner = CliRunner()


def test_checkpoint_to_stdout_prints_a_signed_head(case):
    result = runner.invoke(app, ["audit", "checkpoint", "--output", "-"])
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    checkpoint = read_checkpoint(token)
    assert checkpoint.sequence == AuditHead.objects.get().last_sequence
    assert AuditCheckpoint.objects.get().token == token


def test_a_checkpoint_file_detects_a_wipe_that_took_the_checkpoint_rows_too(case, tmp_path):
    path = tmp_path / "checkpoints.jws"
    for _ in range(2):  # appended, one a line
        assert runner.invoke(app, ["audit", "checkpoint", "--output", str(path)]).exit_code == 0
    assert len(path.read_text().splitlines()) == 2
    result = runner.invoke(app, ["audit", "verify", "--checkpoint", str(path)])
    assert result.exit_code == 0, result.output
    assert "4 signed checkpoints" in result.output  # two stored, two in the file
    with guard_lifted(connection), connection.cursor() as cursor:  # as a DBA would
        cursor.execute("DELETE FROM audit_auditentry")
        cursor.execute("DELETE FROM audit_auditcheckpoint")
        cursor.execute("UPDATE audit_audithead SET last_sequence = 0, last_hash = %s",
                       ["0" * 64])
    alone = runner.invoke(app, ["audit", "verify"])
    assert alone.exit_code == 0 and "No signed checkpoint" in alone.output
    result = runner.invoke(app, ["audit", "verify", "--checkpoint", str(path)])
    assert result.exit_code == 1
    assert "BROKEN" in result.output and "removed" in result.output


def test_harden_needs_postgresql(db):
    if connection.vendor == "postgresql":
        return  # tests/audit/test_tampering.py hardens a role there
    result = runner.invoke(app, ["db", "harden", "--app-role", "opennrm"])
    assert result.exit_code == 1
    assert "PostgreSQL" in result.output


def test_the_worker_task_writes_a_checkpoint_and_schedules_the_next(case, tmp_path, monkeypatch):
    from django_tasks_db.models import DBTaskResult

    from opennrm.audit.tasks import schedule_checkpoints, write_audit_checkpoint

    path = tmp_path / "shipped.jws"
    monkeypatch.setenv("OPENNRM_AUDIT_CHECKPOINT_FILE", str(path))
    sequence = write_audit_checkpoint.call()
    assert sequence == AuditHead.objects.get().last_sequence
    assert read_checkpoint(path.read_text().strip()).sequence == sequence
    waiting = DBTaskResult.objects.filter(status="READY",
                                          task_path=write_audit_checkpoint.module_path)
    assert waiting.count() == 1
    assert not schedule_checkpoints()  # one waiting is enough


def test_rotating_the_signing_key_keeps_old_checkpoints_verifiable(case):
    from opennrm.core.keyring import get_keyring

    old = runner.invoke(app, ["audit", "checkpoint"]).output.strip()
    result = runner.invoke(app, ["keys", "rotate-signing", "--retire-old"])
    assert result.exit_code == 0, result.output
    ring = get_keyring()
    assert read_checkpoint(old).key_id != ring.active_signing_key_id
    assert read_checkpoint(runner.invoke(app, ["audit", "checkpoint"]).output.strip()).key_id \
        == ring.active_signing_key_id
    assert "2 signed checkpoints" in runner.invoke(app, ["audit", "verify"]).output
