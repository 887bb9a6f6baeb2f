"""The one write path for screenings and formal identification decisions."""

from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, Min, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from opennrm.accounts.models import Agency
from opennrm.audit.models import Action
from opennrm.audit.services import AuditEvent, record_events
from opennrm.cases import access, age
from opennrm.cases import services as case_services
from opennrm.cases.models import Case, VictimStatus
from opennrm.core.validation import TextLimit, check_length
from opennrm.screening import access as screening_access
from opennrm.screening import engine, indicator_sets
from opennrm.screening.models import Decision, IdentificationDecision, Outcome, Screening

if TYPE_CHECKING:
    from opennrm.accounts.models import User


@dataclass
class Preview:
    """What the screening form shows while boxes are ticked: nothing is stored."""

    result: engine.Result
    explanation: list[str]


def _age(case: Case, on: date) -> tuple[int | None, bool]:
    person = case.person
    return case_services.age_on(person, on), person.age_uncertain


def age_group(case: Case, on: date) -> str | None:
    """The age group whose lists fit the person on `on`: "child" when they may be a child
    (`cases.age.may_be_child`: under 18, the youngest age a birth year allows under 18, or
    "possibly a child"; CoE Convention Art. 10(3)), "adult" when their age or "adult,
    exact age unknown" is recorded, None when nothing is recorded (any list fits)."""
    person = case.person
    if age.may_be_child(person, on):
        return engine.CHILD
    if age.statistical_age(person, on) is not None or age.uncertainty(person):
        return engine.ADULT
    return None


def fits(case: Case, indicator_set: engine.IndicatorSet, on: date) -> bool:
    """Whether `indicator_set` is for the person's age group on `on`."""
    group = age_group(case, on)
    return group is None or group == indicator_set.age_group


def misfit_message(case: Case, indicator_set: engine.IndicatorSet, on: date) -> str:
    """Why the list does not fit the person ("" when it does)."""
    if fits(case, indicator_set, on):
        return ""
    if age_group(case, on) == engine.CHILD:
        return _("This person may be a child (CoE Convention Art. 10(3)): screen them with a "
                 "list for children, or give the reason for using a list for adults.")
    return _("This person is an adult: screen them with a list for adults, or give the "
             "reason for using a list for children.")


def preview(case: Case, indicator_set: engine.IndicatorSet, observed, on: date | None = None,
            language: str = "en") -> Preview:
    on = on or timezone.localdate()
    result = engine.score(indicator_set, observed)
    return Preview(result, engine.explain(result, indicator_set, language,
                                          overridden=not fits(case, indicator_set, on)))


def explain_recorded(screening: Screening, indicator_set: engine.IndicatorSet,
                     language: str = "en") -> list[str]:
    """The outcome and reasons of a recorded screening, scored again with the list version
    it was made with (so the same result). Screenings recorded before the rule belonged to
    the list scored a child with an adults' list without the means: they are explained so."""
    legacy_child = screening.treated_as_child and indicator_set.age_group != engine.CHILD
    result = engine.score(indicator_set, screening.observed,
                          means_required=False if legacy_child else None)
    return engine.explain(result, indicator_set, language,
                          overridden=bool(screening.age_group_override))


def _before_birth(case: Case, on: date) -> bool:
    person = case.person
    born = _date_or_none(person.birth_date) if person.birth_date else None
    if born is not None:
        return on < born
    return bool(person.birth_year) and on.year < person.birth_year


def _date_or_none(text: str) -> date | None:
    try:
        return parse_date(text)
    except ValueError:  # well formed but impossible, such as 2026-02-30
        return None


def _clean_observations(indicator_set: engine.IndicatorSet, observed: dict, errors: dict):
    if not isinstance(observed, dict):
        errors["observed"] = [_("Give the observed indicators.")]
        return {}
    unknown = sorted(set(observed) - indicator_set.indicators.keys())
    if unknown:
        errors["observed"] = [_("Not in this list: %(codes)s.") % {"codes": ", ".join(unknown)}]
    notes = {}
    for code, note in observed.items():
        note = str(note or "").strip()
        check_length(note, "observed", errors, limit=TextLimit.NOTE)
        if note:
            notes[code] = note
    return notes


