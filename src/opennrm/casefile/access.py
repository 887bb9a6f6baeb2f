"""Who may read and add to a case's journal and attachments, print its summary, and see who
viewed it. Built on `cases.access`: a case the user may not see is a 404 here too.

* The journal's text, the attachments' names, descriptions and files are personal data,
  like the case's notes: they are shown to those who may see the case and may see
  identities (`cases.access.can_see_identity`). Who may see the case but not identities
  sees only that entries and documents exist (kind, date, who recorded them).
* Adding follows the case's edit rule (`ensure_can_edit`): the owning agency's staff.
* "Who viewed this case" is for the supervisors of the agency that owns the case: they
  answer for their team's handling of it. Auditors read the whole trail at /audit/;
  administrators see no case at all.
"""

from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from opennrm.cases import access
from opennrm.cases.models import Case
from opennrm.core.access import belongs_to_agency, has_role
from opennrm.core.roles import Role

if TYPE_CHECKING:
    from opennrm.accounts.models import User


def can_read_case_file(user: "User | None", case: Case) -> bool:
    """`user` may read the journal's text and the attachments (given that they see `case`)."""
    return access.can_see_identity(user)


def ensure_can_read_case_file(user: "User | None", case: Case) -> None:
    access.ensure_visible(user, case)
    if not can_read_case_file(user, case):
        raise access.CaseAccessDenied(
            _("Your role does not show the journal and documents of a case."))


def can_add_to_case_file(user: "User | None", case: Case) -> bool:
    return access.can_edit_case(user, case) and not case.is_closed


def ensure_can_add_to_case_file(user: "User | None", case: Case) -> None:
    access.ensure_can_edit(user, case)


def can_see_case_viewers(user: "User | None", case: Case) -> bool:
    """A supervisor of the agency that owns `case`."""
    return (has_role(user, Role.SUPERVISOR)
            and belongs_to_agency(user, case.owner_agency_id))


def ensure_can_see_case_viewers(user: "User | None", case: Case) -> None:
    access.ensure_visible(user, case)
    if not can_see_case_viewers(user, case):
        raise access.CaseAccessDenied(
            _("Only a supervisor of the agency that owns the case sees who viewed it."))
