"""The one write path for persons, cases and consent.

The web UI, the REST API, the CLI and imports call these functions; each validates, writes
and records the audit trail in one transaction, so bad input changes nothing.
"""

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from opennrm.accounts.models import Agency, User
from opennrm.audit.models import Action
from opennrm.audit.services import AuditEvent, record_events
from opennrm.cases import access, age, person_search, same_person, signals
from opennrm.cases.age import AgeUncertainty
from opennrm.cases.models import Case, CaseStatus, Consent, Person, VictimStatus
from opennrm.cases.normalise import search_key
from opennrm.core import codelists
from opennrm.core.keyring import get_keyring
from opennrm.core.validation import (
    CountLimit,
    TextLimit,
    check_characters,
    check_count,
    check_length,
    clean_code,
    clean_codes,
    clean_date,
    clean_identity_text,
    clean_phone,
    is_storable_text,
)

PERSON_IDENTITY_FIELDS = (
    "given_name", "family_name", "aliases", "birth_date", "identity_documents", "phone",
    "address",
)
PERSON_DEMOGRAPHIC_FIELDS = (
    "gender", "birth_year", "age_uncertainty", "citizenships", "languages",
)
CASE_FIELDS = (
    "first_contact_on", "first_contact_place", "referral_source", "exploitation_forms",
    "labour_sector", "recruitment_countries",
    "transit_countries", "exploitation_countries", "exploitation_started_on",
    "exploitation_ended_on", "means_of_control", "recruiter_relation", "notes",
)
EDITABLE_FIELDS = PERSON_IDENTITY_FIELDS + PERSON_DEMOGRAPHIC_FIELDS + CASE_FIELDS
# The fields the person search indexes (`person_search.person_tokens`).
INDEXED_FIELDS = frozenset({"given_name", "family_name", "aliases", "birth_date"})
# Fields holding personal data: reading or writing them is audited field by field.
PERSONAL_DATA_FIELDS = PERSON_IDENTITY_FIELDS + ("notes",)
# What the case page shows before "show identity" is pressed.
MASKED_PAGE_FIELDS = tuple(name for name in PERSON_DEMOGRAPHIC_FIELDS + CASE_FIELDS
                           if name not in PERSONAL_DATA_FIELDS)

_CASE_NUMBER_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32


# --- validation --------------------------------------------------------------------------

def _as_list(value, field: str, errors: dict) -> list:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    if isinstance(value, (list, tuple)):
        return list(value)
    errors.setdefault(field, []).append(_("Enter a list."))
    return []


