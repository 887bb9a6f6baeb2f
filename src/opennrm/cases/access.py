"""Who may see and change which case. Every view, API route, export and CLI command that
touches a case goes through these functions; nothing else filters cases by agency.

Deny by default: a case is visible only to staff of its owning agency who hold a
case-handling role. (Referral to another agency will extend `cases_visible_to` here.)
"""

from django.conf import settings
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from opennrm.accounts.models import Role
from opennrm.cases.models import Case

CASE_HANDLING_ROLES = frozenset(
    {Role.CASEWORKER, Role.SUPERVISOR, Role.NATIONAL_COORDINATOR}
)
# Roles that see names, birth dates, documents and contacts of the cases they may see.
IDENTITY_ROLES = CASE_HANDLING_ROLES


class CaseNotFound(Exception):
    """The case does not exist or the user may not know that it exists (both look alike)."""


class CaseAccessDenied(Exception):
    """The user may see the case but not do this to it."""


def cases_visible_to(user) -> QuerySet[Case]:
    """The one filter for cases: every case `user` may see, and no other."""
    if not (user and user.is_authenticated and user.is_active):
        return Case.objects.none()
    if user.role not in CASE_HANDLING_ROLES or user.agency_id is None:
        return Case.objects.none()
    return Case.objects.filter(owner_agency_id=user.agency_id)


def get_visible_case(user, case_number: str) -> Case:
    """The case with this number if `user` may see it; CaseNotFound otherwise."""
    if "\x00" in case_number:  # PostgreSQL rejects NUL in text; no case has one
        raise CaseNotFound(case_number)
    case = cases_visible_to(user).select_related("person", "owner_agency").filter(
        case_number=case_number
    ).first()
    if case is None:
        raise CaseNotFound(case_number)
    return case


def can_see_identity(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active
                and user.role in IDENTITY_ROLES)


def can_edit_case(user, case: Case) -> bool:
    return (
        user.is_authenticated
        and user.is_active
        and user.role in CASE_HANDLING_ROLES
        and case.owner_agency_id == user.agency_id
    )


def ensure_can_edit(user, case: Case) -> None:
    if not cases_visible_to(user).filter(pk=case.pk).exists():
        raise CaseNotFound(case.case_number)
    if not can_edit_case(user, case):
        raise CaseAccessDenied(_("You may read this case but not change it."))


def can_register_cases(user) -> bool:
    return (
        user.is_authenticated and user.is_active and user.role in CASE_HANDLING_ROLES
        and user.agency_id is not None
    )


def identification_deciders() -> list[tuple[str, str]]:
    """(role, agency type) pairs allowed to decide formal identification in this country.

    From `settings.OPENNRM_IDENTIFICATION_DECIDERS`, e.g. "national_coordinator:*,
    supervisor:law_enforcement" ("*" = any agency type).
    """
    pairs = []
    for entry in settings.OPENNRM_IDENTIFICATION_DECIDERS:
        role, _sep, agency_type = entry.partition(":")
        pairs.append((role.strip(), agency_type.strip() or "*"))
    return pairs


def can_decide_identification(user, case: Case | None = None) -> bool:
    """The formal identification decision has its own permission: a configured role in a
    configured type of agency, and (for a given case) the right to see that case."""
    if not (user and user.is_authenticated and user.is_active and user.agency_id):
        return False
    allowed = any(user.role == role and agency_type in ("*", user.agency.agency_type)
                  for role, agency_type in identification_deciders())
    return allowed and (case is None or case.owner_agency_id == user.agency_id)
