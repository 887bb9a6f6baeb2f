"""Checks every service function applies to what a user typed: one place for each rule,
each with one message.

They add messages to an `errors` dict (field → messages), so a service function can report
every problem of a submission at once and then raise one ValidationError.
"""

import unicodedata
from datetime import date

import phonenumbers
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from opennrm.core import codelists


class TextLimit:
    """The longest text of each kind of field. The service functions check these; the forms
    and the API schemas declare them as `max_length`. No length is typed anywhere else."""

    PHONE = 50  # an organisation's telephone
    SHORT = 100  # a city, a region, a search
    NAME = 200  # a provider, a service, an authority, a file number, a web address
    IDENTITY = 300  # a person's name, telephone or address (encrypted); a postal address
    NOTE = 1000  # a screening note, a support action
    REASON = 2000  # a reason, what a person needs, the assistance delivered
    DESCRIPTION = 5000  # a directory entry's description
    EMAIL = 254  # an e-mail address (RFC 5321)
    LONG = 10000  # case notes, the grounds of a decision, the protection measures' texts
    DOCUMENT_NUMBER = 64  # an identity document's number (the longest ICAO field is 39)
    PERSON_PHONE = 32  # a person's telephone as typed (E.164 is at most 16 characters)


class CountLimit:
    """The most entries of each list a person's identity holds."""

    ALIASES = 20  # other names, each at most TextLimit.IDENTITY characters
    IDENTITY_DOCUMENTS = 20


# Characters refused in names, aliases, document numbers and telephones: they can hide or
# reorder what is shown (Trojan Source, CVE-2021-42574) or drive a terminal that prints it.
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
                          "\u2066\u2067\u2068\u2069")


def unsafe_characters(value: str, *, free_text: bool = False) -> list[str]:
    """The characters of `value` no one types into a field: control characters (Unicode
    category Cc: NUL, ESC of terminal escapes, DEL, C1 controls) and bidirectional
    overrides, embeddings, isolates and marks. `free_text` (notes, an address) may hold tabs
    and line breaks, and direction marks (right-to-left writing needs them). Each is named as
    U+XXXX."""
    allowed = "\t\n\r" if free_text else ""
    return sorted({f"U+{ord(char):04X}" for char in value
                   if (unicodedata.category(char) == "Cc" and char not in allowed)
                   or (char in BIDI_CONTROLS and not free_text)})


def check_characters(value: str, field: str, errors: dict, *, free_text: bool = False,
                     prefix: str = "") -> bool:
    """A message on `field` when `value` holds unsafe characters; False then."""
    found = unsafe_characters(value, free_text=free_text)
    if found:
        errors.setdefault(field, []).append(
            prefix + _("Remove the invisible control or text-direction characters "
                       "(%(characters)s).") % {"characters": ", ".join(found)})
    return not found


def clean_identity_text(value, field: str, errors: dict, *, limit: int = TextLimit.IDENTITY,
                        free_text: bool = False, prefix: str = "") -> str:
    """A name, an alias, a document number or an address: text of at most `limit` characters
    without control or text-direction characters ("" when absent)."""
    if value is None:
        return ""
    if not isinstance(value, str) or not is_storable_text(value):
        errors.setdefault(field, []).append(prefix + _("Enter text."))
        return ""
    value = value.strip()
    if check_characters(value, field, errors, free_text=free_text, prefix=prefix):
        if len(value) > limit:
            errors.setdefault(field, []).append(
                prefix + _("Enter at most %(limit)d characters.") % {"limit": limit})
    return value


def check_count(values: list, field: str, errors: dict, *, limit: int) -> bool:
    """A message on `field` when the list holds more than `limit` entries; False then."""
    if len(values) > limit:
        errors.setdefault(field, []).append(
            _("Enter at most %(limit)d entries.") % {"limit": limit})
        return False
    return True