def clean_fields(data: dict, *, partial: bool, region: str = "") -> dict:
    """Validate and normalise the editable fields in `data`.

    Raises ValidationError with a message per field. With `partial`, only the fields present
    are checked (an update); otherwise required fields must be there (a registration).
    `region` is the country of a telephone number typed without its country code (the
    agency's; the node's country when not given). Telephones are stored in E.164.
    """
    region = region or settings.OPENNRM_COUNTRY
    errors: dict[str, list[str]] = {}
    unknown = sorted(set(data) - set(EDITABLE_FIELDS) - {"age_uncertain"})
    for name in unknown:
        errors[name] = [_("This field does not exist or cannot be changed here.")]
    clean: dict = {}

    def present(name: str) -> bool:
        return name in data

    for name in ("given_name", "family_name"):
        if present(name):
            clean[name] = clean_identity_text(data[name], name, errors)
    if present("address"):
        clean["address"] = clean_identity_text(data["address"], "address", errors,
                                               free_text=True)
    if present("phone"):
        clean["phone"] = clean_phone(data["phone"], "phone", errors, region=region)
    if present("notes"):
        value = data["notes"] or ""
        if not isinstance(value, str) or not is_storable_text(value):
            errors.setdefault("notes", []).append(_("Enter text."))
        else:
            clean["notes"] = value.strip()
            if check_characters(clean["notes"], "notes", errors, free_text=True):
                check_length(clean["notes"], "notes", errors, limit=TextLimit.LONG)

    if present("aliases"):
        aliases = _as_list(data["aliases"], "aliases", errors)
        if check_count(aliases, "aliases", errors, limit=CountLimit.ALIASES):
            clean["aliases"] = [
                alias for position, item in enumerate(aliases, start=1)
                if (alias := clean_identity_text(
                    item, "aliases", errors,
                    prefix=_("Name %(position)d: ") % {"position": position}))]

    if present("identity_documents"):
        documents = []
        given = _as_list(data["identity_documents"], "identity_documents", errors)
        if not check_count(given, "identity_documents", errors,
                           limit=CountLimit.IDENTITY_DOCUMENTS):
            given = []
        for position, doc in enumerate(given, start=1):
            prefix = _("Document %(position)d: ") % {"position": position}
            number = (clean_identity_text(doc.get("number"), "identity_documents", errors,
                                          limit=TextLimit.DOCUMENT_NUMBER, prefix=prefix)
                      if isinstance(doc, dict) else "")
            if not number:
                if not isinstance(doc, dict) or not any(
                        message.startswith(prefix)
                        for message in errors.get("identity_documents", [])):
                    errors.setdefault("identity_documents", []).append(
                        _("Document %(position)d: give at least the document number.") % {
                            "position": position}
                    )
                continue
            kind = doc.get("document_type") or "other"
            if not isinstance(kind, str) or kind not in codelists.entries(
                    "identity_document_types"):
                errors.setdefault("identity_documents", []).append(
                    _("Document %(position)d: unknown document type %(code)r.") % {
                        "position": position, "code": kind}
                )
            country = doc.get("country") or ""
            country = country.upper() if isinstance(country, str) else str(country)
            if country and codelists.unknown_codes("countries", [country]):
                errors.setdefault("identity_documents", []).append(
                    _("Document %(position)d: unknown issuing country %(code)r.") % {
                        "position": position, "code": country}
                )
            documents.append({"document_type": kind, "number": number, "country": country})
        clean["identity_documents"] = documents

    today = timezone.localdate()
    if present("birth_date"):
        birth_date = clean_date(data["birth_date"], "birth_date", errors)
        if birth_date and birth_date > today:
            errors.setdefault("birth_date", []).append(_("The birth date is in the future."))
        clean["birth_date"] = birth_date
    if present("birth_year"):
        year = data["birth_year"]
        if year in (None, ""):
            clean["birth_year"] = None
        else:
            try:
                year = int(year)
            except (TypeError, ValueError):
                errors.setdefault("birth_year", []).append(_("Enter a year such as 1994."))
            else:
                if not 1900 <= year <= today.year:
                    errors.setdefault("birth_year", []).append(
                        _("Enter a year between 1900 and %(year)d.") % {"year": today.year}
                    )
                clean["birth_year"] = year
    if clean.get("birth_date") and clean.get("birth_year") not in (None, clean["birth_date"].year):
        errors.setdefault("birth_year", []).append(
            _("The birth year does not match the birth date."))

    if present("age_uncertainty"):
        choice = data["age_uncertainty"] or ""
        if choice not in ("", *AgeUncertainty.values):
            errors.setdefault("age_uncertainty", []).append(
                _("Unknown choice %(code)r.") % {"code": choice})
        clean["age_uncertainty"] = choice
    elif present("age_uncertain"):
        # The former yes/no field (the API still takes it): yes is "possibly a child".
        clean["age_uncertainty"] = (AgeUncertainty.POSSIBLY_CHILD if data["age_uncertain"]
                                    else "")

    if present("gender") or not partial:
        clean["gender"] = clean_code(data.get("gender"), "genders", "gender", errors,
                                     required=_("Choose a gender (or 'Unknown')."))

    for name, codelist in (
        ("citizenships", "countries"), ("languages", "languages"),
        ("exploitation_forms", "exploitation_forms"), ("recruitment_countries", "countries"),
        ("transit_countries", "countries"), ("exploitation_countries", "countries"),
        ("means_of_control", "means_of_control"),
    ):
        if present(name):
            clean[name] = clean_codes(data[name], codelist, name, errors)

    for name, codelist in (("labour_sector", "labour_sectors"),
                           ("recruiter_relation", "recruiter_relations"),
                           ("first_contact_place", "first_contact_places"),
                           ("referral_source", "referral_sources")):
        if present(name):
            clean[name] = clean_code(data[name], codelist, name, errors)

    if present("first_contact_on") or not partial:
        first_contact = clean_date(data.get("first_contact_on"), "first_contact_on", errors)
        if first_contact is None and "first_contact_on" not in errors:
            errors["first_contact_on"] = [_("Give the date of first contact.")]
        elif first_contact and first_contact > today:
            errors.setdefault("first_contact_on", []).append(_("The date is in the future."))
        clean["first_contact_on"] = first_contact
    for name in ("exploitation_started_on", "exploitation_ended_on"):
        if present(name):
            value = clean_date(data[name], name, errors)
            if value and value > today:
                errors.setdefault(name, []).append(_("The date is in the future."))
            clean[name] = value
    if clean.get("exploitation_started_on") and clean.get("exploitation_ended_on"):
        if clean["exploitation_ended_on"] < clean["exploitation_started_on"]:
            errors.setdefault("exploitation_ended_on", []).append(
                _("The end of exploitation is before its start.")
            )

    if errors:
        raise ValidationError(errors)
    return clean


