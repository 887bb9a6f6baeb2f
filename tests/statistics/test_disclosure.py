"""Disclosure control: no small count is published, and no hidden count can be worked out.

"Worked out" is tested by solving for it: for each hidden count of an additive table, a
linear program finds the smallest and largest value it could take given every published
count and the rule that rows and columns add up to their totals. If the two meet, the
count is exposed.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from opennrm.statistics.disclosure import (
    assert_no_small_cells,
    published_values,
    round_counts,
    suppress_small_cells,
)
from opennrm.statistics.tables import NOISY, ROUNDED, SECONDARY, SUPPRESSED, Cell, Table


def count_table(cells: list[list[int]], additive: bool = True) -> Table:
    """A count table with rows A, B, C… and columns x, y, z…, totals summed."""
    rows = [chr(ord("A") + i) for i in range(len(cells))]
    columns = [chr(ord("x") + j) if j < 3 else f"c{j}" for j in range(len(cells[0]))]
    return Table(
        key="test", title="Test", unit="persons", row_dimension="Row",
        column_dimension="Column", rows=rows, row_labels=rows, columns=columns,
        column_labels=columns, cells=[[Cell(v) for v in row] for row in cells],
        row_totals=[Cell(sum(row)) for row in cells],
        column_totals=[Cell(sum(column)) for column in zip(*cells, strict=True)],
        total=Cell(sum(map(sum, cells))), additive=additive)


def one_column_table(values: list[int]) -> Table:
    """A table without a column dimension, as the engine makes it: one "total" column."""
    rows = [f"r{i}" for i in range(len(values))]
    return Table(
        key="one", title="One column", unit="persons", row_dimension="Row", rows=rows,
        row_labels=rows, columns=["total"], column_labels=["Total"],
        cells=[[Cell(v)] for v in values], row_totals=[Cell(v) for v in values],
        column_totals=[Cell(sum(values))], total=Cell(sum(values)))


def grid_values(table: Table) -> list[list[int | None]]:
    """The counts with their totals: row totals last in each row, column totals last."""
    grid = [[c.value for c in cells] + [total.value]
            for cells, total in zip(table.cells, table.row_totals, strict=True)]
    grid.append([c.value for c in table.column_totals] + [table.total.value])
    return grid


def grid_flags(table: Table) -> list[list[str]]:
    grid = [[c.flag for c in cells] + [total.flag]
            for cells, total in zip(table.cells, table.row_totals, strict=True)]
    grid.append([c.flag for c in table.column_totals] + [table.total.flag])
    return grid


def hidden_positions(table: Table) -> list[tuple[int, int]]:
    return [(i, j) for i, row in enumerate(grid_values(table))
            for j, value in enumerate(row) if value is None]


def possible_range(table: Table, target: tuple[int, int]) -> tuple[float, float]:
    """The least and greatest value a hidden count can take, knowing what is published.

    Unknowns: the hidden counts, all >= 0. Equations: every row (the totals row too) adds
    up to its last count, every column (the row totals column too) to its last count.
    """
    grid = grid_values(table)
    last_row, last_column = len(grid) - 1, len(grid[0]) - 1
    unknowns = hidden_positions(table)
    index = {position: k for k, position in enumerate(unknowns)}
    lines = [[((i, j), 1) for j in range(last_column)] + [((i, last_column), -1)]
             for i in range(last_row + 1)]
    lines += [[((i, j), 1) for i in range(last_row)] + [((last_row, j), -1)]
              for j in range(last_column + 1)]
    a_eq, b_eq = [], []
    for line in lines:
        coefficients, constant = np.zeros(len(unknowns)), 0.0
        for (i, j), sign in line:
            if grid[i][j] is None:
                coefficients[index[(i, j)]] += sign
            else:
                constant -= sign * grid[i][j]
        if coefficients.any():
            a_eq.append(coefficients)
            b_eq.append(constant)
        else:
            assert constant == 0, "the published counts do not add up"
    objective = np.zeros(len(unknowns))
    objective[index[target]] = 1
    lowest = linprog(objective, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
    highest = linprog(-objective, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
    assert lowest.status == 0
    assert highest.status in (0, 3)  # 3: unbounded, the count could be anything above
    return lowest.fun, (np.inf if highest.status == 3 else -highest.fun)


def assert_nothing_recoverable(original: Table, protected: Table) -> None:
    truth = grid_values(original)
    for i, j in hidden_positions(protected):
        lowest, highest = possible_range(protected, (i, j))
        assert lowest - 1e-6 <= truth[i][j] <= highest + 1e-6
        assert highest - lowest >= 1, f"hidden count at {(i, j)} is pinned to {lowest}"


# --- hand-made tables with known answers ---------------------------------------------------

def test_a_small_cell_is_hidden_with_three_others_forming_a_square():
    original = count_table([[3, 10, 12],
                            [8, 9, 20]])
    protected = suppress_small_cells(original)
    assert grid_flags(protected) == [
        [SUPPRESSED, SECONDARY, "", ""],
        [SECONDARY, SECONDARY, "", ""],
        ["", "", "", ""],
    ]
    assert grid_values(protected) == [[None, None, 12, 25], [None, None, 20, 37],
                                      [11, 19, 32, 62]]
    assert_nothing_recoverable(original, protected)


def test_the_input_table_is_left_untouched():
    original = count_table([[3, 10], [8, 9]])
    before = original.to_dict()
    suppress_small_cells(original)
    round_counts(original)
    assert original.to_dict() == before


def test_small_totals_are_hidden_too():
    original = count_table([[2, 1, 30],
                            [0, 0, 25]])
    protected = suppress_small_cells(original)
    values = grid_values(protected)
    assert values[0][0] is None and values[0][1] is None
    assert values[2][1] is None  # the column total 1
    assert all(v == 0 or v >= 5 for v in published_values(protected))
    assert_nothing_recoverable(original, protected)


def test_zero_is_a_known_zero_and_stays_published():
    original = count_table([[0, 7], [6, 9]])
    protected = suppress_small_cells(original)
    assert protected.cells[0][0] == Cell(0, "")
    assert hidden_positions(protected) == []

    hiding_zeros = suppress_small_cells(original, suppress_zeros=True)
    assert hiding_zeros.cells[0][0] == Cell(None, SUPPRESSED)
    assert 0 not in published_values(hiding_zeros)
    assert len(hidden_positions(hiding_zeros)) >= 4


def test_a_count_pinned_by_the_whole_pattern_is_protected():
    # Every line already holds two or more small counts, yet the 2 in row B, column z is
    # a bridge between two squares of hidden counts: the totals pin it down.
    original = count_table([[1, 2, 9, 9],
                            [3, 1, 2, 9],
                            [9, 9, 1, 3],
                            [9, 9, 2, 4]])
    protected = suppress_small_cells(original)
    assert SECONDARY in {flag for row in grid_flags(protected) for flag in row}
    assert_nothing_recoverable(original, protected)


def test_the_check_itself_finds_a_pinned_count():
    # The same table with only its small counts hidden: each line holds two hidden counts,
    # and the solver must still see that row B, column z is exactly 2.
    original = count_table([[1, 2, 9, 9],
                            [3, 1, 2, 9],
                            [9, 9, 1, 3],
                            [9, 9, 2, 4]])
    naive = count_table([[1, 2, 9, 9], [3, 1, 2, 9], [9, 9, 1, 3], [9, 9, 2, 4]])
    for row in naive.cells:
        for cell in row:
            if cell.value < 5:
                cell.value, cell.flag = None, SUPPRESSED
    assert possible_range(naive, (1, 2)) == pytest.approx((2, 2))
    with pytest.raises(AssertionError, match="pinned"):
        assert_nothing_recoverable(original, naive)


def test_one_column_table_hides_a_row_and_its_total_together():
    original = one_column_table([2, 10, 7, 30])
    protected = suppress_small_cells(original)
    for cells, row_total in zip(protected.cells, protected.row_totals, strict=True):
        assert (cells[0].value is None) == (row_total.value is None)
    assert protected.cells[0][0] == Cell(None, SUPPRESSED)
    # The 2 would be 49 minus the rest: the smallest other row (7) is hidden with it.
    assert protected.cells[2][0] == Cell(None, SECONDARY)
    assert protected.row_totals[2] == Cell(None, SECONDARY)
    assert published_values(protected) == [10, 30, 10, 30, 49, 49]
    assert_nothing_recoverable(original, protected)


def test_table_without_columns_hides_a_second_row():
    rows = ["a", "b", "c"]
    original = Table(key="flat", title="Flat", unit="persons", row_dimension="Row",
                     rows=rows, row_labels=rows, columns=[], column_labels=[],
                     cells=[[], [], []], row_totals=[Cell(3), Cell(20), Cell(12)],
                     column_totals=[], total=Cell(35))
    protected = suppress_small_cells(original)
    assert protected.row_totals == [Cell(None, SUPPRESSED), Cell(20),
                                    Cell(None, SECONDARY)]
    assert protected.total == Cell(35)


def test_table_without_rows_hides_a_second_column_total():
    columns = ["x", "y", "z"]
    original = Table(key="empty", title="Empty", unit="persons", row_dimension="Row",
                     rows=[], row_labels=[], columns=columns, column_labels=columns,
                     cells=[], row_totals=[], column_totals=[Cell(0), Cell(9), Cell(3)],
                     total=Cell(12))
    protected = suppress_small_cells(original)
    assert protected.column_totals == [Cell(0), Cell(None, SECONDARY), Cell(None, SUPPRESSED)]
    assert protected.total == Cell(12)


def test_non_additive_table_gets_the_same_secondary_suppression():
    cells = [[3, 10, 12], [8, 9, 20]]
    additive = suppress_small_cells(count_table(cells))
    several_rows = suppress_small_cells(count_table(cells, additive=False))
    assert grid_flags(several_rows) == grid_flags(additive)


def test_a_table_with_nothing_small_is_published_whole():
    original = count_table([[5, 10], [0, 7]])
    protected = suppress_small_cells(original)
    assert protected.to_dict() == original.to_dict()


def indicator_table() -> Table:
    rows = ["young", "adult", "older"]
    return Table(
        key="days", title="Days to decision", unit="persons", kind="indicator",
        row_dimension="Age", rows=rows, row_labels=rows, columns=["median", "p90"],
        column_labels=["Median (days)", "90th percentile (days)"],
        cells=[[Cell(30.0), Cell(41.0)], [Cell(25.0), Cell(60.0)], [Cell(20.0), Cell(33.0)]],
        bases=[[3, 3], [12, 10], [40, 4]],
        row_totals=[Cell(3), Cell(12), Cell(40)],
        column_totals=[Cell(24.0), Cell(50.0)], total=Cell(55))


def test_indicator_figures_on_too_few_persons_are_hidden():
    protected = suppress_small_cells(indicator_table())
    assert protected.cells == [
        [Cell(None, SUPPRESSED), Cell(None, SUPPRESSED)],
        [Cell(25.0), Cell(60.0)],
        [Cell(20.0), Cell(None, SUPPRESSED)],
    ]
    # The base 3 is hidden, and so is a second base: 55 - 12 - 40 would give it away.
    assert protected.row_totals == [Cell(None, SUPPRESSED), Cell(None, SECONDARY), Cell(40)]
    assert protected.column_totals == [Cell(24.0), Cell(50.0)]
    assert protected.total == Cell(55)


def test_indicator_for_a_tiny_population_hides_the_overall_figures():
    table = indicator_table()
    table.total = Cell(4)
    table.row_totals = [Cell(1), Cell(3), Cell(0)]
    protected = suppress_small_cells(table)
    assert protected.column_totals == [Cell(None, SUPPRESSED), Cell(None, SUPPRESSED)]
    assert protected.total == Cell(None, SUPPRESSED)


# --- rounding ----------------------------------------------------------------------------

def test_rounding_to_five_flags_every_published_count():
    rounded = round_counts(count_table([[3, 12], [8, 27]]))
    assert grid_values(rounded) == [[5, 10, 15], [10, 25, 35], [10, 40, 50]]
    assert {flag for row in grid_flags(rounded) for flag in row} == {ROUNDED}
    assert any("rounded" in note and "5" in note for note in rounded.notes)


def test_rounding_keeps_hidden_counts_hidden_and_noisy_flags():
    table = suppress_small_cells(count_table([[3, 10, 12], [8, 9, 20]]))
    table.total.flag = NOISY
    rounded = round_counts(table, base=10)
    assert hidden_positions(rounded) == hidden_positions(table)
    assert rounded.cells[0][2] == Cell(10, ROUNDED)
    assert rounded.row_totals[0] == Cell(30, ROUNDED)  # 25: halves round up
    assert rounded.total == Cell(60, NOISY)


def test_rounding_an_indicator_table_leaves_its_figures_alone():
    rounded = round_counts(indicator_table(), base=5)
    assert rounded.cells[0][0] == Cell(30.0)
    assert rounded.row_totals == [Cell(5, ROUNDED), Cell(10, ROUNDED), Cell(40, ROUNDED)]
    assert rounded.total == Cell(55, ROUNDED)


# --- the release check ---------------------------------------------------------------------

def test_release_check_names_the_small_cell():
    table = count_table([[6, 10], [3, 9]])
    with pytest.raises(ValueError, match="row 'B', column 'x'.* 3"):
        assert_no_small_cells(table, threshold=5)
    assert_no_small_cells(suppress_small_cells(table), threshold=5)


def test_release_check_accepts_zeros_and_checks_totals():
    assert_no_small_cells(count_table([[0, 10], [0, 9]]), threshold=5)
    table = count_table([[10, 10], [9, 9]])
    table.column_totals[1] = Cell(4)
    with pytest.raises(ValueError, match="total of column 'y'"):
        assert_no_small_cells(table, threshold=5)


def test_published_values_lists_every_number_shown():
    table = suppress_small_cells(count_table([[3, 10, 12], [8, 9, 20]]))
    assert published_values(table) == [12, 20, 25, 37, 11, 19, 32, 62]


# --- many random tables ------------------------------------------------------------------

# Mostly small counts, so that most tables need primary and secondary suppression.
counts = st.one_of(st.integers(0, 4), st.integers(0, 4), st.integers(0, 30))
tables = st.integers(3, 6).flatmap(
    lambda n_rows: st.integers(2, 5).flatmap(
        lambda n_columns: st.lists(st.lists(counts, min_size=n_columns, max_size=n_columns),
                                   min_size=n_rows, max_size=n_rows)))


@settings(max_examples=100, derandomize=True, deadline=None)
@given(tables)
def test_random_tables_publish_nothing_small_and_nothing_recoverable(cells):
    original = count_table(cells)
    protected = suppress_small_cells(original)
    assert_no_small_cells(protected, threshold=5)
    truth, shown = grid_values(original), grid_values(protected)
    for true_row, shown_row in zip(truth, shown, strict=True):
        for true_value, shown_value in zip(true_row, shown_row, strict=True):
            assert shown_value in (None, true_value)
    assert_nothing_recoverable(original, protected)