def record_screening(actor: "User", case: Case, set_id: str, version: str, observed: dict,
                     screened_on: date | None = None, channel: str = "",
                     age_group_override: str = "") -> Screening:
    """Record a screening: `observed` maps each observed indicator code to a short note.

    The list's own rule applies. A list for the other age group than the person's (a
    list for children for an adult, or for adults for a person who may be a child) is
    refused on `indicator_set` unless `age_group_override` gives the reason, which is
    stored (encrypted) and audited.

    A probable or possible outcome keeps (or puts) the case in presumed-victim status and on
    the coordinator's queue; a screening never records formal identification.
    """
    access.ensure_can_edit(actor, case)
    errors: dict = {}
    try:
        indicator_set = indicator_sets.get(set_id, version)
    except indicator_sets.UnknownIndicatorSet:
        raise ValidationError({"indicator_set": [
            _("Unknown indicator list %(id)s version %(version)s.") % {
                "id": set_id, "version": version}]}) from None
    notes = _clean_observations(indicator_set, observed, errors)
    screened_on = screened_on or timezone.localdate()
    if isinstance(screened_on, str):
        screened_on = _date_or_none(screened_on)
        if screened_on is None:
            errors["screened_on"] = [_("Enter a date as YYYY-MM-DD.")]
    if screened_on and screened_on > timezone.localdate():
        errors["screened_on"] = [_("The date is in the future.")]
    elif screened_on and _before_birth(case, screened_on):
        errors["screened_on"] = [_("The date is before the person was born.")]
    override = str(age_group_override or "").strip()
    check_length(override, "age_group_override", errors, limit=TextLimit.NOTE)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        case = Case.objects.select_for_update().select_related("person").get(pk=case.pk)
        if case.is_closed:
            raise ValidationError({"case": [_("This case is closed. Reopen it to screen.")]})
        misfit = misfit_message(case, indicator_set, screened_on)
        if misfit and not override:
            raise ValidationError({"indicator_set": [misfit]})
        if not misfit:
            override = ""  # the list fits: there is nothing to override
        years, uncertain = _age(case, screened_on)
        result = engine.score(indicator_set, observed.keys())
        screening = Screening.objects.create(
            case=case, indicator_set=set_id, indicator_set_version=version,
            screened_on=screened_on, age_at_screening=years, age_uncertain=uncertain,
            treated_as_child=result.treated_as_child, observed=sorted(observed),
            notes=notes, age_group_override=override, outcome=result.outcome,
            present_dimensions=result.present, agency=actor.agency, screened_by=actor)
        events = [AuditEvent(Action.CREATE, "screening", case.case_number,
                             ("observed", "notes", "outcome"))]
        if override:
            events.append(AuditEvent(
                Action.CREATE, "screening", case.case_number, ("age_group_override",),
                reason=f"list for {indicator_set.age_group}s used for a person of the "
                       f"other age group"))
        record_events(actor, events, channel)
        if (result.outcome in (Outcome.PROBABLE, Outcome.POSSIBLE)
                and case.victim_status != VictimStatus.PRESUMED
                and not case.identification_decisions.exists()):
            # The one place that sets victim status (and audits it).
            case_services.decide_victim_status(actor, case, VictimStatus.PRESUMED,
                                               screened_on, channel=channel)
    return screening


def decide_identification(actor: "User", case: Case, decision: str, decided_on, grounds: str,
                          appeal: str = "", channel: str = "") -> IdentificationDecision:
    """The formal identification decision: only a configured decision-maker records it."""
    if not access.can_decide_identification(actor, case):
        raise access.CaseAccessDenied(
            _("Only the authority designated in this country may decide formal "
              "identification."))
    errors: dict = {}
    if decision not in Decision.values:
        errors["decision"] = [_("Choose identified or not identified.")]
    if isinstance(decided_on, str):
        decided_on = _date_or_none(decided_on)
    if decided_on is None:
        errors["decided_on"] = [_("Give the date of the decision.")]
    elif decided_on > timezone.localdate():
        errors["decided_on"] = [_("The date is in the future.")]
    grounds = (grounds or "").strip()
    if not grounds:
        errors["grounds"] = [_("Give the grounds of the decision.")]
    else:
        check_length(grounds, "grounds", errors, limit=TextLimit.LONG)
    check_length(appeal or "", "appeal", errors, limit=TextLimit.LONG)
    if errors:
        raise ValidationError(errors)
    status = (VictimStatus.IDENTIFIED if decision == Decision.IDENTIFIED
              else VictimStatus.NOT_A_VICTIM)
    with transaction.atomic():
        record = IdentificationDecision.objects.create(
            case=case, decision=decision, decided_on=decided_on, deciding_agency=actor.agency,
            grounds=grounds, appeal=(appeal or "").strip(), decided_by=actor)
        case_services.decide_victim_status(actor, case, status, decided_on, actor.agency,
                                           channel=channel)
        record_events(actor, [AuditEvent(Action.CREATE, "identification_decision",
                                         case.case_number, ("decision", "grounds", "appeal"))],
                      channel)
    return record


