"""Finding a person in any spelling, without decrypting the register.

The index: for every person, keyed digests (`NameToken`) of each word of the given name,
family name and other names as written, of its transliterations and of a key of similar
spellings (`cases.normalise`), and of the birth date, the date with day and month swapped
and the birth month. The birth year is a clear column of `Person` already.

A search computes the same digests from what the user typed, looks them up among the
persons the user may see (`cases.access`), and ranks persons by what matched: each word
typed counts by its best match (exact, transliteration, similar spelling), the birth date by
how far it agrees (date, swapped day and month, month, year, year ±1). Nothing is decrypted
to rank: only the persons returned are, to show them to a user who may see identities, and
each case shown is recorded in the audit trail as a search.

The index is written by `index_persons` from the one write path (`cases.services`) and
rebuilt from the encrypted fields by `reindex_persons` (`opennrm manage reindex_persons`).
"""

import hmac
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.db.models.query import EmptyQuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from opennrm.accounts.models import User
from opennrm.audit.models import Action
from opennrm.audit.services import AuditEvent, record_events
from opennrm.cases import access, normalise
from opennrm.cases.models import Case, NameToken, Person
from opennrm.core.keyring import get_keyring
from opennrm.core.validation import TextLimit, check_characters, is_storable_text

Kind = NameToken.Kind

# The name fields indexed, each with its kinds: as written, transliterated, similar.
NAME_PARTS = {
    "given_name": (Kind.GIVEN_NAME, Kind.GIVEN_NAME_SPELLING, Kind.GIVEN_NAME_SOUND),
    "family_name": (Kind.FAMILY_NAME, Kind.FAMILY_NAME_SPELLING, Kind.FAMILY_NAME_SOUND),
    "aliases": (Kind.OTHER_NAME, Kind.OTHER_NAME_SPELLING, Kind.OTHER_NAME_SOUND),
}
PART_OF_KIND = {kind: part for part, kinds in NAME_PARTS.items() for kind in kinds}
SOUND_KINDS = frozenset(kinds[2] for kinds in NAME_PARTS.values())
WRITTEN_KINDS = frozenset(kinds[0] for kinds in NAME_PARTS.values())

# What a match is worth. A word typed counts once, by its best match; the birth date once,
# by its closest agreement; a birth year further than a year off counts against.
EXACT, TRANSLITERATION, SIMILAR = "exact", "transliteration", "similar"
WORD_WEIGHTS = {EXACT: 1.0, TRANSLITERATION: 0.9, SIMILAR: 0.6}
DATE, SWAPPED, MONTH, YEAR, NEAR_YEAR = "date", "swapped", "month", "year", "near_year"
DATE_WEIGHTS = {DATE: 1.0, SWAPPED: 0.7, MONTH: 0.5, YEAR: 0.3, NEAR_YEAR: 0.1}
OTHER_YEAR_PENALTY = -0.5
# A person is a candidate only if at least one word matched.
MIN_NAME_SCORE = WORD_WEIGHTS[SIMILAR]
# "This person may already be known": two words, or one word and the birth date.
DUPLICATE_SCORE = 1.6
DEFAULT_LIMIT = 10
MAX_LIMIT = 50
MAX_WORDS = 8

# The identity fields a search result shows (and the audit entry names).
SHOWN_FIELDS = ("given_name", "family_name", "aliases", "birth_date")
SEARCH_REASON = "person search"
DUPLICATE_REASON = "possible duplicate at registration"

_PART_LABELS = {
    "given_name": gettext_lazy("given name"),
    "family_name": gettext_lazy("family name"),
    "aliases": gettext_lazy("other name"),
}
_MATCH_LABELS = {
    EXACT: gettext_lazy("exact"),
    TRANSLITERATION: gettext_lazy("transliteration"),
    SIMILAR: gettext_lazy("similar spelling"),
}
_DATE_LABELS = {
    DATE: gettext_lazy("birth date"),
    SWAPPED: gettext_lazy("birth date with day and month swapped"),
    MONTH: gettext_lazy("birth month and year"),
    YEAR: gettext_lazy("birth year"),
    NEAR_YEAR: gettext_lazy("birth year ±1"),
}


# --- the digests -------------------------------------------------------------------------

def _digest(domain: str, value: str) -> int:
    """The keyed digest of `value` in `domain`, as a signed 64-bit integer.

    Words (as written and transliterated) share one domain, so that a Latin word typed meets
    a Cyrillic name's transliteration; similar-spelling keys and dates have their own.
    """
    mac = hmac.digest(get_keyring().index_key,
                      f"person-search\x1f{domain}\x1f{value}".encode(), "sha256")
    return int.from_bytes(mac[:8], "big", signed=True)


