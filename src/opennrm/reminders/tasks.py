"""Background work, run by `opennrm worker` (the django-tasks database backend's worker)."""

from datetime import timedelta

from django.utils import timezone
from django_tasks import task

from opennrm.reminders import services

# How often the worker looks for deadlines; each one notifies each person once anyway.
SWEEP_EVERY = timedelta(hours=1)


@task()
def sweep_deadlines() -> int:
    """Mark lapsed residence permits expired, notify the responsible people of open
    deadlines, then schedule the next sweep."""
    from opennrm.protection.services import expire_residence_permits

    expire_residence_permits()
    created = services.reminder_sweep()
    schedule_sweep(after=SWEEP_EVERY)
    return created


@task()
def send_notification_emails() -> int:
    return services.send_pending_emails()


def schedule_sweep(after: timedelta = timedelta(0)) -> bool:
    """Queue the next deadline sweep unless one is already waiting (so restarts of the worker
    do not start parallel chains of sweeps). True if one was queued."""
    from django_tasks_db.models import DBTaskResult

    waiting = DBTaskResult.objects.filter(status="READY",
                                          task_path=sweep_deadlines.module_path).exists()
    if waiting:
        return False
    sweep_deadlines.using(run_after=timezone.now() + after).enqueue()
    return True
