"""Background work of the audit trail, run by `opennrm worker`: a signed checkpoint on a
schedule (OPENNRM_AUDIT_CHECKPOINT_MINUTES, 60 by default), stored, and appended to
OPENNRM_AUDIT_CHECKPOINT_FILE when that is set (e.g. a file a log shipper sends away)."""

import os
from datetime import timedelta
from pathlib import Path

from django.utils import timezone
from django_tasks import task

from opennrm.audit import checkpoints


def checkpoint_every() -> timedelta:
    return timedelta(minutes=float(os.environ.get("OPENNRM_AUDIT_CHECKPOINT_MINUTES", "60")))


def append_to_file(path: str, token: str) -> None:
    with Path(path).open("a", encoding="ascii") as handle:
        handle.write(token + "\n")


@task()
def write_audit_checkpoint() -> int:
    """Sign the head of the audit chain, then schedule the next checkpoint."""
    checkpoint = checkpoints.write_checkpoint()
    if path := os.environ.get("OPENNRM_AUDIT_CHECKPOINT_FILE"):
        append_to_file(path, checkpoint.token)
    schedule_checkpoints(after=checkpoint_every())
    return checkpoint.sequence


def schedule_checkpoints(after: timedelta = timedelta(0)) -> bool:
    """Queue the next checkpoint unless one is already waiting. True if one was queued."""
    from django_tasks_db.models import DBTaskResult

    waiting = DBTaskResult.objects.filter(status="READY",
                                          task_path=write_audit_checkpoint.module_path).exists()
    if waiting:
        return False
    write_audit_checkpoint.using(run_after=timezone.now() + after).enqueue()
    return True