# The fields the first contact is checked against (`_check_against_birth`).
_BIRTH_AND_FIRST_CONTACT = ("birth_date", "birth_year", "age_uncertainty", "first_contact_on")


def check_case_data(data: dict, *, region: str = "") -> None:
    """Raise one ValidationError with every message `register_case` or `update_case` would
    give about the fields in `data`: each field's, and the first contact against the birth
    when those fields are valid. Lets a form show all its messages in one pass."""
    errors: dict[str, list[str]] = {}
    try:
        clean_fields(data, partial=True, region=region)
    except ValidationError as error:
        errors = error.message_dict
    try:
        clean = clean_fields({name: data[name] for name in _BIRTH_AND_FIRST_CONTACT
                              if name in data}, partial=True)
    except ValidationError:
        clean = {}
    if clean.get("first_contact_on"):
        person, case = Person(), Case()
        _apply(person, clean, PERSON_IDENTITY_FIELDS + PERSON_DEMOGRAPHIC_FIELDS)
        _apply(case, clean, CASE_FIELDS)
        _check_against_birth(person, case, errors)
    if errors:
        raise ValidationError(errors)


def _check_against_birth(person: Person, case: Case, errors: dict) -> None:
    birth_date = parse_date(person.birth_date) if person.birth_date else None
    if birth_date and case.first_contact_on and case.first_contact_on < birth_date:
        errors.setdefault("first_contact_on", []).append(
            _("First contact is before the birth date."))
    elif case.first_contact_on and (message := age.contradiction(person,
                                                                 case.first_contact_on)):
        errors.setdefault("age_uncertainty", []).append(message)


# --- derived values ----------------------------------------------------------------------

def age_on(person: Person, on: date) -> int | None:
    """The person's age on `on`: exact with a birth date; with only a birth year, the
    youngest it allows (`cases.age.statistical_age`)."""
    return age.statistical_age(person, on)


def _derive(person: Person, case: Case) -> None:
    """Recompute the blind index, birth year, age band and child flag."""
    birth_date = parse_date(person.birth_date) if person.birth_date else None
    if birth_date:
        person.birth_year = birth_date.year
    key = search_key(person.given_name, person.family_name, birth_date)
    person.name_index = get_keyring().blind_index(key) if key else ""
    years = age.statistical_age(person, case.first_contact_on)
    case.age_at_first_contact = years
    case.age_band = codelists.age_band(years) if years is not None else ""
    # CETS 197 art. 10(3): a person who may be a child is presumed to be one.
    case.is_child = age.may_be_child(person, case.first_contact_on)


def person_search_index(given_name: str, family_name: str, birth_date: date) -> str:
    key = search_key(given_name, family_name, birth_date)
    return get_keyring().blind_index(key) if key else ""


