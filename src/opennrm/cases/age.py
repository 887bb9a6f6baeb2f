"""A person's age, and the one rule that decides whether they may be a child.

Council of Europe Convention (CETS 197), Art. 10(3), and Directive 2011/36/EU, Art. 13(2):
when the age is uncertain and there are reasons to believe the person is a child, they are
presumed a child. So:

* with a birth date, the exact age decides;
* with only a birth year, the person may be one year younger than the year's difference:
  the **youngest** possible age decides (birth year 2008, first contact on 2026-01-05:
  17 or 18, so possibly 17, so presumed a child);
* a caseworker who cannot establish the age says so with one of two choices:
  "possibly a child" (presumed a child, whatever else is recorded) or "adult, exact age
  unknown" (an adult; a birth year that allows 17 or 18 then counts as 18);
* nothing recorded at all: the age is unknown, and the person is not presumed a child
  (statistics show them under Unknown where the table has it).

Every place that needs the child flag (forms, API, screening, matching, statistics) asks
`may_be_child`; `cases.services` stores its answer on the case as `Case.is_child`, with
`statistical_age` as `Case.age_at_first_contact` and its band.
"""

from __future__ import annotations

from datetime import date

from django.db import models
from django.utils.dateparse import parse_date
from django.utils.translation import gettext_lazy as _

ADULT_AGE = 18


class AgeUncertainty(models.TextChoices):
    """What a caseworker says when the age cannot be established ("" = not uncertain)."""

    POSSIBLY_CHILD = "possibly_child", _("Possibly a child (presumed a child)")
    ADULT = "adult", _("Adult, exact age unknown")


def _person(person_or_case):
    return getattr(person_or_case, "person", person_or_case)


def _on(person_or_case, on: date | None) -> date | None:
    if on is not None:
        return on
    return getattr(person_or_case, "first_contact_on", None)


def _birth_date(person) -> date | None:
    value = person.birth_date
    if not value:
        return None
    return value if isinstance(value, date) else parse_date(value)


def age_bounds(person_or_case, on: date | None = None) -> tuple[int | None, int | None]:
    """(youngest, oldest) age the person may have on `on` from their birth date or year.

    `on` defaults to the case's first contact when a case is given. (None, None) when no
    birth date or year is recorded. A birth date gives the exact age twice.
    """
    person = _person(person_or_case)
    on = _on(person_or_case, on)
    if on is None:
        return None, None
    born = _birth_date(person)
    if born is not None:
        age = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
        return max(age, 0), max(age, 0)
    if person.birth_year:
        oldest = on.year - person.birth_year
        return max(oldest - 1, 0), max(oldest, 0)
    return None, None


def uncertainty(person_or_case) -> str:
    return _person(person_or_case).age_uncertainty or ""


def may_be_child(person_or_case, on: date | None = None) -> bool:
    """Whether the person may be a child on `on` (the first contact of a case by default),
    and so is presumed one. The one rule behind `Case.is_child`."""
    youngest, oldest = age_bounds(person_or_case, on)
    choice = uncertainty(person_or_case)
    if choice == AgeUncertainty.POSSIBLY_CHILD:
        return True
    if choice == AgeUncertainty.ADULT:
        # Refused at registration when the recorded birth makes the person a child for sure.
        return oldest is not None and oldest < ADULT_AGE
    return youngest is not None and youngest < ADULT_AGE


def statistical_age(person_or_case, on: date | None = None) -> int | None:
    """The age counted for the person on `on`: the exact age with a birth date; with only
    a birth year the youngest possible (so it agrees with `may_be_child`), at least 18 for
    "adult, exact age unknown"; None when no birth date or year is recorded, or when
    "possibly a child" doubts a birth that would make the person an adult."""
    youngest, oldest = age_bounds(person_or_case, on)
    if youngest is None:
        return None
    choice = uncertainty(person_or_case)
    if choice == AgeUncertainty.ADULT and oldest >= ADULT_AGE:
        return max(youngest, ADULT_AGE)
    if choice == AgeUncertainty.POSSIBLY_CHILD and youngest >= ADULT_AGE:
        return None  # the recorded birth is in doubt: a child of unknown age
    return youngest


def contradiction(person_or_case, on: date | None = None) -> str:
    """A message when "adult, exact age unknown" contradicts a birth that makes the person
    a child on `on` for certain; "" otherwise."""
    if uncertainty(person_or_case) != AgeUncertainty.ADULT:
        return ""
    _youngest, oldest = age_bounds(person_or_case, on)
    if oldest is not None and oldest < ADULT_AGE:
        return str(_("The birth date or year makes the person a child at first contact: "
                     "choose \"possibly a child\" or correct the birth."))
    return ""
