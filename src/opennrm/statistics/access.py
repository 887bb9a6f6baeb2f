"""Who may use statistics. Aggregates only: no role reaches an identity through them."""

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied

from opennrm.core.access import has_role
from opennrm.core.roles import Role

if TYPE_CHECKING:
    from opennrm.accounts.models import User

# The analyst and the national coordinator (the NRM focal point reports to parliament).
STATISTICS_ROLES = (Role.ANALYST, Role.NATIONAL_COORDINATOR)


def can_view_statistics(user: "User | None") -> bool:
    return has_role(user, *STATISTICS_ROLES)


def can_publish_releases(user: "User | None") -> bool:
    return can_view_statistics(user)


def ensure_can_view_statistics(user: "User | None") -> None:
    if not can_view_statistics(user):
        raise PermissionDenied("Statistics are for analysts and the national coordinator.")


def ensure_can_publish_releases(user: "User | None") -> None:
    if not can_publish_releases(user):
        raise PermissionDenied("Releases are published by analysts and the national "
                               "coordinator.")


# The node's disclosure rules belong to the national coordinator and the administrator.
POLICY_ROLES = (Role.NATIONAL_COORDINATOR, Role.ADMINISTRATOR)


def can_set_disclosure_policy(user: "User | None") -> bool:
    return has_role(user, *POLICY_ROLES)


def ensure_can_set_disclosure_policy(user: "User | None") -> None:
    if not can_set_disclosure_policy(user):
        raise PermissionDenied("The disclosure policy is set by the national coordinator "
                               "or the administrator.")