# Who is on the decision-makers' queue, by age (`awaiting_decision(child=…)`).
CHILDREN, ADULTS = "child", "adult"


def _waiting(user: "User") -> QuerySet[Case]:
    screened = Screening.objects.filter(
        case=OuterRef("pk"), outcome__in=[Outcome.PROBABLE, Outcome.POSSIBLE])
    decided = IdentificationDecision.objects.filter(case=OuterRef("pk"))
    return (access.cases_for_identification(user)
            .filter(victim_status=VictimStatus.PRESUMED)
            .filter(Exists(screened), ~Exists(decided)))


def awaiting_decision(user: "User", *, agency_id: int | None = None,
                      waiting_over: int | None = None, child: str = "",
                      today: date | None = None) -> QuerySet[Case]:
    """The decision-makers' queue: presumed victims with a probable or possible screening
    and no formal decision yet, among the cases `user` may decide on (their agency's and
    those referred to it for identification); the longest waiting (since the first such
    screening) first.

    The filters narrow it: the owning agency, waiting more than `waiting_over` days on
    `today`, children (`CHILDREN`) or adults (`ADULTS`) only.
    """
    cases = _waiting(user)
    if agency_id is not None:
        cases = cases.filter(owner_agency_id=agency_id)
    if waiting_over is not None:
        since = (today or timezone.localdate()) - timedelta(days=waiting_over)
        cases = cases.filter(Exists(Screening.objects.filter(
            case=OuterRef("pk"), outcome__in=[Outcome.PROBABLE, Outcome.POSSIBLE],
            screened_on__lt=since)))
    if child == CHILDREN:
        cases = cases.filter(is_child=True)
    elif child == ADULTS:
        cases = cases.filter(is_child=False)
    return (cases.annotate(first_screened_on=Min("screenings__screened_on", filter=Q(
                screenings__outcome__in=[Outcome.PROBABLE, Outcome.POSSIBLE])))
            .order_by("first_screened_on", "id"))


def agencies_awaiting_decision(user: "User") -> list[tuple[int, str]]:
    """(id, name) of the agencies whose cases are on `user`'s queue, by name: the queue's
    agency filter."""
    return list(Agency.objects.filter(pk__in=_waiting(user).values("owner_agency_id"))
                .order_by("name").values_list("pk", "name"))


# --- reads (their notes, grounds and appeals may describe the person: audited) -----------

def _screening_read(user: "User", case: Case) -> AuditEvent:
    return AuditEvent(Action.READ, "screening", case.case_number,
                      ("notes", "age_group_override"),
                      reason=screening_access.read_reason(user, case))


def read_screenings(user: "User", case: Case, channel: str = "") -> list[Screening]:
    """The screenings of `case`, newest first, for whoever may see the case or decide its
    formal identification; reading their notes is audited."""
    screening_access.ensure_can_read_screenings(user, case)
    screenings = list(case.screenings.select_related("screened_by", "agency"))
    if screenings:
        record_events(user, [_screening_read(user, case)], channel)
    return screenings


def read_screening(user: "User", case: Case, screening_id: int,
                   channel: str = "") -> Screening | None:
    """One screening of `case` (None if it has no such screening), for whoever may see the
    case or decide its formal identification; reading it is audited."""
    screening_access.ensure_can_read_screenings(user, case)
    screening = (case.screenings.select_related("agency", "screened_by")
                 .filter(pk=screening_id).first())
    if screening is not None:
        record_events(user, [_screening_read(user, case)], channel)
    return screening


def read_identification_decisions(user: "User", case: Case,
                                  channel: str = "") -> list[IdentificationDecision]:
    """The formal identification decisions of `case`, newest first; reading their grounds
    and appeals is audited."""
    access.ensure_visible(user, case)
    decisions = list(case.identification_decisions.select_related("deciding_agency",
                                                                   "decided_by"))
    if decisions:
        record_events(user, [AuditEvent(Action.READ, "identification_decision",
                                        case.case_number, ("grounds", "appeal"))], channel)
    return decisions
