"""A differentially private synthetic research extract: made-up persons, real proportions.

The alternative to the k-anonymous extract when even coarse real rows are too much. From
the CTDC person frame (`extracts.ctdc_persons`, one row per person) it counts the persons
in every cell of the full cross-product of a few coarse attributes:

    yearOfRegistration × gender × majorityStatus × form of exploitation
    × citizenship (the reporting country / Other / Unknown)

and adds discrete Laplace noise (OpenDP) to every cell, the empty ones included: a cell
left out because it was empty would tell that nobody had that combination. The
categories come from fixed lists, never from the data, for the same reason (the years
too, when `registration_years` is given). One person is one row of the person frame and
falls in exactly one cell, so adding or removing a person changes one count by 1: the
counts have L1 sensitivity 1 and the release is ε-differentially private for the person
(OpenDP checks this: the measurement maps a distance of one person to ε).

The noisy counts are then clamped at 0 and synthetic rows are drawn from them. Drawing is
post-processing: it costs no budget, and `seed` fixes only the draw, never the noise
(OpenDP draws noise from a secure source; predictable noise could be subtracted).

What the synthetic file keeps: approximately, the counts of that table and its margins
(e.g. persons by year and gender). Nothing else: no age band, country of exploitation,
means of control, sector or recruiter; no relation with any attribute outside the table;
and no row is a real person.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from itertools import product

import numpy as np
import opendp.prelude as dp
import polars as pl

from opennrm.statistics.dp import discrete_laplace_standard_deviation
from opennrm.statistics.extracts import (
    DATA_SOURCE,
    GENDERS,
    OTHER,
    UNKNOWN,
    Extract,
    assert_no_identity_fields,
    ctdc_persons,
    reporting_country,
)

dp.enable_features("contrib")

MAJORITY_STATUSES = ("Adult", "Minor", UNKNOWN)
# The form of exploitation, one per person: sexual and/or labour exploitation when
# recorded, else any other form, else not specified. Published as CTDC flags.
EXPLOITATION_GROUPS = {
    "sexual": {"isSexualExploit": 1},
    "labour": {"isForcedLabour": 1},
    "sexual_and_labour": {"isSexualExploit": 1, "isForcedLabour": 1, "isSexAndLabour": 1},
    "other": {"isOtherExploit": 1},
    "not_specified": {},
}
FORM_FLAGS = ("isForcedLabour", "isSexualExploit", "isOtherExploit", "isSexAndLabour")
# The CTDC flags counted as "other" here (CTDC's own isOtherExploit is narrower).
OTHER_FORMS = ("isOtherExploit", "isForcedMarriage", "isForcedMilitary", "isOrganRemoval",
               "isSlaveryAndPractices")

SYNTHETIC_COLUMNS = ("yearOfRegistration", "Datasource", "gender", "majorityStatus",
                     "citizenship", *FORM_FLAGS)
# Separates the attributes in a cell's key; no category contains it.
_SEPARATOR = "|"


def _validate(epsilon: float, rows: int | None) -> None:
    if (isinstance(epsilon, bool) or not isinstance(epsilon, int | float)
            or not math.isfinite(epsilon) or epsilon <= 0):
        raise ValueError(f"epsilon must be a positive number, not {epsilon!r}")
    if rows is not None and (isinstance(rows, bool) or not isinstance(rows, int) or rows < 0):
        raise ValueError(f"rows must be a whole number of at least 0, not {rows!r}")


def _cell_keys(persons: pl.DataFrame, country: str) -> pl.Series:
    """Each person's cell: year|gender|majorityStatus|form|citizenship."""
    sexual = pl.col("isSexualExploit") == 1
    labour = pl.col("isForcedLabour") == 1
    form = (pl.when(sexual & labour).then(pl.lit("sexual_and_labour"))
            .when(sexual).then(pl.lit("sexual"))
            .when(labour).then(pl.lit("labour"))
            .when(pl.sum_horizontal(*OTHER_FORMS) > 0).then(pl.lit("other"))
            .otherwise(pl.lit("not_specified")))
    citizenship = (pl.when(pl.col("citizenship").is_in([country, UNKNOWN]))
                   .then(pl.col("citizenship")).otherwise(pl.lit(OTHER)))
    return persons.select(pl.concat_str(
        pl.col("yearOfRegistration").cast(pl.Utf8), pl.col("gender"),
        pl.col("majorityStatus"), form, citizenship, separator=_SEPARATOR,
    ).alias("cell")).to_series()


def _categories(years: Iterable[int], country: str) -> list[str]:
    """Every cell of the cross-product, from fixed lists of categories."""
    domains = (
        [str(year) for year in years],
        list(dict.fromkeys(GENDERS.values())),
        list(MAJORITY_STATUSES),
        list(EXPLOITATION_GROUPS),
        [country, OTHER, UNKNOWN],
    )
    return [_SEPARATOR.join(cell) for cell in product(*domains)]


