"""Who may see and change which case. Every view, API route, export and CLI command that
touches a case goes through these functions; nothing else filters cases by agency.

Deny by default: a case is visible only to staff of its owning agency who hold a
case-handling role. A referral to another agency does not widen `cases_visible_to`: the
receiving agency sees the referral, and through it only the fields it shares, while it is
open and its consent is in force (the referral functions at the end).
"""

from django.conf import settings
from django.db.models import Q, QuerySet
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


def ensure_visible(user, case: Case) -> None:
    """CaseNotFound unless `user` may see `case` (a case loaded earlier, checked again)."""
    # Whoever may edit a case may see it: the owning agency's caseworkers need no query.
    if can_edit_case(user, case):
        return
    if not cases_visible_to(user).filter(pk=case.pk).exists():
        raise CaseNotFound(case.case_number)


def ensure_can_edit(user, case: Case) -> None:
    ensure_visible(user, case)
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
    return allowed and (case is None or case.owner_agency_id == user.agency_id
                        or referred_for_identification(user, case))


# --- referrals -----------------------------------------------------------------------------
# Functions of a referral (`opennrm.referrals.models.Referral`), taken as an argument so that
# cases does not import referrals (apps depend downward).

# Who may override a missing referral consent (with a reason, audited).
CONSENT_OVERRIDE_ROLES = frozenset({Role.SUPERVISOR, Role.NATIONAL_COORDINATOR})


def _handles_cases(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active
                and user.role in CASE_HANDLING_ROLES and user.agency_id is not None)


def incoming_referrals(user) -> Q:
    """Referrals addressed to `user`'s agency that `user` may see (as a filter)."""
    if not _handles_cases(user):
        return Q(pk__in=[])
    return Q(recipient_agency_id=user.agency_id)


def outgoing_referrals(user) -> Q:
    """Referrals `user`'s agency sent (as a filter). The referring agency is the case's
    owning agency (`refer_case` sets it so, and cases do not change hands), so this needs no
    join with the case: the inbox lists and counts them straight from an index."""
    if not _handles_cases(user):
        return Q(pk__in=[])
    return Q(referring_agency_id=user.agency_id)


def referrals_visible(user) -> Q:
    """The one filter for referrals: sent by or addressed to `user`'s agency."""
    return incoming_referrals(user) | outgoing_referrals(user)


def is_referral_sender(user, referral) -> bool:
    """`user` works for the agency that sent the referral (the case's owning agency)."""
    return _handles_cases(user) and referral.referring_agency_id == user.agency_id


def is_referral_recipient(user, referral) -> bool:
    return _handles_cases(user) and referral.recipient_agency_id == user.agency_id


def can_see_shared_fields(user, referral) -> bool:
    """The recipient sees the shared fields only while the referral is open and the consent
    it rests on is in force: withdrawing that consent ends the access at once."""
    if not is_referral_recipient(user, referral) or not referral.is_open:
        return False
    consent = referral.consent
    if consent is None:  # sent under an audited override of a missing consent
        return bool(referral.consent_override_reason)
    return consent.withdrawn_on is None


def ensure_referral_recipient(user, referral) -> None:
    if not is_referral_recipient(user, referral):
        raise CaseAccessDenied(_("Only the agency that received the referral may do this."))


def ensure_referral_sender(user, referral) -> None:
    if not is_referral_sender(user, referral):
        raise CaseAccessDenied(_("Only the agency that sent the referral may do this."))


def can_override_referral_consent(user, case: Case) -> bool:
    """Supervisors and national coordinators of the owning agency may refer without a
    referral consent in force, giving a reason (the override is audited)."""
    return can_edit_case(user, case) and user.role in CONSENT_OVERRIDE_ROLES


# --- formal identification by referral ----------------------------------------------------
# The agency that met the person keeps the case and refers the person, with their consent, to
# the competent authority for formal identification (a service of this type in the directory).
# Once the authority accepts, its decision-makers see the case on their queue and decide;
# nothing else of the case opens to them, and withdrawing the consent ends it.
IDENTIFICATION_SERVICE_TYPE = "formal_identification"


def _identification_referrals(user) -> Q:
    """Accepted identification referrals to `user`'s agency still resting on a consent in
    force (or an audited override), as a filter on referrals."""
    return (Q(recipient_agency_id=user.agency_id, state="accepted",
              service__service_type=IDENTIFICATION_SERVICE_TYPE)
            & (Q(consent__isnull=True) | Q(consent__withdrawn_on__isnull=True)))


def referred_for_identification(user, case: Case) -> bool:
    """`case` was referred to `user`'s agency for formal identification, and it accepted."""
    if not _handles_cases(user):
        return False
    return case.referrals.filter(_identification_referrals(user)).exists()


def cases_for_identification(user) -> QuerySet[Case]:
    """The cases `user` may decide formal identification on: their agency's own cases and
    those referred to it for identification."""
    if not can_decide_identification(user):
        return Case.objects.none()
    referral_model = Case._meta.get_field("referrals").related_model
    referred = referral_model.objects.filter(_identification_referrals(user)).values("case_id")
    return Case.objects.filter(Q(owner_agency_id=user.agency_id) | Q(pk__in=referred))


def get_case_for_identification(user, case_number: str) -> Case:
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


def get_case_for_same_person_link(user, case_number: str) -> Case:
    """The other case of a "same person as" link: one `user` may see, or one referred to
    `user`'s agency whose shared fields `user` may see now (open referral, consent in force).

    That second path is how two agencies' records of one person get linked: the shelter
    registers the person it received and links its case to the referred one. It reveals
    nothing more than the referral already shows. CaseNotFound otherwise.
    """
    try:
        return get_visible_case(user, case_number)
    except CaseNotFound:
        if "\x00" in case_number:  # PostgreSQL rejects NUL in text; no case has one
            raise
    from opennrm.referrals.models import OPEN_STATES, Referral

    referrals = Referral.objects.filter(incoming_referrals(user), state__in=OPEN_STATES,
                                        case__case_number=case_number).select_related(
        "consent", "case", "case__person", "case__owner_agency")
    for referral in referrals:
        if can_see_shared_fields(user, referral):
            return referral.case
    raise CaseNotFound(case_number)
