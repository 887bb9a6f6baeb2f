"""The shape of a computed statistical table, shared by the statistics engine, disclosure
control, the pages, the API and the report formats (CSV, XLSX, PDF).

It lives with the formats that render it, so that `reports` imports nothing of
`statistics`; `statistics` computes tables in this shape (and re-exports it as
`opennrm.statistics.tables`).

A table is a grid: rows (the categories of one dimension) by columns (the categories of
another, or a single "Total" column), with a total per row, per column and overall. A cell
holds a count (or, for an indicator table, a number such as a median) and a flag that says
what disclosure control did to it. Only `value` is ever published: a suppressed cell has
`value = None`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from opennrm.core.dates import short_date

# What a cell's flag means. A cell with no flag is published as computed.
SUPPRESSED = "suppressed"  # primary: below the threshold
SECONDARY = "secondary"  # suppressed so that totals cannot reveal a primary cell
ROUNDED = "rounded"  # rounded to the release's base
NOISY = "noisy"  # differential privacy noise added

# The units a table counts. The person is the default: cases of one person count once.
UNITS = ("persons", "cases", "referrals", "decisions")


@dataclass
class Cell:
    value: int | float | None
    flag: str = ""

    def display(self, small_cell_label: str = "") -> str:
        """The cell as published: "<5"-style label or "x" for a suppressed cell."""
        if self.value is None:
            if self.flag == SUPPRESSED and small_cell_label:
                return small_cell_label
            return "x"
        if isinstance(self.value, float):
            return f"{self.value:.1f}"
        return str(self.value)


@dataclass
class Table:
    """One table of a table set.

    `kind` is "count" (cells are counts of `unit`; rows and columns add up to the totals
    when `additive`) or "indicator" (cells are numbers such as a median of days or a
    share in per cent; `bases` hold how many units each cell was computed from, so that
    an indicator resting on too few persons can be suppressed).
    """

    key: str
    title: str
    unit: str
    row_dimension: str
    rows: list[str]
    row_labels: list[str]
    columns: list[str]
    column_labels: list[str]
    cells: list[list[Cell]]
    row_totals: list[Cell]
    column_totals: list[Cell]
    total: Cell
    column_dimension: str = ""
    kind: str = "count"
    # False when one unit may fall in several rows or columns (e.g. several forms of
    # exploitation): then only the overall total may be summed, never the rows.
    additive: bool = True
    bases: list[list[int]] | None = None
    description: str = ""
    notes: list[str] = field(default_factory=list)
    # The heading of the totals ("Total"; for an indicator table, the number of units the
    # row's figures rest on, e.g. "Persons").
    total_label: str = "Total"

    def to_dict(self) -> dict:
        def cell(c: Cell) -> dict:
            return {"value": c.value, "flag": c.flag}

        return {
            "key": self.key,
            "title": self.title,
            "unit": self.unit,
            "kind": self.kind,
            "additive": self.additive,
            "row_dimension": self.row_dimension,
            "column_dimension": self.column_dimension,
            "rows": [{"code": c, "label": lbl} for c, lbl in zip(self.rows, self.row_labels,
                                                                  strict=True)],
            "columns": [{"code": c, "label": lbl}
                        for c, lbl in zip(self.columns, self.column_labels, strict=True)],
            "cells": [[cell(c) for c in row] for row in self.cells],
            "row_totals": [cell(c) for c in self.row_totals],
            "column_totals": [cell(c) for c in self.column_totals],
            "total": cell(self.total),
            "bases": self.bases,
            "description": self.description,
            "notes": list(self.notes),
            "total_label": self.total_label,
        }

    @classmethod
    def from_dict(cls, data: dict) -> Table:
        def cell(c: dict) -> Cell:
            return Cell(c["value"], c.get("flag", ""))

        return cls(
            key=data["key"], title=data["title"], unit=data["unit"],
            kind=data.get("kind", "count"), additive=data.get("additive", True),
            row_dimension=data["row_dimension"],
            column_dimension=data.get("column_dimension", ""),
            rows=[r["code"] for r in data["rows"]],
            row_labels=[r["label"] for r in data["rows"]],
            columns=[c["code"] for c in data["columns"]],
            column_labels=[c["label"] for c in data["columns"]],
            cells=[[cell(c) for c in row] for row in data["cells"]],
            row_totals=[cell(c) for c in data["row_totals"]],
            column_totals=[cell(c) for c in data["column_totals"]],
            total=cell(data["total"]),
            bases=data.get("bases"),
            description=data.get("description", ""),
            notes=list(data.get("notes", [])),
            total_label=data.get("total_label", "Total"),
        )


def period_label_of(start: date, end: date) -> str:
    """A period as tables and titles name it: a calendar year by its number, any other
    period by its first and last day in the active language's short format."""
    if start.month == 1 and start.day == 1 and end.month == 12 and end.day == 31 \
            and start.year == end.year:
        return str(start.year)
    return f"{short_date(start)} – {short_date(end)}"


@dataclass
class TableSetResult:
    """All tables of one table set for one period, with what was done to publish them."""

    key: str  # "eurostat", "glotip", "sdg", "ctdc", "nrm"
    title: str
    period_start: date
    period_end: date
    tables: list[Table]
    # Disclosure control applied: {"threshold": 5, "rounding": 0, "epsilon": None, ...}
    controls: dict = field(default_factory=dict)
    # The label a primary-suppressed cell is published as ("<5"), empty for "x".
    small_cell_label: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def period_label(self) -> str:
        return period_label_of(self.period_start, self.period_end)

    def to_dict(self) -> dict:
        return {
            "key": self.key,
            "title": self.title,
            "period_start": self.period_start.isoformat(),
            "period_end": self.period_end.isoformat(),
            "controls": dict(self.controls),
            "small_cell_label": self.small_cell_label,
            "notes": list(self.notes),
            "tables": [t.to_dict() for t in self.tables],
        }

    @classmethod
    def from_dict(cls, data: dict) -> TableSetResult:
        return cls(
            key=data["key"], title=data["title"],
            period_start=date.fromisoformat(data["period_start"]),
            period_end=date.fromisoformat(data["period_end"]),
            tables=[Table.from_dict(t) for t in data["tables"]],
            controls=dict(data.get("controls", {})),
            small_cell_label=data.get("small_cell_label", ""),
            notes=list(data.get("notes", [])),
        )
