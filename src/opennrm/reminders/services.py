"""Telling people what needs them: notifications on the home page and by e-mail.

`notify` is the one way any app tells a user something. It stores one notification per user
and key (so an event or a sweep that runs twice tells nobody twice) and, after the
transaction commits, sends `emails_pending`, which `tasks` answers by queueing the e-mail job
for the background worker (tasks import this module, never the other way round). Users who
chose the daily digest (`digest.py`) get that instead of an e-mail per notification.

What a notification asks for ends in one of two ways, and the notification leaves every list
with it: `clear_notifications`, called by the app where the thing is done (a referral
answered), or the sweep, for deadlines the registered rules no longer yield (a deadline met).
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q, QuerySet
from django.dispatch import Signal
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from opennrm.reminders.deadlines import open_deadlines
from opennrm.reminders.models import Notification, NotificationPreference

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
    # Set by the sweep only: the deadline's date, which the sweep also clears it by.
    due_on: date | None = None


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
                due_on=message.due_on, email_pending=bool(user.email))
    if not wanted:
        return 0
    digest_users = set(NotificationPreference.objects.filter(
        daily_digest=True, user_id__in={user_id for user_id, _key in wanted})
        .values_list("user_id", flat=True))
    for (user_id, _key), notification in wanted.items():
        if user_id in digest_users:
            notification.email_pending = False
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


def current_notifications(user) -> QuerySet[Notification]:
    """`user`'s notifications of things not yet done, the newest first."""
    return Notification.objects.filter(user=user, cleared_at__isnull=True)


def unread_notifications(user) -> QuerySet[Notification]:
    """`user`'s open notifications not yet marked read, the newest first."""
    return current_notifications(user).filter(read_at__isnull=True)


def mark_all_read(user) -> int:
    """Mark every unread notification of `user` read; return how many."""
    return unread_notifications(user).update(read_at=timezone.now())


def mark_read(user, notification_id: int) -> bool:
    """Mark one of `user`'s notifications read, and with news their other unread news of the
    same page (one entry on their list, see `inbox`); False if it is not theirs or already
    read."""
    notification = Notification.objects.filter(pk=notification_id, user=user).first()
    if notification is None:
        return False
    same = Q(pk=notification.pk)
    if notification.due_on is None and notification.link:
        same |= Q(due_on__isnull=True, link=notification.link)
    return bool(unread_notifications(user).filter(same).update(read_at=timezone.now()))


def open_notification(user, notification_id: int) -> Notification:
    """`user` opens one of their notifications: it is marked read and returned, to follow its
    link. Another user's is `Notification.DoesNotExist`."""
    notification = Notification.objects.get(pk=notification_id, user=user)
    mark_read(user, notification.pk)
    return notification


def clear_notifications(*keys: str) -> int:
    """The things the notifications of `keys` asked for are done (a referral answered): they
    leave every user's list, read or not (they stay stored). Return how many."""
    return Notification.objects.filter(key__in=keys, cleared_at__isnull=True) \
        .update(cleared_at=timezone.now())


def clear_met_deadlines(still_open: set[tuple[int, str]]) -> int:
    """Clear the notifications of deadlines that are no longer open for their user: met,
    moved to a new date, or now someone else's. `still_open` holds (user id, key) pairs of
    the deadlines open now. Return how many were cleared."""
    told = Notification.objects.filter(due_on__isnull=False, cleared_at__isnull=True)
    met = [pk for pk, user_id, key in told.values_list("pk", "user_id", "key").iterator()
           if (user_id, key) not in still_open]
    now = timezone.now()
    for start in range(0, len(met), KEYS_PER_QUERY):
        Notification.objects.filter(pk__in=met[start:start + KEYS_PER_QUERY]) \
            .update(cleared_at=now)
    return len(met)


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
    """Notify the responsible people of every open deadline, and clear the notifications of
    deadlines met since; return new notifications.

    Safe to run as often as wanted: each deadline notifies each person once (per due date:
    an extended reflection period or a renewed permit is a new deadline).
    """
    today = today or timezone.localdate()
    with transaction.atomic():
        due = list(open_deadlines(today))
        created = tell(Message(deadline.kind, deadline.key, deadline.message,
                               tuple(deadline.responsible), deadline.params,
                               deadline.case_number, deadline.link, deadline.due_on)
                       for deadline in due)
        clear_met_deadlines({(person.pk, deadline.key) for deadline in due
                             for person in deadline.responsible if person is not None})
    return created
