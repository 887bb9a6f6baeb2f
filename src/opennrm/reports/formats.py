"""A published table set as data files: a tidy CSV and an Excel workbook.

Both hold the figures exactly as published: a suppressed cell is its symbol ("<5" or "x"),
never a number. The CSV is for machines (one figure a line, locale-free numbers); the
workbook is for people (one sheet per table, laid out as the printed table).
"""

from __future__ import annotations

import csv
import io
import re

from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from opennrm.core.spreadsheets import neutralise_formulas, safe_text
from opennrm.reports.published import (
    controls_explanations,
    controls_summary,
    flag_legend,
    published_text,
    small_cell_label,
    table_footnotes,
    table_grid,
    table_symbols,
    unit_label,
)
from opennrm.reports.tables import Cell, Table, TableSetResult

CSV_COLUMNS = ["table_key", "table_title", "unit", "row_code", "row_label", "column_code",
               "column_label", "value", "flag"]


def report_filename(result: TableSetResult, extension: str) -> str:
    """A file name that says what the file holds: "eurostat-2025.csv"."""
    if result.period_label.isdigit():
        period = result.period_label
    else:
        period = f"{result.period_start.isoformat()}_{result.period_end.isoformat()}"
    return f"{result.key}-{period}.{extension}"


def content_disposition(filename: str, *, inline: bool = False) -> str:
    """The Content-Disposition header for a download (RFC 6266, non-ASCII names too)."""
    return content_disposition_header(not inline, filename)


# --- CSV ---------------------------------------------------------------------------------

def csv_rows(result: TableSetResult) -> list[dict]:
    """Every published figure of the table set, one per line, totals included (their row or
    column code is "total")."""
    rows = []
    for table in result.tables:
        label = small_cell_label(table, result)
        grid = table_grid(table)
        for grid_row in grid.rows:
            for (column_code, column_label), cell in zip(grid.columns, grid_row.cells,
                                                         strict=True):
                rows.append({
                    "table_key": table.key,
                    "table_title": table.title,
                    "unit": table.unit,
                    "row_code": grid_row.code,
                    "row_label": grid_row.label,
                    "column_code": column_code,
                    "column_label": column_label,
                    "value": published_text(cell, label),
                    "flag": cell.flag,
                })
    return rows


