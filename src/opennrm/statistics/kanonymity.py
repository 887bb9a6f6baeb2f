"""k-anonymity for case-level research extracts: check it, and enforce it.

A frame is k-anonymous on its quasi-identifiers (the columns someone who knows a person
could look them up by: year, gender, age, nationality…) when every combination of their
values that occurs is shared by at least k rows, its *equivalence class*. Someone who
knows everything those columns say about a person then still finds at least k rows that
could be theirs.

Enforcement works in two stages, always in this order:

1. Generalisation, step by step, in the order given. A step coarsens one column, e.g.
   the age band becomes "Unknown" (the adult/minor status stays), or a foreign
   citizenship becomes "Other". Only the rows that sit in a class below k are coarsened
   (local recoding): rows already in a class of k or more keep their detail, and the
   classes they are in can only grow. The steps stop as soon as the share of rows still
   in classes below k is at most `acceptable_suppression`.
2. Suppression: the rows still in a class below k are dropped, and counted.

Generalisation comes first because it keeps the person in the data with less detail,
where suppression removes them; suppression is for what generalisation could not hide.
A generalised value reads like a true unknown ("Unknown") or like any other foreigner
("Other"): that is deliberate, it merges the coarsened rows into the larger classes.

k-anonymity protects against finding a person by the quasi-identifiers. It does not stop
a class from sharing a sensitive value (if all k rows of a class were sexually exploited,
that is learnt about each of them); the extract's notes say which columns were treated
as quasi-identifiers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import polars as pl

# The column that holds an equivalence class's size in `equivalence_classes`.
CLASS_SIZE = "class_size"
# A working column; a frame that already has one is refused rather than overwritten.
_ROW_CLASS_SIZE = "__class_size"


@dataclass(frozen=True)
class GeneralisationStep:
    """One coarsening of one quasi-identifier.

    In the rows of classes below k, every value of `column` that is not in `keep`
    becomes `replacement` (e.g. ageBroad: keep nothing, replacement "Unknown";
    citizenship: keep the reporting country and "Unknown", replacement "Other").
    """

    name: str
    column: str
    replacement: str
    keep: frozenset[str] = frozenset()
    reason: str = ""


@dataclass
class KAnonymityReport:
    """What a check (or an enforcement) found.

    `rows_suppressed` and `generalised` (values coarsened per step name) are filled by
    `enforce_k_anonymity`; a plain check leaves them at zero.
    """

    k: int
    smallest_class: int
    rows: int
    classes_below_k: int
    rows_below_k: int
    passes: bool
    quasi_identifiers: tuple[str, ...] = ()
    rows_suppressed: int = 0
    generalised: dict[str, int] = field(default_factory=dict)


def _validate(frame: pl.DataFrame, quasi_identifiers: Sequence[str], k: int) -> None:
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be a whole number of at least 1, not {k!r}")
    if not quasi_identifiers:
        raise ValueError("name at least one quasi-identifier")
    missing = [name for name in quasi_identifiers if name not in frame.columns]
    if missing:
        raise ValueError(f"quasi-identifiers not in the frame: {', '.join(missing)}")
    if _ROW_CLASS_SIZE in frame.columns:
        raise ValueError(f"the frame must not have a column named {_ROW_CLASS_SIZE!r}")


def equivalence_classes(frame: pl.DataFrame, quasi_identifiers: Sequence[str]) -> pl.DataFrame:
    """The equivalence classes: one row per combination of the quasi-identifiers that
    occurs, with its number of rows in `class_size`, smallest classes first."""
    _validate(frame, quasi_identifiers, 1)
    columns = list(quasi_identifiers)
    return (frame.group_by(columns).agg(pl.len().alias(CLASS_SIZE))
            .sort([CLASS_SIZE, *columns], nulls_last=True))


def check_k_anonymity(frame: pl.DataFrame, quasi_identifiers: Sequence[str],
                      k: int) -> KAnonymityReport:
    """Whether every equivalence class of `frame` on `quasi_identifiers` has at least k
    rows. An empty frame passes (it shows nobody)."""
    _validate(frame, quasi_identifiers, k)
    classes = equivalence_classes(frame, quasi_identifiers)
    small = classes.filter(pl.col(CLASS_SIZE) < k)
    rows_below_k = int(small[CLASS_SIZE].sum()) if small.height else 0
    return KAnonymityReport(
        k=k,
        smallest_class=int(classes[CLASS_SIZE].min()) if classes.height else 0,
        rows=frame.height,
        classes_below_k=small.height,
        rows_below_k=rows_below_k,
        passes=rows_below_k == 0,
        quasi_identifiers=tuple(quasi_identifiers),
    )


def _with_class_sizes(frame: pl.DataFrame, quasi_identifiers: Sequence[str]) -> pl.DataFrame:
    return frame.with_columns(pl.len().over(list(quasi_identifiers)).alias(_ROW_CLASS_SIZE))


def enforce_k_anonymity(
    frame: pl.DataFrame,
    quasi_identifiers: Sequence[str],
    k: int,
    generalisation_steps: Sequence[GeneralisationStep],
    *,
    acceptable_suppression: float = 0.01,
) -> tuple[pl.DataFrame, KAnonymityReport]:
    """Make `frame` k-anonymous: generalise, then suppress (see the module's docstring).

    The steps run in the order given, each on the rows then in classes below k, and stop
    once at most `acceptable_suppression` (a share of the rows, 0.01 = 1 %) remain in
    such classes; the rows still in classes below k are then dropped. Returns the
    k-anonymous frame (same columns, row order kept) and its report, with the rows
    suppressed and the values generalised per step.
    """
    _validate(frame, quasi_identifiers, k)
    if not 0 <= acceptable_suppression <= 1:
        raise ValueError("acceptable_suppression is a share between 0 and 1")
    for step in generalisation_steps:
        if step.column not in quasi_identifiers:
            raise ValueError(f"generalisation step {step.name!r} changes {step.column!r}, "
                             "which is not a quasi-identifier")

    working = _with_class_sizes(frame, quasi_identifiers)
    below_k = pl.col(_ROW_CLASS_SIZE) < k
    generalised: dict[str, int] = {}
    for step in generalisation_steps:
        rows_below_k = working.filter(below_k).height
        if rows_below_k <= acceptable_suppression * working.height:
            break
        column = pl.col(step.column)
        coarsened = below_k & ~column.is_in(list(step.keep)) & (column != step.replacement)
        generalised[step.name] = working.filter(coarsened).height
        working = _with_class_sizes(
            working.with_columns(
                pl.when(coarsened).then(pl.lit(step.replacement)).otherwise(column)
                .alias(step.column)),
            quasi_identifiers)

    published = working.filter(~below_k).drop(_ROW_CLASS_SIZE)
    report = check_k_anonymity(published, quasi_identifiers, k)
    report.rows_suppressed = frame.height - published.height
    report.generalised = generalised
    return published, report