def clean_phone(value, field: str, errors: dict, *, region: str) -> str:
    """A telephone number in any of the formats of its country (`region`, an ISO 3166
    code, for a number without +country code) or international, as E.164 ("+37369123456");
    "" when absent."""
    text = clean_identity_text(value, field, errors, limit=TextLimit.PERSON_PHONE)
    if not text or field in errors:
        return text
    try:
        number = phonenumbers.parse(text, (region or "").upper() or None)
    except phonenumbers.NumberParseException:
        number = None
    # Possible (the length the country uses) rather than valid: a range newer than the
    # library's data is still a number.
    if number is None or not phonenumbers.is_possible_number(number):
        errors.setdefault(field, []).append(
            _("Enter a telephone number, such as +373 69 123 456 or, in this country, "
              "its national form."))
        return text
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def is_storable_text(value: str) -> bool:
    """False for text no database stores: NUL characters (PostgreSQL refuses them) and lone
    surrogates (not encodable as UTF-8, so neither encryptable nor storable)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in value


def clean_text(value, field: str, errors: dict, *, limit: int, required: str = "") -> str:
    """`value` as stripped text of at most `limit` characters ("" when absent). `required` is
    the message when it is missing."""
    if value is None:
        value = ""
    if not isinstance(value, str) or not is_storable_text(value):
        errors.setdefault(field, []).append(_("Enter text."))
        return ""
    value = value.strip()
    if not value and required:
        errors.setdefault(field, []).append(required)
    else:
        check_length(value, field, errors, limit=limit)
    return value


def check_length(value: str, field: str, errors: dict, *, limit: int) -> None:
    """A message when `value` (text already cleaned) is longer than `limit` characters."""
    if len(value) > limit:
        errors.setdefault(field, []).append(
            _("Enter at most %(limit)d characters.") % {"limit": limit})


def _normal_code(codelist: str, value: str) -> str:
    value = value.strip()
    return value.upper() if codelist == "countries" else value


def clean_code(value, codelist: str, field: str, errors: dict, *, required: str = "") -> str:
    """`value` as a code of the code list `codelist` ("" when absent; country codes in
    capitals). `required` is the message when it is missing."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            errors.setdefault(field, []).append(required)
        return ""
    if not isinstance(value, str):
        errors.setdefault(field, []).append(_("Choose a value from the list."))
        return ""
    value = _normal_code(codelist, value)
    if codelists.unknown_codes(codelist, [value]):
        errors.setdefault(field, []).append(_("Choose a value from the list."))
    return value


def clean_codes(value, codelist: str, field: str, errors: dict) -> list[str]:
    """`value` (a list, or text separated by commas) as codes of `codelist`, each once and in
    the order given; [] when absent. The message names the unknown codes."""
    if value in (None, ""):
        return []
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        errors.setdefault(field, []).append(_("Enter a list."))
        return []
    codes = list(dict.fromkeys(_normal_code(codelist, v) for v in value if v.strip()))
    unknown = codelists.unknown_codes(codelist, codes)
    if unknown:
        errors.setdefault(field, []).append(
            _("Unknown code(s): %(codes)s.") % {"codes": ", ".join(unknown)})
    return codes


def clean_date(value, field: str, errors: dict, *, required: str = "",
               not_in_future: bool = False) -> date | None:
    """`value` (a date or YYYY-MM-DD) as a date; None when absent. `required` is the message
    when it is missing; `not_in_future` refuses a date after today."""
    if value in (None, ""):
        if required:
            errors.setdefault(field, []).append(required)
        return None
    if isinstance(value, str):
        try:
            value = parse_date(value)
        except ValueError:  # well formed but impossible, such as 2026-02-30
            value = None
    if not isinstance(value, date):
        errors.setdefault(field, []).append(_("Enter a date as YYYY-MM-DD."))
        return None
    if not_in_future and value > timezone.localdate():
        errors.setdefault(field, []).append(_("The date is in the future."))
    return value
