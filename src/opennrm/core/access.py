"""The few rules every app's `access.py` is built on: who counts as an active member of
staff, which role they hold, which agency they work for.

Each app keeps its own rules in its own `access.py` (cases, referrals, screening,
protection, services, statistics, audit, accounts), written with these functions and
nothing else, so that "active", "role" and "agency" mean the same everywhere.
"""

from typing import Protocol


class Staff(Protocol):
    """What the rules read of a user (`accounts.models.User`, or Django's anonymous user,
    which is never authenticated)."""

    is_authenticated: bool
    is_active: bool
    role: str
    agency_id: int | None


def is_active_staff(user: Staff | None) -> bool:
    """A signed-in user whose account is active: anonymous and deactivated users are not."""
    return bool(user and user.is_authenticated and user.is_active)


def has_role(user: Staff | None, *roles: str) -> bool:
    """An active member of staff holding one of `roles`."""
    return is_active_staff(user) and user.role in roles


def has_agency(user: Staff | None) -> bool:
    """An active member of staff who works for an agency."""
    return is_active_staff(user) and user.agency_id is not None


def belongs_to_agency(user: Staff | None, agency_id: int | None) -> bool:
    """An active member of staff of the agency `agency_id` (None matches no one)."""
    return has_agency(user) and user.agency_id == agency_id
