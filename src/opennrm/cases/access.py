"""Who may see and change which case. Every view, API route, export and CLI command that
touches a case goes through these functions; nothing else filters cases by agency.

Deny by default: a case is visible only to staff of its owning agency who hold a
case-handling role. A referral to another agency does not widen `cases_visible_to`: the
receiving agency sees the referral, and through it only the fields it shares, while it is
open and its consent is in force (`opennrm.referrals.access`). Where a higher app opens a
case of another agency for one purpose (formal identification by referral, linking one's own
record of the person), it registers a grant here (the end of this module): cases imports no
higher app.
"""

from collections.abc import Callable
from typing import TYPE_CHECKING

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from opennrm.cases.models import Case, CaseTransfer, TransferState
from opennrm.core.access import belongs_to_agency, has_agency, has_role
from opennrm.core.roles import Role

if TYPE_CHECKING:
    from opennrm.accounts.models import User

CASE_HANDLING_ROLES = frozenset(
    {Role.CASEWORKER, Role.SUPERVISOR, Role.NATIONAL_COORDINATOR}
)
# Roles that see names, birth dates, documents and contacts of the cases they may see.
IDENTITY_ROLES = CASE_HANDLING_ROLES


class CaseNotFound(Exception):
    """The case does not exist or the user may not know that it exists (both look alike)."""


class CaseAccessDenied(Exception):
    """The user may see the case but not do this to it."""


def handles_cases(user: "User | None") -> bool:
    """An active caseworker, supervisor or national coordinator of an agency."""
    return has_role(user, *CASE_HANDLING_ROLES) and has_agency(user)


def cases_visible_to(user: "User | None") -> QuerySet[Case]:
    """The one filter for cases: every case `user` may see, and no other."""
    if not handles_cases(user):
        return Case.objects.none()
    return Case.objects.filter(owner_agency_id=user.agency_id)


def get_visible_case(user: "User | None", case_number: str) -> Case:
    """The case with this number if `user` may see it; CaseNotFound otherwise."""
    if "\x00" in case_number:  # PostgreSQL rejects NUL in text; no case has one
        raise CaseNotFound(case_number)
    case = cases_visible_to(user).select_related("person", "owner_agency", "assigned_to").filter(
        case_number=case_number
    ).first()
    if case is None:
        raise CaseNotFound(case_number)
    return case


def can_see_identity(user: "User | None") -> bool:
    return has_role(user, *IDENTITY_ROLES)


def can_edit_case(user: "User | None", case: Case) -> bool:
    return has_role(user, *CASE_HANDLING_ROLES) and belongs_to_agency(user, case.owner_agency_id)


def ensure_visible(user: "User | None", case: Case) -> None:
    """CaseNotFound unless `user` may see `case` (a case loaded earlier, checked again)."""
    # Whoever may edit a case may see it: the owning agency's caseworkers need no query.
    if can_edit_case(user, case):
        return
    if not cases_visible_to(user).filter(pk=case.pk).exists():
        raise CaseNotFound(case.case_number)


def ensure_can_edit(user: "User | None", case: Case) -> None:
    ensure_visible(user, case)
    if not can_edit_case(user, case):
        raise CaseAccessDenied(_("You may read this case but not change it."))


def can_register_cases(user: "User | None") -> bool:
    return handles_cases(user)


def can_register_for_other_agencies(user: "User | None") -> bool:
    """The national coordinator (NRM focal point) assigns incoming cases to local agencies."""
    return handles_cases(user) and has_role(user, Role.NATIONAL_COORDINATOR)


def ensure_can_change_same_person_links(user: "User | None", case: Case) -> None:
    """The national coordinator may link any case it can see, or one a registered grant
    opens to it (a pair of possible duplicates waiting for its review); others must be
    allowed to edit the case. CaseNotFound if the user cannot see it, CaseAccessDenied if
    only read it."""
    if has_role(user, Role.NATIONAL_COORDINATOR):
        get_case_for_same_person_link(user, case.case_number)
    else:
        ensure_can_edit(user, case)


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


def can_decide_identification(user: "User | None", case: Case | None = None) -> bool:
    """The formal identification decision has its own permission: a configured role in a
    configured type of agency, and (for a given case) the right to see that case."""
    if not has_agency(user):
        return False
    allowed = any(user.role == role and agency_type in ("*", user.agency.agency_type)
                  for role, agency_type in identification_deciders())
    return allowed and (case is None or case.owner_agency_id == user.agency_id
                        or referred_for_identification(user, case))


# --- cases opened to another agency by a higher app -----------------------------------------
# The grants are registered in the higher app's AppConfig.ready (as apps register their models
# with Django's admin); referrals registers both (see `opennrm.referrals.access`).

# `grant(user)`: the ids of other agencies' cases (a query with one column, "case_id") on
# which `user` may decide formal identification.
IdentificationGrant = Callable[["User"], QuerySet]
# `grant(user, case_number)`: another agency's case with this number to which `user` may link
# a record of their own agency as "the same person", or None.
SamePersonLinkGrant = Callable[["User", str], Case | None]
# `grant(user)`: the ids of all such cases (a query with one column, "case_id"): the person
# search offers them as candidates for a same-person link.
SamePersonCandidatesGrant = Callable[["User"], QuerySet]

_identification_grants: list[IdentificationGrant] = []
_same_person_link_grants: list[SamePersonLinkGrant] = []
_same_person_candidates_grants: list[SamePersonCandidatesGrant] = []


