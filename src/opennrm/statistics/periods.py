"""Reporting periods as users write them: 2025, 2025-Q3, 2025-03, 2025-01-01..2025-06-30."""

import calendar
import re
from datetime import date


class PeriodError(ValueError):
    pass


def parse_period(text: str) -> tuple[date, date]:
    """(first day, last day) of the period `text`; PeriodError with a clear message if wrong."""
    text = (text or "").strip()
    try:
        if re.fullmatch(r"\d{4}", text):
            year = int(text)
            return date(year, 1, 1), date(year, 12, 31)
        if match := re.fullmatch(r"(\d{4})-Q([1-4])", text, re.IGNORECASE):
            year, quarter = int(match[1]), int(match[2])
            first_month = 3 * quarter - 2
            last_month = first_month + 2
            return (date(year, first_month, 1),
                    date(year, last_month, calendar.monthrange(year, last_month)[1]))
        if match := re.fullmatch(r"(\d{4})-(\d{2})", text):
            year, month = int(match[1]), int(match[2])
            return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
        if match := re.fullmatch(r"(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})", text):
            start, end = date.fromisoformat(match[1]), date.fromisoformat(match[2])
            if end < start:
                raise PeriodError("The period ends before it starts.")
            return start, end
    except ValueError as error:
        if isinstance(error, PeriodError):
            raise
        raise PeriodError(f"{text!r} is not a date that exists.") from error
    raise PeriodError(f"{text!r} is not a period: write a year (2025), a quarter (2025-Q3), "
                      "a month (2025-03) or two dates (2025-01-01..2025-06-30).")


def format_period(start: date, end: date) -> str:
    """The shortest text `parse_period` reads back to the same period."""
    if start.month == 1 and start.day == 1 and end == date(start.year, 12, 31):
        return str(start.year)
    return f"{start.isoformat()}..{end.isoformat()}"
