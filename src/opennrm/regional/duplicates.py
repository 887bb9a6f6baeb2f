"""Persons registered in more than one country, counted as aggregates, and removed once from
the regional total.

Each node knows, for its own persons, in which other countries they are also known (the
marks of cross-border linkage, `linkage.crossborder.PresenceAbroad`). A release carries, for
the persons it counts, how many are known in each exact SET of other countries
({"UA": 3, "RO": 1, "RO+UA": 1}), under disclosure control. No person, token or group id
travels: only these counts.

The regional view then reasons on groups of countries. A person known in exactly the
countries G (two or more of the countries in the view) is counted once by each country c of
G, and c counts them under the set G − {c}. So every c ∈ G has count_c(G − {c}) ≥ the
number of such persons, with equality when every country counted them in the same period.
The view takes the smallest of these as the number of persons spanning G (it never removes
more than the country that saw fewest of them), and removes (|G| − 1) of each such person
from the sum of the national totals: each is kept once.

Limits (docs/regional-statistics.md): a person counted by one country in the period but
registered by the other outside it is not removed (the minimum), and a suppressed count is
taken as 0 for the removal, with the most it could hide said apart.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from opennrm.reports.tables import NOISY, ROUNDED, SUPPRESSED

SEPARATOR = "+"

CountrySet = frozenset[str]


def set_key(countries: Iterable[str]) -> str:
    """The name of a set of countries as it travels: sorted codes joined by "+" ("RO+UA")."""
    return SEPARATOR.join(sorted(set(countries)))


def parse_set_key(key: str) -> CountrySet:
    return frozenset(code for code in key.split(SEPARATOR) if code)


def counts_by_country_set(countries_of: Mapping[object, Iterable[str]]) -> dict[CountrySet, int]:
    """{set of other countries: persons}, from {person: the other countries that know them}.
    Persons known nowhere else are left out (they are not duplicates)."""
    counts: Counter = Counter()
    for countries in countries_of.values():
        other = frozenset(countries)
        if other:
            counts[other] += 1
    return dict(counts)


def all_country_sets(countries: Iterable[str]) -> list[CountrySet]:
    """Every non-empty set of `countries`: the fixed domain of a noisy release (noise on the
    sets that happen to be non-empty only would tell which are)."""
    codes = sorted(set(countries))
    return [frozenset(combo) for size in range(1, len(codes) + 1)
            for combo in itertools.combinations(codes, size)]


@dataclass(frozen=True)
class ControlledCount:
    countries: CountrySet
    value: int | None
    flag: str = ""

    def to_dict(self) -> dict:
        return {"countries": sorted(self.countries), "value": self.value, "flag": self.flag}

    @classmethod
    def from_dict(cls, data: dict) -> ControlledCount:
        return cls(frozenset(data["countries"]), data["value"], data.get("flag", ""))


def control_counts(exact: Mapping[CountrySet, int], *, threshold: int, rounding: int = 0,
                   noise=None, domain: Iterable[CountrySet] = ()) -> list[ControlledCount]:
    """The counts as they may leave the node: noise first (when `noise`, a
    `statistics.dp.CountMechanism`, is given: on every set of `domain` and every set counted,
    zeros included), then every count from 1 to threshold − 1 hidden (value None, flagged
    "suppressed"), then rounding to the base. A zero is not sent: a set absent is a known 0.

    No total of duplicates is published beside them, so no hidden count can be recovered by
    subtraction: primary suppression is all they need."""
    sets = set(exact)
    if noise is not None:
        sets |= set(domain)
    controlled = []
    for countries in sorted(sets, key=lambda s: (len(s), sorted(s))):
        value, flag = int(exact.get(countries, 0)), ""
        if noise is not None:
            value, flag = max(0, noise.release(value)), NOISY
        if value == 0:
            continue
        if value < threshold:
            controlled.append(ControlledCount(countries, None, SUPPRESSED))
            continue
        if rounding > 1:
            value, flag = _round(value, rounding), ROUNDED
        controlled.append(ControlledCount(countries, value, flag))
    return controlled


def _round(value: int, base: int) -> int:
    return int((value + base / 2) // base * base)


# --- the regional view ----------------------------------------------------------------------

@dataclass(frozen=True)
class NationalFigures:
    """What one country's release says: its total of persons, the smallest count it
    publishes (a hidden count lies between 1 and threshold − 1), and its duplicate counts."""

    country: str
    total: int | None
    threshold: int
    duplicates: tuple[ControlledCount, ...] = ()


@dataclass
class GroupEstimate:
    countries: CountrySet
    persons: int  # persons spanning exactly these countries, removed but one
    at_most: int  # the most there could be, counting hidden counts at their largest

    @property
    def removed(self) -> int:
        return (len(self.countries) - 1) * self.persons


@dataclass
class Deduplication:
    national_totals: dict[str, int | None]
    groups: list[GroupEstimate] = field(default_factory=list)

    @property
    def sum_of_national_totals(self) -> int | None:
        if any(total is None for total in self.national_totals.values()):
            return None
        return sum(self.national_totals.values())

    @property
    def removed(self) -> int:
        """Persons counted in more than one country, removed so that each counts once."""
        return sum(group.removed for group in self.groups)

    @property
    def could_not_be_removed(self) -> int:
        """The most duplicates left in the regional total because counts were hidden."""
        return sum((len(g.countries) - 1) * (g.at_most - g.persons) for g in self.groups)

    @property
    def regional_total(self) -> int | None:
        total = self.sum_of_national_totals
        return None if total is None else total - self.removed


def deduplicate(figures: Iterable[NationalFigures]) -> Deduplication:
    """The regional total of persons, each counted once across the countries in view.

    A country's sets are first cut down to the countries in view (a person known in UA and
    in a country not in view is, here, known in UA only). For every group G of two or more
    countries in view, the persons spanning exactly G are min over c ∈ G of
    count_c(G − {c}); each of them is removed |G| − 1 times."""
    figures = list(figures)
    in_view = frozenset(f.country for f in figures)
    low: dict[str, Counter] = {}
    high: dict[str, Counter] = {}
    for national in figures:
        low[national.country], high[national.country] = Counter(), Counter()
        for count in national.duplicates:
            others = (count.countries & in_view) - {national.country}
            if not others:
                continue
            if count.value is None:
                high[national.country][others] += national.threshold - 1
            else:
                low[national.country][others] += count.value
                high[national.country][others] += count.value
    result = Deduplication({f.country: f.total for f in figures})
    for size in range(2, len(in_view) + 1):
        for group in itertools.combinations(sorted(in_view), size):
            group = frozenset(group)
            persons = min(low[c][group - {c}] for c in group)
            at_most = min(high[c][group - {c}] for c in group)
            if at_most:
                result.groups.append(GroupEstimate(group, persons, at_most))
    return result
