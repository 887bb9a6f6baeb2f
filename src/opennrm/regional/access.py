"""Who may use regional statistics. Aggregates only: no role reaches a person through them.

* The regional view (partners' releases side by side, regional totals, the PDF): the
  regional analyst (a role on a node, or on a regional hub running the same software) and
  the national coordinator.
* Sending this node's releases to partners, and the schedules that do it: the national
  coordinator only (the NRM focal point answers for what leaves the country).
"""

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext

from opennrm.core.access import has_role
from opennrm.core.roles import Role

if TYPE_CHECKING:
    from opennrm.accounts.models import User

REGIONAL_VIEW_ROLES = (Role.REGIONAL_ANALYST, Role.NATIONAL_COORDINATOR)
SENDING_ROLES = (Role.NATIONAL_COORDINATOR,)


def can_view_regional(user: "User | None") -> bool:
    return has_role(user, *REGIONAL_VIEW_ROLES)


def ensure_can_view_regional(user: "User | None") -> None:
    if not can_view_regional(user):
        raise PermissionDenied(gettext("Regional statistics are for regional analysts and "
                                       "the national coordinator."))


def can_send_releases(user: "User | None") -> bool:
    return has_role(user, *SENDING_ROLES)


def ensure_can_send_releases(user: "User | None") -> None:
    if not can_send_releases(user):
        raise PermissionDenied(gettext("Only the national coordinator sends statistics to "
                                       "partner nodes."))