def register_identification_grant(grant: IdentificationGrant) -> None:
    if grant not in _identification_grants:
        _identification_grants.append(grant)


def register_same_person_link_grant(grant: SamePersonLinkGrant) -> None:
    if grant not in _same_person_link_grants:
        _same_person_link_grants.append(grant)


def register_same_person_candidates_grant(grant: SamePersonCandidatesGrant) -> None:
    if grant not in _same_person_candidates_grants:
        _same_person_candidates_grants.append(grant)


def referred_for_identification(user: "User | None", case: Case) -> bool:
    """`case` was referred to `user`'s agency for formal identification (a registered grant
    says when that opens it: `opennrm.referrals.access`)."""
    if not handles_cases(user):
        return False
    return any(grant(user).filter(case_id=case.pk).exists() for grant in _identification_grants)


def cases_for_identification(user: "User | None") -> QuerySet[Case]:
    """The cases `user` may decide formal identification on: their agency's own cases and
    those referred to it for identification."""
    if not can_decide_identification(user):
        return Case.objects.none()
    visible = Q(owner_agency_id=user.agency_id)
    for grant in _identification_grants:
        visible |= Q(pk__in=grant(user))
    return Case.objects.filter(visible)


def get_case_for_identification(user: "User | None", case_number: str) -> Case:
    """The case with this number if `user` may see it or decide on it; CaseNotFound
    otherwise (whether `user` may decide is `can_decide_identification`)."""
    try:
        return get_visible_case(user, case_number)
    except CaseNotFound:
        if "\x00" in case_number:  # PostgreSQL rejects NUL in text; no case has one
            raise
        case = cases_for_identification(user).select_related("person", "owner_agency").filter(
            case_number=case_number).first()
    if case is None:
        raise CaseNotFound(case_number)
    return case


def get_case_for_same_person_link(user: "User | None", case_number: str) -> Case:
    """The other case of a "same person as" link: one `user` may see, or one another agency
    opened to `user` for it (a registered grant: a referral whose shared fields `user` may
    see now). CaseNotFound otherwise."""
    try:
        return get_visible_case(user, case_number)
    except CaseNotFound:
        if "\x00" in case_number:  # PostgreSQL rejects NUL in text; no case has one
            raise
    for grant in _same_person_link_grants:
        case = grant(user, case_number)
        if case is not None:
            return case
    raise CaseNotFound(case_number)


def cases_open_for_same_person_link(user: "User | None") -> QuerySet[Case]:
    """Other agencies' cases that `user` may link a case of their own to as "the same
    person" (each also answered by `get_case_for_same_person_link`); none without a
    registered grant. The person search shows them without their identity."""
    if not handles_cases(user) or not _same_person_candidates_grants:
        return Case.objects.none()
    opened = Q()
    for grant in _same_person_candidates_grants:
        opened |= Q(pk__in=grant(user))
    return Case.objects.filter(opened).exclude(owner_agency_id=user.agency_id)


# --- assignment and transfer -----------------------------------------------------------------
# The owning agency's supervisor (or national coordinator, who supervises its own agency's
# cases) assigns caseworkers and hands a case to another agency; the receiving agency's
# supervisor answers. See `cases.assignment` and `cases.transfer`.

SUPERVISING_ROLES = frozenset({Role.SUPERVISOR, Role.NATIONAL_COORDINATOR})


def supervises_agency(user: "User | None", agency_id: int) -> bool:
    """A supervisor (or national coordinator) of the agency `agency_id`."""
    return has_role(user, *SUPERVISING_ROLES) and belongs_to_agency(user, agency_id)


def can_assign_cases(user: "User | None", case: Case | None = None) -> bool:
    """Supervisors assign their agency's cases (`case`: this one, which their agency owns)."""
    if case is None:
        return has_role(user, *SUPERVISING_ROLES) and has_agency(user)
    return supervises_agency(user, case.owner_agency_id)


def ensure_can_assign(user: "User | None", case: Case) -> None:
    """CaseNotFound unless `user` sees `case`; CaseAccessDenied unless they may assign it."""
    ensure_visible(user, case)
    if not can_assign_cases(user, case):
        raise CaseAccessDenied(_("Only a supervisor of the owning agency assigns its cases."))


def can_be_assigned(user: "User | None", case: Case) -> bool:
    """Whoever handles cases at the owning agency may be the case's caseworker."""
    return handles_cases(user) and belongs_to_agency(user, case.owner_agency_id)


def ensure_can_transfer(user: "User | None", case: Case) -> None:
    """Only the owning agency's supervisor hands a case to another agency."""
    ensure_visible(user, case)
    if not supervises_agency(user, case.owner_agency_id):
        raise CaseAccessDenied(_("Only a supervisor of the owning agency transfers a case."))


def transfers_to_answer(user: "User | None") -> QuerySet[CaseTransfer]:
    """The transfers waiting for an answer from `user`'s agency, if `user` supervises it."""
    if not (has_role(user, *SUPERVISING_ROLES) and has_agency(user)):
        return CaseTransfer.objects.none()
    return CaseTransfer.objects.filter(to_agency_id=user.agency_id,
                                       state=TransferState.REQUESTED)


def transfers_visible_to(user: "User | None") -> QuerySet[CaseTransfer]:
    """The transfers `user`'s agency sent or received (case handlers only): the former owner
    keeps these rows, and no more, of a case it handed on."""
    if not handles_cases(user):
        return CaseTransfer.objects.none()
    return CaseTransfer.objects.filter(Q(from_agency_id=user.agency_id)
                                       | Q(to_agency_id=user.agency_id))
