import csv
import io

from openpyxl import load_workbook

from opennrm.reports.formats import (
    CSV_COLUMNS,
    content_disposition,
    render_csv,
    render_xlsx,
    report_filename,
    sheet_names,
)
from opennrm.reports.published import table_grid

from .conftest import victims_by_citizenship


def read_csv(data: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def by_position(rows: list[dict], table_key: str) -> dict:
    return {(r["row_code"], r["column_code"]): r for r in rows if r["table_key"] == table_key}


# --- CSV ---------------------------------------------------------------------------------

def test_csv_starts_with_a_byte_order_mark_so_excel_reads_cyrillic(eurostat):
    eurostat.tables[0].row_labels = ["Жінки", "Чоловіки"]
    data = render_csv(eurostat)
    assert data.startswith(b"\xef\xbb\xbf")
    assert "Жінки".encode() in data
    assert read_csv(data)[0]["row_label"] == "Жінки"


def test_csv_is_tidy_one_published_figure_a_line_with_totals(eurostat):
    rows = read_csv(render_csv(eurostat))
    assert list(rows[0]) == CSV_COLUMNS
    # 2 rows + total by 3 columns + total; 4 rows + total by 2 + total; 3 rows + total by
    # the single "total" column (not repeated as a totals column).
    assert len(rows) == 3 * 4 + 5 * 3 + 4 * 1
    keys = [(r["table_key"], r["row_code"], r["column_code"]) for r in rows]
    assert len(keys) == len(set(keys))

    sex_age = by_position(rows, "victims_by_sex_and_age")
    assert sex_age[("female", "18+")]["value"] == "1085"
    assert sex_age[("female", "18+")]["row_label"] == "Female"
    assert sex_age[("female", "18+")]["column_label"] == "18 years or over"
    assert sex_age[("female", "total")]["value"] == "1105"
    assert sex_age[("total", "0-11")]["value"] == "9"
    assert sex_age[("total", "total")]["value"] == "1522"
    assert sex_age[("total", "total")]["row_label"] == "Total"
    assert sex_age[("total", "total")]["unit"] == "persons"


def test_csv_shows_suppressed_cells_by_their_symbol_only(eurostat):
    rows = read_csv(render_csv(eurostat))
    sex_age = by_position(rows, "victims_by_sex_and_age")
    assert (sex_age[("male", "0-11")]["value"], sex_age[("male", "0-11")]["flag"]) == \
        ("<5", "suppressed")
    assert (sex_age[("female", "0-11")]["value"], sex_age[("female", "0-11")]["flag"]) == \
        ("x", "secondary")
    for row in rows:
        if row["flag"] in ("suppressed", "secondary"):
            assert row["value"] in ("<5", "x"), row
        else:
            assert row["value"].replace(".", "").isdigit(), row


def test_csv_of_an_indicator_never_prints_the_small_base_nor_less_than_five(nrm):
    rows = read_csv(render_csv(nrm))
    days = by_position(rows, "days_to_referral")
    # A suppressed median is "x": "<5" would read as "under five days".
    assert days[("children", "median")]["value"] == "x"
    assert days[("adults", "median")]["value"] == "6.5"
    assert days[("total", "p90")]["value"] == "22.5"
    # The children's median rests on 3 persons: that count is never published.
    assert all(row["value"] != "3" for row in rows)
    # The totals column of an indicator table holds its base, headed with the unit.
    assert days[("adults", "total")]["value"] == "212"
    assert days[("adults", "total")]["column_label"] == "Persons"


# --- XLSX --------------------------------------------------------------------------------

def open_workbook(result):
    return load_workbook(io.BytesIO(render_xlsx(result)))


def test_workbook_has_an_about_sheet_then_one_sheet_per_table(eurostat):
    workbook = open_workbook(eurostat)
    assert workbook.sheetnames == ["About", "1 Registered victims by sex an…",
                                   "2 Registered victims by form o…",
                                   "3 Registered victims by citize…"]
    about = [value for row in workbook["About"].iter_rows(values_only=True)
             for value in row if value is not None]
    assert "Eurostat: trafficking in human beings" in about
    assert "Official statistics — disclosure controlled" in about
    assert "2025" in about
    assert "Threshold for small counts" in about
    assert "Secondary suppression" in about and "Applied" in about
    assert "Registered victims by sex and age group" in about
    assert eurostat.notes[0] in about
    # The legend explains each flag as written in the CSV.
    for flag in ("suppressed", "secondary", "rounded", "noisy"):
        assert flag in about
    assert "<5" in about


def test_table_sheet_is_the_published_grid_with_numbers_as_numbers(eurostat):
    sheet = open_workbook(eurostat)["1 Registered victims by sex an…"]
    assert sheet["A1"].value == "Registered victims by sex and age group"
    assert sheet["B3"].value == "Age group"
    header = [c.value for c in sheet[4]]
    assert header == ["Sex", "Less than 12 years", "12 to 17 years", "18 years or over",
                      "Total"]
    assert [c.value for c in sheet[5]] == ["Female", "x", "x", 1085, 1105]
    assert [c.value for c in sheet[6]] == ["Male", "<5", "x", 407, 417]
    assert [c.value for c in sheet[7]] == ["Total", 9, 21, 1492, 1522]
    assert isinstance(sheet["D5"].value, int)
    assert sheet["D5"].number_format == "#,##0"
    assert sheet["A7"].font.bold and sheet["E7"].font.bold and sheet["E5"].font.bold
    assert not sheet["D5"].font.bold
    assert sheet["A4"].font.bold and sheet["B4"].font.bold
    assert sheet.freeze_panes == "B5"
    assert sheet.column_dimensions["A"].width >= len("Female")
    notes = [sheet.cell(row=r, column=1).value for r in range(9, 14)]
    assert any(n and n.startswith("<5") for n in notes)
    assert "A person is counted once, under the age at first contact." in notes


def test_indicator_sheet_keeps_decimals(nrm):
    sheet = open_workbook(nrm)["1 Days from first contact to t…"]
    assert [c.value for c in sheet[6]] == ["Adults", 6.5, 23.0, 212]
    assert isinstance(sheet["B6"].value, float)
    assert sheet["C6"].number_format == "#,##0.0"  # 23.0 shows as "23.0", not "23"
    assert [c.value for c in sheet[5]] == ["Children", "x", "x", "x"]


def test_sheet_names_are_short_unique_and_acceptable_to_excel():
    titles = ["Victims by sex: persons [2025] / all*"] + \
        ["A very long title that goes on and on about victims"] * 12
    names = sheet_names(titles)
    assert len(set(n.casefold() for n in names)) == len(names)
    assert all(len(n) <= 31 for n in names)
    assert not any(ch in n for n in names for ch in "[]:*?/\\")


def test_download_names_and_headers(eurostat):
    assert report_filename(eurostat, "csv") == "eurostat-2025.csv"
    assert content_disposition("eurostat-2025.csv") == 'attachment; filename="eurostat-2025.csv"'
    assert content_disposition("звіт.pdf", inline=True).startswith("inline; filename*=")


def test_one_way_table_has_no_second_total_column():
    grid = table_grid(victims_by_citizenship())
    assert [label for _code, label in grid.columns] == ["Total"]
    assert grid.total_column is None
    assert [row.label for row in grid.rows][-1] == "Total"
