"""Differential privacy: the noise OpenDP adds is as large as promised, and the budget holds.

The noise is truly random (OpenDP does not take a seed), so the statistical tests allow
about five standard errors: a correct mechanism fails them far less than once in a
million runs, a wrong scale fails them every time.
"""

import math
import statistics

import pytest

from opennrm.statistics.dp import (
    BudgetExceeded,
    add_noise_to_table,
    check_budget,
    count_mechanism,
    discrete_laplace_standard_deviation,
    split_epsilon,
)
from opennrm.statistics.tables import NOISY, SUPPRESSED, Cell, Table

DRAWS = 20_000
TRUE_COUNT = 50


def count_table(cells: list[list[int]], additive: bool = True) -> Table:
    rows = [f"r{i}" for i in range(len(cells))]
    columns = [f"c{j}" for j in range(len(cells[0]))]
    return Table(
        key="test", title="Test", unit="persons", row_dimension="Row",
        column_dimension="Column", rows=rows, row_labels=rows, columns=columns,
        column_labels=columns, cells=[[Cell(v) for v in row] for row in cells],
        row_totals=[Cell(sum(row)) for row in cells],
        column_totals=[Cell(sum(column)) for column in zip(*cells, strict=True)],
        total=Cell(sum(map(sum, cells))), additive=additive)


def one_column_table(values: list[int]) -> Table:
    rows = [f"r{i}" for i in range(len(values))]
    return Table(
        key="one", title="One column", unit="persons", row_dimension="Row", rows=rows,
        row_labels=rows, columns=["total"], column_labels=["Total"],
        cells=[[Cell(v)] for v in values], row_totals=[Cell(v) for v in values],
        column_totals=[Cell(sum(values))], total=Cell(sum(values)))


def all_cells(table: Table) -> list[Cell]:
    return [c for row in table.cells for c in row] + table.row_totals \
        + table.column_totals + [table.total]


# --- the budget --------------------------------------------------------------------------

def test_budget_refused_beyond_the_cap():
    with pytest.raises(BudgetExceeded, match="0.8 already spent and 0.3 asked.*cap of 1"):
        check_budget(spent=0.8, asked=0.3, cap=1.0)


def test_budget_up_to_the_cap_is_allowed_despite_float_sums():
    check_budget(spent=0.7, asked=0.3, cap=1.0)
    spent = 0.0
    for _ in range(10):
        check_budget(spent, 0.1, cap=1.0)
        spent += 0.1
    with pytest.raises(BudgetExceeded):
        check_budget(spent, 0.01, cap=1.0)


def test_release_budget_is_split_equally_between_its_tables():
    share = split_epsilon(1.0, 3)
    assert share == pytest.approx(1 / 3)
    check_budget(spent=0.0, asked=share * 3, cap=1.0)
    with pytest.raises(ValueError):
        split_epsilon(1.0, 0)


@pytest.mark.parametrize("epsilon", [0, -1, 0.0, float("nan"), float("inf")])
def test_epsilon_must_be_positive(epsilon):
    with pytest.raises(ValueError, match="epsilon"):
        count_mechanism(epsilon)
    with pytest.raises(ValueError, match="epsilon"):
        add_noise_to_table(count_table([[10, 20]]), epsilon)
    with pytest.raises(ValueError, match="epsilon"):
        split_epsilon(epsilon, 2)


# --- one count ---------------------------------------------------------------------------

def test_scale_is_sensitivity_over_epsilon_and_opendp_certifies_the_loss():
    mechanism = count_mechanism(0.25)
    assert mechanism.scale == pytest.approx(4.0)
    assert mechanism.measurement.map(1) <= 0.25
    assert count_mechanism(0.25, sensitivity=2).scale == pytest.approx(8.0)
    # 1 / 0.3 is not exact as a float: OpenDP must still certify at most 0.3.
    assert count_mechanism(0.3).measurement.map(1) <= 0.3


@pytest.fixture(scope="module")
def noise():
    """20,000 noisy releases of the same count, as noise around the true count."""
    mechanism = count_mechanism(0.25)
    return mechanism, [mechanism.release(TRUE_COUNT) - TRUE_COUNT for _ in range(DRAWS)]


def test_noise_is_centred_on_zero(noise):
    mechanism, draws = noise
    standard_error = mechanism.standard_deviation / math.sqrt(DRAWS)
    assert abs(statistics.fmean(draws)) < 5 * standard_error


