"""Disclosure control of one table: small counts are hidden so that no person can be
singled out, and what is published cannot be used to work a hidden count back out.

Every function returns a new Table and leaves the one it was given untouched.

Primary suppression hides every count below the threshold (1 to 4 persons with the usual
threshold of 5). A zero is a true, known zero ("nobody") and stays published, unless the
release asks for zeros to be hidden too.

Secondary suppression hides further counts so that a primary one cannot be recovered by
subtraction. Picture the table with its totals as a grid of (rows + 1) by (columns + 1)
counts: each row adds up to its row total, each column to its column total, and the
totals row to the overall total. We call each such row or column of the grid a "line".
Two rules are applied until neither adds anything:

1. A line holding exactly one hidden count gives it away (the total minus the rest).
   Hide a second count in that line: the smallest published non-zero one, preferring one
   whose crossing line already holds a hidden count, since it then protects twice.
2. Even when every line holds two or more hidden counts, a hidden count can still be
   pinned down by the lines taken together. It is safe exactly when it lies on a closed
   loop of hidden counts that turns alternately along a row and along a column: adding 1
   and taking 1 away around the loop keeps every total right, so the reader cannot tell
   the true table from the changed one. A hidden count on no such loop gets one more
   hidden count that closes a loop through it (the smallest published one that does).

These two rules together guarantee that no hidden count (other than a hidden zero) can
be worked out exactly from the published counts and totals; the tests check this by
solving for every hidden count.
"""

from __future__ import annotations

import copy

from opennrm.statistics.tables import NOISY, ROUNDED, SECONDARY, SUPPRESSED, Cell, Table

# A position in the grid of counts with totals: (row, column). Row number len(rows) is
# the totals row; column number len(columns) is the column of row totals.
Position = tuple[int, int]


# --- primary and secondary suppression --------------------------------------------------

def suppress_small_cells(table: Table, threshold: int = 5,
                         suppress_zeros: bool = False) -> Table:
    """Hide every count below `threshold`, then hide what would give the small ones away.

    Counts: every cell, every row total, every column total and the overall total. A
    count 0 < value < threshold is hidden (flag SUPPRESSED). Zero is published as a true
    zero; with `suppress_zeros=True` zeros are hidden as well.

    Counts hidden only to protect another one get the flag SECONDARY (see the module's
    description of the two rules).

    A table without a column dimension has one column ("total") whose cell in each row is
    the row total itself: the row is a line of two equal counts, so they are always hidden
    together.

    A non-additive table (one person may fall in several rows, such as several forms of
    exploitation) does not add up to its totals, so its hidden counts are harder to
    recover; the same secondary suppression is applied all the same, to be on the safe
    side.

    An indicator table (medians, shares…) is handled by `_suppress_indicator_table`.
    """
    if threshold < 1:
        raise ValueError(f"the threshold must be 1 or more, not {threshold}")
    result = copy.deepcopy(table)
    if result.kind == "indicator":
        _suppress_indicator_table(result, threshold)
        return result
    grid = _grid(result)
    for row in grid:
        for cell in row:
            if _is_small(cell.value, threshold, suppress_zeros):
                _hide(cell, SUPPRESSED)
    _suppress_secondary(grid, check_loops=bool(result.rows) and bool(result.columns))
    return result


def protect_table(table: Table) -> int:
    """Secondary suppression, again, of a table already suppressed, in place: after counts
    were hidden in it because they are hidden in another table (`linked`). Returns the
    number of counts it hid."""
    if table.kind == "indicator":
        grid = [[cell] for cell in table.row_totals] + [[table.total]]
        check_loops = False
    else:
        grid = _grid(table)
        check_loops = bool(table.rows) and bool(table.columns)
    before = sum(cell.value is None for row in grid for cell in row)
    _suppress_secondary(grid, check_loops=check_loops)
    return sum(cell.value is None for row in grid for cell in row) - before


