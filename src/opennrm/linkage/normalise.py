"""Identifiers made comparable across scripts, spellings and formats, for record linkage.

Names: each name part is transliterated by the scheme of the language it is written in,
told by its letters (Є, Ї, Ґ only Ukrainian; Ў, or І beside Ы/Э/Ё, only Belarusian; Ы,
Э, Ё, Ъ beside И only Russian; letters every language shares give every candidate's
spellings). The part keeps every spelling documents give it (`NameForms.forms`, the
language's national or passport scheme first) and the sound keys of those spellings
(`cases.normalise.sound_key`), so that Олександр, Oleksandr and Oleksander meet.

* Ukrainian: the national system of 2010 (KMU, also the passport's), the passport system of
  2007, BGN/PCGN, the German and French renderings (translitua). Є, І, Ї never go through
  a Russian scheme (which would leave them untouched).
* Russian: ICAO Doc 9303 (passports since 2014), the passport system of 1997 and the driving
  licence (translitua).
* Belarusian: translitua has no Belarusian scheme and no maintained Python library gives the
  official ones (the packages that exist follow library cataloguing, GOST 7.79, or
  Łacinka), so the two official tables are here: the Belarusian passport system (ICAO-like:
  Г h, Ў u, Я ia) and the national system of 2007 adopted by the UN (Г h, Ц c, Ч č, Ш š,
  Ў ŭ, Е ie), its diacritics folded.
* Latin: diacritics folded (Romanian ș/ş and ț/ţ alike, Turkish ı, İ, ğ, ş, ç), plus the
  ICAO Doc 9303 machine-readable spellings (ü ue, ö oe, ß ss …) and the spoken ones other
  scripts write (ș sh, ț ts, ç ch, č ch …). MRZ fillers (<) separate words.
* Any other script: anyascii.

Birth dates keep their precision (day, month or year); sex, citizenship (ISO 3166
alpha-2), phone (digits, E.164 when it parses) and document numbers (upper-case
alphanumerics) become codes. A value that cannot be read raises `UnreadableValue` with a
message saying why; an empty value is simply missing.
"""

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

import phonenumbers
import pycountry
import translitua
from anyascii import anyascii

from opennrm.cases.normalise import sound_key


class UnreadableValue(ValueError):
    """A value that is present but cannot be read; the message says why."""


class UnreadableRecord(ValueError):
    """A record with one or more unreadable values: `reasons` maps field to message."""

    def __init__(self, reasons: dict[str, str]):
        self.reasons = reasons
        super().__init__("; ".join(f"{field}: {reason}" for field, reason in reasons.items()))


# --- names -------------------------------------------------------------------------------

_APOSTROPHES = re.compile(r"['\u2019\u02bc\u02b9\u0060\u00b4\u2032]")
_NOT_LETTERS = re.compile(r"[^a-z]+")
SHORTEST_KEY = 3

_UKRAINIAN_ONLY = frozenset("їєґ")
_RUSSIAN_OR_BELARUSIAN = frozenset("ыэё")
_NOT_BELARUSIAN = frozenset("ищъ")

_UKRAINIAN_SCHEMES = (translitua.UkrainianKMU, translitua.UkrainianPassport2007,
                      translitua.UkrainianBGN, translitua.UkrainianGerman,
                      translitua.UkrainianFrench)
_RUSSIAN_SCHEMES = (translitua.RussianICAO, translitua.RussianInternationalPassport,
                    translitua.RussianInternationalPassport1997,
                    translitua.RussianDriverLicense)

