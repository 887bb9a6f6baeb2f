"""What needs a user today: the lists on the home page.

Each list is a plain query over the cases the user may see (`access.cases_visible_to`), with a
link to the same selection in the case list (whose filters, in `cases.listing`, these lists
share). Later capabilities add their own lists beside these.
"""

from dataclasses import dataclass
from datetime import timedelta

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


def _worklist(key, title, explanation, cases: QuerySet[Case], filters: dict) -> Worklist:
    cases = cases.order_by("-registered_at", "-id")
    total = cases.count()
    shown = list(cases.select_related("owner_agency")[:ITEMS_SHOWN]) if total else []
    return Worklist(key, title, explanation, shown, total,
                    f"{reverse('case-list')}?{urlencode(filters)}")


def worklists_for(user) -> list[Worklist]:
    """The home page lists for `user`; empty for roles that see no cases."""
    if not access.can_register_cases(user):
        return []
    mine = open_cases(user).filter(assigned_to=user)
    since = timezone.now() - timedelta(days=NEW_CASE_DAYS)
    lists = [
        _worklist("new", _("New cases assigned to you"),
                  _("Open cases assigned to you and registered in the last %(days)d days.")
                  % {"days": NEW_CASE_DAYS},
                  mine.filter(registered_at__gte=since),
                  {"assigned": "me", "status": "open", "registered": "recent"}),
        _worklist("consent", _("Consent missing"),
                  _("Open cases assigned to you where the person has no consent in force: "
                    "nothing may be shared and no referral made until they give it."),
                  without_active_consent(mine),
                  {"assigned": "me", "status": "open", "consent": "missing"}),
    ]
    if user.role in AGENCY_WIDE_ROLES:
        lists.append(_worklist(
            "unassigned", _("Cases without a caseworker"),
            _("Open cases of your agency that nobody is assigned to."),
            open_cases(user).filter(assigned_to__isnull=True),
            {"assigned": "nobody", "status": "open"}))
    return lists
