"""Scheduled releases to partners, by `opennrm worker`: once a day (at 03:00 node time, after
the nightly linkage, so that the day's "also known in" marks are in), every schedule whose
period has ended sends it. The task always schedules the next day."""

from datetime import datetime, time, timedelta

from django.utils import timezone
from django_tasks import task

from opennrm.regional import services

DAILY_AT = time(3, 0)


def next_run(now: datetime | None = None) -> datetime:
    """The next 03:00 in the node's time zone after `now`."""
    local = timezone.localtime(now or timezone.now())
    at = local.replace(hour=DAILY_AT.hour, minute=DAILY_AT.minute, second=0, microsecond=0)
    if at <= local:
        at = timezone.make_aware(datetime.combine(local.date() + timedelta(days=1), DAILY_AT))
    return at


@task()
def send_scheduled_releases() -> list[str]:
    """Send what the schedules owe, then schedule tomorrow's look."""
    done = services.run_due_schedules()
    schedule_regional_releases()
    return done


def schedule_regional_releases() -> bool:
    """Queue the next daily look unless one is already waiting. True if one was queued."""
    from django_tasks_db.models import DBTaskResult

    waiting = DBTaskResult.objects.filter(
        status="READY", task_path=send_scheduled_releases.module_path).exists()
    if waiting:
        return False
    send_scheduled_releases.using(run_after=next_run()).enqueue()
    return True