# Belarusian: letter -> (after a consonant, at the start of a word or after a vowel).
_BELARUSIAN_VOWELS = frozenset("аеёіоуыэюяў")
_BELARUSIAN_PASSPORT = {
    "а": "a", "б": "b", "в": "v", "г": "h", "ґ": "g", "д": "d", "е": ("e", "ye"),
    "ё": ("io", "yo"), "ж": "zh", "з": "z", "і": "i", "й": "i", "к": "k", "л": "l",
    "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u",
    "ў": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "ы": "y", "ь": "",
    "э": "e", "ю": ("iu", "yu"), "я": ("ia", "ya"),
}
_BELARUSIAN_NATIONAL_2007 = {
    "а": "a", "б": "b", "в": "v", "г": "h", "ґ": "g", "д": "d", "е": ("ie", "je"),
    "ё": ("io", "jo"), "ж": "ž", "з": "z", "і": "i", "й": "j", "к": "k", "л": "l",
    "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u",
    "ў": "ŭ", "ф": "f", "х": "ch", "ц": "c", "ч": "č", "ш": "š", "ы": "y", "ь": "",
    "э": "e", "ю": ("iu", "ju"), "я": ("ia", "ja"),
}

# Latin letters whose spelling differs between scripts and machine-readable zones.
_ICAO_LATIN = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "å": "aa", "æ": "ae",
                             "ø": "oe", "ß": "ss", "þ": "th", "ĳ": "ij"})
_SPOKEN_LATIN = str.maketrans({"ș": "sh", "ş": "sh", "ț": "ts", "ţ": "ts", "ç": "ch",
                               "č": "ch", "ć": "ch", "š": "sh", "ś": "sh", "ž": "zh",
                               "ż": "zh", "ź": "zh", "ő": "o", "ű": "u"})


@dataclass(frozen=True)
class NameForms:
    """The Latin spellings of a name part (lower-case a-z, words joined; the primary one
    first) and their sound keys (the primary one first)."""

    written: str
    forms: tuple[str, ...]
    keys: tuple[str, ...]

    @property
    def primary(self) -> str:
        return self.forms[0]

    @property
    def key(self) -> str:
        return self.keys[0]


def _clean(text: str) -> str:
    """Composed, case-folded, apostrophes and stray combining marks removed; Turkish İ
    folded to i (not to i with a combining dot)."""
    text = unicodedata.normalize("NFC", text).replace("İ", "I").casefold()
    text = _APOSTROPHES.sub("", text)
    return "".join(char for char in text if unicodedata.category(char) != "Mn")


def _fold(text: str) -> str:
    """Lower-case a-z only: diacritics folded, separators dropped."""
    return _NOT_LETTERS.sub("", anyascii(text).lower())


def _is_cyrillic(char: str) -> bool:
    return "CYRILLIC" in unicodedata.name(char, "")


def cyrillic_languages(text: str) -> tuple[str, ...]:
    """The languages ("uk", "ru", "be") a Cyrillic text can be written in, told by its
    letters; empty for a text without Cyrillic letters."""
    letters = set(text.casefold())
    if not any(_is_cyrillic(char) for char in letters):
        return ()
    if letters & _UKRAINIAN_ONLY:
        return ("uk",)
    if "ў" in letters:
        return ("be",)
    if "і" in letters:
        if letters & _RUSSIAN_OR_BELARUSIAN:
            return ("be",)
        return ("uk",) if letters & _NOT_BELARUSIAN else ("uk", "be")
    if letters & _RUSSIAN_OR_BELARUSIAN or "ъ" in letters:
        return ("ru",) if letters & _NOT_BELARUSIAN else ("ru", "be")
    if letters & _NOT_BELARUSIAN:
        return ("uk", "ru")
    return ("uk", "ru", "be")


def _belarusian(text: str, table: dict) -> str:
    out = []
    previous = ""
    for char in text:
        spelling = table.get(char, char)
        if isinstance(spelling, tuple):
            at_start = not previous or previous in _BELARUSIAN_VOWELS or not previous.isalpha()
            spelling = spelling[1] if at_start else spelling[0]
        out.append(spelling)
        previous = char
    return "".join(out)


def _cyrillic_spellings(text: str, language: str) -> list[str]:
    if language == "uk":
        return [translitua.translit(text, scheme) for scheme in _UKRAINIAN_SCHEMES]
    if language == "ru":
        return [translitua.translit(text, scheme) for scheme in _RUSSIAN_SCHEMES]
    return [_belarusian(text, _BELARUSIAN_PASSPORT), _belarusian(text, _BELARUSIAN_NATIONAL_2007)]