def _word_digests(word: str) -> tuple[int, set[int], set[int]]:
    """(as written, transliterations, similar spellings) of one word."""
    written = normalise.written_form(word)
    spellings = normalise.spellings(word)
    return (_digest("word", written),
            {_digest("word", spelling) for spelling in spellings if spelling != written},
            {_digest("sound", key) for spelling in spellings
             if (key := normalise.sound_key(spelling))})


def _names(person: Person) -> dict[str, list[str]]:
    return {"given_name": normalise.name_words(person.given_name),
            "family_name": normalise.name_words(person.family_name),
            "aliases": normalise.name_words(*(person.aliases or []))}


def person_tokens(person: Person) -> dict[int, int]:
    """The index entries of `person` (digest → kind), from its decrypted fields."""
    found: dict[int, int] = {}
    for part, words in _names(person).items():
        written_kind, spelling_kind, sound_kind = NAME_PARTS[part]
        for word in words:
            written, spellings, sounds = _word_digests(word)
            # One row per digest: the first kind wins (given before family before other
            # names; as written before transliterated before similar).
            found.setdefault(written, written_kind)
            for digest in spellings:
                found.setdefault(digest, spelling_kind)
            for digest in sounds:
                found.setdefault(digest, sound_kind)
    birth_date = parse_date(person.birth_date) if person.birth_date else None
    if birth_date:
        found.setdefault(_digest("date", birth_date.isoformat()), Kind.BIRTH_DATE)
        if other := normalise.swapped(birth_date):
            found.setdefault(_digest("date", other.isoformat()), Kind.BIRTH_DATE_SWAPPED)
        found.setdefault(_digest("month", f"{birth_date:%Y-%m}"), Kind.BIRTH_MONTH)
    return found


def index_persons(persons: Iterable[Person], *, new: bool = False) -> None:
    """Write the index entries of saved persons, replacing any they had (call inside the
    transaction that writes the persons); `new`: just created, they have none."""
    persons = list(persons)
    if not new:
        NameToken.objects.filter(person__in=[p.pk for p in persons]).delete()
    rows = [(person.pk, int(kind), digest) for person in persons
            for digest, kind in person_tokens(person).items()]
    # Three integers a row, written as such: model instances and `bulk_create` doubled the
    # cost of registering a person.
    table = connection.ops.quote_name(NameToken._meta.db_table)
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 5000):
            cursor.executemany(f"INSERT INTO {table} (person_id, kind, digest) "
                               "VALUES (%s, %s, %s)", rows[start:start + 5000])


def unindex_person(person: Person) -> None:
    """Drop a person's index entries (their identity was erased)."""
    NameToken.objects.filter(person=person).delete()


def reindex_persons(actor=None, channel: str = "cli", batch_size: int = 500,
                    progress: Callable[[int], None] | None = None) -> int:
    """Rebuild the whole index from the encrypted fields, in batches of `batch_size`
    persons, each its own transaction, and record it in the audit trail (`actor`: the
    operator). Returns the number of persons indexed.

    The one place that decrypts every person: run by the operator after an upgrade that adds
    or changes the index (the `reindex_persons` management command); searches never do.
    """
    done, last = 0, 0
    while True:
        batch = list(Person.objects.filter(pk__gt=last).order_by("pk").only(
            "pk", "given_name", "family_name", "aliases", "birth_date")[:batch_size])
        if not batch:
            record_events(actor, [AuditEvent(Action.UPDATE, "person_index", "",
                                             ("given_name", "family_name", "aliases",
                                              "birth_date"), f"{done} persons reindexed")],
                          channel)
            return done
        with transaction.atomic():
            index_persons(batch)
        done += len(batch)
        last = batch[-1].pk
        if progress is not None:
            progress(done)


# --- what the user typed -----------------------------------------------------------------

@dataclass(frozen=True)
class PersonQuery:
    """A search: any part of a name, and at most one of a birth date, a year (with or without
    the month) or an age range."""

    name: str
    birth_date: date | None = None
    birth_year: int | None = None
    birth_month: int | None = None
    age_from: int | None = None
    age_to: int | None = None

    @property
    def words(self) -> list[str]:
        return normalise.name_words(self.name)[:MAX_WORDS]

    def birth_years(self, today: date) -> tuple[int, int] | None:
        """The birth years an age range allows (someone 30 today was born last year or the
        year before, minus 30)."""
        if self.age_from is None and self.age_to is None:
            return None
        oldest = self.age_to if self.age_to is not None else 130
        youngest = self.age_from if self.age_from is not None else 0
        return today.year - oldest - 1, today.year - youngest


