"""Who may see and act on which referral, and the cases a referral opens to its recipient.

The receiving agency sees a referral, and through it only the fields it shares, while it is
open and the consent it rests on is in force; outside OpenNRM, the referring agency prints
those fields in the referral letter under the same condition. Two grants let a referral open
the case itself for one purpose; `ReferralsConfig.ready` registers them with
`opennrm.cases.access`.
"""

from typing import TYPE_CHECKING

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from opennrm.cases.access import CaseAccessDenied, can_edit_case, handles_cases
from opennrm.cases.models import Case, Consent
from opennrm.core.access import belongs_to_agency, has_role
from opennrm.core.roles import Role
from opennrm.referrals.models import OPEN_STATES, Referral, ReferralState

if TYPE_CHECKING:
    from opennrm.accounts.models import User

# Who may override a missing referral consent (with a reason, audited).
CONSENT_OVERRIDE_ROLES = frozenset({Role.SUPERVISOR, Role.NATIONAL_COORDINATOR})


def incoming_referrals(user: "User | None") -> Q:
    """Referrals addressed to `user`'s agency that `user` may see (as a filter)."""
    if not handles_cases(user):
        return Q(pk__in=[])
    return Q(recipient_agency_id=user.agency_id)


def outgoing_referrals(user: "User | None") -> Q:
    """Referrals `user`'s agency sent (as a filter). The referring agency is the case's
    owning agency (`refer_case` sets it so, and cases do not change hands), so this needs no
    join with the case: the inbox lists and counts them straight from an index."""
    if not handles_cases(user):
        return Q(pk__in=[])
    return Q(referring_agency_id=user.agency_id)


def referrals_visible(user: "User | None") -> Q:
    """The one filter for referrals: sent by or addressed to `user`'s agency."""
    return incoming_referrals(user) | outgoing_referrals(user)


def is_referral_sender(user: "User | None", referral: Referral) -> bool:
    """`user` works for the agency that sent the referral (the case's owning agency)."""
    return handles_cases(user) and belongs_to_agency(user, referral.referring_agency_id)


def is_referral_recipient(user: "User | None", referral: Referral) -> bool:
    return handles_cases(user) and belongs_to_agency(user, referral.recipient_agency_id)


def can_see_shared_fields(user: "User | None", referral: Referral) -> bool:
    """The recipient sees the shared fields only while the referral is open and the consent
    it rests on is in force: withdrawing that consent ends the access at once."""
    return is_referral_recipient(user, referral) and may_share_now(referral)


def can_print_referral_letter(user: "User | None", referral: Referral) -> bool:
    """The referring agency prints the letter of a referral outside OpenNRM, for the
    provider, while what it shares may be shared (`may_share_now`)."""
    return (referral.external and is_referral_sender(user, referral)
            and may_share_now(referral))


def may_share_now(referral: Referral) -> bool:
    """What the referral shares may be shown or handed over now: it is open, and the consent
    it rests on is in force (or it was sent under an audited override)."""
    if not referral.is_open:
        return False
    consent = referral.consent
    if consent is None:  # sent under an audited override of a missing consent
        return bool(referral.consent_override_reason)
    return consent.is_active


def ensure_referral_recipient(user: "User | None", referral: Referral) -> None:
    if not is_referral_recipient(user, referral):
        raise CaseAccessDenied(_("Only the agency that received the referral may do this."))


def ensure_referral_sender(user: "User | None", referral: Referral) -> None:
    if not is_referral_sender(user, referral):
        raise CaseAccessDenied(_("Only the agency that sent the referral may do this."))


def can_override_referral_consent(user: "User | None", case: Case) -> bool:
    """Supervisors and national coordinators of the owning agency may refer without a
    referral consent in force, giving a reason (the override is audited)."""
    return can_edit_case(user, case) and has_role(user, *CONSENT_OVERRIDE_ROLES)


# --- formal identification by referral ----------------------------------------------------
# The agency that met the person keeps the case and refers the person, with their consent, to
# the competent authority for formal identification (a service of this type in the directory).
# Its decision-makers see the case on their queue and decide as soon as it is referred, or
# once the authority accepted it, as the node's policy says (OPENNRM_IDENTIFICATION_QUEUE);
# nothing else of the case opens to them, and withdrawing the consent ends it.
IDENTIFICATION_SERVICE_TYPE = "formal_identification"


def identification_queue_states() -> tuple[str, ...]:
    """The states in which a referral for identification opens its case to the authority's
    decision-makers: open ("referred", the default) or accepted only ("accepted")."""
    if settings.OPENNRM_IDENTIFICATION_QUEUE == "accepted":
        return (ReferralState.ACCEPTED,)
    return OPEN_STATES


def cases_referred_for_identification(user: "User") -> QuerySet:
    """The ids of the cases referred to `user`'s agency for formal identification, in a state
    `identification_queue_states` names, whose referral still rests on a consent in force (or
    an audited override)."""
    return Referral.objects.filter(
        Q(recipient_agency_id=user.agency_id, state__in=identification_queue_states(),
          service__service_type=IDENTIFICATION_SERVICE_TYPE)
        & (Q(consent__isnull=True) | Consent.in_force_condition(through="consent"))
    ).values("case_id")


def cases_shared_for_same_person_links(user: "User") -> QuerySet:
    """The ids ("case_id") of the cases `case_shared_for_same_person_link` would give this
    user: referred to its agency, open, the consent in force (or an audited override). The
    person search offers their persons as candidates for a same-person link."""
    if not handles_cases(user):
        return Referral.objects.none().values("case_id")
    shareable = Consent.in_force_condition(through="consent") | (
        Q(consent__isnull=True) & ~Q(consent_override_reason=""))
    return Referral.objects.filter(incoming_referrals(user), state__in=OPEN_STATES).filter(
        shareable).values("case_id")


def case_shared_for_same_person_link(user: "User", case_number: str) -> Case | None:
    """The case with this number if it was referred to `user`'s agency and `user` may see
    the referral's shared fields now (open referral, consent in force).

    That is how two agencies' records of one person get linked: the shelter registers the
    person it received and links its case to the referred one. It reveals nothing more than
    the referral already shows.
    """
    referrals = Referral.objects.filter(incoming_referrals(user), state__in=OPEN_STATES,
                                        case__case_number=case_number).select_related(
        "consent", "case", "case__person", "case__owner_agency")
    for referral in referrals:
        if can_see_shared_fields(user, referral):
            return referral.case
    return None