def name_forms(text: str, language: str | None = None) -> NameForms | None:
    """The spellings and sound keys of one name part (a given name, a family name, a
    place); None when it has no letters. `language` ("uk", "ru", "be") overrides what the
    letters tell, for a register known to be in one language."""
    cleaned = _clean(text or "").replace("<", " ")
    if not any(char.isalpha() for char in cleaned):
        return None
    spellings: list[str] = []
    languages = (language,) if language else cyrillic_languages(cleaned)
    for each in languages:
        spellings.extend(_cyrillic_spellings(cleaned, each))
    spellings.append(cleaned)
    if not languages:
        spellings.append(cleaned.translate(_ICAO_LATIN))
        spellings.append(cleaned.translate(_SPOKEN_LATIN))
    forms: list[str] = []
    for spelling in spellings:
        form = _fold(spelling)
        if form and form not in forms:
            forms.append(form)
    if not forms:
        return None
    keys = [sound_key(forms[0]) or forms[0]]
    for form in forms[1:]:
        key = sound_key(form)
        # A key much shorter than the primary one comes from a scheme's oddity (the French
        # ї of Їжак gives "ak") and would meet unrelated names.
        if len(key) >= min(SHORTEST_KEY, len(keys[0])) and key not in keys:
            keys.append(key)
    return NameForms(written=text.strip(), forms=tuple(forms), keys=tuple(keys))


# --- birth dates -------------------------------------------------------------------------

_DATE_PATTERNS = (
    (re.compile(r"(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})"), "YYYY-MM-DD"),
    (re.compile(r"(?P<day>\d{1,2})\.(?P<month>\d{1,2})\.(?P<year>\d{4})"), "DD.MM.YYYY"),
    (re.compile(r"(?P<day>\d{1,2})/(?P<month>\d{1,2})/(?P<year>\d{4})"), "DD/MM/YYYY"),
    (re.compile(r"(?P<year>\d{4})-(?P<month>\d{1,2})"), "YYYY-MM"),
    (re.compile(r"(?P<month>\d{1,2})[./](?P<year>\d{4})"), "MM.YYYY"),
    (re.compile(r"(?P<year>\d{4})"), "YYYY"),
)
DATE_FORMATS = tuple(name for _, name in _DATE_PATTERNS)
EARLIEST_BIRTH_YEAR = 1900


@dataclass(frozen=True)
class BirthDate:
    """A birth date as precise as the register knew it: a day, a month or only a year."""

    year: int
    month: int | None = None
    day: int | None = None

    @property
    def precision(self) -> str:
        if self.day is not None:
            return "day"
        return "month" if self.month is not None else "year"

    def isoformat(self) -> str:
        """1990-05-03, 1990-05 or 1990."""
        text = f"{self.year:04d}"
        if self.month is not None:
            text += f"-{self.month:02d}"
        if self.day is not None:
            text += f"-{self.day:02d}"
        return text


def parse_birth_date(text: str, today: date | None = None) -> BirthDate | None:
    """A birth date written YYYY-MM-DD, DD.MM.YYYY, DD/MM/YYYY (day first, never the US
    order), YYYY-MM, MM.YYYY or YYYY; 00 for an unknown day or month lowers the precision.
    None for an empty value; `UnreadableValue` for anything else."""
    value = (text or "").strip()
    if not value:
        return None
    for pattern, _ in _DATE_PATTERNS:
        match = pattern.fullmatch(value)
        if match:
            break
    else:
        raise UnreadableValue(
            f"{value!r} is not a date in a known format ({', '.join(DATE_FORMATS)})")
    parts = match.groupdict()
    year = int(parts["year"])
    month = int(parts["month"]) if parts.get("month") else None
    day = int(parts["day"]) if parts.get("day") else None
    if day == 0:
        day = None
    if month == 0:
        if day is not None:
            raise UnreadableValue(f"{value!r} gives a day but no month")
        month = None
    today = today or date.today()
    if not EARLIEST_BIRTH_YEAR <= year <= today.year:
        raise UnreadableValue(f"{value!r}: the year {year} is not a possible birth year")
    if month is not None and not 1 <= month <= 12:
        raise UnreadableValue(f"{value!r}: there is no month {month}")
    if day is not None:
        try:
            born = date(year, month, day)
        except ValueError:
            raise UnreadableValue(f"{value!r} is not a date of the calendar") from None
        if born > today:
            raise UnreadableValue(f"{value!r} is in the future")
    return BirthDate(year, month, day)