def _new_case_number(country: str) -> str:
    suffix = "".join(secrets.choice(_CASE_NUMBER_ALPHABET) for _position in range(8))
    return f"{country}-{timezone.localdate():%y}-{suffix}"


def _apply(instance, values: dict, names: Iterable[str]) -> list[str]:
    changed = []
    for name in names:
        if name in values:
            value = values[name]
            if name == "birth_date":
                value = value.isoformat() if value else ""
            if getattr(instance, name) != value:
                setattr(instance, name, value)
                changed.append(name)
    return changed


# --- registration ------------------------------------------------------------------------

@dataclass(frozen=True)
class Registration:
    """What a caseworker enters to register a case (field name → value)."""

    data: dict


def register_cases(actor: User, registrations: list[Registration], channel: str = "",
                   agency: Agency | None = None) -> list[Case]:
    """Register several cases at once (an import, the demo), each validated like one.

    Every case gets its own person. The whole batch is one transaction: one invalid entry
    rejects the batch, with its position in the message. `agency`: the owning agency when it
    is not the actor's (the national coordinator assigning a case received from a partner
    node to a local agency); only a national coordinator may name one.
    """
    if not access.can_register_cases(actor):
        raise access.CaseAccessDenied(_("Your role cannot register cases."))
    if agency is not None and agency.pk != actor.agency_id:
        if not access.can_register_for_other_agencies(actor):
            raise access.CaseAccessDenied(_("Only the national coordinator registers cases "
                                            "for another agency."))
    agency = agency or actor.agency
    persons, cases = [], []
    errors_by_entry = {}
    for position, registration in enumerate(registrations):
        try:
            clean = clean_fields(registration.data, partial=False, region=agency.country)
        except ValidationError as error:
            errors_by_entry[position] = error
            continue
        person = Person()
        case = Case(owner_agency=agency,
                    assigned_to=actor if actor.agency_id == agency.pk else None,
                    case_number=_new_case_number(agency.country))
        _apply(person, clean, PERSON_IDENTITY_FIELDS + PERSON_DEMOGRAPHIC_FIELDS)
        _apply(case, clean, CASE_FIELDS)
        # Registration is the first decision: a presumed victim, as of first contact.
        _set_victim_status(case, VictimStatus.PRESUMED, case.first_contact_on, agency, actor)
        errors: dict = {}
        _check_against_birth(person, case, errors)
        if errors:
            errors_by_entry[position] = ValidationError(errors)
            continue
        _derive(person, case)
        persons.append(person)
        cases.append((case, sorted(k for k in clean if clean[k] not in (None, "", []))))
    if errors_by_entry:
        if len(registrations) == 1:
            raise errors_by_entry[0]
        raise ValidationError({
            f"entry {position + 1}": [
                f"{field}: {msg}" for field, msgs in error.message_dict.items() for msg in msgs
            ]
            for position, error in errors_by_entry.items()
        })
    with transaction.atomic():
        Person.objects.bulk_create(persons, batch_size=1000)
        person_search.index_persons(persons, new=True)
        for person, (case, _registration) in zip(persons, cases, strict=True):
            case.person = person
        try:
            with transaction.atomic():
                Case.objects.bulk_create([c for c, _registration in cases], batch_size=1000)
        except IntegrityError:
            # A case-number collision (1 in 10^12): draw new numbers once and retry.
            for case, _registration in cases:
                case.case_number = _new_case_number(agency.country)
            Case.objects.bulk_create([c for c, _registration in cases], batch_size=1000)
        record_events(actor, [
            AuditEvent(Action.CREATE, "case", case.case_number, tuple(fields))
            for case, fields in cases
        ], channel)
        signals.cases_registered.send(sender=Case, cases=[c for c, _r in cases], actor=actor,
                                      channel=channel)
    return [case for case, _registration in cases]


