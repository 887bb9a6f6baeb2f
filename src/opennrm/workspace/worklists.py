"""What needs a user today: the lists on the home page.

Each list is a plain query over the cases the user may see (`access.cases_visible_to`), with a
link to the same selection in the case list (whose filters, in `cases.listing`, these lists
share). The cases with the nearest deadline come first, then the newest. Later capabilities
add their own lists beside these.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from opennrm.accounts.models import Role
from opennrm.cases import access
from opennrm.cases.listing import NEW_CASE_DAYS, OPEN_STATUSES, without_active_consent
from opennrm.cases.models import Case

ITEMS_SHOWN = 8
AGENCY_WIDE_ROLES = {Role.SUPERVISOR, Role.NATIONAL_COORDINATOR}


@dataclass
class Worklist:
    key: str
    title: str
    explanation: str
    cases: list[Case]
    total: int
    list_url: str


def open_cases(user) -> QuerySet[Case]:
    return access.cases_visible_to(user).filter(status__in=OPEN_STATUSES)


def _worklist(key, title, explanation, cases: QuerySet[Case], filters: dict,
              nearest: dict[str, date]) -> Worklist:
    cases = cases.order_by("-registered_at", "-id")
    total = cases.count()
    shown = []
    if total:
        cases = cases.select_related("owner_agency")
        # Only the numbers of the cases with a deadline are read to choose the first ones.
        due = sorted(cases.filter(case_number__in=list(nearest))
                     .values_list("case_number", flat=True),
                     key=lambda number: (nearest[number], number))[:ITEMS_SHOWN]
        by_number = {case.case_number: case for case in cases.filter(case_number__in=due)}
        shown = [by_number[number] for number in due]
        if len(shown) < ITEMS_SHOWN:
            shown += list(cases.exclude(case_number__in=list(nearest))
                          [:ITEMS_SHOWN - len(shown)])
    return Worklist(key, title, explanation, shown, total,
                    f"{reverse('case-list')}?{urlencode(filters)}")


def worklists_for(user, nearest: dict[str, date] | None = None) -> list[Worklist]:
    """The home page lists for `user`; empty for roles that see no cases. `nearest` gives
    the date of the nearest deadline of a case, by case number: those cases come first."""
    if not access.can_register_cases(user):
        return []
    nearest = nearest or {}
    mine = open_cases(user).filter(assigned_to=user)
    since = timezone.now() - timedelta(days=NEW_CASE_DAYS)
    lists = [
        _worklist("new", _("New cases assigned to you"),
                  _("Open cases assigned to you and registered in the last %(days)d days.")
                  % {"days": NEW_CASE_DAYS},
                  mine.filter(registered_at__gte=since),
                  {"assigned": "me", "status": "open", "registered": "recent"}, nearest),
        _worklist("consent", _("Consent missing"),
                  _("Open cases assigned to you where the person has no consent in force: "
                    "nothing may be shared and no referral made until they give it."),
                  without_active_consent(mine),
                  {"assigned": "me", "status": "open", "consent": "missing"}, nearest),
    ]
    if user.role in AGENCY_WIDE_ROLES:
        lists.append(_worklist(
            "unassigned", _("Cases without a caseworker"),
            _("Open cases of your agency that nobody is assigned to."),
            open_cases(user).filter(assigned_to__isnull=True),
            {"assigned": "nobody", "status": "open"}, nearest))
    return lists
