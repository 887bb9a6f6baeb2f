"""Background work, run by `opennrm worker` (the django-tasks database backend's worker).

Apps that have housekeeping to do before each sweep (protection marks lapsed permits
expired) register it with `register_sweep_step` in their `AppConfig.ready`.
"""

from collections.abc import Callable
from datetime import timedelta

from django.dispatch import receiver
from django.utils import timezone
from django_tasks import task

from opennrm.reminders import services

# How often the worker looks for deadlines; each one notifies each person once anyway.
SWEEP_EVERY = timedelta(hours=1)

_sweep_steps: dict[str, Callable[[], object]] = {}


def register_sweep_step(name: str, step: Callable[[], object]) -> None:
    """Run `step()` at the start of every deadline sweep, before anyone is notified."""
    _sweep_steps[name] = step


@task()
def sweep_deadlines() -> int:
    """Run the registered sweep steps (lapsed residence permits are marked expired), notify
    the responsible people of open deadlines, then schedule the next sweep."""
    for step in _sweep_steps.values():
        step()
    created = services.reminder_sweep()
    schedule_sweep(after=SWEEP_EVERY)
    return created


@task()
def send_notification_emails() -> int:
    return services.send_pending_emails()


@receiver(services.emails_pending)
def queue_emails(sender, **kwargs) -> None:
    """Queue the e-mail job unless one is already waiting (it sends every pending one)."""
    from django_tasks_db.models import DBTaskResult

    if not DBTaskResult.objects.filter(
            status="READY", task_path=send_notification_emails.module_path).exists():
        send_notification_emails.enqueue()


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