def register_case(actor: User, data: dict, channel: str = "",
                  agency: Agency | None = None, *, person_of_case: str = "",
                  same_person_as: str = "") -> Case:
    """Register a presumed victim: a new person and a case owned by the actor's agency (or
    `agency`, see `register_cases`).

    `person_of_case`: the person is already known, as the person of this case of the
    actor's agency: the new case is theirs, and their identity stays as recorded.
    `same_person_as`: a new person, linked as the same person to this case of another
    agency (`same_person.link_same_person`), in the same transaction.
    """
    if person_of_case:
        return _register_for_known_person(actor, data, person_of_case, channel)
    with transaction.atomic():
        case = register_cases(actor, [Registration(data)], channel, agency=agency)[0]
        if same_person_as:
            try:
                same_person.link_same_person(actor, case, same_person_as,
                                             _("Found while registering."), channel=channel)
            except access.CaseAccessDenied as denied:
                raise ValidationError({"same_as_case": [str(denied)]}) from denied
    return case


def _register_for_known_person(actor: User, data: dict, case_number: str,
                               channel: str) -> Case:
    """A new case of the person of the actor's agency's case `case_number`. Only the case's
    fields are taken from `data`; the person's identity and demographics stay as they are."""
    if not access.can_register_cases(actor):
        raise access.CaseAccessDenied(_("Your role cannot register cases."))
    agency = actor.agency
    clean = clean_fields(data, partial=False, region=agency.country)
    try:
        known = access.get_visible_case(actor, case_number)
    except access.CaseNotFound:
        raise ValidationError({"person_of_case": [
            _("There is no case with this number that you may see.")]}) from None
    if known.owner_agency_id != agency.pk:
        raise ValidationError({"person_of_case": [
            _("Only a person of your own agency's cases can be reused; link the other "
              "agency's case as the same person instead.")]})
    with transaction.atomic():
        person = Person.objects.select_for_update().get(pk=known.person_id)
        case = Case(person=person, owner_agency=agency, assigned_to=actor,
                    case_number=_new_case_number(agency.country))
        _apply(case, clean, CASE_FIELDS)
        _set_victim_status(case, VictimStatus.PRESUMED, case.first_contact_on, agency, actor)
        errors: dict = {}
        _check_against_birth(person, case, errors)
        if errors:
            raise ValidationError(errors)
        _derive(person, case)
        try:
            with transaction.atomic():
                case.save()
        except IntegrityError:  # a case-number collision (1 in 10^12): draw once more
            case.case_number = _new_case_number(agency.country)
            case.save()
        fields = sorted(name for name in CASE_FIELDS if clean.get(name) not in (None, "", []))
        record_events(actor, [AuditEvent(Action.CREATE, "case", case.case_number,
                                         tuple(fields), f"person of {known.case_number}")],
                      channel)
    return case


# --- reading -----------------------------------------------------------------------------

def read_case(actor: User, case_number: str, channel: str = "", reason: str = "",
              identity: bool = True) -> Case:
    """Open one case for `actor`, recording which personal-data fields were shown.

    `identity=False` is the case page with identity masked: the read is recorded without
    the identity fields, which `reveal_identity` records when the user presses "show".
    """
    case = access.get_visible_case(actor, case_number)
    if identity and access.can_see_identity(actor):
        fields, why = PERSONAL_DATA_FIELDS, reason
    else:
        fields, why = MASKED_PAGE_FIELDS, reason or "identity masked"
    record_events(actor, [AuditEvent(Action.READ, "case", case.case_number, fields, why)],
                  channel)
    return case


def relations_with_rows(case: Case, relations: Iterable[str]) -> frozenset[str]:
    """Which of the case's related lists (reverse relations by name, e.g. "referrals",
    "reflection_periods") hold at least one row, in one query.

    The case page has a dozen sections and most cases fill few of them: it asks once, and
    builds the queries of the filled ones only.
    """
    relations = list(relations)
    if not relations:
        return frozenset()
    quote = connection.ops.quote_name
    checks = []
    for name in relations:
        relation = Case._meta.get_field(name)  # the reverse side of a ForeignKey to Case
        checks.append(f"EXISTS (SELECT 1 FROM {quote(relation.related_model._meta.db_table)} "
                      f"WHERE {quote(relation.field.column)} = %s)")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(checks)}", [case.pk] * len(checks))
        found = cursor.fetchone()
    return frozenset(name for name, has_rows in zip(relations, found, strict=True) if has_rows)


