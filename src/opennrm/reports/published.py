"""What a reader of a published table sees: the grid with its totals, the text of each cell,
the symbols used for confidential cells and the disclosure controls behind them.

Shared by the CSV, the spreadsheet, the PDF and the charts, so that a figure reads the same
in each of them. Only `Cell.value` is ever shown: a suppressed cell carries no number.
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Number

from django.utils.formats import number_format
from django.utils.translation import gettext as _

from opennrm.reports.tables import (
    NOISY,
    ROUNDED,
    SECONDARY,
    SUPPRESSED,
    Cell,
    Table,
    TableSetResult,
)

TOTAL = "total"


@dataclass
class GridRow:
    """One line of a published table: a category or the total line."""

    code: str
    label: str
    cells: list[Cell]
    is_total: bool = False


@dataclass
class Grid:
    """A table as laid out for reading: the category columns, then the total column (if
    the table has one), and the category rows, then the total row."""

    columns: list[tuple[str, str]]
    rows: list[GridRow]
    total_column: int | None

    def is_total_column(self, index: int) -> bool:
        return self.total_column is not None and index == self.total_column


def total_column_label(table: Table) -> str:
    """The heading of the totals column: what the engine called it, else "Total" for a count
    table, and the unit ("Persons") for an indicator table, which holds there how many
    persons each row rests on."""
    label = getattr(table, "total_label", "") or "Total"
    if label == "Total":
        return unit_label(table.unit) if table.kind == "indicator" else _("Total")
    return _(label)  # labels the engine wrote in English read in the report's language


def total_row_label(table: Table) -> str:
    """The label of the totals line: counts add up to a "Total"; an indicator computed over
    everyone is "All"."""
    return _("All") if table.kind == "indicator" else _("Total")


def table_grid(table: Table) -> Grid:
    """The table with its totals in reading order.

    A table without a column dimension already has a single "total" column; it gets no
    second totals column. Likewise a "total" row is not repeated.
    """
    has_total_column = TOTAL not in table.columns
    has_total_row = TOTAL not in table.rows
    columns = list(zip(table.columns, table.column_labels, strict=True))
    if has_total_column:
        columns.append((TOTAL, total_column_label(table)))
    rows = []
    for index, (code, label) in enumerate(zip(table.rows, table.row_labels, strict=True)):
        cells = list(table.cells[index])
        if has_total_column:
            cells.append(table.row_totals[index])
        rows.append(GridRow(code, label, cells, is_total=code == TOTAL))
    if has_total_row:
        cells = list(table.column_totals)
        if has_total_column:
            cells.append(table.total)
        rows.append(GridRow(TOTAL, total_row_label(table), cells, is_total=True))
    if has_total_column:
        total_column = len(columns) - 1
    elif len(table.columns) > 1:
        total_column = table.columns.index(TOTAL)
    else:
        total_column = None  # the one column of a one-way table is its figures, not a sum
    return Grid(columns=columns, rows=rows, total_column=total_column)


def all_cells(table: Table) -> list[Cell]:
    """Every cell of the table, totals included."""
    cells = [cell for row in table.cells for cell in row]
    return cells + list(table.row_totals) + list(table.column_totals) + [table.total]


def small_cell_label(table: Table, result: TableSetResult) -> str:
    """The label a primary-suppressed cell of this table is published as.

    "<5" describes a small count; on an indicator (a median of days, a share) it would read
    as a value below 5, so a suppressed indicator is always shown as "x".
    """
    return result.small_cell_label if table.kind == "count" else ""


def published_text(cell: Cell, label: str) -> str:
    """The cell as published, without locale: "12", "12.5", "<5" or "x" (for data files)."""
    return cell.display(label)


def localized_text(cell: Cell, label: str) -> str:
    """The cell as a reader sees it in the active language: grouped thousands and the local
    decimal sign ("1,234" and "12.5" in English, "1.234" and "12,5" in Romanian)."""
    if cell.value is None:
        return cell.display(label)
    if isinstance(cell.value, float):
        return number_format(cell.value, decimal_pos=1, use_l10n=True, force_grouping=True)
    return number_format(cell.value, use_l10n=True, force_grouping=True)


def unit_label(unit: str) -> str:
    """What the table counts, in the reader's language."""
    labels = {
        "persons": _("Persons"),
        "cases": _("Cases"),
        "referrals": _("Referrals"),
        "decisions": _("Decisions"),
    }
    return labels.get(unit, unit)


def _threshold(result: TableSetResult) -> int | None:
    threshold = result.controls.get("threshold")
    return threshold if isinstance(threshold, Number) and threshold > 0 else None


def _rounding(result: TableSetResult) -> int | None:
    base = result.controls.get("rounding")
    return base if isinstance(base, Number) and base > 1 else None


def _epsilon(result: TableSetResult) -> float | None:
    for key in ("epsilon", "epsilon_spent"):
        epsilon = result.controls.get(key)
        if isinstance(epsilon, Number) and epsilon > 0:
            return epsilon
    return None


def _secondary(result: TableSetResult) -> bool:
    """Secondary suppression was applied: the controls say so, or a cell is so flagged."""
    if result.controls.get("secondary"):
        return True
    return any(cell.flag == SECONDARY for table in result.tables for cell in all_cells(table))