def _whole_number(value, field: str, errors: dict, low: int, high: int,
                  message: str) -> int | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        errors.setdefault(field, []).append(message)
        return None
    try:
        number = int(value)
    except ValueError:
        errors.setdefault(field, []).append(message)
        return None
    if not low <= number <= high:
        errors.setdefault(field, []).append(message)
        return None
    return number


def clean_query(data: dict) -> PersonQuery:
    """Validate a search (the web form's and the API's fields); one ValidationError with a
    message per field."""
    errors: dict[str, list[str]] = {}
    today = timezone.localdate()
    name = data.get("name") or ""
    if not isinstance(name, str) or not is_storable_text(name):
        errors["name"] = [_("Enter text.")]
        name = ""
    name = name.strip()
    if name and check_characters(name, "name", errors) and len(name) > TextLimit.IDENTITY:
        errors.setdefault("name", []).append(
            _("Enter at most %(limit)d characters.") % {"limit": TextLimit.IDENTITY})
    if "name" not in errors and not normalise.name_words(name):
        errors["name"] = [_("Type at least one name, or part of one.")]
    birth_date = data.get("birth_date")
    if isinstance(birth_date, str):
        birth_date = parse_date(birth_date) if birth_date else None
    if birth_date is not None and not isinstance(birth_date, date):
        errors["birth_date"] = [_("Enter a date.")]
        birth_date = None
    if birth_date and birth_date > today:
        errors["birth_date"] = [_("The birth date is in the future.")]
    year = _whole_number(data.get("birth_year"), "birth_year", errors, 1900, today.year,
                         _("Enter a year between 1900 and %(year)d.") % {"year": today.year})
    month = _whole_number(data.get("birth_month"), "birth_month", errors, 1, 12,
                          _("Choose a month."))
    age_message = _("Enter an age between 0 and 130.")
    age_from = _whole_number(data.get("age_from"), "age_from", errors, 0, 130, age_message)
    age_to = _whole_number(data.get("age_to"), "age_to", errors, 0, 130, age_message)
    if month is not None and year is None and "birth_year" not in errors:
        errors.setdefault("birth_year", []).append(_("Give the year of the birth month."))
    if age_from is not None and age_to is not None and age_from > age_to:
        errors.setdefault("age_to", []).append(_("The upper age is below the lower one."))
    given = [birth_date is not None, year is not None, age_from is not None or age_to is not None]
    if sum(given) > 1:
        errors.setdefault("birth_date", []).append(
            _("Give either the birth date, or the year (and month), or an age range."))
    if errors:
        raise ValidationError(errors)
    return PersonQuery(name=name, birth_date=birth_date, birth_year=year, birth_month=month,
                       age_from=age_from, age_to=age_to)


# --- ranking -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Reason:
    """One thing that matched: a name field and how (`match`), or the birth date."""

    part: str  # given_name, family_name, aliases, or birth_date
    match: str

    def __str__(self) -> str:
        if self.part == "birth_date":
            return str(_DATE_LABELS[self.match])
        return _("%(part)s (%(match)s)") % {"part": _PART_LABELS[self.part],
                                            "match": _MATCH_LABELS[self.match]}


@dataclass
class PersonMatch:
    """A person found, with why, and the cases of theirs the user may see (`cases`) or may
    link to as the same person (`linkable_cases`, other agencies': shown without identity)."""

    person: Person
    score: float
    reasons: list[Reason]
    cases: list[Case] = field(default_factory=list)
    linkable_cases: list[Case] = field(default_factory=list)
    identity_shown: bool = False

    @property
    def explanation(self) -> str:
        return ", ".join(str(reason) for reason in self.reasons)


@dataclass
class _Terms:
    """The digests of a query: word digest → [(word position, typed as written?)], and the
    dates."""

    words: dict[int, list[tuple[int, bool]]]
    sounds: dict[int, list[int]]
    dates: dict[int, str]

    @property
    def digests(self) -> list[int]:
        return [*self.words, *self.sounds, *self.dates]


