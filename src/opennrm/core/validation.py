"""Checks every service function applies to what a user typed: one place for each rule.

They add messages to an `errors` dict (field → messages), so a service function can report
every problem of a submission at once and then raise one ValidationError.
"""

from datetime import date

from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _


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
    elif len(value) > limit:
        errors.setdefault(field, []).append(
            _("Enter at most %(limit)d characters.") % {"limit": limit})
    return value


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
