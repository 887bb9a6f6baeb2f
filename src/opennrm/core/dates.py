"""Dates as the interface shows them."""

from datetime import date, datetime
from functools import lru_cache

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import get_language


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
