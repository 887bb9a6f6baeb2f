"""Reviewing the pairs the job could not decide: the queue, a pair side by side, decisions.

The reviewer sees for each person the case numbers they may see, the identity if their role
may see identities (otherwise only the demographics kept in clear), and the comparisons
that decided the score: the level each field reached and its weight. Opening a pair reads
identities, so it is recorded in the audit trail against the pair and each case of its
persons. A confirmation is an ordinary same-person link in the reviewer's name
(`cases.same_person`): removing it later, on the case page, splits the pair.
"""

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from opennrm.accounts.models import User
from opennrm.audit.models import Action
from opennrm.audit.services import AuditEvent, record_events
from opennrm.cases import access as case_access
from opennrm.cases.models import Case, Person
from opennrm.core.validation import TextLimit, check_length, is_storable_text
from opennrm.linkage import access, node
from opennrm.linkage.models import LINKED, UNDECIDED, CandidatePair, PairState

PAIRS_PER_PAGE = 25
IDENTITY_FIELDS = ("given_name", "family_name", "birth_date", "phone", "identity_documents")
DEMOGRAPHIC_FIELDS = ("gender", "birth_year", "citizenships")
# The model's comparisons (model.json `output_column_name`), as a reviewer reads them.
COMPARISON_LABELS = {
    "given_name": gettext_lazy("Given name"),
    "family_name": gettext_lazy("Family name"),
    "birth_date": gettext_lazy("Birth date"),
    "sex": gettext_lazy("Sex"),
    "citizenship": gettext_lazy("Citizenship"),
    "place_of_birth": gettext_lazy("Place of birth"),
    "phone": gettext_lazy("Phone"),
    "document_number": gettext_lazy("Document number"),
}


def comparison_label(name: str) -> str:
    return str(COMPARISON_LABELS.get(name, name))


# --- the queue -----------------------------------------------------------------------------

def review_queue(user: User, page_number=1) -> Page:
    """The pairs waiting for `user`: pending ones first, most probable first, then the
    deferred ones."""
    access.ensure_may_review(user)
    pairs = (access.pairs_reviewable_by(user).filter(state__in=UNDECIDED)
             .annotate(waiting_order=models.Case(
                 models.When(state=PairState.PENDING, then=models.Value(0)),
                 default=models.Value(1), output_field=models.IntegerField()))
             .order_by("waiting_order", "-match_probability", "pk"))
    return Paginator(pairs, PAIRS_PER_PAGE).get_page(page_number)


# --- a pair side by side -------------------------------------------------------------------

@dataclass
class PersonSide:
    """One person of the pair as the reviewer may see them."""

    case_numbers: list[str]
    gender: str
    birth_year: int | None
    citizenships: list[str]
    identity: dict | None = None  # given_name, family_name, birth_date, phone, documents


@dataclass
class PairReview:
    pair: CandidatePair
    sides: tuple[PersonSide, PersonSide]
    comparisons: list[dict] = field(default_factory=list)
    identity_shown: bool = False


def _side(user: User, person: Person, with_identity: bool) -> PersonSide:
    visible = case_access.cases_visible_to(user).filter(person=person)
    side = PersonSide(case_numbers=list(visible.order_by("case_number")
                                        .values_list("case_number", flat=True)),
                      gender=person.gender, birth_year=person.birth_year,
                      citizenships=list(person.citizenships or []))
    # Who the person is only to a role that may see identities, and only for a person with
    # a case the reviewer may see: another agency's person is compared on the comparison
    # levels and the demographics alone (its name never reaches this agency).
    if with_identity and side.case_numbers:
        side.identity = {
            "given_name": person.given_name, "family_name": person.family_name,
            "birth_date": person.birth_date, "phone": person.phone,
            "documents": [document for document in person.identity_documents or []
                          if isinstance(document, dict)]}
    return side


def pair_for_review(user: User, pair: CandidatePair, channel: str = "web") -> PairReview:
    """The pair side by side for `user`; the read is recorded in the audit trail."""
    access.ensure_reviewable(user, pair)
    with_identity = case_access.can_see_identity(user)
    deferred = () if with_identity else IDENTITY_FIELDS + ("aliases", "address")
    persons = {person.pk: person for person in
               Person.objects.filter(pk__in=[pair.person_id, pair.other_person_id])
               .defer("aliases", "address", *deferred)}
    sides = (_side(user, persons[pair.person_id], with_identity),
             _side(user, persons[pair.other_person_id], with_identity))
    shown = any(side.identity is not None for side in sides)
    fields = (IDENTITY_FIELDS if shown else ()) + DEMOGRAPHIC_FIELDS
    events = [AuditEvent(Action.READ, "candidate_pair", str(pair.pk), fields)]
    for side, person_id in zip(sides, (pair.person_id, pair.other_person_id), strict=True):
        side_fields = (IDENTITY_FIELDS if side.identity is not None else ()) + DEMOGRAPHIC_FIELDS
        numbers = Case.objects.filter(person_id=person_id).values_list("case_number", flat=True)
        events += [AuditEvent(Action.READ, "case", number, side_fields, "linkage review")
                   for number in sorted(numbers)]
    record_events(user, events, channel)
    comparisons = [{**comparison, "label": comparison_label(comparison["comparison"])}
                   for comparison in pair.comparisons]
    return PairReview(pair=pair, sides=sides, comparisons=comparisons, identity_shown=shown)


