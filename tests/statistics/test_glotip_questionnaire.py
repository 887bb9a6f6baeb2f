"""The GLOTIP tables in the layout of the UNODC questionnaire
(statistics/glotip_questionnaire.py), read back with openpyxl.

Each block is found by its heading in the sheet the layout file names (read as JSON here,
not through the module); its columns by their labels in the row under it, its rows by their
labels in column A. Every count of every table must be where its labels say.
"""

import io
import json
from datetime import date

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from opennrm.audit.models import AuditEntry
from opennrm.cli import app
from opennrm.core.datafiles import DataFileError
from opennrm.reports.published import small_cell_label
from opennrm.statistics import engine, glotip_questionnaire, releases
from opennrm.statistics.tables import SECONDARY, SUPPRESSED
from tests.statistics.test_independent import generated_year  # noqa: F401 — a fixture

YEAR = (date(2025, 1, 1), date(2025, 12, 31))
LAYOUT_FILE = glotip_questionnaire.LAYOUT_DIR / "glotip.json"
runner = CliRunner()


def _layout() -> dict:
    return json.loads(LAYOUT_FILE.read_text(encoding="utf-8"))


def _block_at(sheet, heading: str) -> int:
    [row] = [cell.row for cell in sheet["A"] if cell.value == heading]
    return row


def _read_back(workbook, table, block: dict, sheet_name: str) -> dict:
    """{(row code, column code): cell value} of one block, located by its labels."""
    sheet = workbook[sheet_name]
    header = _block_at(sheet, block["heading"]) + 1
    columns = {sheet.cell(row=header, column=n).value: n
               for n in range(2, len(block["columns"]) + 2)}
    rows = block["rows"] if block["rows"] != "each" else (
        [{"code": c, "label": label} for c, label in zip(table.rows, table.row_labels,
                                                         strict=True)]
        + [{"code": "@total", "label": block["total_label"]}])
    found = {}
    for offset, row in enumerate(rows, start=1):
        assert sheet.cell(row=header + offset, column=1).value == row["label"]
        for column in block["columns"]:
            target = sheet.cell(row=header + offset, column=columns[column["label"]])
            found[(row["code"], column["code"])] = target
    return found


def _published(table, row: str, column: str):
    if row == "@total" and column == "@total":
        return table.total
    if row == "@total":
        return table.column_totals[table.columns.index(column)]
    if column == "@total":
        return table.row_totals[table.rows.index(row)]
    return table.cells[table.rows.index(row)][table.columns.index(column)]


def test_the_workbook_read_back_matches_the_published_tables_cell_by_cell(
        generated_year):  # noqa: F811
    # The GLOTIP set protected on its own (every set of the node together over a generated
    # year takes minutes here; the command-line test goes through `releases.report`).
    result = releases.controlled(engine.compute("glotip", *YEAR), releases.Controls(5))
    workbook = load_workbook(io.BytesIO(
        glotip_questionnaire.questionnaire(result, country_name="Moldova")))
    tables = {table.key: table for table in result.tables}
    layout = _layout()
    assert workbook.sheetnames == [sheet["name"] for sheet in layout["sheets"]]
    seen, flags = set(), set()
    for sheet in layout["sheets"]:
        for block in sheet["blocks"]:
            table = tables[block["table"]]
            seen.add(table.key)
            for (row, column), target in _read_back(workbook, table, block,
                                                    sheet["name"]).items():
                cell = _published(table, row, column)
                flags.add(cell.flag)
                if cell.value is None:
                    assert target.value == cell.display(small_cell_label(table, result))
                    assert target.comment is not None
                else:
                    assert target.value == cell.value, (table.key, row, column)
                    assert target.comment is None
    assert seen == set(tables)
    assert {"", SUPPRESSED, SECONDARY} <= flags


def test_a_hidden_count_is_marked_with_a_note(dataset):
    [result] = releases.report(["glotip"], *YEAR)  # five victims, threshold 5
    workbook = load_workbook(io.BytesIO(
        glotip_questionnaire.questionnaire(result, country_name="Moldova")))
    sheet = workbook["C. Victims"]
    marked = [cell for row in sheet.iter_rows() for cell in row if cell.value == "<5"]
    assert marked
    assert all(cell.comment.text.startswith("Fewer than 5: not published")
               for cell in marked)


def test_unknown_is_a_row_apart_from_zero(dataset, lenient_policy):
    [result] = releases.report(["glotip"], *YEAR, releases.Controls(threshold=1))
    workbook = load_workbook(io.BytesIO(
        glotip_questionnaire.questionnaire(result, country_name="Moldova")))
    layout = _layout()
    block = layout["sheets"][2]["blocks"][0]  # detected victims by sex and age
    table = next(t for t in result.tables if t.key == block["table"])
    cells = {key: target.value for key, target
             in _read_back(workbook, table, block, "C. Victims").items()}
    # Dmitri: a man with no age recorded; Eugenia: neither female nor male.
    assert cells[("male", "unknown")] == 1
    assert cells[("unknown", "@total")] == 1
    # No woman of unknown age: a known zero, written as 0.
    assert cells[("female", "unknown")] == 0


def _broken(tmp_path, change):
    data = _layout()
    change(data)
    path = tmp_path / "glotip.json"
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return path


@pytest.mark.parametrize("change, reason", [
    (lambda d: d["sheets"][2]["blocks"][0]["rows"].pop(2), "must hold each of"),
    (lambda d: d["sheets"].pop(0), "tables of the set not placed: ['offences_by_form']"),
    (lambda d: d["sheets"][2]["blocks"].reverse(), "must be the last of its sheet"),
    (lambda d: d["sheets"][1].update(name="B/Persons"), "/sheets/1/name"),
])
def test_a_broken_layout_file_is_refused_naming_it(tmp_path, change, reason, db):
    path = _broken(tmp_path, change)
    with pytest.raises(DataFileError) as error:
        glotip_questionnaire.load_layout(path)
    assert str(path) in str(error.value)
    assert reason in str(error.value)


def test_the_command_line_writes_the_questionnaire(dataset, tmp_path):
    output = tmp_path / "glotip.xlsx"
    result = runner.invoke(app, ["stats", "report", "--period", "2025", "--format",
                                 "glotip-xlsx", "--output", str(output)])
    assert result.exit_code == 0, result.output
    workbook = load_workbook(output)
    assert workbook.sheetnames == [sheet["name"] for sheet in _layout()["sheets"]]
    sheet = workbook["C. Victims"]
    header = _block_at(sheet, _layout()["sheets"][2]["blocks"][0]["heading"]) + 1
    total_row = header + 4
    assert (sheet.cell(row=total_row, column=1).value,
            sheet.cell(row=total_row, column=5).value) == ("Total", 5)
    texts = [str(cell.value) for ws in workbook for row in ws.iter_rows() for cell in row]
    assert not any("Rusu" in text or "Kovalenko" in text for text in texts)
    assert AuditEntry.objects.filter(object_type="statistics", channel="cli",
                                     reason="report glotip-xlsx").exists()
