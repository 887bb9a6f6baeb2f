"""Differential privacy for counts: random noise, drawn by OpenDP, added to each count.

The privacy loss `epsilon` says how much one person's presence can change what is
published: the smaller, the more noise and the better the protection. Losses add up over
everything released from the same data (sequential composition), so a release has a
budget: its tables share it, and the node's ledger refuses a release that would go over
the cap (the arithmetic is here; the ledger itself is kept in the statistics models).

The noise is discrete Laplace (whole numbers, centred on zero) with a scale of
sensitivity / epsilon, where the sensitivity is how much one person can change the
counts protected together: 1 when each person is counted once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import opendp.prelude as dp

from opennrm.statistics.tables import NOISY, Cell, Table

dp.enable_features("contrib")

# Float sums of budget shares (0.1 + 0.2…) may land a hair above the exact total.
BUDGET_TOLERANCE = 1e-9


# --- one count ---------------------------------------------------------------------------

@dataclass(frozen=True)
class CountMechanism:
    """OpenDP's discrete Laplace mechanism for one count, with what it promises."""

    measurement: dp.Measurement
    epsilon: float  # the privacy loss asked for; OpenDP certified the mechanism keeps to it
    sensitivity: int
    scale: float

    def release(self, count: int) -> int:
        """The count with fresh noise added (may be negative)."""
        return self.measurement(int(count))

    def accuracy(self, alpha: float = 0.05) -> float:
        """OpenDP's accuracy: the noise reaches this size with probability at most `alpha`.

        With alpha = 0.05: 95% of noisy counts are within ± this of the true count.
        """
        return dp.discrete_laplacian_scale_to_accuracy(self.scale, alpha)

    def margin(self, alpha: float = 0.05) -> int:
        """The accuracy as a whole number of persons: at least (1 - alpha) of the noisy
        counts are within ± this of the true count (OpenDP allows rounding it down)."""
        return math.floor(self.accuracy(alpha))

    @property
    def standard_deviation(self) -> float:
        """The standard deviation of the noise."""
        return discrete_laplace_standard_deviation(self.scale)


def count_mechanism(epsilon: float, sensitivity: int = 1) -> CountMechanism:
    """The discrete Laplace mechanism protecting counts that one person changes by at most
    `sensitivity`, with privacy loss at most `epsilon`.

    The scale is sensitivity / epsilon. OpenDP rounds the privacy loss up, so that scale
    can come out a hair too small once written as a float: it is then widened by the
    smallest step until OpenDP certifies a loss of at most `epsilon`.
    """
    _check_epsilon(epsilon)
    if not isinstance(sensitivity, int) or sensitivity < 1:
        raise ValueError(f"the sensitivity must be a whole number of 1 or more, "
                         f"not {sensitivity!r}")
    scale = sensitivity / epsilon
    measurement = _discrete_laplace(scale)
    while measurement.map(sensitivity) > epsilon:
        scale = math.nextafter(scale, math.inf)
        measurement = _discrete_laplace(scale)
    return CountMechanism(measurement=measurement, epsilon=epsilon, sensitivity=sensitivity,
                          scale=scale)


def _discrete_laplace(scale: float) -> dp.Measurement:
    return dp.m.make_laplace(dp.atom_domain(T=int), dp.absolute_distance(T=int), scale=scale)


def _check_epsilon(epsilon: float) -> None:
    if isinstance(epsilon, bool) or not isinstance(epsilon, int | float) \
            or not math.isfinite(epsilon) or epsilon <= 0:
        raise ValueError(f"epsilon (the privacy loss) must be a positive number, "
                         f"not {epsilon!r}")


def discrete_laplace_standard_deviation(scale: float) -> float:
    """The standard deviation of discrete Laplace noise of this scale.

    With q = e^(-1/scale) the variance is 2q / (1 - q)^2 (a little below the 2·scale^2 of
    the continuous Laplace distribution).
    """
    q = math.exp(-1 / scale)
    return math.sqrt(2 * q / (1 - q) ** 2)


# --- a table -----------------------------------------------------------------------------

def add_noise_to_table(table: Table, epsilon: float) -> Table:
    """A copy of an additive count table of persons with noise on every cell, at a privacy
    loss of at most `epsilon`: what a release publishes.

    Each person is counted in one cell, so one person changes the cells by at most 1
    together (sensitivity 1) and each cell gets discrete Laplace noise of scale 1/epsilon.
    The row, column and overall totals are the sums of the noisy cells: the table still
    adds up, and sums of published numbers cost no further privacy. A noisy count below
    zero is published as 0 (post-processing too); that pushes small counts up on average,
    which the note tells the reader with the size of the noise. Every count is flagged
    NOISY.

    Refused: figures such as medians or shares, a table where one person may fall in several
    cells (the loss would be larger than `epsilon`), and a table with hidden cells (noise
    comes before suppression).
    """
    if table.kind == "indicator":
        raise ValueError(f"table {table.key!r} holds figures such as medians or shares: "
                         f"noise can only be added to a count table")
    _check_epsilon(epsilon)
    if not table.additive:
        raise ValueError(f"table {table.key!r} is not additive (one person may fall in "
                         f"several rows or columns): its noise would not hold the privacy loss")
    if any(cell.value is None for row in table.cells for cell in row):
        raise ValueError(f"table {table.key!r} has hidden cells: add noise before suppression")
    mechanism = count_mechanism(epsilon, sensitivity=1)
    cells = [[Cell(max(0, mechanism.release(int(cell.value))), NOISY) for cell in row]
             for row in table.cells]
    row_totals = [Cell(sum(cell.value for cell in row), NOISY) for row in cells]
    column_totals = [Cell(sum(row[j].value for row in cells), NOISY)
                     for j in range(len(table.columns))]
    note = (f"Differential privacy: ε = {epsilon:g} for this table; noise of scale "
            f"{mechanism.scale:g} added to each cell; 95% of cells are within "
            f"±{mechanism.margin(0.05)} of the true count; a cell below zero is shown as 0, "
            f"so small counts lean slightly upward. Totals are sums of the noisy cells.")
    return replace(table, cells=cells, row_totals=row_totals, column_totals=column_totals,
                   total=Cell(sum(cell.value for cell in row_totals), NOISY),
                   notes=[*table.notes, note])


# --- the budget --------------------------------------------------------------------------

def split_epsilon(total_epsilon: float, n_tables: int) -> float:
    """Each table's share of a release's privacy loss: the losses of the tables of one
    release add up (sequential composition), so each gets total / number of tables."""
    _check_epsilon(total_epsilon)
    if n_tables < 1:
        raise ValueError(f"a release needs at least one table, not {n_tables}")
    return total_epsilon / n_tables


class BudgetExceeded(Exception):
    """A release would spend more privacy loss than the cap allows."""

    def __init__(self, spent: float, asked: float, cap: float):
        self.spent, self.asked, self.cap = spent, asked, cap
        super().__init__(
            f"privacy budget exceeded: {spent:g} already spent and {asked:g} asked makes "
            f"{spent + asked:g}, more than the cap of {cap:g}")


def check_budget(spent: float, asked: float, cap: float) -> None:
    """Raise BudgetExceeded when spending `asked` on top of `spent` would go over `cap`.

    A tiny tolerance absorbs float sums: five releases of 0.2 fit a cap of 1.
    """
    if spent < 0 or asked < 0 or cap < 0:
        raise ValueError(f"privacy losses cannot be negative (spent {spent}, asked "
                         f"{asked}, cap {cap})")
    if spent + asked > cap + BUDGET_TOLERANCE:
        raise BudgetExceeded(spent, asked, cap)