def reveal_identity(actor: User, case_number: str, channel: str = "") -> Case:
    """Show the masked identity and notes of a case on screen: its own audit entry."""
    case = access.get_visible_case(actor, case_number)
    if not access.can_see_identity(actor):
        raise access.CaseAccessDenied(_("Your role does not show identities."))
    record_events(actor, [AuditEvent(Action.REVEAL, "case", case.case_number,
                                     PERSONAL_DATA_FIELDS, "shown on screen")], channel)
    return case


def find_cases_by_name(actor: User, given_name: str, family_name: str, birth_date: date,
                       channel: str = "", read=None) -> list:
    """Exact search by normalised name and birth date, among the cases `actor` may see.

    `read` turns the matching cases into the rows the caller shows (the API reads a few
    columns as dicts); by default, cases with their person and agency. Either way nothing
    encrypted is loaded or decrypted: showing a match needs no identity.
    """
    index = person_search_index(given_name, family_name, birth_date)
    if not index:
        return []
    cases = access.cases_visible_to(actor).filter(person__name_index=index)
    if read is None:
        found = list(cases.select_related("owner_agency", "person")
                     .defer("notes", *(f"person__{name}" for name in PERSON_IDENTITY_FIELDS)))
        numbers = [case.case_number for case in found]
    else:
        found = list(read(cases))
        numbers = [row["case_number"] for row in found]
    record_events(actor, [
        AuditEvent(Action.SEARCH, "case", number, ("given_name", "family_name", "birth_date"),
                   "exact name search")
        for number in numbers
    ], channel)
    return found


# --- changes -----------------------------------------------------------------------------

def update_case(actor: User, case: Case, changes: dict, channel: str = "") -> Case:
    """Change fields of an open case and of its person; only changed fields are audited."""
    access.ensure_can_edit(actor, case)
    clean = clean_fields(changes, partial=True, region=case.owner_agency.country)
    with transaction.atomic():
        case = Case.objects.select_for_update().select_related("person").get(pk=case.pk)
        if case.is_closed:
            raise ValidationError({"status": [_("This case is closed. Reopen it to edit.")]})
        person = case.person
        changed = _apply(person, clean, PERSON_IDENTITY_FIELDS + PERSON_DEMOGRAPHIC_FIELDS)
        changed += _apply(case, clean, CASE_FIELDS)
        errors: dict = {}
        _check_against_birth(person, case, errors)
        if errors:
            raise ValidationError(errors)
        if not changed:
            return case
        _derive(person, case)
        person.save()
        case.save()
        if INDEXED_FIELDS.intersection(changed):
            person_search.index_persons([person])
        record_events(actor, [AuditEvent(Action.UPDATE, "case", case.case_number,
                                         tuple(changed))], channel)
    return case


def _set_victim_status(case: Case, status: str, decided_on: date, deciding_agency: Agency,
                       actor) -> None:
    case.victim_status = status
    case.victim_status_decided_on = decided_on
    case.victim_status_decided_by_agency = deciding_agency
    case.victim_status_recorded_by = actor


def decide_victim_status(actor: User, case: Case, status: str, decided_on: date,
                         deciding_agency: Agency | None = None, channel: str = "") -> Case:
    """Record a decision on victim status (e.g. formal identification by an authority).

    Presumed-victim status follows from registration or screening; identified or not a
    victim is the formal decision, which only the designated authority may record.
    """
    formal = status != VictimStatus.PRESUMED
    # The authority a case was referred to for identification records only the formal
    # decision; everything else needs the owning agency.
    if not (formal and access.referred_for_identification(actor, case)):
        access.ensure_can_edit(actor, case)
    if formal and not access.can_decide_identification(actor, case):
        raise access.CaseAccessDenied(
            _("Only the authority designated in this country may decide formal "
              "identification."))
    errors: dict = {}
    if status not in VictimStatus.values:
        errors["victim_status"] = [_("Unknown victim status %(code)r.") % {"code": status}]
    decided = clean_date(decided_on, "victim_status_decided_on", errors)
    if decided is None and "victim_status_decided_on" not in errors:
        errors["victim_status_decided_on"] = [_("Give the date of the decision.")]
    if decided and decided > timezone.localdate():
        errors.setdefault("victim_status_decided_on", []).append(_("The date is in the future."))
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        case = _locked(case)
        _set_victim_status(case, status, decided, deciding_agency or actor.agency, actor)
        case.save(update_fields=["victim_status", "victim_status_decided_on",
                                 "victim_status_decided_by_agency",
                                 "victim_status_recorded_by", "updated_at"])
        record_events(actor, [AuditEvent(Action.UPDATE, "case", case.case_number,
                                         ("victim_status",))], channel)
    return case


