"""Who may read a case's screenings.

Whoever may see the case, and the decision-makers who may decide its formal identification:
the screening is what they decide on. For another agency's case that is the competent
authority the case was referred to (`cases.access.can_decide_identification`); nothing
else of the case opens to them.
"""

from typing import TYPE_CHECKING

from opennrm.cases import access
from opennrm.cases.models import Case
from opennrm.core.access import belongs_to_agency

if TYPE_CHECKING:
    from opennrm.accounts.models import User


def read_reason(user: "User | None", case: Case) -> str:
    """Why `user` (already allowed) reads the screenings of `case`, for the audit trail:
    "" for the owning agency, the formal identification for the authority it was referred
    to."""
    if belongs_to_agency(user, case.owner_agency_id):
        return ""
    return "formal identification by referral"


def ensure_can_read_screenings(user: "User | None", case: Case) -> None:
    """CaseNotFound unless `user` may see `case` or decide its formal identification."""
    if access.can_decide_identification(user, case):
        return
    access.ensure_visible(user, case)


def get_case_for_screening(user: "User | None", case_number: str) -> Case:
    """The case with this number if `user` may read its screenings; CaseNotFound otherwise."""
    case = access.get_case_for_identification(user, case_number)
    ensure_can_read_screenings(user, case)
    return case
