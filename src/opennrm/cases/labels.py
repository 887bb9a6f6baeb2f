"""Name labels in case lists: enough of a name for a caseworker to recognise their own
agency's cases, as the node's policy sets it.

`settings.OPENNRM_CASE_LIST_NAMES`: "initials" (M. S.), "given_name" (the given name and
the family initial: Марія Ш.) or "" (no names: case numbers only). Only users who may see
identities get labels, and only for cases their own agency owns; everyone else sees the
case numbers (pseudonyms) as before. Showing labels decrypts the names of the cases on the
page, and no other, and is recorded in the audit trail as a read of those fields.
"""

from collections.abc import Iterable

from django.conf import settings

from opennrm.accounts.models import User
from opennrm.audit.models import Action
from opennrm.audit.services import AuditEvent, record_events
from opennrm.cases import access
from opennrm.cases.models import Case, Person

INITIALS = "initials"
GIVEN_NAME = "given_name"
POLICIES = ("", INITIALS, GIVEN_NAME)
READ_FIELDS = ("given_name", "family_name")
READ_REASON = "name label in a list"


def policy() -> str:
    """The node's policy; an unknown value shows no names."""
    chosen = getattr(settings, "OPENNRM_CASE_LIST_NAMES", INITIALS)
    return chosen if chosen in POLICIES else ""


def _initial(word: str) -> str:
    return f"{word[0].upper()}." if word else ""


def name_label(given_name: str, family_name: str, chosen: str) -> str:
    """"M. S." or "Марія Ш." from the names as written ("" when there is no name)."""
    given = " ".join(given_name.split())
    family = " ".join(family_name.split())
    if chosen == GIVEN_NAME:
        return " ".join(part for part in (given, _initial(family)) if part)
    if chosen == INITIALS:
        words = [*given.replace("-", " ").split(), *family.replace("-", " ").split()]
        return " ".join(_initial(word) for word in words)
    return ""


def shows_labels(user: User | None) -> bool:
    return bool(policy()) and access.can_see_identity(user) and access.handles_cases(user)


def attach_name_labels(user: User | None, cases: Iterable[Case], channel: str = "") -> None:
    """Set `case.name_label` on each case ("" where none may be shown), reading the names of
    the user's own agency's cases in one query, and record those reads."""
    cases = list(cases)
    for case in cases:
        case.name_label = ""
    if not cases or not shows_labels(user):
        return
    own = [case for case in cases if case.owner_agency_id == user.agency_id]
    persons = Person.objects.filter(pk__in={case.person_id for case in own}).only(*READ_FIELDS)
    names = {person.pk: (person.given_name, person.family_name) for person in persons}
    chosen = policy()
    for case in own:
        case.name_label = name_label(*names.get(case.person_id, ("", "")), chosen)
    # One audit entry per case shown, however many lists of the page show it.
    shown = list(dict.fromkeys(case.case_number for case in own if case.name_label))
    if shown:
        record_events(user, [AuditEvent(Action.READ, "case", number, READ_FIELDS, READ_REASON)
                             for number in shown], channel)
