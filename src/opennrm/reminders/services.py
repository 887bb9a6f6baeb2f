"""Telling people what needs them: notifications on the home page and by e-mail.

`notify` is the one way any app tells a user something. It stores one notification per user
and key (so an event or a sweep that runs twice tells nobody twice) and, after the
transaction commits, queues the e-mail for the background worker.
"""

from collections.abc import Iterable
from datetime import date

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from opennrm.reminders.models import Notification


def notify(recipients: Iterable, kind: str, message: str, *, key: str, case_number: str = "",
           link: str = "", params: dict | None = None) -> int:
    """Tell each of `recipients` (users) `message` once per `key`; return how many were new.

    `message` is English text, marked for translation with `gettext_noop` where it is written,
    with %(name)s placeholders filled from `params` when shown. Never put a person's name or
    other personal data in it: e-mail leaves the node. Name the case by its number.
    """
    users = {user.pk: user for user in recipients if user is not None and user.is_active}
    if not users:
        return 0
    already = set(Notification.objects.filter(key=key, user_id__in=users)
                  .values_list("user_id", flat=True))
    new = [Notification(user_id=user_id, kind=kind, key=key, message=message,
                        params=params or {}, case_number=case_number, link=link)
           for user_id in users if user_id not in already]
    # ignore_conflicts: a concurrent sweep that stored the same notification first wins.
    Notification.objects.bulk_create(new, ignore_conflicts=True)
    if new:
        transaction.on_commit(_queue_emails)
    return len(new)


def _queue_emails() -> None:
    from opennrm.reminders.tasks import send_notification_emails

    send_notification_emails.enqueue()


def notifications_for(user, *, unread_only: bool = True, limit: int = 20) -> list[Notification]:
    notifications = Notification.objects.filter(user=user)
    if unread_only:
        notifications = notifications.filter(read_at__isnull=True)
    return list(notifications[:limit])


def mark_read(user, notification_id: int) -> bool:
    """Mark one of `user`'s notifications read; False if it is not theirs or already read."""
    return bool(Notification.objects.filter(pk=notification_id, user=user, read_at__isnull=True)
                .update(read_at=timezone.now()))


def send_pending_emails(limit: int = 500) -> int:
    """E-mail notifications not yet e-mailed; each at most once, even with two workers.

    A notification is claimed by setting `emailed_at` where it is still empty: only the
    worker whose update changed the row sends it. Users without an address are skipped
    (their notifications stay on the home page).
    """
    sent = 0
    pending = (Notification.objects.filter(emailed_at__isnull=True)
               .exclude(user__email="").select_related("user").order_by("id")[:limit])
    for notification in pending:
        claimed = Notification.objects.filter(pk=notification.pk, emailed_at__isnull=True) \
            .update(emailed_at=timezone.now())
        if not claimed:
            continue
        try:
            _send(notification)
        except OSError:
            # The mail server is down: release the claim so a later run tries again.
            Notification.objects.filter(pk=notification.pk).update(emailed_at=None)
            raise
        sent += 1
    return sent


def _send(notification: Notification) -> None:
    with translation.override(settings.LANGUAGE_CODE):
        text = notification.text()
        body = text
        if notification.link:
            body += "\n\n" + settings.OPENNRM_BASE_URL.rstrip("/") + notification.link
        body += "\n\n" + _("This message names no person on purpose. Sign in to OpenNRM to "
                           "see the case.")
        send_mail(f"[OpenNRM] {text[:120]}", body, None, [notification.user.email])


def reminder_sweep(today: date | None = None) -> int:
    """Notify the responsible people of every open deadline; return new notifications.

    Safe to run as often as wanted: each deadline notifies each person once (per due date:
    an extended reflection period or a renewed permit is a new deadline).
    """
    from opennrm.reminders.deadlines import open_deadlines

    today = today or timezone.localdate()
    created = 0
    with transaction.atomic():
        for deadline in open_deadlines(today):
            created += notify(deadline.responsible, deadline.kind, deadline.message,
                              key=deadline.key, case_number=deadline.case_number,
                              link=deadline.link, params=deadline.params)
    return created
