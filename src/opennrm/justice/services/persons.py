"""The persons suspected, prosecuted and convicted in a criminal case: identity encrypted,
sex, age and citizenships in clear for the statistics, and each person's way through the
proceedings (indictment, outcome, sentence, assets confiscated)."""

import datetime

from django.db import transaction
from django.utils.translation import gettext as _

from opennrm.accounts.models import User
from opennrm.audit.models import Action
from opennrm.core.validation import clean_codes, clean_identity_text
from opennrm.justice import access, non_punishment, victims
from opennrm.justice.models import CriminalCase, SuspectedPerson
from opennrm.justice.services.common import (
    _amount,
    _audit,
    _code,
    _date,
    _locked,
    _not_before,
    _raise,
    _whole_number,
)
from opennrm.justice.services.criminal_cases import IDENTITY_FIELDS

CONVICTED = "convicted"
# Sentences measured in months, and those that have no length.
SENTENCES_IN_MONTHS = frozenset({"imprisonment", "suspended_imprisonment"})
SENTENCES_WITHOUT_LENGTH = frozenset({"fine"})
OLDEST_AGE = 120
LONGEST_SENTENCE_MONTHS = 1200


def _years_between(born: datetime.date, on: datetime.date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _identity(given_name, family_name, birth_date, errors: dict):
    given = clean_identity_text(given_name, "given_name", errors)
    family = clean_identity_text(family_name, "family_name", errors)
    born = _date(birth_date, "birth_date", errors)
    return given, family, born


def _age(age, born: datetime.date | None, suspected: datetime.date | None,
         errors: dict) -> int | None:
    """The age when first suspected: from the birth date when there is one (a different age
    typed beside it is a mistake), else as typed."""
    typed = _whole_number(age, "age", errors, low=0, high=OLDEST_AGE,
                          message=_("Enter the age in years, from 0 to %(oldest)d.") % {
                              "oldest": OLDEST_AGE})
    if born is None or suspected is None or "birth_date" in errors:
        return typed
    if suspected < born:
        errors.setdefault("suspected_on", []).append(_("The date is before the birth date."))
        return typed
    years = _years_between(born, suspected)
    if typed is not None and typed != years:
        errors.setdefault("age", []).append(
            _("The birth date gives %(years)d years on the day the person was suspected.")
            % {"years": years})
    return years


def _derive_index(person: SuspectedPerson) -> None:
    born = datetime.date.fromisoformat(person.birth_date) if person.birth_date else None
    person.name_index = non_punishment.suspect_name_index(person.given_name,
                                                          person.family_name, born)


def record_suspect(actor: User, criminal_case: CriminalCase, gender: str, role: str,
                   suspected_on, given_name: str = "", family_name: str = "",
                   birth_date=None, age=None, citizenships=(),
                   channel: str = "") -> SuspectedPerson:
    """Record a person suspected in the criminal case; a suspect who also has a victim's case
    raises a non-punishment alert (CETS 197 art. 26)."""
    access.ensure_can_record(actor, criminal_case)
    errors: dict = {}
    given, family, born = _identity(given_name, family_name, birth_date, errors)
    gender = _code(gender, "genders", "gender", errors,
                   required=_("Choose the person's sex."))
    role = _code(role, "perpetrator_roles", "role", errors,
                 required=_("Choose the person's role in the offence."))
    suspected = _date(suspected_on, "suspected_on", errors,
                      required=_("Give the date the person was first suspected."))
    _not_before(suspected, criminal_case.opened_on, "suspected_on", errors,
                _("The date is before the investigation was opened."))
    years = _age(age, born, suspected, errors)
    countries = clean_codes(citizenships, "countries", "citizenships", errors)
    _raise(errors)
    with transaction.atomic():
        criminal_case = _locked(criminal_case)
        person = SuspectedPerson(
            criminal_case=criminal_case, given_name=given, family_name=family,
            birth_date=born.isoformat() if born else "", gender=gender, age=years,
            citizenships=countries, role=role, suspected_on=suspected, recorded_by=actor)
        _derive_index(person)
        person.save()
        fields = ["gender", "role", "suspected_on"] + [
            name for name, value in (("given_name", given), ("family_name", family),
                                     ("birth_date", born), ("age", years),
                                     ("citizenships", countries)) if value not in ("", None, [])]
        _audit(actor, Action.CREATE, "suspected_person", criminal_case, fields, channel)
        non_punishment.check_suspect(person)
    return person


def update_suspect_identity(actor: User, person: SuspectedPerson, given_name: str,
                            family_name: str, birth_date, gender: str | None = None,
                            citizenships=None, channel: str = "") -> SuspectedPerson:
    """Correct or complete the person's identity (and, if given, sex and citizenships); the
    age follows a new birth date, and the non-punishment check runs again."""
    access.ensure_can_record(actor, person.criminal_case)
    errors: dict = {}
    given, family, born = _identity(given_name, family_name, birth_date, errors)
    if gender is not None:
        gender = _code(gender, "genders", "gender", errors,
                       required=_("Choose the person's sex."))
    countries = (None if citizenships is None
                 else clean_codes(citizenships, "countries", "citizenships", errors))
    years = _age(None, born, person.suspected_on, errors) if born else person.age
    if "suspected_on" in errors:  # the birth date, not the recorded suspicion, is wrong
        errors.setdefault("birth_date", []).extend(errors.pop("suspected_on"))
    _raise(errors)
    with transaction.atomic():
        _locked(person.criminal_case)
        person = SuspectedPerson.objects.select_for_update().get(pk=person.pk)
        values = {"given_name": given, "family_name": family,
                  "birth_date": born.isoformat() if born else "", "age": years}
        if gender is not None:
            values["gender"] = gender
        if countries is not None:
            values["citizenships"] = countries
        changed = [name for name, value in values.items() if getattr(person, name) != value]
        if not changed:
            return person
        for name in changed:
            setattr(person, name, values[name])
        identity_changed = any(name in IDENTITY_FIELDS for name in changed)
        if identity_changed:
            _derive_index(person)
        person.save(update_fields=changed + (["name_index"] if identity_changed else []))
        _audit(actor, Action.UPDATE, "suspected_person", person.criminal_case, changed, channel)
        if identity_changed:
            non_punishment.check_suspect(person)
    return person


def record_indictment(actor: User, person: SuspectedPerson, prosecuted_on,
                      channel: str = "") -> SuspectedPerson:
    """Record the day the person was indicted (prosecuted)."""
    access.ensure_can_record(actor, person.criminal_case)
    errors: dict = {}
    prosecuted = _date(prosecuted_on, "prosecuted_on", errors,
                       required=_("Give the date the person was indicted."))
    _raise(errors)
    with transaction.atomic():
        _locked(person.criminal_case)
        person = SuspectedPerson.objects.select_for_update().get(pk=person.pk)
        _not_before(prosecuted, person.suspected_on, "prosecuted_on", errors,
                    _("The date is before the person was suspected."))
        if person.outcome_on and prosecuted > person.outcome_on:
            errors.setdefault("prosecuted_on", []).append(
                _("The date is after the outcome was recorded."))
        _raise(errors)
        person.prosecuted_on = prosecuted
        person.save(update_fields=["prosecuted_on"])
        _audit(actor, Action.UPDATE, "suspected_person", person.criminal_case,
               ("prosecuted_on",), channel)
    return person


def _sentence(outcome: str, sentence_type, sentence_months, errors: dict):
    """The sentence: only a conviction carries one, and a prison sentence has a length."""
    if outcome != CONVICTED:
        if sentence_type or sentence_months not in (None, ""):
            errors.setdefault("sentence_type", []).append(
                _("Only a conviction carries a sentence."))
        return "", None
    kind = _code(sentence_type, "sentence_types", "sentence_type", errors,
                 required=_("Choose the sentence."))
    months = _whole_number(sentence_months, "sentence_months", errors, low=1,
                           high=LONGEST_SENTENCE_MONTHS,
                           message=_("Enter the length in months, from 1 to %(most)d.") % {
                               "most": LONGEST_SENTENCE_MONTHS})
    if kind in SENTENCES_IN_MONTHS and months is None and "sentence_months" not in errors:
        errors["sentence_months"] = [_("Give the length of the sentence in months.")]
    if kind in SENTENCES_WITHOUT_LENGTH and months is not None:
        errors.setdefault("sentence_months", []).append(_("A fine has no length in months."))
    return kind, months


def record_outcome(actor: User, person: SuspectedPerson, outcome: str, outcome_on,
                   sentence_type: str = "", sentence_months=None,
                   assets_confiscated_eur=None, channel: str = "") -> SuspectedPerson:
    """Record how the prosecution of the person ended: the outcome and its date, for a
    conviction the sentence, and the assets confiscated; the victims' proceedings follow."""
    access.ensure_can_record(actor, person.criminal_case)
    errors: dict = {}
    outcome = _code(outcome, "prosecution_outcomes", "outcome", errors,
                    required=_("Choose the outcome."))
    decided = _date(outcome_on, "outcome_on", errors,
                    required=_("Give the date of the outcome."))
    kind, months = _sentence(outcome, sentence_type, sentence_months, errors)
    assets = _amount(assets_confiscated_eur, "assets_confiscated_eur", errors)
    with transaction.atomic():
        _locked(person.criminal_case)
        person = SuspectedPerson.objects.select_for_update().get(pk=person.pk)
        if person.prosecuted_on is None:
            errors.setdefault("outcome", []).append(
                _("Record the day the person was indicted first."))
        else:
            _not_before(decided, person.prosecuted_on, "outcome_on", errors,
                        _("The date is before the person was indicted."))
        _raise(errors)
        person.outcome, person.outcome_on = outcome, decided
        person.sentence_type, person.sentence_months = kind, months
        person.assets_confiscated_eur = assets
        fields = ["outcome", "outcome_on", "sentence_type", "sentence_months",
                  "assets_confiscated_eur"]
        person.save(update_fields=fields)
        _audit(actor, Action.UPDATE, "suspected_person", person.criminal_case, fields, channel)
        # A conviction decides where the victims' proceedings end (`victims.proceeding_stage`).
        victims.follow_stage(person.criminal_case, actor)
    return person


def read_suspect(actor: User, criminal_case: CriminalCase, pk,
                 channel: str = "") -> SuspectedPerson | None:
    """The person `pk` of the criminal case, recording that their identity was shown (None
    when the case has no such person)."""
    access.ensure_visible(actor, criminal_case)
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        return None
    person = criminal_case.persons.filter(pk=pk).first()
    if person is not None:
        _audit(actor, Action.READ, "suspected_person", criminal_case, IDENTITY_FIELDS,
               channel)
    return person
