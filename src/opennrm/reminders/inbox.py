"""A user's list: one entry per thing to do or to know, the nearest deadline first.

An open deadline (`deadlines.deadlines_for`) is one entry, whether or not the sweep has told
the user of it yet: the notification that did is attached to it (unread, it marks the entry
new) rather than listed a second time. The user's other open, unread notifications (a
referral sent to their agency, an answer to one they sent) follow, the newest first; several
about the same page (a referral accepted, then completed) are one entry, the newest, which
says where the thing stands (`services.mark_read` reads them together). The home page, the
notification list and the daily digest all read `inbox_for`, so they never differ.
"""

from dataclasses import dataclass, field
from datetime import date
from itertools import groupby

from django.db.models import Q
from django.urls import reverse

from opennrm.reminders.deadlines import Deadline, deadlines_for
from opennrm.reminders.models import Notification
from opennrm.reminders.services import current_notifications


@dataclass
class Entry:
    """One thing on a user's list. `notification` is what told the user of it (if anything
    did): while it is unread the entry is new, and opening the entry through `url` marks it
    read. `assignees` name who answers for a team member's deadline (empty when the user
    does)."""

    kind: str
    case_number: str
    text: str
    link: str
    due_on: date | None = None
    overdue: bool = False
    notification: Notification | None = None
    assignees: tuple[str, ...] = ()

    @property
    def unread(self) -> bool:
        return self.notification is not None and self.notification.read_at is None

    @property
    def url(self) -> str:
        """Where opening the entry goes: through its notification (marking it read), or
        straight to the thing."""
        if self.notification is not None:
            return reverse("notification-open", args=[self.notification.pk])
        return self.link

    def attach(self, notification: Notification) -> None:
        """Another notification of the same thing: the entry is new while any is unread."""
        if self.notification is None or (notification.read_at is None
                                          and self.notification.read_at is not None):
            self.notification = notification


@dataclass
class Inbox:
    """What `inbox_for` found: the deadlines, the nearest first, then the other unread
    notifications, the newest first."""

    deadlines: list[Entry] = field(default_factory=list)
    news: list[Entry] = field(default_factory=list)

    @property
    def entries(self) -> list[Entry]:
        return [*self.deadlines, *self.news]

    @property
    def unread_count(self) -> int:
        return sum(entry.unread for entry in self.entries)


def inbox_for(user, today: date) -> Inbox:
    """`user`'s list on `today`: their open deadlines (their team's too, for a supervisor),
    each once with the notification that told them of it, then their unread news."""
    if not (user.is_authenticated and user.agency_id):
        return Inbox()
    # Read news is done with; a deadline's notification counts until the deadline is met.
    told = list(current_notifications(user).filter(
        Q(due_on__isnull=False) | Q(read_at__isnull=True)))
    by_key = {notification.key: notification for notification in told}
    inbox = Inbox(deadlines=[_deadline_entry(deadline, user, by_key.get(deadline.key))
                             for deadline in deadlines_for(user, today)])
    # A deadline's notification whose deadline is no longer open is done: the next sweep
    # clears it; until then it is not listed.
    news: dict[str, Entry] = {}
    for notification in told:
        if notification.due_on is None:
            news.setdefault(notification.link or f"#{notification.pk}", _entry(notification))
    inbox.news = list(news.values())
    return inbox


def _deadline_entry(deadline: Deadline, user, notification: Notification | None) -> Entry:
    assignees = () if user in deadline.responsible else tuple(
        person.username for person in deadline.responsible if person.agency_id == user.agency_id)
    return Entry(deadline.kind, deadline.case_number, deadline.text(), deadline.link,
                 deadline.due_on, deadline.overdue, notification, assignees)


def _entry(notification: Notification) -> Entry:
    return Entry(notification.kind, notification.case_number, notification.text(),
                 notification.link, notification.due_on, notification=notification)


def by_case(entries: list[Entry]) -> list[tuple[str, list[Entry]]]:
    """`entries` grouped by case, in the order of each case's first entry (so the case with
    the nearest deadline comes first when `entries` are in that order)."""
    order: dict[str, int] = {}
    for entry in entries:
        order.setdefault(entry.case_number, len(order))
    ordered = sorted(entries, key=lambda entry: order[entry.case_number])
    return [(case_number, list(group))
            for case_number, group in groupby(ordered, key=lambda entry: entry.case_number)]
