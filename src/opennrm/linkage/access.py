"""Who may do what with the node's linkage job: every rule of the job's pages and services is
here.

Deny by default. The national coordinator (the node's NRM focal point, whose office is the
controller that may compare identities across agencies) sets the policy, starts a run and
reviews any pair. A supervisor reviews the pairs whose two persons both have a case their
agency sees: the duplicates inside their own register. No one else sees a pair: a pair
the user may not review answers exactly like one that does not exist (404), since even its
existence tells that another agency registered the person.
"""

from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from opennrm.cases.access import cases_visible_to
from opennrm.cases.models import Case
from opennrm.core.access import has_agency, has_role
from opennrm.core.roles import Role
from opennrm.linkage.models import LINKED, UNDECIDED, CandidatePair

if TYPE_CHECKING:
    from opennrm.accounts.models import User

REVIEW_ROLES = frozenset({Role.SUPERVISOR, Role.NATIONAL_COORDINATOR})


class PairNotFound(Exception):
    """The pair does not exist or the user may not know that it exists (both look alike)."""


class LinkageAccessDenied(Exception):
    """The user may not do this with the linkage job."""


def is_coordinator(user: "User | None") -> bool:
    """The national coordinator of an agency (the node's focal point)."""
    return has_role(user, Role.NATIONAL_COORDINATOR) and has_agency(user)


def may_review_linkage(user: "User | None") -> bool:
    """The review queue is open to the national coordinator and to supervisors."""
    return has_role(user, *REVIEW_ROLES) and has_agency(user)


def ensure_may_review(user: "User | None") -> None:
    if not may_review_linkage(user):
        raise LinkageAccessDenied(
            _("Only the national coordinator and supervisors review possible duplicates."))


def ensure_coordinator(user: "User | None") -> None:
    """Setting the policy and starting a run: the national coordinator only."""
    if not is_coordinator(user):
        raise LinkageAccessDenied(
            _("Only the national coordinator sets the linkage policy and starts a run."))


def pairs_reviewable_by(user: "User | None") -> QuerySet[CandidatePair]:
    """The one filter for pairs: every pair `user` may see and decide, and no other."""
    if is_coordinator(user):
        return CandidatePair.objects.all()
    if not may_review_linkage(user):
        return CandidatePair.objects.none()
    persons = cases_visible_to(user).values("person_id")
    return CandidatePair.objects.filter(person_id__in=persons, other_person_id__in=persons)


def get_reviewable_pair(user: "User | None", pk) -> CandidatePair:
    """The pair `pk` if `user` may review it; PairNotFound otherwise."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise PairNotFound(pk) from None
    pair = pairs_reviewable_by(user).select_related("link").filter(pk=pk).first()
    if pair is None:
        raise PairNotFound(pk)
    return pair


def ensure_reviewable(user: "User | None", pair: CandidatePair) -> None:
    """PairNotFound unless `user` may review `pair` (a pair loaded earlier, checked again)."""
    if not pairs_reviewable_by(user).filter(pk=pair.pk).exists():
        raise PairNotFound(pair.pk)


def case_open_for_pair_link(user: "User | None", case_number: str) -> Case | None:
    """Registered with `cases.access` (`register_same_person_link_grant`): the national
    coordinator may link another agency's case whose person waits in a candidate pair, so
    that confirming the pair (or the run's automatic link) goes through the ordinary
    same-person link; and remove the link a pair made (a split), the same way."""
    if not is_coordinator(user) or "\x00" in case_number:
        return None
    waiting = CandidatePair.objects.filter(
        Q(state__in=UNDECIDED)
        | Q(state__in=LINKED, link__isnull=False, link__removed_at__isnull=True))
    return (Case.objects.select_related("person", "owner_agency")
            .filter(case_number=case_number)
            .filter(Q(person_id__in=waiting.values("person_id"))
                    | Q(person_id__in=waiting.values("other_person_id"))).first())