# --- codes -------------------------------------------------------------------------------

_SEX_CODES = {
    "F": ("f", "female", "w", "woman", "fem", "2", "ж", "жін", "жіноча", "жен", "женский",
          "женщина", "femeie", "feminin", "k", "kadın", "kadin"),
    "M": ("m", "male", "man", "masc", "1", "ч", "чол", "чоловіча", "м", "муж", "мужской",
          "мужчина", "bărbat", "barbat", "masculin", "e", "erkek"),
    "X": ("x", "9", "other", "diverse", "інша", "другой"),
}
_SEX = {spelling: code for code, spellings in _SEX_CODES.items() for spelling in spellings}
_SEX_UNKNOWN = frozenset(("0", "u", "unknown", "?", "невідомо", "неизвестно"))


def parse_sex(text: str) -> str | None:
    """F, M or X (also ISO 5218 1, 2, 9 and the words in English, Ukrainian, Russian,
    Romanian and Turkish); None when empty or stated unknown (ISO 5218 0)."""
    value = _clean(text or "").strip().rstrip(".")
    if not value or value in _SEX_UNKNOWN:
        return None
    if value not in _SEX:
        raise UnreadableValue(f"{text.strip()!r} is not a sex code (F, M, X, 1, 2, 9)")
    return _SEX[value]


def parse_country(text: str) -> str | None:
    """The ISO 3166-1 alpha-2 code of a country given by its alpha-2, alpha-3 or numeric
    code or its English name."""
    value = (text or "").strip()
    if not value:
        return None
    try:
        if value.isdigit():
            country = pycountry.countries.get(numeric=value.zfill(3))
        else:
            country = pycountry.countries.lookup(value)
    except LookupError:
        country = None
    if country is None:
        raise UnreadableValue(f"{value!r} is not an ISO 3166 country code or English name")
    return country.alpha_2


_DIGITS = re.compile(r"\d")
SHORTEST_PHONE = 6


def parse_phone(text: str, country: str | None = None) -> str | None:
    """A telephone number as digits: its E.164 form (without +) when it parses, in the
    person's country when it has no international prefix; otherwise the digits typed."""
    value = (text or "").strip()
    if not value:
        return None
    digits = "".join(_DIGITS.findall(value))
    if len(digits) < SHORTEST_PHONE:
        raise UnreadableValue(f"{value!r} is too short to be a telephone number")
    if value.startswith("00"):
        value = "+" + value[2:]
    try:
        number = phonenumbers.parse(value, None if value.startswith("+") else country)
    except phonenumbers.NumberParseException:
        return digits
    if not phonenumbers.is_possible_number(number):
        return digits
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)[1:]


# Cyrillic letters that look like Latin ones: document series are typed with either
# keyboard (АВ 123456 and AB 123456 are the same passport).
_DOCUMENT_HOMOGLYPHS = str.maketrans("АВЕКМНОРСТХІУ", "ABEKMHOPCTXIY")
_NOT_DOCUMENT = re.compile(r"[^0-9A-Z]+")


def parse_document_number(text: str) -> str | None:
    """A document number as upper-case letters and digits, spaces and dashes dropped."""
    value = (text or "").strip().upper().translate(_DOCUMENT_HOMOGLYPHS)
    return _NOT_DOCUMENT.sub("", anyascii(value).upper()) or None


# --- a whole identity --------------------------------------------------------------------

