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

import copy
import math
from dataclasses import dataclass

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

def add_noise_to_table(table: Table, epsilon: float, sensitivity: int = 1) -> Table:
    """A copy of a count table with noise added to every count; the table's privacy loss
    is at most `epsilon`.

    The counts fall into groups that one person touches once each: the cells, the row
    totals, the column totals and the overall total (in a table without a column
    dimension, each row's cell is its row total and the one column total is the overall
    total: two groups, and each such pair publishes the same noisy count). Each group
    gets an equal share of epsilon; `sensitivity` is how much one person can change the
    counts of one group together (1 when each person is counted once). A non-additive
    table, where one person may fall in several rows, needs the caller to state that
    bound: a sensitivity of 1 is refused for it.

    Every noisy count is flagged NOISY; hidden counts stay hidden. A noisy count below
    zero is published as 0. That is post-processing and costs no privacy, but it pushes
    small counts up on average: the noise itself is centred on zero, the published
    counts near zero are not. The notes tell the reader how large the noise is.
    """
    if table.kind == "indicator":
        raise ValueError(f"table {table.key!r} holds figures such as medians or shares: "
                         f"noise can only be added to a count table")
    _check_epsilon(epsilon)
    if not table.additive and sensitivity < 2:
        raise ValueError(f"table {table.key!r} is not additive (one person may fall in "
                         f"several rows or columns): give as sensitivity the most counts "
                         f"of one group that one person can fall in")
    result = copy.deepcopy(table)
    groups = _count_groups(result)
    mechanism = count_mechanism(epsilon / len(groups), sensitivity)
    for group in groups:
        for cells in group:
            _add_noise(cells, mechanism)
    result.notes += noise_notes(mechanism, epsilon)
    return result


def _count_groups(table: Table) -> list[list[list[Cell]]]:
    """The groups of counts, each a list of counts; a count is a list of the cells that
    publish it (two cells when the table shows the same count twice)."""
    one_column = len(table.columns) == 1 and table.columns[0] == "total"
    if not table.columns:
        return [[[cell] for cell in table.row_totals], [[table.total]]]
    if one_column:
        return [[[cells[0], row_total]
                 for cells, row_total in zip(table.cells, table.row_totals, strict=True)],
                [[table.column_totals[0], table.total]]]
    return [[[cell] for row in table.cells for cell in row],
            [[cell] for cell in table.row_totals],
            [[cell] for cell in table.column_totals],
            [[table.total]]]


def _add_noise(cells: list[Cell], mechanism: CountMechanism) -> None:
    """Draw one noisy value for a count and publish it in every cell showing that count."""
    if cells[0].value is None:
        return
    noisy = max(0, mechanism.release(int(cells[0].value)))
    for cell in cells:
        cell.value = noisy
        cell.flag = NOISY


def noise_notes(mechanism: CountMechanism, epsilon: float) -> list[str]:
    """What a reader needs to know about the noise in a table, in plain words."""
    return [
        f"Each count has noise added (differential privacy, privacy loss ε = {epsilon:g} "
        f"for this table): 95% of counts are within ±{mechanism.margin(0.05)} of the true "
        f"value.",
        f"The noise is whole numbers from a discrete Laplace distribution of scale "
        f"{mechanism.scale:.2f} (standard deviation {mechanism.standard_deviation:.1f}), "
        f"centred on zero. Totals have noise of their own, so rows and columns may not add "
        f"up exactly to the totals shown.",
        "A count that came out below zero is shown as 0, so small counts lean slightly "
        "upward.",
    ]


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