def _format_number(value) -> str:
    return number_format(value, use_l10n=True)


def suppressed_meaning(table: Table, result: TableSetResult) -> str:
    """What a primary-suppressed cell of this table stands for."""
    threshold = _threshold(result)
    if table.kind == "indicator":
        if threshold:
            return _("computed from fewer than %(threshold)s persons; not published for "
                     "confidentiality") % {"threshold": threshold}
        return _("computed from too few persons to publish; withheld for confidentiality")
    if threshold:
        return _("a count below the threshold of %(threshold)s; not published for "
                 "confidentiality") % {"threshold": threshold}
    return _("a count too small to publish; withheld for confidentiality")


def secondary_meaning() -> str:
    return _("withheld so that a suppressed figure cannot be worked out from the totals")


def table_symbols(table: Table, result: TableSetResult) -> list[tuple[str, str]]:
    """The symbols that appear in this table, each with what it means."""
    flags = {cell.flag for cell in all_cells(table) if cell.value is None}
    symbols = []
    if SUPPRESSED in flags:
        symbols.append((small_cell_label(table, result) or "x",
                        suppressed_meaning(table, result)))
    if SECONDARY in flags:
        symbols.append(("x", secondary_meaning()))
    return symbols


def table_footnotes(table: Table, result: TableSetResult) -> list[str]:
    """Notes a reader needs to read the figures right: rounding, noise, overlapping
    categories. They come before the notes of the table itself."""
    flags = {cell.flag for cell in all_cells(table)}
    notes = []
    if not table.additive:
        notes.append(_("The categories overlap: one person or case can be counted in more "
                       "than one of them, so they do not add up to the total."))
    base = _rounding(result)
    if ROUNDED in flags or (base and table.kind == "count"):
        if base:
            notes.append(_("Counts are rounded to a multiple of %(base)s; totals are rounded "
                           "separately and may differ from the sum of their parts.")
                         % {"base": base})
        else:
            notes.append(_("Counts are rounded; totals are rounded separately and may differ "
                           "from the sum of their parts."))
    if NOISY in flags:
        notes.append(_("Random noise was added to protect privacy; figures may differ slightly "
                       "from the exact counts and may not add up."))
    return notes


def controls_summary(result: TableSetResult) -> list[tuple[str, str]]:
    """The disclosure controls of a table set as label and value, for a methods table."""
    threshold = _threshold(result)
    base = _rounding(result)
    epsilon = _epsilon(result)
    summary = [
        (_("Threshold for small counts"),
         _format_number(threshold) if threshold else _("None")),
        (_("Symbol for small counts"), result.small_cell_label or "x"),
        (_("Secondary suppression"), _("Applied") if _secondary(result) else _("Not applied")),
        (_("Rounding base"), _format_number(base) if base else _("None")),
        (_("Privacy budget spent (ε)"),
         _format_number(epsilon) if epsilon is not None else _("Not used")),
    ]
    known = {"threshold", "secondary", "rounding", "epsilon", "epsilon_spent"}
    for key in sorted(set(result.controls) - known):
        value = result.controls[key]
        if value in (None, "", [], {}):
            continue
        summary.append((key.replace("_", " ").capitalize(), str(value)))
    return summary


def controls_explanations(result: TableSetResult) -> list[str]:
    """The disclosure controls of a table set in plain sentences."""
    threshold = _threshold(result)
    base = _rounding(result)
    epsilon = _epsilon(result)
    symbol = result.small_cell_label or "x"
    sentences = []
    if threshold:
        sentences.append(_("Counts below %(threshold)s are not published; they are shown as "
                           "“%(symbol)s”. A median or share computed from fewer than "
                           "%(threshold)s persons is shown as “x”.")
                         % {"threshold": threshold, "symbol": symbol})
    if _secondary(result):
        sentences.append(_("Where a suppressed count could be worked out from a total, further "
                           "cells are suppressed as well (secondary suppression); they are "
                           "shown as “x”."))
    if base:
        sentences.append(_("Counts are rounded to the nearest multiple of %(base)s. Totals are "
                           "rounded independently and may differ from the sum of the rounded "
                           "cells.") % {"base": base})
    if epsilon is not None:
        sentences.append(_("Random noise was added to the counts under differential privacy, "
                           "spending a privacy budget of ε = %(epsilon)s. Published figures "
                           "may differ slightly from the exact counts.")
                         % {"epsilon": _format_number(epsilon)})
    if not sentences:
        sentences.append(_("No disclosure control was applied to this table set."))
    return sentences


def flag_legend(result: TableSetResult) -> list[tuple[str, str, str]]:
    """Every flag a cell can carry: the flag as written in data files, how the cell is
    shown, and what it means."""
    base = _rounding(result)
    return [
        ("", _("the figure"), _("published as computed")),
        (SUPPRESSED, result.small_cell_label or "x",
         _("below the threshold for small counts; not published (a suppressed median or "
           "share is shown as “x”)") if result.small_cell_label
         else _("below the threshold for small counts; not published")),
        (SECONDARY, "x", secondary_meaning()),
        (ROUNDED, _("the figure"),
         _("rounded to a multiple of %(base)s") % {"base": base} if base else _("rounded")),
        (NOISY, _("the figure"), _("random noise added for privacy (differential privacy)")),
    ]
