"""The GLOTIP tables as an XLSX workbook in the layout of the UNODC questionnaire.

UNODC collects the data of its Global Report on Trafficking in Persons by a questionnaire
returned by e-mail. Where each figure goes is data: `questionnaires/glotip.json` (checked
against `questionnaires/questionnaire.schema.json` and against the GLOTIP table set when it
loads) names the sheets, and on each the blocks, one table each, with the label of every
row and column and the category or total it holds. Every category of a table has its row
or column, Unknown included: no count is left out, and an unknown stays apart from a known
zero (written as 0).

Only the disclosure-controlled tables (`releases.report`) are written. A hidden count is
written as its published symbol ("<5" for a small count in the GLOTIP set, "x" for one
hidden to protect another), with a comment on the cell saying why.
"""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill

from opennrm.audit.models import Action
from opennrm.audit.services import AuditEvent, record_event
from opennrm.core import datafiles
from opennrm.reports.published import small_cell_label
from opennrm.statistics import engine
from opennrm.statistics.sdmx import category_codes
from opennrm.statistics.tables import SUPPRESSED, Cell, Table, TableSetResult

if TYPE_CHECKING:
    from opennrm.accounts.models import User

LAYOUT_DIR = Path(__file__).parent / "questionnaires"
DEFAULT_LAYOUT = "glotip"
TOTAL = "@total"
EACH = "each"
FIRST_BLOCK_ROW = 4
BOLD = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="E8ECEF")
NOTE_AUTHOR = "OpenNRM"


def _check_layout(path: Path, data: dict) -> None:
    """What the schema cannot say: the name is the file's, the table set exists, every table
    of the set is placed once, each block lists every category of its table (Unknown
    included) and its total once, and a block of "each" rows is the last of its sheet."""
    datafiles.name_is_file_name("name")(path, data)
    try:
        definition = engine.load_definition(data["table_set"])
    except KeyError:
        raise datafiles.error_at(path, ["table_set"],
                                 f"unknown table set {data['table_set']!r}") from None
    tables = {table["key"]: table for table in definition["tables"]}
    placed: set[str] = set()
    sheet_names: set[str] = set()
    for sheet_index, sheet in enumerate(data["sheets"]):
        if sheet["name"].casefold() in sheet_names:
            raise datafiles.error_at(path, ["sheets", sheet_index, "name"],
                                     f"sheet {sheet['name']!r} appears twice")
        sheet_names.add(sheet["name"].casefold())
        for block_index, block in enumerate(sheet["blocks"]):
            where = ["sheets", sheet_index, "blocks", block_index]
            table = tables.get(block["table"])
            if table is None:
                raise datafiles.error_at(path, [*where, "table"], f"no table {block['table']} "
                                         f"in the set {data['table_set']}")
            if block["table"] in placed:
                raise datafiles.error_at(path, [*where, "table"],
                                         f"table {block['table']} is placed twice")
            placed.add(block["table"])
            if block["rows"] == EACH:
                if block_index != len(sheet["blocks"]) - 1:
                    raise datafiles.error_at(path, [*where, "rows"], "a block of \"each\" rows "
                                             "must be the last of its sheet")
                if "total_label" not in block:
                    raise datafiles.error_at(path, where, "a block of \"each\" rows needs a "
                                                          "total_label")
            else:
                _check_lines(path, [*where, "rows"], block["rows"],
                             category_codes(definition, table["rows"]))
            expected = category_codes(definition, table["columns"]) \
                if table.get("columns") else []
            _check_lines(path, [*where, "columns"], block["columns"], expected)
    missing = [key for key in tables if key not in placed]
    if missing:
        raise datafiles.error_at(path, ["sheets"], f"tables of the set not placed: {missing}")


def _check_lines(path: Path, where: list, lines: list[dict], categories: list[str]) -> None:
    codes = [line["code"] for line in lines]
    expected = [*categories, TOTAL]
    if sorted(codes) != sorted(expected):
        raise datafiles.error_at(path, where, f"must hold each of {expected} once, not {codes}")


LAYOUTS = datafiles.register(datafiles.DataKind(
    name="questionnaire layout",
    schema=LAYOUT_DIR / "questionnaire.schema.json",
    folders=lambda: [LAYOUT_DIR],
    pattern="*.json",
    check=_check_layout,
))


@cache
def _layout(path: str) -> dict:
    return LAYOUTS.load(path)


def load_layout(path: Path | str | None = None) -> dict:
    """A questionnaire layout, read and validated (the shipped glotip.json by default). A
    broken file raises `datafiles.DataFileError` naming the file, the line and the reason."""
    return _layout(str(path or LAYOUT_DIR / f"{DEFAULT_LAYOUT}.json"))


