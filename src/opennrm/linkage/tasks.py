"""The nightly linkage run, by `opennrm worker`: at 02:00 node time (settings.TIME_ZONE),
when few people register cases, and only when the coordinator's policy says nightly. The
task always schedules the next night, so turning the policy on needs no restart."""

from datetime import datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.utils import timezone
from django_tasks import task

from opennrm.linkage import node
from opennrm.linkage.models import LinkagePolicy, Trigger

NIGHTLY_AT = time(2, 0)


def next_night(now: datetime | None = None) -> datetime:
    """The next 02:00 in the node's time zone after `now`."""
    local = timezone.localtime(now or timezone.now())
    night = local.replace(hour=NIGHTLY_AT.hour, minute=NIGHTLY_AT.minute, second=0,
                          microsecond=0)
    if night <= local:
        night = timezone.make_aware(datetime.combine(local.date() + timedelta(days=1),
                                                     NIGHTLY_AT))
    return night


@task()
def nightly_linkage() -> int | None:
    """Run the job if the policy says nightly, then schedule the next night. The run's id,
    or None when no run was made."""
    run_id = None
    if LinkagePolicy.current().nightly:
        try:
            run_id = node.run_linkage(None, Trigger.NIGHTLY, channel=node.CHANNEL).pk
        except ValidationError:  # a run started by hand is still under way
            pass
    schedule_nightly_linkage()
    return run_id


def schedule_nightly_linkage() -> bool:
    """Queue the next nightly run unless one is already waiting. True if one was queued."""
    from django_tasks_db.models import DBTaskResult

    waiting = DBTaskResult.objects.filter(status="READY",
                                          task_path=nightly_linkage.module_path).exists()
    if waiting:
        return False
    nightly_linkage.using(run_after=next_night()).enqueue()
    return True
