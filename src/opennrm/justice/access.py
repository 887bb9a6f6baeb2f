"""Who may see and record what of the criminal-justice side.

Deny by default. A criminal case is seen only by the caseworkers (investigators,
prosecutors) and supervisors of police and prosecution agencies (agency types
`law_enforcement` and `prosecution`), and of those only by the agency in charge of the case
and the agencies it shared the case with. No other agency, no analyst, auditor,
administrator or national coordinator sees an investigation: the analyst sees counts through
the statistics, the victim's caseworker the stage through the protection timeline.

Only the agency in charge shares the case, withdraws a share, or hands the case over.
A case the user may not see answers exactly like one that does not exist (404).
"""

from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from opennrm.core.access import belongs_to_agency, has_agency, has_role
from opennrm.core.roles import Role
from opennrm.justice.models import CriminalCase

if TYPE_CHECKING:
    from opennrm.accounts.models import Agency, User

JUSTICE_AGENCY_TYPES = frozenset({"law_enforcement", "prosecution"})
JUSTICE_ROLES = frozenset({Role.CASEWORKER, Role.SUPERVISOR})


class CriminalCaseNotFound(Exception):
    """The criminal case does not exist or the user may not know that it exists."""


class CriminalCaseAccessDenied(Exception):
    """The user sees the criminal case but may not do this to it."""


def is_justice_agency(agency: "Agency | None") -> bool:
    """A police or prosecution agency: the only kind that holds criminal cases."""
    return agency is not None and agency.agency_type in JUSTICE_AGENCY_TYPES


def works_on_criminal_cases(user: "User | None") -> bool:
    """An active investigator, prosecutor or their supervisor, of a police or prosecution
    agency."""
    return (has_role(user, *JUSTICE_ROLES) and has_agency(user)
            and is_justice_agency(user.agency))


def criminal_cases_visible_to(user: "User | None") -> QuerySet[CriminalCase]:
    """The one filter for criminal cases: those held by the user's agency or shared with it."""
    if not works_on_criminal_cases(user):
        return CriminalCase.objects.none()
    shared = CriminalCase.objects.filter(shares__agency_id=user.agency_id).values("pk")
    return CriminalCase.objects.filter(
        Q(agency_in_charge_id=user.agency_id) | Q(pk__in=shared))


def get_visible_criminal_case(user: "User | None", pk) -> CriminalCase:
    """The criminal case `pk` if `user` may see it; CriminalCaseNotFound otherwise."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise CriminalCaseNotFound(pk) from None
    case = criminal_cases_visible_to(user).select_related("agency_in_charge").filter(
        pk=pk).first()
    if case is None:
        raise CriminalCaseNotFound(pk)
    return case


def ensure_visible(user: "User | None", criminal_case: CriminalCase) -> None:
    if not criminal_cases_visible_to(user).filter(pk=criminal_case.pk).exists():
        raise CriminalCaseNotFound(criminal_case.pk)


def ensure_can_record(user: "User | None", criminal_case: CriminalCase) -> None:
    """Record stages, persons, victims and requests: whoever sees the case."""
    ensure_visible(user, criminal_case)


def is_in_charge(user: "User | None", criminal_case: CriminalCase) -> bool:
    return (works_on_criminal_cases(user)
            and belongs_to_agency(user, criminal_case.agency_in_charge_id))


def ensure_in_charge(user: "User | None", criminal_case: CriminalCase) -> None:
    """Share, withdraw a share, hand over: only the agency in charge."""
    ensure_visible(user, criminal_case)
    if not is_in_charge(user, criminal_case):
        raise CriminalCaseAccessDenied(
            _("Only the agency in charge of the criminal case may do this."))


def ensure_can_open(user: "User | None") -> None:
    """Open a criminal case: an investigator or prosecutor (or their supervisor)."""
    if not works_on_criminal_cases(user):
        raise CriminalCaseAccessDenied(
            _("Only police and prosecution agencies record criminal cases."))