def _noisy_counts(cells: list[str], categories: list[str],
                  epsilon: float) -> tuple[list[int], float]:
    """The counts of `cells` per category with discrete Laplace noise, and the scale.

    OpenDP finds the smallest noise scale for which one person (one cell, symmetric
    distance 1) costs at most `epsilon`.
    """
    space = dp.vector_domain(dp.atom_domain(T=str)), dp.symmetric_distance()

    def measurement(scale: float) -> dp.Measurement:
        return (space
                >> dp.t.then_count_by_categories(categories=categories, null_category=False)
                >> dp.m.then_laplace(scale=scale))

    scale = dp.binary_search_param(measurement, d_in=1, d_out=epsilon)
    release = measurement(scale)
    if release.map(1) > epsilon:
        raise RuntimeError("the noise does not meet the privacy budget")
    return list(release(cells)), scale


def _synthetic_rows(keys: list[str]) -> pl.DataFrame:
    """The published columns of the synthetic rows whose cells are `keys`."""
    parts = [key.split(_SEPARATOR) for key in keys]
    flags = {name: [EXPLOITATION_GROUPS[part[3]].get(name, 0) for part in parts]
             for name in FORM_FLAGS}
    return pl.DataFrame({
        "yearOfRegistration": pl.Series([int(part[0]) for part in parts], dtype=pl.Int32),
        "Datasource": pl.Series([DATA_SOURCE] * len(parts), dtype=pl.Utf8),
        "gender": pl.Series([part[1] for part in parts], dtype=pl.Utf8),
        "majorityStatus": pl.Series([part[2] for part in parts], dtype=pl.Utf8),
        "citizenship": pl.Series([part[4] for part in parts], dtype=pl.Utf8),
        **{name: pl.Series(values, dtype=pl.Int8) for name, values in flags.items()},
    }).select(SYNTHETIC_COLUMNS)


def dp_synthetic_extract(cases: pl.DataFrame, *, epsilon: float, rows: int | None = None,
                         seed: int | None = None,
                         registration_years: Iterable[int] | None = None,
                         country: str | None = None) -> Extract:
    """A synthetic extract that spends `epsilon` of the privacy budget (see module docs).

    `rows` synthetic persons are drawn (by default, as many as the noisy counts add up
    to, before clamping: the sum of the noise is centred on 0, so the total is the true
    number of persons give or take the noise). Pass `registration_years` (the years of
    the release period) so that the years do not come from the data; otherwise every
    year from the first to the last registration in `cases` is a category. `country` is
    the reporting country, this node's by default. The caller records `epsilon` in the
    privacy budget ledger.
    """
    _validate(epsilon, rows)
    country = country or reporting_country()
    persons = ctdc_persons(cases, registration_years=registration_years)
    if registration_years is not None:
        years = sorted(set(registration_years))
    elif persons.height:
        years = list(range(int(persons["yearOfRegistration"].min()),
                           int(persons["yearOfRegistration"].max()) + 1))
    else:
        years = []
    categories = _categories(years, country)

    if categories:
        noisy, scale = _noisy_counts(_cell_keys(persons, country).to_list(), categories,
                                     epsilon)
    else:
        noisy, scale = [], math.inf
    counts = np.clip(np.array(noisy, dtype=np.int64), 0, None)
    wanted = rows if rows is not None else max(0, int(sum(noisy)))
    rng = np.random.default_rng(seed)
    if wanted and counts.sum():
        drawn = rng.multinomial(wanted, counts / counts.sum())
        cells = rng.permutation(np.repeat(np.arange(len(categories)), drawn))
        keys = [categories[cell] for cell in cells]
    else:
        keys = []
    frame = _synthetic_rows(keys)
    assert_no_identity_fields(frame)

    noise_sd = discrete_laplace_standard_deviation(scale) if categories else 0.0
    notes = [
        f"Synthetic data with differential privacy, epsilon = {epsilon:g} for one person: "
        "no row is a real person.",
        "It keeps, approximately, the number of persons by year of registration, gender, "
        f"majority status, form of exploitation and citizenship ({country} / Other / "
        "Unknown), and the margins of that table; nothing else.",
        f"Each of the {len(categories)} counts carries discrete Laplace noise of scale "
        f"{scale:.3g} (standard deviation {noise_sd:.3g}), empty combinations included, so "
        "some rows show combinations nobody had.",
        "isOtherExploit stands here for any form other than sexual exploitation and forced "
        "labour (forced marriage, military, organ removal, servitude, other).",
        "Cases of one person count once; two records of one person that were never linked "
        "count as two people and spend twice the budget on that person.",
    ]
    return Extract(frame=frame, report=None, columns=list(frame.columns), notes=notes,
                   epsilon=epsilon)