# --- decisions -----------------------------------------------------------------------------

def _clean_note(note, errors: dict, *, required: bool) -> str:
    note = note or ""
    if not isinstance(note, str) or not is_storable_text(note):
        errors["decision_note"] = [_("Enter text.")]
        return ""
    note = note.strip()
    if required and not note:
        errors["decision_note"] = [_("Say why these are different persons.")]
    check_length(note, "decision_note", errors, limit=TextLimit.REASON)
    return note


def _locked(user: User, pair: CandidatePair, states, message: str) -> CandidatePair:
    """The pair, locked, if `user` may review it and it is in one of `states`."""
    access.ensure_reviewable(user, pair)
    # Only the pair's row: PostgreSQL cannot lock the nullable side of the join to its link.
    locked = (CandidatePair.objects.select_for_update(of=("self",)).select_related("link")
              .get(pk=pair.pk))
    if locked.current_state not in states:
        raise ValidationError(message)
    return locked


def _decided(user: User, pair: CandidatePair, state: str, note: str, channel: str,
             fields: tuple[str, ...] = ("state",)) -> CandidatePair:
    pair.state = state
    pair.decided_by = user
    pair.decided_at = timezone.now()
    if note:
        pair.decision_note = note
        fields += ("decision_note",)
    pair.save()
    record_events(user, [AuditEvent(Action.UPDATE, "candidate_pair", str(pair.pk), fields,
                                    state)], channel)
    return pair


def confirm_pair(user: User, pair: CandidatePair, note: str = "",
                 channel: str = "web") -> CandidatePair:
    """The two persons are one: link them (the same-person link, in `user`'s name)."""
    errors: dict = {}
    note = _clean_note(note, errors, required=False)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        pair = _locked(user, pair, UNDECIDED, _("This pair was already decided."))
        pair.link = node.link_pair(user, pair, note, channel)
        return _decided(user, pair, PairState.CONFIRMED, note, channel, ("state", "link"))


def reject_pair(user: User, pair: CandidatePair, note: str,
                channel: str = "web") -> CandidatePair:
    """Different persons: the pair is never proposed again (unless reopened)."""
    errors: dict = {}
    note = _clean_note(note, errors, required=True)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        pair = _locked(user, pair, UNDECIDED, _("This pair was already decided."))
        return _decided(user, pair, PairState.REJECTED, note, channel)


def defer_pair(user: User, pair: CandidatePair, note: str = "",
               channel: str = "web") -> CandidatePair:
    """Not sure yet: the pair goes to the end of the queue."""
    errors: dict = {}
    note = _clean_note(note, errors, required=False)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        pair = _locked(user, pair, UNDECIDED, _("This pair was already decided."))
        return _decided(user, pair, PairState.DEFERRED, note, channel)


def reopen_pair(user: User, pair: CandidatePair, channel: str = "web") -> CandidatePair:
    """A rejected pair back in the queue (the rejection was a mistake)."""
    with transaction.atomic():
        pair = _locked(user, pair, (PairState.REJECTED,),
                       _("Only a rejected pair can be reopened."))
        return _decided(user, pair, PairState.PENDING, "", channel)


def split_pair(user: User, pair: CandidatePair, note: str,
               channel: str = "web") -> CandidatePair:
    """Not one person after all: remove the link the pair made (an ordinary removal of a
    same-person link, with its reason, audited); the two are counted apart again and the
    pair is never linked again."""
    from opennrm.cases.same_person import remove_same_person_link

    with transaction.atomic():
        pair = _locked(user, pair, LINKED, _("Only a linked pair can be split."))
        if pair.link is None or pair.link.removed_at is not None:
            raise ValidationError(_("Only a linked pair can be split."))
        try:
            remove_same_person_link(user, pair.link, note, channel)
        except ValidationError as error:
            raise ValidationError({"decision_note": error.messages}) from None
        except (case_access.CaseNotFound, case_access.CaseAccessDenied):
            raise ValidationError(_("You may not remove this link: ask the national "
                                    "coordinator.")) from None
        record_events(user, [AuditEvent(Action.UPDATE, "candidate_pair", str(pair.pk),
                                        ("state",), PairState.SPLIT)], channel)
    return pair
