"""A new registration scored against the register before it is saved.

The same model as the nightly job links the new person's record with every person of the
register (`register.link`). The registering user is shown only the persons with a case
they may see, with the comparisons that agreed; a match of another agency is neither shown
nor counted to them, since that would tell them another agency's case exists. Once the case
is saved, those matches become pairs waiting for the coordinator's review (origin
"registration"), unless they are the same person already or were decided before.
"""

from django.db import IntegrityError, transaction

from opennrm.accounts.models import User
from opennrm.audit.models import Action
from opennrm.audit.services import AuditEvent, record_events
from opennrm.cases.access import cases_visible_to
from opennrm.cases.models import Case, Person
from opennrm.cases.registration_checks import PossibleMatch, RegistrationCheck
from opennrm.linkage import register
from opennrm.linkage.identities import (
    comparisons_of,
    linkage_record,
    register_records,
    without_unreadable_values,
)
from opennrm.linkage.models import CandidatePair, LinkagePolicy, Origin
from opennrm.linkage.normalise import IdentityNormaliser
from opennrm.linkage.review import comparison_label

NEW = "new"
CHANNEL = "web"


def score_new_person(identity_fields: dict) -> list:
    """The register's persons scored against the new one, from the review threshold up,
    most probable first: (person id, ScoredPair)."""
    new = without_unreadable_values(linkage_record(NEW, identity_fields), IdentityNormaliser())
    records = list(register_records())
    if not records:
        return []
    result = register.link([new], records, explain=True, sources=(NEW, "register"))
    review_from = LinkagePolicy.current().review_from
    return [(int(pair.record_id_2), pair) for pair in result.pairs
            if pair.match_probability >= review_from]


def check_registration(user: User, identity_fields: dict) -> RegistrationCheck:
    """Registered with `cases.registration_checks`: the matches `user` may see, and the
    others recorded for review once the case is saved."""
    scored = score_new_person(identity_fields)
    if not scored:
        return RegistrationCheck()
    visible: dict[int, list[str]] = {}
    for person_id, number in (cases_visible_to(user)
                              .filter(person_id__in=[person_id for person_id, _ in scored])
                              .order_by("case_number").values_list("person_id",
                                                                   "case_number")):
        visible.setdefault(person_id, []).append(number)
    matches = [PossibleMatch(
        case_numbers=tuple(visible[person_id]), match_probability=pair.match_probability,
        agreeing=tuple(comparison_label(field.comparison) for field in pair.fields
                       if field.match_weight is not None and field.match_weight > 0))
        for person_id, pair in scored if person_id in visible]
    hidden = [(person_id, pair) for person_id, pair in scored if person_id not in visible]

    def record(case: Case) -> None:
        queue_for_review(user, case.person, hidden)

    return RegistrationCheck(matches=matches, record=record)


def queue_for_review(user: User, person: Person, scored: list) -> list[CandidatePair]:
    """Pairs of the new person and the matches its registrant could not see, waiting for the
    coordinator. A pair that exists already (decided or not) is left as it is."""
    counted = person.statistical_person_id or person.pk
    others = dict(Person.objects.filter(pk__in=[person_id for person_id, _ in scored])
                  .values_list("pk", "statistical_person_id"))
    queued = []
    with transaction.atomic():
        for person_id, pair in scored:
            if person_id == person.pk or (others.get(person_id) or person_id) == counted:
                continue
            first, second = sorted((person.pk, person_id))
            try:
                with transaction.atomic():
                    queued.append(CandidatePair.objects.create(
                        person_id=first, other_person_id=second, origin=Origin.REGISTRATION,
                        match_probability=pair.match_probability,
                        match_weight=pair.match_weight, comparisons=comparisons_of(pair)))
            except IntegrityError:  # the pair exists: its state stands
                continue
        record_events(user, [AuditEvent(Action.CREATE, "candidate_pair", str(pair.pk),
                                        ("origin",), Origin.REGISTRATION)
                             for pair in queued], CHANNEL)
    return queued