def close_case(actor: User, case: Case, reason: str, channel: str = "") -> Case:
    """Close a case with a reason from the closure-reason list."""
    access.ensure_can_edit(actor, case)
    if reason not in codelists.entries("closure_reasons"):
        raise ValidationError({"closure_reason": [_("Choose a reason for closing the case.")]})
    with transaction.atomic():
        case = _locked(case)
        if case.is_closed:
            raise ValidationError({"status": [_("This case is already closed.")]})
        case.status = (CaseStatus.CLOSED_REFERRED if reason == "referred_elsewhere"
                       else CaseStatus.CLOSED)
        case.closure_reason = reason
        case.closed_at = timezone.now()
        case.save(update_fields=["status", "closure_reason", "closed_at", "updated_at"])
        record_events(actor, [AuditEvent(Action.UPDATE, "case", case.case_number,
                                         ("status", "closure_reason"))], channel)
    return case


def reopen_case(actor: User, case: Case, channel: str = "") -> Case:
    access.ensure_can_edit(actor, case)
    with transaction.atomic():
        case = _locked(case)
        if not case.is_closed:
            raise ValidationError({"status": [_("This case is not closed.")]})
        case.status = CaseStatus.ACTIVE
        case.closure_reason = ""
        case.closed_at = None
        case.save(update_fields=["status", "closure_reason", "closed_at", "updated_at"])
        record_events(actor, [AuditEvent(Action.UPDATE, "case", case.case_number,
                                         ("status",))], channel)
    return case


def _locked(case: Case) -> Case:
    """The case re-read under a row lock, so concurrent changes do not overwrite each other."""
    return Case.objects.select_for_update().select_related("person", "owner_agency").get(
        pk=case.pk
    )


# --- consent -----------------------------------------------------------------------------