def _terms(query: PersonQuery) -> _Terms:
    words: dict[int, list[tuple[int, bool]]] = defaultdict(list)
    sounds: dict[int, list[int]] = defaultdict(list)
    for position, word in enumerate(query.words):
        written, spellings, similar = _word_digests(word)
        words[written].append((position, True))
        for digest in spellings:
            words[digest].append((position, False))
        for digest in similar:
            sounds[digest].append(position)
    dates: dict[int, str] = {}
    if query.birth_date:
        dates[_digest("date", query.birth_date.isoformat())] = DATE
        dates[_digest("month", f"{query.birth_date:%Y-%m}")] = MONTH
    elif query.birth_year and query.birth_month:
        dates[_digest("month", f"{query.birth_year:04d}-{query.birth_month:02d}")] = MONTH
    return _Terms(dict(words), dict(sounds), dates)


def _word_match(kind: int, typed_as_written: bool) -> str:
    if kind in SOUND_KINDS:
        return SIMILAR
    if kind in WRITTEN_KINDS and typed_as_written:
        return EXACT
    return TRANSLITERATION


def _date_reason(query: PersonQuery, matched: set[str], birth_year: int | None
                 ) -> tuple[float, Reason | None]:
    """What the birth date adds: the closest agreement, or a penalty for another year."""
    if DATE in matched:
        return DATE_WEIGHTS[DATE], Reason("birth_date", DATE)
    if SWAPPED in matched:
        return DATE_WEIGHTS[SWAPPED], Reason("birth_date", SWAPPED)
    if MONTH in matched:
        return DATE_WEIGHTS[MONTH], Reason("birth_date", MONTH)
    year = query.birth_date.year if query.birth_date else query.birth_year
    if year is None or birth_year is None:
        return 0.0, None
    if birth_year == year:
        return DATE_WEIGHTS[YEAR], Reason("birth_date", YEAR)
    if abs(birth_year - year) == 1:
        return DATE_WEIGHTS[NEAR_YEAR], Reason("birth_date", NEAR_YEAR)
    return OTHER_YEAR_PENALTY, None


def _rank(query: PersonQuery, terms: _Terms, rows: Iterable[tuple[int, int, int, int | None]],
          limit: int, min_score: float) -> list[tuple[int, float, list[Reason]]]:
    """(person id, score, reasons) of the best `limit` persons, from the index rows
    (person id, kind, digest, birth year) that matched the query's digests."""
    best: dict[int, dict[int, tuple[float, Reason]]] = defaultdict(dict)
    dates: dict[int, set[str]] = defaultdict(set)
    years: dict[int, int | None] = {}
    for person_id, kind, digest, birth_year in rows:
        years[person_id] = birth_year
        if digest in terms.dates:
            if kind == Kind.BIRTH_DATE_SWAPPED and terms.dates[digest] == DATE:
                dates[person_id].add(SWAPPED)
            elif kind in (Kind.BIRTH_DATE, Kind.BIRTH_MONTH):
                dates[person_id].add(terms.dates[digest])
            continue
        part = PART_OF_KIND.get(kind)
        if part is None:
            continue
        if kind in SOUND_KINDS:
            matches = [(position, SIMILAR) for position in terms.sounds.get(digest, ())]
        else:
            matches = [(position, _word_match(kind, as_written))
                       for position, as_written in terms.words.get(digest, ())]
        words = best[person_id]
        for position, match in matches:
            weight = WORD_WEIGHTS[match]
            if position not in words or words[position][0] < weight:
                words[position] = (weight, Reason(part, match))
    ranked = []
    for person_id, words in best.items():
        name_score = sum(weight for weight, _reason in words.values())
        if name_score < MIN_NAME_SCORE:
            continue
        date_score, date_reason = _date_reason(query, dates[person_id], years[person_id])
        score = round(name_score + date_score, 3)
        if score < min_score:
            continue
        reasons = [reason for _position, (_weight, reason) in sorted(words.items())]
        if date_reason is not None:
            reasons.append(date_reason)
        ranked.append((person_id, score, reasons))
    ranked.sort(key=lambda found: (-found[1], -found[0]))
    return ranked[:limit]


def _candidate_rows(user: User, query: PersonQuery, terms: _Terms):
    """The index rows matching the query's digests, of persons `user` may see or link to."""
    # Correlated (EXISTS): the few rows the digests find are each checked against the
    # person's cases; `person_id IN (the agency's cases)` made the database pair every
    # digest with every person of the agency.
    person = OuterRef("person_id")
    visible = Exists(access.cases_visible_to(user).filter(person_id=person))
    linkable = access.cases_open_for_same_person_link(user)
    if not isinstance(linkable, EmptyQuerySet):
        visible |= Exists(linkable.filter(person_id=person))
    rows = NameToken.objects.filter(digest__in=terms.digests).filter(visible)
    if years := query.birth_years(timezone.localdate()):
        rows = rows.filter(person__birth_year__range=years)
    return rows.values_list("person_id", "kind", "digest", "person__birth_year").iterator(
        chunk_size=5000)


