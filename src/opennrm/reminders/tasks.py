"""Background work, run by `opennrm worker` (the django-tasks database backend's worker).

Apps that have housekeeping to do before each sweep (protection marks lapsed permits
expired) register it with `register_sweep_step` in their `AppConfig.ready`. From the morning
on (`DIGEST_HOUR`, the node's time zone), each sweep also queues the daily digests, which go
to those who chose them and have not had today's.
"""

from collections.abc import Callable
from datetime import timedelta

from django.dispatch import receiver
from django.utils import timezone
from django_tasks import task

from opennrm.reminders import digest, services

# How often the worker looks for deadlines; each one notifies each person once anyway.
SWEEP_EVERY = timedelta(hours=1)
# The hour from which the daily digests go out: after the night's sweeps, before work starts.
DIGEST_HOUR = 7

_sweep_steps: dict[str, Callable[[], object]] = {}


def register_sweep_step(name: str, step: Callable[[], object]) -> None:
    """Run `step()` at the start of every deadline sweep, before anyone is notified."""
    _sweep_steps[name] = step


@task()
def sweep_deadlines() -> int:
    """Run the registered sweep steps (lapsed residence permits are marked expired), notify
    the responsible people of open deadlines, queue the daily digests (from `DIGEST_HOUR`
    on), then schedule the next sweep."""
    for step in _sweep_steps.values():
        step()
    created = services.reminder_sweep()
    if timezone.localtime().hour >= DIGEST_HOUR:
        _enqueue_once(send_daily_digests)
    schedule_sweep(after=SWEEP_EVERY)
    return created


@task()
def send_notification_emails() -> int:
    return services.send_pending_emails()


@task()
def send_daily_digests() -> int:
    """Today's digest to each user who chose it and has not had it yet."""
    return digest.send_digests(timezone.localdate())


@receiver(services.emails_pending)
def queue_emails(sender, **kwargs) -> None:
    """Queue the e-mail job unless one is already waiting (it sends every pending one)."""
    _enqueue_once(send_notification_emails)


def _enqueue_once(job) -> None:
    from django_tasks_db.models import DBTaskResult

    if not DBTaskResult.objects.filter(status="READY", task_path=job.module_path).exists():
        job.enqueue()


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