FIELDS = ("given_name", "family_name", "birth_date", "sex", "citizenship", "place_of_birth",
          "phone", "document_number")


def _name_columns(prefix: str, forms: NameForms | None) -> dict:
    if forms is None:
        return {f"{prefix}_forms": None, f"{prefix}_keys": None, f"{prefix}_key": None}
    return {f"{prefix}_forms": forms.forms, f"{prefix}_keys": forms.keys,
            f"{prefix}_key": forms.key}


NO_NAME = "the record has no name (neither given nor family name)"
# The fields that can make a record unreadable, in the order a report names them.
CHECKED_FIELDS = ("birth_date", "sex", "citizenship", "phone")


class IdentityNormaliser:
    """`normalise_identity` for the many records of one register: each distinct value (a
    name, a date, a code, a phone number with its country) is read once and the result
    reused, so a register of a million records reads a few hundred thousand values. The
    caches live as long as the normaliser (one run), never longer. Name spellings and
    keys come back as tuples shared by every record with that name; treat them as read-only.
    `name` and `read` serve a caller that reads a register column by column.
    """

    def __init__(self, today: date | None = None):
        self.today = today or date.today()
        self._names: dict[str, NameForms | None] = {}
        self._values: dict[tuple, tuple[object, str | None]] = {}

    def name(self, text: str) -> NameForms | None:
        """The spellings and sound keys of a name part (`name_forms`), None without
        letters."""
        try:
            return self._names[text]
        except KeyError:
            forms = self._names[text] = name_forms(text)
            return forms

    def read(self, field: str, text: str, country: str | None = None
             ) -> tuple[object, str | None]:
        """The value of a field other than a name (`country`: the person's citizenship,
        for a phone number typed without its international prefix) and the reason it cannot
        be read, None when it can."""
        key = (field, text, country)
        try:
            return self._values[key]
        except KeyError:
            pass
        try:
            if field == "birth_date":
                found = parse_birth_date(text, self.today), None
            elif field == "sex":
                found = parse_sex(text), None
            elif field == "citizenship":
                found = parse_country(text), None
            elif field == "phone":
                found = parse_phone(text, country), None
            elif field == "document_number":
                found = parse_document_number(text), None
            else:
                raise ValueError(f"{field!r} is not a field read as a code or a date")
        except UnreadableValue as error:
            found = None, str(error)
        self._values[key] = found
        return found

    def __call__(self, fields: Mapping[str, str]) -> dict:
        """The comparison columns of one person's identifiers (`FIELDS`, any may be
        missing). Raises `UnreadableRecord` naming every value that cannot be read, or
        when the record has no name at all."""
        reasons: dict[str, str] = {}
        given = self.name(fields.get("given_name") or "")
        family = self.name(fields.get("family_name") or "")
        if given is None and family is None:
            reasons["family_name"] = NO_NAME
        values = {}
        for field in CHECKED_FIELDS:
            values[field], reason = self.read(field, fields.get(field) or "",
                                              values.get("citizenship"))
            if reason is not None:
                reasons[field] = reason
        place = self.name(fields.get("place_of_birth") or "")
        if reasons:
            raise UnreadableRecord(reasons)
        born = values["birth_date"]
        return {
            **_name_columns("given", given),
            **_name_columns("family", family),
            "birth_text": born.isoformat() if born else None,
            "birth_year": born.year if born else None,
            "birth_month": born.month if born else None,
            "birth_day": born.day if born else None,
            "sex": values["sex"],
            "citizenship": values["citizenship"],
            **_name_columns("place", place),
            "phone": values["phone"],
            "document_number": self.read("document_number",
                                         fields.get("document_number") or "")[0],
        }


def normalise_identity(fields: Mapping[str, str], today: date | None = None) -> dict:
    """The comparison columns of one person's identifiers (`FIELDS`, any may be missing).
    Raises `UnreadableRecord` naming every value that cannot be read, or when the record has
    no name at all. For many records use one `IdentityNormaliser`."""
    return IdentityNormaliser(today)(fields)