# --- the workbook ---------------------------------------------------------------------------

def block_rows(block: dict, table: Table) -> list[dict]:
    """The rows of a block: as the layout lists them, or one per category of the table as
    computed, then the total."""
    if block["rows"] != EACH:
        return block["rows"]
    return ([{"code": code, "label": label}
             for code, label in zip(table.rows, table.row_labels, strict=True)]
            + [{"code": TOTAL, "label": block["total_label"]}])


def table_cell(table: Table, row: str, column: str) -> Cell:
    """The count of a table at a row and column code, either of them possibly the total."""
    if row == TOTAL and column == TOTAL:
        return table.total
    if row == TOTAL:
        return table.column_totals[table.columns.index(column)]
    if column == TOTAL:
        return table.row_totals[table.rows.index(row)]
    return table.cells[table.rows.index(row)][table.columns.index(column)]


def _note(layout: dict, cell: Cell, controls: dict) -> str:
    kind = "suppressed" if cell.flag == SUPPRESSED else "secondary"
    return layout["notes"][kind].format(threshold=controls.get("threshold", ""),
                                        rounding=controls.get("rounding", ""))


def _write_block(sheet, first_row: int, block: dict, table: Table, result: TableSetResult,
                 layout: dict) -> int:
    """The block from `first_row` down; returns its last row."""
    symbol = small_cell_label(table, result)
    sheet.cell(row=first_row, column=1, value=block["heading"]).font = BOLD
    header_row = first_row + 1
    headers = [sheet.cell(row=header_row, column=1, value=block["row_heading"])]
    for index, column in enumerate(block["columns"], start=2):
        headers.append(sheet.cell(row=header_row, column=index, value=column["label"]))
    for header in headers:
        header.font = BOLD
        header.fill = HEADER_FILL
        header.alignment = Alignment(wrap_text=True, vertical="bottom")
    row_number = header_row
    for row in block_rows(block, table):
        row_number += 1
        sheet.cell(row=row_number, column=1, value=row["label"]).font = \
            Font(bold=row["code"] == TOTAL)
        for index, column in enumerate(block["columns"], start=2):
            cell = table_cell(table, row["code"], column["code"])
            target = sheet.cell(row=row_number, column=index)
            if cell.value is None:
                target.value = cell.display(symbol)
                target.alignment = Alignment(horizontal="right")
                target.comment = Comment(_note(layout, cell, result.controls), NOTE_AUTHOR)
            else:
                target.value = cell.value
                target.number_format = "#,##0"
    return row_number


def questionnaire(result: TableSetResult, *, country_name: str,
                  layout: dict | None = None) -> bytes:
    """The published tables of the set as an XLSX workbook in the questionnaire's layout."""
    layout = layout or load_layout()
    if result.key != layout["table_set"]:
        raise ValueError(f"the layout {layout['name']} places the table set "
                         f"{layout['table_set']}, not {result.key}")
    tables = {table.key: table for table in result.tables}
    workbook = Workbook()
    workbook.remove(workbook.active)
    rounded = (result.controls.get("rounding") or 0) > 1
    for sheet_layout in layout["sheets"]:
        sheet = workbook.create_sheet(sheet_layout["name"])
        sheet["A1"] = layout["title"]
        sheet["A1"].font = Font(bold=True, size=13)
        sheet["A2"] = f"{country_name} · {result.period_label}"
        if rounded:
            sheet["A3"] = layout["notes"]["rounded"].format(
                rounding=result.controls.get("rounding", ""))
        row = FIRST_BLOCK_ROW
        for block in sheet_layout["blocks"]:
            row = _write_block(sheet, row, block, tables[block["table"]], result, layout) + 2
        sheet.column_dimensions["A"].width = 48
        for letter in "BCDEFG":
            sheet.column_dimensions[letter].width = 16
    body = io.BytesIO()
    workbook.save(body)
    return body.getvalue()


def export_questionnaire(user: User | None, result: TableSetResult, *, country_name: str,
                         object_ref: str, channel: str = "") -> bytes:
    """`questionnaire`, the export recorded in the audit trail as `releases.export_tables`
    records its formats. `user` None is the operator on the server (the command line)."""
    from opennrm.statistics.access import ensure_can_view_statistics

    if user is not None:
        ensure_can_view_statistics(user)
    body = questionnaire(result, country_name=country_name)
    record_event(user, AuditEvent(Action.EXPORT, "statistics", object_ref,
                                  reason="report glotip-xlsx"), channel=channel)
    return body
