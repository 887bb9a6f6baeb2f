"""Who may use statistics. Aggregates only: no role reaches an identity through them."""

from django.core.exceptions import PermissionDenied

from opennrm.accounts.models import Role

# The analyst and the national coordinator (the NRM focal point reports to parliament).
STATISTICS_ROLES = (Role.ANALYST, Role.NATIONAL_COORDINATOR)


def can_view_statistics(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active
                and user.role in STATISTICS_ROLES)


def can_publish_releases(user) -> bool:
    return can_view_statistics(user)


def ensure_can_view_statistics(user) -> None:
    if not can_view_statistics(user):
        raise PermissionDenied("Statistics are for analysts and the national coordinator.")


def ensure_can_publish_releases(user) -> None:
    if not can_publish_releases(user):
        raise PermissionDenied("Releases are published by analysts and the national "
                               "coordinator.")
