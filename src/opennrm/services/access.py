"""Who may read and change the service directory.

The directory holds no personal data of victims: every signed-in case-handling user reads
it. Directory managers change it; the staff of a provider's own agency report the places
free today.
"""

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from opennrm.cases.access import CASE_HANDLING_ROLES
from opennrm.core.access import belongs_to_agency, has_role
from opennrm.core.roles import Role
from opennrm.services.models import Service

if TYPE_CHECKING:
    from opennrm.accounts.models import User

# The directory is national reference data: the NRM focal point keeps it, and the
# administrator (who sets up agencies) may do so on a small node without a coordinator.
DIRECTORY_MANAGER_ROLES = frozenset({Role.NATIONAL_COORDINATOR, Role.ADMINISTRATOR})
DIRECTORY_READER_ROLES = CASE_HANDLING_ROLES | DIRECTORY_MANAGER_ROLES


class DirectoryAccessDenied(PermissionDenied):
    """The user may not do this to the directory (a 403 in the web UI and the API)."""


def can_read_directory(user: "User | None") -> bool:
    """Every signed-in case-handling user (and the directory managers) reads the directory."""
    return has_role(user, *DIRECTORY_READER_ROLES)


def can_manage_directory(user: "User | None") -> bool:
    """Add and change providers and services, import and export HSDS: the national
    coordinator and the administrator."""
    return has_role(user, *DIRECTORY_MANAGER_ROLES)


def can_update_capacity(user: "User | None", service: Service) -> bool:
    """Staff of the provider's own agency (any role but analyst/auditor), or a manager."""
    if can_manage_directory(user):
        return True
    return (has_role(user, *CASE_HANDLING_ROLES)
            and belongs_to_agency(user, service.provider.agency_id))


def ensure_can_read(user: "User | None") -> None:
    if not can_read_directory(user):
        raise DirectoryAccessDenied(_("You may not read the service directory."))


def ensure_can_manage(user: "User | None") -> None:
    if not can_manage_directory(user):
        raise DirectoryAccessDenied(
            _("Only the national coordinator or the administrator may change the service "
              "directory."))


def ensure_can_update_capacity(user: "User | None", service: Service) -> None:
    if not can_update_capacity(user, service):
        raise DirectoryAccessDenied(
            _("Only the staff of this provider or a directory manager may report its places."))
