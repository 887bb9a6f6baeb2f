"""Telling people what needs them: notifications on the home page and by e-mail.

`notify` is the one way any app tells a user something. It stores one notification per user
and key (so an event or a sweep that runs twice tells nobody twice) and, after the
transaction commits, sends `emails_pending`, which `tasks` answers by queueing the e-mail job
for the background worker (tasks import this module, never the other way round).
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import QuerySet
from django.dispatch import Signal
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from opennrm.reminders.deadlines import open_deadlines
from opennrm.reminders.models import Notification

# Keys looked up per query when checking which notifications exist already.
KEYS_PER_QUERY = 500
# Sent after a transaction that stored notifications to e-mail has committed.
emails_pending = Signal()


@dataclass(frozen=True)
class Message:
    """One thing to tell some users: `text` is English, marked with `gettext_noop` where it
    is written, with %(name)s placeholders filled from `params` when shown."""

    kind: str
    key: str
    text: str
    recipients: tuple
    params: dict = field(default_factory=dict)
    case_number: str = ""
    link: str = ""


def notify(recipients: Iterable, kind: str, message: str, *, key: str, case_number: str = "",
           link: str = "", params: dict | None = None) -> int:
    """Tell each of `recipients` (users) `message` once per `key`; return how many were new.

    `message` is English text, marked for translation with `gettext_noop` where it is written,
    with %(name)s placeholders filled from `params` when shown. Never put a person's name or
    other personal data in it: e-mail leaves the node. Name the case by its number.
    """
    return tell([Message(kind, key, message, tuple(recipients), params or {}, case_number,
                         link)])


def tell(messages: Iterable[Message]) -> int:
    """Store many messages at once (a sweep): each user hears each key once; one e-mail job
    is queued for the lot after the transaction commits. Returns how many were new."""
    wanted: dict[tuple[int, str], Notification] = {}
    for message in messages:
        for user in message.recipients:
            if user is None or not user.is_active or (user.pk, message.key) in wanted:
                continue
            wanted[user.pk, message.key] = Notification(
                user_id=user.pk, kind=message.kind, key=message.key, message=message.text,
                params=message.params, case_number=message.case_number, link=message.link,
                email_pending=bool(user.email))
    if not wanted:
        return 0
    keys = sorted({key for _user, key in wanted})
    for start in range(0, len(keys), KEYS_PER_QUERY):
        for known in Notification.objects.filter(key__in=keys[start:start + KEYS_PER_QUERY]) \
                .values_list("user_id", "key"):
            wanted.pop(known, None)
    new = list(wanted.values())
    # ignore_conflicts: a concurrent sweep that stored the same notification first wins.
    Notification.objects.bulk_create(new, batch_size=1000, ignore_conflicts=True)
    if any(notification.email_pending for notification in new):
        transaction.on_commit(lambda: emails_pending.send(sender=Notification))
    return len(new)


def unread_notifications(user) -> QuerySet[Notification]:
    """`user`'s notifications not yet marked read, the newest first."""
    return Notification.objects.filter(user=user, read_at__isnull=True)


def mark_all_read(user) -> int:
    """Mark every unread notification of `user` read; return how many."""
    return unread_notifications(user).update(read_at=timezone.now())


def mark_read(user, notification_id: int) -> bool:
    """Mark one of `user`'s notifications read; False if it is not theirs or already read."""
    return bool(Notification.objects.filter(pk=notification_id, user=user, read_at__isnull=True)
                .update(read_at=timezone.now()))


def send_pending_emails(limit: int = 500) -> int:
    """E-mail notifications not yet e-mailed; each at most once, even with two workers.

    A notification is claimed by clearing `email_pending` where it is still set: only the
    worker whose update changed the row sends it. Notifications of users without an address
    were never pending (they stay on the home page).
    """
    sent = 0
    pending = (Notification.objects.filter(email_pending=True).select_related("user")
               .order_by("id")[:limit])
    for notification in pending:
        claimed = Notification.objects.filter(pk=notification.pk, email_pending=True) \
            .update(email_pending=False, emailed_at=timezone.now())
        if not claimed:
            continue
        try:
            _send(notification)
        except OSError:
            # The mail server is down: release the claim so a later run tries again.
            Notification.objects.filter(pk=notification.pk).update(email_pending=True,
                                                                   emailed_at=None)
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
    today = today or timezone.localdate()
    with transaction.atomic():
        return tell(Message(deadline.kind, deadline.key, deadline.message,
                            tuple(deadline.responsible), deadline.params,
                            deadline.case_number, deadline.link)
                    for deadline in open_deadlines(today))
