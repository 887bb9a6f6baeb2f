"""Open deadlines: what is due, for which case, and who is responsible for it.

The sweep (`services.reminder_sweep`) notifies the responsible people; the home page lists
the deadlines of the signed-in user, and a supervisor's (or coordinator's) also those of
their team, the people of their agency. Both read `open_deadlines`, so what a person is
e-mailed and what their home page shows never differ. A deadline the sources no longer
yield is met: the sweep clears its notifications.

Reminders sits below the apps whose deadlines it reminds of and never imports them: each
registers its rules (a source of `Deadline`s) here in its `AppConfig.ready`
(`referrals/deadlines.py`, `protection/deadlines.py`), and uses `Responsible`,
`case_scope` and `case_link` to build them.
"""

from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date

from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext

from opennrm.accounts.models import Role, User
from opennrm.cases.models import CaseStatus
from opennrm.core.dates import with_local_dates

OPEN_CASE = (CaseStatus.ACTIVE, CaseStatus.FOLLOW_UP)
# Encrypted fields never needed for a deadline: not loaded, so never decrypted.
ENCRYPTED_CASE_FIELDS = ("case__notes",)
# Who answers for an agency when no caseworker is assigned.
AGENCY_RESPONSIBLE_ROLES = (Role.SUPERVISOR, Role.NATIONAL_COORDINATOR)


@dataclass
class Deadline:
    kind: str
    key: str
    case_number: str
    due_on: date
    message: str  # English, marked with gettext_noop; %(name)s filled from params
    params: dict
    link: str
    responsible: list = field(default_factory=list)
    overdue: bool = False

    def text(self) -> str:
        """The message in the active language."""
        return gettext(self.message) % with_local_dates(self.params)


class Responsible:
    """Who answers for a case or an agency, loaded once per sweep."""

    def __init__(self):
        self._by_agency: dict[int, list[User]] | None = None

    def of_agency(self, agency_id: int) -> list[User]:
        if self._by_agency is None:
            self._by_agency = defaultdict(list)
            for user in User.objects.filter(is_active=True, role__in=AGENCY_RESPONSIBLE_ROLES,
                                            agency__isnull=False):
                self._by_agency[user.agency_id].append(user)
        return self._by_agency.get(agency_id, [])

    def of_case(self, case) -> list[User]:
        if case.assigned_to_id and case.assigned_to.is_active:
            return [case.assigned_to]
        return self.of_agency(case.owner_agency_id)


def case_scope(user, prefix: str) -> Q:
    """The cases whose deadlines may concern `user`, narrowed in SQL: those assigned to
    them, or every case of their agency for those who answer for it (a supervisor sees their
    team's deadlines, and answers for the cases nobody active is assigned to)."""
    mine = Q(**{f"{prefix}owner_agency_id": user.agency_id})
    if oversees_team(user):
        return mine
    return mine & Q(**{f"{prefix}assigned_to": user})


def oversees_team(user) -> bool:
    """A supervisor or coordinator sees the deadlines of everyone in their agency."""
    return user.role in AGENCY_RESPONSIBLE_ROLES and user.agency_id is not None


def concerns(deadline: "Deadline", user) -> bool:
    """`user` answers for `deadline`, or oversees someone of their agency who does."""
    if user in deadline.responsible:
        return True
    return oversees_team(user) and any(person.agency_id == user.agency_id
                                       for person in deadline.responsible)


def case_link(case_number: str, anchor: str) -> str:
    return reverse("case-detail", args=[case_number]) + anchor


# (today, user or None, responsible) -> the open deadlines of one rule; with a user, the
# source may narrow its query to what can concern them (`open_deadlines` checks anyway).
DeadlineSource = Callable[[date, object, Responsible], Iterator[Deadline]]

_sources: dict[str, tuple[int, DeadlineSource]] = {}


def register_deadline_source(name: str, source: DeadlineSource, order: int) -> None:
    """Add (or replace, for a repeated `name`) a rule of reminders; sources are read in
    `order`."""
    _sources[name] = (order, source)


def deadline_sources() -> list[DeadlineSource]:
    return [source for _order, source in sorted(_sources.values(), key=lambda item: item[0])]


def open_deadlines(today: date, user=None) -> Iterator[Deadline]:
    """Every open deadline on `today`; with `user`, only those that concern `user` (see
    `concerns`)."""
    responsible = Responsible()
    for source in deadline_sources():
        for deadline in source(today, user, responsible):
            deadline.overdue = deadline.due_on < today
            if user is None or concerns(deadline, user):
                yield deadline


def deadlines_for(user, today: date) -> list[Deadline]:
    """The home page list: `user`'s open deadlines (and their team's, for a supervisor),
    the nearest (or most overdue) first."""
    if not (user.is_authenticated and user.agency_id):
        return []
    return sorted(open_deadlines(today, user), key=nearest_first)


def nearest_first(deadline: Deadline) -> tuple:
    return deadline.due_on, deadline.case_number, deadline.key