def _suppress_indicator_table(table: Table, threshold: int) -> None:
    """Hide, in place, each figure of an indicator table resting on too few persons.

    A cell (a median, a share…) is hidden when it was computed from fewer than
    `threshold` units (its base in `table.bases`), including from none. The row totals
    and the overall total of an indicator table are counts (the base of the row and of
    the table): they are hidden like counts, with the same secondary suppression along
    the column of row totals, so that a hidden row base cannot be recovered as the
    overall total minus the others. The column totals are figures for the whole
    population: they are hidden when the overall total is below the threshold. No
    secondary suppression is applied to the figures themselves: they do not add up.
    """
    if table.bases is None:
        raise ValueError(f"indicator table {table.key!r} has no bases to judge its cells by")
    for cells, bases in zip(table.cells, table.bases, strict=True):
        for cell, base in zip(cells, bases, strict=True):
            if base < threshold:
                _hide(cell, SUPPRESSED)
    if table.total.value is not None and table.total.value < threshold:
        for cell in table.column_totals:
            _hide(cell, SUPPRESSED)
    bases_grid = [[cell] for cell in table.row_totals] + [[table.total]]
    for row in bases_grid:
        if _is_small(row[0].value, threshold, suppress_zeros=False):
            _hide(row[0], SUPPRESSED)
    _suppress_secondary(bases_grid, check_loops=False)


def _is_small(value: int | float | None, threshold: int, suppress_zeros: bool) -> bool:
    """Whether a published count must be hidden as too small."""
    if value is None:
        return False
    if value == 0:
        return suppress_zeros
    return 0 < value < threshold


def _hide(cell: Cell, flag: str) -> None:
    cell.value = None
    cell.flag = flag


def _grid(table: Table) -> list[list[Cell]]:
    """The table's counts with their totals as one grid of the table's own Cell objects.

    Row i ends with the row total of row i; the last row holds the column totals and ends
    with the overall total. Changing a Cell of the grid changes the table.
    """
    grid = [list(cells) + [row_total]
            for cells, row_total in zip(table.cells, table.row_totals, strict=True)]
    grid.append(list(table.column_totals) + [table.total])
    return grid


def _lines(grid: list[list[Cell]]) -> list[list[Position]]:
    """Every row and every column of the grid that adds up to its last count.

    A line of one count (a row of a table with no columns) says nothing and is left out.
    """
    height, width = len(grid), len(grid[0])
    rows = [[(i, j) for j in range(width)] for i in range(height)]
    columns = [[(i, j) for i in range(height)] for j in range(width)]
    return [line for line in rows + columns if len(line) >= 2]


def _is_hidden(grid: list[list[Cell]], position: Position) -> bool:
    i, j = position
    return grid[i][j].value is None


def _suppress_secondary(grid: list[list[Cell]], check_loops: bool) -> None:
    """Apply the two rules of secondary suppression until neither hides anything more.

    `check_loops` is False for a single line of counts (a table without columns or
    without rows, or the bases of an indicator table): there is only that one sum, and
    two hidden counts in it are enough.
    """
    while True:
        if _protect_lines(grid):
            continue
        if check_loops and _protect_loops(grid):
            continue
        return


def _protect_lines(grid: list[list[Cell]]) -> bool:
    """Rule 1: give a second hidden count to each line holding exactly one.

    Returns whether anything was hidden.
    """
    hid_something = False
    for line in _lines(grid):
        hidden = [p for p in line if _is_hidden(grid, p)]
        if len(hidden) == 1:
            i, j = _second_in_line(grid, line)
            _hide(grid[i][j], SECONDARY)
            hid_something = True
    return hid_something


def _second_in_line(grid: list[list[Cell]], line: list[Position]) -> Position:
    """The published count of a line to hide beside its one hidden count.

    The smallest non-zero count whose crossing line (its column, for a row; its row, for
    a column) already holds a hidden count; failing that the smallest non-zero count;
    a zero only when nothing else is left.
    """
    is_row_line = line[0][0] == line[1][0]

    def preference(position: Position) -> tuple:
        i, j = position
        crossing = [row[j] for row in grid] if is_row_line else grid[i]
        crossing_has_hidden = any(cell.value is None for cell in crossing)
        value = grid[i][j].value
        return (value == 0, not crossing_has_hidden, value, position)

    published = [p for p in line if not _is_hidden(grid, p)]
    return min(published, key=preference)