def record_consent(actor: User, case: Case, purpose: str, given_on, recipient_agency_code: str = "",
                   recipient_node: str = "", channel: str = "") -> Consent:
    """Record consent the person gave for one purpose (with a named recipient for sharing)."""
    access.ensure_can_edit(actor, case)
    errors: dict = {}
    entry = codelists.entries("consent_purposes").get(purpose)
    if entry is None:
        errors["purpose"] = [_("Choose what the person consents to.")]
    given = clean_date(given_on, "given_on", errors)
    if given is None and "given_on" not in errors:
        errors["given_on"] = [_("Give the date the consent was given.")]
    elif given and given > timezone.localdate():
        errors.setdefault("given_on", []).append(_("The date is in the future."))
    recipient_agency = None
    if recipient_agency_code:
        recipient_agency = Agency.objects.filter(
            code=recipient_agency_code.replace("\x00", ""), is_active=True
        ).first()
        if recipient_agency is None:
            errors["recipient_agency"] = [_("No agency with code %(code)r.") % {
                "code": recipient_agency_code}]
    recipient_node = clean_code(recipient_node, "countries", "recipient_node", errors)
    if entry and entry["needs_recipient"] and not (recipient_agency_code or recipient_node):
        errors["recipient_agency"] = [_("Name the agency or partner country the data may go to.")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        consent = Consent.objects.create(
            case=case, purpose=purpose, given_on=given, recorded_by=actor,
            recipient_agency=recipient_agency, recipient_node=recipient_node,
        )
        record_events(actor, [AuditEvent(Action.UPDATE, "consent", case.case_number,
                                         (f"consent.{purpose}",))], channel)
    return consent


def withdraw_consent(actor: User, consent: Consent, withdrawn_on, channel: str = "") -> Consent:
    """Record that the person withdrew a consent. The record stays, marked withdrawn."""
    withdrawn = check_withdrawal(actor, consent, withdrawn_on)
    with transaction.atomic():
        consent.withdrawn_on = withdrawn
        consent.withdrawal_recorded_by = actor
        consent.save(update_fields=["withdrawn_on", "withdrawal_recorded_by"])
        record_events(actor, [AuditEvent(Action.UPDATE, "consent", consent.case.case_number,
                                         (f"consent.{consent.purpose}",))], channel)
        signals.consent_withdrawn.send(sender=Consent, consent=consent, actor=actor,
                                       channel=channel)
    return consent


def check_withdrawal(actor: User, consent: Consent, withdrawn_on) -> date:
    """The date of withdrawal if `actor` may record it on `consent`; ValidationError (every
    message at once) otherwise. Changes nothing: the confirmation step asks it first."""
    access.ensure_can_edit(actor, consent.case)
    errors: dict = {}
    if consent.withdrawn_on is not None:
        errors["withdrawn_on"] = [_("This consent was already withdrawn.")]
    withdrawn = clean_date(withdrawn_on, "withdrawn_on", errors)
    if withdrawn is None and not errors:
        errors["withdrawn_on"] = [_("Give the date the consent was withdrawn.")]
    elif withdrawn and withdrawn < consent.given_on:
        errors.setdefault("withdrawn_on", []).append(
            _("Withdrawal is before the consent was given."))
    elif withdrawn and withdrawn > timezone.localdate():
        errors.setdefault("withdrawn_on", []).append(_("The date is in the future."))
    if errors:
        raise ValidationError(errors)
    return withdrawn


def has_active_consent(case: Case, purpose: str) -> bool:
    return case.consents.in_force().filter(purpose=purpose).exists()


# --- changes a partner node asks for (the transnational referral) -----------------------------
# No local user acts: the node applies what the partner sent, in the transaction that records
# the partner's message, and the audit trail says so.

def apply_partner_correction(case: Case, changes: dict, reason: str,
                             channel: str = "trm") -> list[str]:
    """Correct fields of a case received from a partner node, as the partner corrected them."""
    clean = clean_fields(changes, partial=True, region=case.owner_agency.country)
    with transaction.atomic():
        case = _locked(case)
        person = case.person
        changed = _apply(person, clean, PERSON_IDENTITY_FIELDS + PERSON_DEMOGRAPHIC_FIELDS)
        changed += _apply(case, clean, CASE_FIELDS)
        errors: dict = {}
        _check_against_birth(person, case, errors)
        if errors:
            raise ValidationError(errors)
        if changed:
            _derive(person, case)
            person.save()
            case.save()
            if INDEXED_FIELDS.intersection(changed):
                person_search.index_persons([person])
            record_events(None, [AuditEvent(Action.UPDATE, "case", case.case_number,
                                            tuple(changed), reason)], channel)
    return changed


def erase_identity(case: Case, reason: str, channel: str = "trm") -> list[str]:
    """Blank the person's identity and contact fields (encrypted at rest) of a case: what a
    partner node shared, erased when the person withdrew consent. The age group, sex and the
    case's other fields stay (they identify no one)."""
    with transaction.atomic():
        case = _locked(case)
        person = case.person
        erased = [name for name in PERSON_IDENTITY_FIELDS if getattr(person, name)]
        for name in PERSON_IDENTITY_FIELDS:
            setattr(person, name, [] if name in ("aliases", "identity_documents") else "")
        person.name_index = ""
        person.save()
        person_search.unindex_person(person)
        record_events(None, [AuditEvent(Action.UPDATE, "case", case.case_number,
                                        tuple(erased) or PERSON_IDENTITY_FIELDS,
                                        f"erased: {reason}")], channel)
    return erased