def render_csv(result: TableSetResult) -> bytes:
    """The table set as a tidy CSV in UTF-8 with a byte order mark, so that Excel reads
    Cyrillic and Romanian letters right."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS)
    writer.writeheader()
    writer.writerows({key: safe_text(value) for key, value in row.items()}
                     for row in csv_rows(result))
    return buffer.getvalue().encode("utf-8-sig")


# --- XLSX --------------------------------------------------------------------------------

INVALID_SHEET_CHARACTERS = re.compile(r"[\[\]:*?/\\]")
HEADER_FILL = PatternFill("solid", fgColor="E8EEF4")
TOTAL_FILL = PatternFill("solid", fgColor="F3F5F7")
RULE = Side(style="thin", color="12436D")
THIN = Side(style="hair", color="B0B7BE")
BOLD = Font(bold=True)


def sheet_names(titles: list[str]) -> list[str]:
    """Excel sheet names for the tables: numbered, at most 31 characters, no character
    Excel refuses, and no two alike."""
    names = []
    for number, title in enumerate(titles, start=1):
        base = INVALID_SHEET_CHARACTERS.sub(" ", f"{number} {title}").strip()
        name = base if len(base) <= 31 else base[:30].rstrip() + "…"
        candidate, suffix = name, 2
        while candidate.casefold() in {n.casefold() for n in names}:
            tail = f" ({suffix})"
            candidate = name[:31 - len(tail)] + tail
            suffix += 1
        names.append(candidate)
    return names


def _put_figure(sheet, row: int, column: int, cell: Cell, label: str, bold: bool):
    """A figure as a number (so that it can be summed and charted), a suppressed one as
    its published symbol."""
    target = sheet.cell(row=row, column=column)
    if cell.value is None:
        target.value = cell.display(label)
        target.alignment = Alignment(horizontal="right")
    elif isinstance(cell.value, float):
        target.value = cell.value
        target.number_format = "#,##0.0"
    else:
        target.value = cell.value
        target.number_format = "#,##0"
    if bold:
        target.font = BOLD
    return target


def _write_table_sheet(sheet, table: Table, result: TableSetResult) -> None:
    label = small_cell_label(table, result)
    grid = table_grid(table)
    sheet["A1"] = table.title
    sheet["A1"].font = Font(bold=True, size=13)
    sheet["A2"] = "{}: {} · {}: {}".format(_("Unit"), unit_label(table.unit),
                                           _("Period"), result.period_label)
    sheet["A2"].font = Font(italic=True, color="505A5F")
    header_row = 4
    if table.column_dimension:
        sheet.cell(row=3, column=2, value=table.column_dimension).font = BOLD
        last_category = len(table.columns) + 1
        if last_category > 2:
            sheet.merge_cells(start_row=3, start_column=2, end_row=3, end_column=last_category)
        sheet.cell(row=3, column=2).alignment = Alignment(horizontal="center")
    corner = sheet.cell(row=header_row, column=1, value=table.row_dimension or None)
    headers = [corner]
    for index, (_code, column_label) in enumerate(grid.columns, start=2):
        headers.append(sheet.cell(row=header_row, column=index, value=column_label))
    for header in headers:
        header.font = BOLD
        header.fill = HEADER_FILL
        header.border = Border(top=RULE, bottom=RULE)
        header.alignment = Alignment(horizontal="right" if header.column > 1 else "left",
                                     vertical="bottom", wrap_text=True)
    row_number = header_row
    for grid_row in grid.rows:
        row_number += 1
        first = sheet.cell(row=row_number, column=1, value=grid_row.label)
        first.font = Font(bold=grid_row.is_total)
        for index, cell in enumerate(grid_row.cells):
            target = _put_figure(sheet, row_number, index + 2, cell, label,
                                 bold=grid_row.is_total or grid.is_total_column(index))
            if grid.is_total_column(index) or grid_row.is_total:
                target.fill = TOTAL_FILL
        for column in range(1, len(grid.columns) + 2):
            border = Border(top=RULE, bottom=RULE) if grid_row.is_total else Border(bottom=THIN)
            sheet.cell(row=row_number, column=column).border = border
    sheet.freeze_panes = sheet.cell(row=header_row + 1, column=2)

    notes_row = row_number + 2
    lines = [f"{symbol}  {meaning}" for symbol, meaning in table_symbols(table, result)]
    lines += table_footnotes(table, result) + list(table.notes)
    if table.description:
        lines.insert(0, table.description)
    for line in lines:
        sheet.cell(row=notes_row, column=1, value=line).font = Font(size=9, color="505A5F")
        notes_row += 1

    sheet.column_dimensions["A"].width = min(
        60, max([len(table.row_dimension or "")] + [len(r.label) for r in grid.rows]) + 3)
    for index, (_code, column_label) in enumerate(grid.columns, start=2):
        longest_word = max((len(word) for word in column_label.split()), default=0)
        width = max(11, min(24, max(longest_word, len(column_label) // 2) + 3))
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.row_dimensions[header_row].height = 30


def _write_about_sheet(sheet, result: TableSetResult, names: list[str]) -> None:
    sheet.title = _("About")[:31]
    sheet.column_dimensions["A"].width = 34
    sheet.column_dimensions["B"].width = 24
    sheet.column_dimensions["C"].width = 80
    sheet["A1"] = result.title
    sheet["A1"].font = Font(bold=True, size=14)
    sheet["A2"] = _("Official statistics — disclosure controlled")
    sheet["A2"].font = Font(italic=True, color="505A5F")
    sheet["A4"], sheet["B4"] = _("Period"), result.period_label
    sheet["A5"], sheet["B5"] = _("From"), result.period_start
    sheet["A6"], sheet["B6"] = _("To"), result.period_end
    for cell in ("B5", "B6"):
        sheet[cell].number_format = "yyyy-mm-dd"
        sheet[cell].alignment = Alignment(horizontal="left")
    for cell in ("A4", "A5", "A6"):
        sheet[cell].font = BOLD

    row = 8

    def heading(text: str) -> None:
        nonlocal row
        cell = sheet.cell(row=row, column=1, value=text)
        cell.font = Font(bold=True, size=12, color="12436D")
        row += 1

    heading(_("Tables"))
    for name, table in zip(names, result.tables, strict=True):
        link = sheet.cell(row=row, column=1, value=table.title)
        link.hyperlink = f"#'{name}'!A1"
        link.font = Font(color="1D5A93", underline="single")
        row += 1
    row += 1

    heading(_("Disclosure control"))
    for label, value in controls_summary(result):
        sheet.cell(row=row, column=1, value=label).font = BOLD
        sheet.cell(row=row, column=2, value=value)
        row += 1
    for sentence in controls_explanations(result):
        sheet.cell(row=row, column=1, value=sentence)
        row += 1
    row += 1

    if result.notes:
        heading(_("Notes"))
        for note in result.notes:
            sheet.cell(row=row, column=1, value=note)
            row += 1
        row += 1

    heading(_("Symbols and flags"))
    for column, text in enumerate((_("Flag in data files"), _("Shown as"), _("Meaning")), 1):
        cell = sheet.cell(row=row, column=column, value=text)
        cell.font = BOLD
        cell.fill = HEADER_FILL
    row += 1
    for flag, shown_as, meaning in flag_legend(result):
        sheet.cell(row=row, column=1, value=flag or _("(empty)"))
        sheet.cell(row=row, column=2, value=shown_as)
        sheet.cell(row=row, column=3, value=meaning)
        row += 1


def render_xlsx(result: TableSetResult) -> bytes:
    """The table set as an Excel workbook: an "About" sheet (period, disclosure control,
    notes, symbols), then one sheet per table laid out as the published grid."""
    workbook = Workbook()
    names = sheet_names([table.title for table in result.tables])
    _write_about_sheet(workbook.active, result, names)
    for name, table in zip(names, result.tables, strict=True):
        _write_table_sheet(workbook.create_sheet(name), table, result)
    neutralise_formulas(workbook)  # a title or label starting with = is text
    workbook.properties.title = result.title
    workbook.properties.creator = "OpenNRM"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}


def render(file_format: str, results: list[TableSetResult], *, title: str,
           country_name: str, language: str) -> bytes:
    """The file of `file_format` (csv, xlsx: the first table set; pdf: all of them as the
    report). One place for the pages, the API and the command line."""
    if file_format == "csv":
        return render_csv(results[0])
    if file_format == "xlsx":
        return render_xlsx(results[0])
    if file_format == "pdf":
        from opennrm.reports.pdf import render_pdf

        return render_pdf(results, title=title, country_name=country_name, language=language)
    raise ValueError(f"unknown format {file_format!r}")
