"""Checks a new registration goes through before it is saved, offered by higher apps.

The linkage app scores a new person against the register with the node's model; cases may
not import it (it sits above cases), so it registers its check here in its
`AppConfig.ready`, as apps register their models with Django's admin. The registration
page asks `check_registration` and shows the matches; the check itself decides what the
user may see. Without a registered check nothing is found and nothing is recorded.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from opennrm.accounts.models import User
    from opennrm.cases.models import Case


@dataclass(frozen=True)
class PossibleMatch:
    """A person already registered whom the model scores as possibly the new one, as the
    registering user may see it: the cases of theirs the user may see, the probability,
    and the comparisons that agreed (labels, never values)."""

    case_numbers: tuple[str, ...]
    match_probability: float
    agreeing: tuple[str, ...]


@dataclass
class RegistrationCheck:
    """What a check found. `matches` holds only persons with a case the user may see;
    `record(case)`, called once the case is saved, lets the check record the rest for
    someone who may see them (never shown or counted to this user)."""

    matches: list[PossibleMatch] = field(default_factory=list)
    record: Callable[["Case"], None] = lambda case: None


# `check(user, identity_fields)`: identity_fields are the registration's cleaned fields.
Check = Callable[["User", dict], RegistrationCheck]
_checks: list[Check] = []


def register_registration_check(check: Check) -> None:
    if check not in _checks:
        _checks.append(check)


def check_registration(user: "User", identity_fields: dict) -> RegistrationCheck:
    """Every registered check on the new person, combined."""
    results = [check(user, identity_fields) for check in _checks]
    matches = sorted((match for result in results for match in result.matches),
                     key=lambda match: -match.match_probability)

    def record(case: "Case") -> None:
        for result in results:
            result.record(case)

    return RegistrationCheck(matches=matches, record=record)