def test_noise_spread_matches_the_scale(noise):
    mechanism, draws = noise
    assert mechanism.standard_deviation == pytest.approx(
        discrete_laplace_standard_deviation(4.0))
    assert statistics.pstdev(draws) == pytest.approx(mechanism.standard_deviation, rel=0.04)


def test_ninety_five_percent_of_counts_are_within_the_reported_accuracy(noise):
    mechanism, draws = noise
    margin = mechanism.margin(0.05)
    assert margin == math.floor(mechanism.accuracy(0.05))
    share_within = sum(abs(d) <= margin for d in draws) / DRAWS
    standard_error = math.sqrt(0.95 * 0.05 / DRAWS)
    assert share_within >= 0.95 - 5 * standard_error
    assert share_within == pytest.approx(0.95, abs=0.015)


# --- a table -----------------------------------------------------------------------------

def test_every_count_of_a_table_is_noisy_and_never_negative():
    original = count_table([[100, 120, 80], [90, 110, 100], [95, 105, 99]])
    noisy = add_noise_to_table(original, epsilon=0.5)
    assert all(c.flag == NOISY for c in all_cells(noisy))
    assert all(c.value >= 0 for c in all_cells(noisy))
    assert [c.value for c in all_cells(noisy)] != [c.value for c in all_cells(original)]
    assert all(c.flag == "" for c in all_cells(original))  # the input is untouched


def test_the_noisy_table_still_adds_up():
    noisy = add_noise_to_table(count_table([[100, 120, 80], [90, 110, 100]]), epsilon=0.5)
    assert [c.value for c in noisy.row_totals] == [sum(c.value for c in row)
                                                   for row in noisy.cells]
    assert [c.value for c in noisy.column_totals] == [
        sum(row[j].value for row in noisy.cells) for j in range(3)]
    assert noisy.total.value == sum(c.value for c in noisy.row_totals)


def test_each_cell_carries_the_whole_epsilon():
    """One person is in one cell: the cells together cost epsilon once (parallel
    composition), so each gets scale 1/epsilon; the totals are sums and cost nothing."""
    draws = [add_noise_to_table(count_table([[50, 50]]), epsilon=0.25).cells[0][0].value - 50
             for _ in range(4000)]
    expected = count_mechanism(0.25).standard_deviation
    assert statistics.pstdev(draws) == pytest.approx(expected, rel=0.1)


def test_noise_on_zeros_is_published_as_zero_or_more():
    noisy = add_noise_to_table(count_table([[0] * 4] * 4), epsilon=0.5)
    values = [c.value for c in all_cells(noisy)]
    assert min(values) == 0
    assert max(values) > 0


def test_notes_tell_the_reader_how_large_the_noise_is():
    noisy = add_noise_to_table(count_table([[10, 20], [30, 40]]), epsilon=0.5)
    mechanism = count_mechanism(0.5)
    assert mechanism.scale == pytest.approx(2.0)
    note = noisy.notes[-1]
    assert "ε = 0.5" in note and "noise of scale 2 " in note
    assert f"within ±{mechanism.margin(0.05)} of the true count" in note
    assert "shown as 0" in note and "Totals are sums of the noisy cells" in note


def test_one_column_table_shows_each_noisy_count_once():
    noisy = add_noise_to_table(one_column_table([40, 25, 60]), epsilon=1.0)
    for cells, row_total in zip(noisy.cells, noisy.row_totals, strict=True):
        assert cells[0] == row_total
    assert noisy.column_totals[0] == noisy.total


def test_tables_noise_cannot_protect_are_refused():
    indicator = count_table([[10, 20]])
    indicator.kind = "indicator"
    with pytest.raises(ValueError, match="count table"):
        add_noise_to_table(indicator, epsilon=1.0)
    several_rows = count_table([[10, 20], [30, 40]], additive=False)
    with pytest.raises(ValueError, match="not additive"):
        add_noise_to_table(several_rows, epsilon=1.0)
    hidden = count_table([[10, 20], [30, 40]])
    hidden.cells[0][0] = Cell(None, SUPPRESSED)
    with pytest.raises(ValueError, match="before suppression"):
        add_noise_to_table(hidden, epsilon=1.0)
