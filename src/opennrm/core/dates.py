"""Dates as the interface shows them."""

import re
from datetime import date, datetime
from functools import lru_cache

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import get_language

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@lru_cache(maxsize=8192)
def _short_date(value: date, language: str) -> str:
    return date_format(value, "SHORT_DATE_FORMAT")


def short_date(value: date | datetime) -> str:
    """A date (or the local date of a timestamp) in the active language's short format.

    List pages show the same few thousand dates on every request, so each is formatted once
    per language (the language is part of the cache key: the format depends on it).
    """
    if isinstance(value, datetime):
        value = timezone.localtime(value).date()
    return _short_date(value, get_language())


def with_local_dates(params: dict) -> dict:
    """`params` of a stored message (dates kept as ISO text, "2026-03-02", so that they
    survive JSON) with each date in the active language's short format, to fill the message
    in the reader's language."""
    return {name: _local_date(value) for name, value in params.items()}


def _local_date(value):
    if isinstance(value, date):
        return short_date(value)
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        try:
            return short_date(date.fromisoformat(value))
        except ValueError:  # well formed but impossible, such as 2026-02-30
            return value
    return value