def _protect_loops(grid: list[list[Cell]]) -> bool:
    """Rule 2: close a loop of hidden counts through the first hidden count on none.

    Returns whether anything was hidden. The hidden counts are seen as links between
    their row and their column; a hidden count lies on a loop when its row and column are
    still linked once the count itself is taken away.
    """
    hidden = [(i, j) for i, row in enumerate(grid) for j, cell in enumerate(row)
              if cell.value is None]
    for position in hidden:
        row_side = _linked(hidden, ("row", position[0]), without=position)
        column_side = _linked(hidden, ("column", position[1]), without=position)
        if ("column", position[1]) in row_side:
            continue
        # Any published count joining one side to the other closes a loop through it.
        closing = [(i, j) for i, row in enumerate(grid) for j, cell in enumerate(row)
                   if cell.value is not None
                   and ((("row", i) in row_side and ("column", j) in column_side)
                        or (("row", i) in column_side and ("column", j) in row_side))]
        i, j = min(closing, key=lambda p: (grid[p[0]][p[1]].value == 0,
                                           grid[p[0]][p[1]].value, p))
        _hide(grid[i][j], SECONDARY)
        return True
    return False


def _linked(hidden: list[Position], start: tuple[str, int],
            without: Position) -> set[tuple[str, int]]:
    """The rows and columns reachable from `start` through hidden counts other than one."""
    reached = {start}
    to_visit = [start]
    while to_visit:
        kind, number = to_visit.pop()
        for position in hidden:
            if position == without:
                continue
            i, j = position
            if kind == "row" and i == number:
                neighbour = ("column", j)
            elif kind == "column" and j == number:
                neighbour = ("row", i)
            else:
                continue
            if neighbour not in reached:
                reached.add(neighbour)
                to_visit.append(neighbour)
    return reached


# --- rounding ----------------------------------------------------------------------------

def round_counts(table: Table, base: int = 5) -> Table:
    """Round every published count to the nearest multiple of `base` (halves round up).

    Every published count is flagged ROUNDED, whether or not its value changed: flagging
    only the changed ones would tell the reader which counts are exact. A count flagged
    NOISY keeps that flag (the noise is what protects it; the notes say it was rounded
    too). Hidden counts stay hidden. Each total is rounded on its own, not summed from
    rounded cells, so rows and columns may not add up to the totals; a note says so.

    In an indicator table only the counts (row totals, overall total) are rounded; the
    figures (medians, shares…) are left as they are.
    """
    if base < 1:
        raise ValueError(f"the rounding base must be 1 or more, not {base}")
    result = copy.deepcopy(table)
    if base == 1:
        return result
    for _name, cell in count_cells(result):
        if cell.value is None:
            continue
        cell.value = _round_to_base(int(cell.value), base)
        if cell.flag != NOISY:
            cell.flag = ROUNDED
    result.notes.append(
        f"Counts are rounded to the nearest multiple of {base}. Each total is rounded on "
        f"its own, so rows and columns may not add up exactly to the totals shown.")
    return result


def _round_to_base(value: int, base: int) -> int:
    return base * ((value + base // 2) // base)


# --- what is published --------------------------------------------------------------------

def published_values(table: Table) -> list[int | float]:
    """Every number the table publishes: cells row by row, row totals, column totals and
    the overall total, leaving out hidden ones."""
    cells = [cell for row in table.cells for cell in row]
    cells += table.row_totals + table.column_totals + [table.total]
    return [cell.value for cell in cells if cell.value is not None]


def count_cells(table: Table) -> list[tuple[str, Cell]]:
    """Every count of the table with a name a reader would use for it.

    In a count table: every cell and every total. In an indicator table only the row
    totals and the overall total are counts (the persons each row rests on).
    """
    named = []
    if table.kind != "indicator":
        for label, cells in zip(table.row_labels, table.cells, strict=True):
            for column_label, cell in zip(table.column_labels, cells, strict=True):
                named.append((f"the cell for row {label!r}, column {column_label!r}", cell))
    for label, cell in zip(table.row_labels, table.row_totals, strict=True):
        named.append((f"the total of row {label!r}", cell))
    if table.kind != "indicator":
        for label, cell in zip(table.column_labels, table.column_totals, strict=True):
            named.append((f"the total of column {label!r}", cell))
    named.append(("the overall total", table.total))
    return named


def assert_no_small_cells(table: Table, threshold: int = 5) -> None:
    """Release check: raise ValueError naming the first published count 0 < v < threshold.

    Every count is checked, whatever its flag (noisy and rounded counts included).
    """
    for name, cell in count_cells(table):
        if cell.value is not None and 0 < cell.value < threshold:
            raise ValueError(f"table {table.key!r}: {name} is {cell.value}, below the "
                             f"threshold of {threshold}")