# --- searching ---------------------------------------------------------------------------

def _cases_of(person_ids: list[int], allowed) -> "QuerySet[Case]":
    """The cases of these persons that are in `allowed`. Looked up by person and checked
    case by case (EXISTS), unordered: `allowed.filter(person_id__in=…)` let the database
    walk all the agency's cases when it has no statistics (SQLite without ANALYZE)."""
    return (Case.objects.filter(person_id__in=person_ids)
            .filter(Exists(allowed.filter(pk=OuterRef("pk")))).select_related("owner_agency")
            .order_by())


def _matches(user: User, ranked: list[tuple[int, float, list[Reason]]]) -> list[PersonMatch]:
    """The persons ranked, with their cases; identities only for roles that may see them, and
    only of persons with a case of the user's own agency."""
    ids = [person_id for person_id, _score, _reasons in ranked]
    if not ids:
        return []
    shows_identity = access.can_see_identity(user)
    cases = defaultdict(list)
    found = _cases_of(ids, access.cases_visible_to(user)).only(
        "case_number", "person_id", "status", "victim_status", "is_child", "age_band",
        "exploitation_forms", "first_contact_on", "registered_at", "owner_agency__code",
        "owner_agency__name")
    for case in sorted(found, key=lambda case: case.registered_at, reverse=True):
        cases[case.person_id].append(case)
    linkable = defaultdict(list)
    opened = access.cases_open_for_same_person_link(user)
    if not isinstance(opened, EmptyQuerySet):
        for case in _cases_of(ids, opened).only("case_number", "person_id",
                                                "owner_agency__code", "owner_agency__name"):
            linkable[case.person_id].append(case)
    identity_ids = [person_id for person_id in ids if shows_identity and cases[person_id]]
    fields = ("pk", "gender", "birth_year", *(SHOWN_FIELDS if identity_ids else ()))
    persons = {person.pk: person for person in
               Person.objects.filter(pk__in=ids).only(*fields)}
    return [PersonMatch(person=persons[person_id], score=score, reasons=reasons,
                        cases=cases[person_id], linkable_cases=linkable[person_id],
                        identity_shown=person_id in identity_ids)
            for person_id, score, reasons in ranked if cases[person_id] or linkable[person_id]]


def _record(user: User, matches: list[PersonMatch], reason: str, channel: str) -> None:
    events = []
    for match in matches:
        fields = SHOWN_FIELDS if match.identity_shown else ()
        events += [AuditEvent(Action.SEARCH, "case", case.case_number, fields, reason)
                   for case in match.cases]
        events += [AuditEvent(Action.SEARCH, "case", case.case_number, (),
                              f"{reason}: same person as?") for case in match.linkable_cases]
    if events:
        record_events(user, events, channel)


def search_persons(user: User, query: PersonQuery, *, limit: int = DEFAULT_LIMIT,
                   channel: str = "", min_score: float = 0.0,
                   reason: str = SEARCH_REASON) -> list[PersonMatch]:
    """The persons best matching `query` among those `user` may see, best first, each with
    why it matched; every case shown is recorded in the audit trail."""
    if not access.handles_cases(user):
        return []
    limit = max(1, min(limit, MAX_LIMIT))
    terms = _terms(query)
    ranked = _rank(query, terms, _candidate_rows(user, query, terms), limit, min_score)
    matches = _matches(user, ranked)
    _record(user, matches, reason, channel)
    return matches


def possible_duplicates(user: User, data: dict, channel: str = "",
                        limit: int = 5) -> list[PersonMatch]:
    """Persons the user may see who may be the one being registered (`data`: the
    registration's cleaned fields): the same search with the names and birth date typed,
    keeping only strong candidates."""
    names = [data.get("given_name") or "", data.get("family_name") or "",
             *(data.get("aliases") or [])]
    name = " ".join(part for part in names if part)
    if not normalise.name_words(name):
        return []
    birth_date = data.get("birth_date")
    if isinstance(birth_date, str):
        birth_date = parse_date(birth_date)
    query = PersonQuery(name=name[:TextLimit.IDENTITY * 3], birth_date=birth_date,
                        birth_year=None if birth_date else data.get("birth_year"))
    return search_persons(user, query, limit=limit, channel=channel, min_score=DUPLICATE_SCORE,
                          reason=DUPLICATE_REASON)
