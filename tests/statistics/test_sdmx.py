"""The Eurostat THB tables as SDMX-CSV 2.0 (statistics/sdmx.py), read back with pysdmx.

The expected key of every published count is worked out here from the structure file itself
(read as JSON, not through `sdmx`): the dimensions a table breaks down take the file's code
for its row and column, the others the code the file gives the table or their total.
"""

import json
import shutil
from datetime import date

import pytest
from pysdmx.io import read_sdmx
from typer.testing import CliRunner

from opennrm.audit.models import AuditEntry
from opennrm.cli import app
from opennrm.core.datafiles import DataFileError
from opennrm.statistics import engine, releases, sdmx
from opennrm.statistics.tables import SECONDARY, SUPPRESSED
from tests.statistics.test_independent import generated_year  # noqa: F401 — a fixture
from tests.statistics.test_justice_tables import justice_year, police  # noqa: F401

YEAR = (date(2025, 1, 1), date(2025, 12, 31))
STRUCTURE_FILE = sdmx.STRUCTURE_DIR / "crim_thb.json"
runner = CliRunner()


def _file() -> dict:
    return json.loads(STRUCTURE_FILE.read_text(encoding="utf-8"))


def _read_back(text: str) -> dict[tuple, dict]:
    """{key: row} of an SDMX-CSV file as pysdmx reads it."""
    message = read_sdmx(text)
    [dataset] = message.data
    assert dataset.short_urn == "DataStructure=OPENNRM:CRIM_THB(1.0.0)"
    dimensions = [d["id"] for d in _file()["dimensions"]]
    rows = dataset.data.to_dict(orient="records")
    by_key = {tuple(row[d] for d in dimensions): row for row in rows}
    assert len(by_key) == len(rows), "a key written twice"
    return by_key


def _expected(result) -> list[tuple[tuple, object, str, str]]:
    """(key, value, flag, table) of every count of the published tables."""
    data = _file()
    definition = engine.load_definition("eurostat")
    specs = {table["key"]: table for table in definition["tables"]}
    fixed = {"@frequency": "A", "@country": "MD", "@time_period": "2025"}
    counts = []
    for table in result.tables:
        spec = specs[table.key]
        grid = [(r, c, cell) for r, row in zip(table.rows, table.cells, strict=True)
                for c, cell in zip(table.columns, row, strict=True)]
        grid += [(None, c, cell) for c, cell in zip(table.columns, table.column_totals,
                                                    strict=True)]
        grid += [(r, None, cell) for r, cell in zip(table.rows, table.row_totals, strict=True)]
        grid.append((None, None, table.total))
        for row, column, cell in grid:
            key = []
            for dimension in data["dimensions"]:
                if "value" in dimension:
                    key.append(fixed[dimension["value"]])
                    continue
                categories = dimension.get("categories", {})
                code = data["tables"][table.key].get(dimension["id"], "_T")
                if spec["rows"] in categories and row is not None:
                    code = categories[spec["rows"]][row]
                if spec["columns"] in categories and column is not None:
                    code = categories[spec["columns"]][column]
                key.append(code)
            counts.append((tuple(key), cell.value, cell.flag, table.key))
    return counts


def test_the_file_read_back_matches_the_published_tables_cell_by_cell(
        generated_year, justice_year):  # noqa: F811
    # The Eurostat set protected on its own: protecting every set of the node together over
    # a generated year takes minutes here (the command-line test below goes through
    # `releases.report`, as the command does).
    result = releases.controlled(engine.compute("eurostat", *YEAR), releases.Controls(5))
    back = _read_back(sdmx.sdmx_csv(result, "MD"))
    expected = _expected(result)
    published = 0
    for key, value, flag, table in expected:
        row = back[key]
        if value is None:
            assert row["OBS_VALUE"] == "", (table, key)
            assert row["OBS_STATUS"] == "Q", (table, key)
            assert row["CONF_STATUS"] == {SUPPRESSED: "A", SECONDARY: "D"}[flag], (table, key)
        else:
            published += 1
            assert row["OBS_VALUE"] == str(value), (table, key)
            assert (row["OBS_STATUS"], row["CONF_STATUS"]) == ("A", "F"), (table, key)
    # Every count of every table is written, and nothing else.
    assert set(back) == {key for key, *_ in expected}
    assert published > 50
    assert {flag for _key, value, flag, _table in expected if value is None} == {
        SUPPRESSED, SECONDARY}
    assert {key[2] for key in back} == {"VICT_REG", "PER_SUSP", "PER_PRSC", "PER_CONV"}


def test_a_hidden_count_has_a_status_and_no_value(dataset):
    [result] = releases.report(["eurostat"], *YEAR)  # five victims, threshold 5
    back = _read_back(sdmx.sdmx_csv(result, "MD"))
    statuses = {(row["OBS_VALUE"] == "", row["OBS_STATUS"]) for row in back.values()}
    assert statuses == {(True, "Q"), (False, "A")}
    small = [row for row in back.values() if row["CONF_STATUS"] == "A"]
    assert small and all(row["COMMENT_OBS"] == "Fewer than 5: not published." for row in small)
    # All five registered victims: published, not hidden.
    total = back[("A", "MD", "VICT_REG", "_T", "_T", "_T", "_T", "_T", "_T", "NR", "2025")]
    assert (total["OBS_VALUE"], total["OBS_STATUS"]) == ("5", "A")


def test_unknown_is_a_category_apart_from_zero(dataset, lenient_policy):
    [result] = releases.report(["eurostat"], *YEAR, releases.Controls(threshold=1))
    back = _read_back(sdmx.sdmx_csv(result, "MD"))

    def victims(sex="_T", age="_T"):
        row = back[("A", "MD", "VICT_REG", "_T", sex, age, "_T", "_T", "_T", "NR", "2025")]
        return row["OBS_VALUE"], row["OBS_STATUS"]

    # Dmitri: a man with no age recorded. Eugenia: neither female nor male for Eurostat.
    assert victims("M", "_U") == ("1", "A")
    assert victims("_U") == ("1", "A")
    # Nobody under 12: a known zero, published as 0.
    assert victims("F", "Y_LT12") == ("0", "A")
    assert victims(age="Y_LT12") == ("0", "A")
    # No suspect recorded: zero, not unknown.
    suspects = back[("A", "MD", "PER_SUSP", "_Z", "_U", "_T", "_T", "_T", "_Z", "NR", "2025")]
    assert suspects["OBS_VALUE"] == "0"


def test_a_quarter_is_sent_as_a_quarter_and_a_range_of_days_is_refused():
    assert sdmx.time_period(date(2025, 7, 1), date(2025, 9, 30)) == ("Q", "2025-Q3")
    assert sdmx.time_period(date(2025, 3, 1), date(2025, 3, 31)) == ("M", "2025-03")
    with pytest.raises(sdmx.SdmxError, match="a year, a quarter or a month"):
        sdmx.time_period(date(2025, 1, 1), date(2025, 6, 29))


def test_the_structure_file_becomes_the_pysdmx_data_structure():
    dsd = sdmx.data_structure(sdmx.load_structure())
    assert [c.id for c in dsd.components.dimensions] == [
        "FREQ", "REF_AREA", "INDICATOR", "LEG_STAT", "SEX", "AGE", "CITIZEN", "EXPLOIT",
        "REG_ORG", "UNIT_MEASURE", "TIME_PERIOD"]
    sex = next(c for c in dsd.components if c.id == "SEX")
    assert [code.id for code in sex.enumeration] == ["F", "M", "_U", "_T"]
    status = next(c for c in dsd.components if c.id == "OBS_STATUS")
    assert {code.id for code in status.enumeration} == {"A", "Q"}


def _broken(tmp_path, change):
    data = _file()
    change(data)
    path = tmp_path / "crim_thb.json"
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return path


@pytest.mark.parametrize("change, reason", [
    (lambda d: d["dimensions"][4]["categories"]["sex"].pop("unknown"), "missing ['unknown']"),
    (lambda d: d["dimensions"][4]["categories"]["sex"].update(male="F"),
     "two categories map to one code"),
    (lambda d: d["dimensions"][5]["categories"]["age_group"].update({"18+": "Y18T99"}),
     "'Y18T99' is not a code of CL_AGE"),
    (lambda d: d["tables"].pop("convicted_by_form_and_sex"),
     "table convicted_by_form_and_sex of the set eurostat is not listed"),
    (lambda d: d["tables"]["victims_by_sex_and_age"].pop("INDICATOR"),
     "gives no code to INDICATOR"),
    (lambda d: d["attributes"][0]["flags"].update(suppressed="C"),
     "'C' is not a code of CL_OBS_STATUS"),
    (lambda d: d["dimensions"][0].update(codelist="CL_FREQ"), "/dimensions/0"),
])
def test_a_broken_structure_file_is_refused_naming_it(tmp_path, change, reason, db):
    path = _broken(tmp_path, change)
    with pytest.raises(DataFileError) as error:
        sdmx.load_structure(path)
    assert str(path) in str(error.value)
    assert reason in str(error.value)


def test_a_structure_file_that_is_not_json_is_refused_with_its_line(tmp_path):
    path = tmp_path / "crim_thb.json"
    shutil.copy(STRUCTURE_FILE, path)
    path.write_text(path.read_text(encoding="utf-8").replace('"FREQ",', '"FREQ"', 1),
                    encoding="utf-8")
    with pytest.raises(DataFileError, match=r"crim_thb\.json:\d+: not valid JSON"):
        sdmx.load_structure(path)


def test_the_command_line_writes_the_sdmx_csv(dataset, tmp_path):
    output = tmp_path / "md-2025.csv"
    result = runner.invoke(app, ["stats", "report", "--period", "2025", "--format", "sdmx-csv",
                                 "--output", str(output)])
    assert result.exit_code == 0, result.output
    text = output.read_text(encoding="utf-8")
    assert text.startswith("STRUCTURE,STRUCTURE_ID,ACTION,FREQ,REF_AREA,INDICATOR")
    back = _read_back(text)
    [published] = releases.report(["eurostat"], *YEAR)
    assert set(back) == {key for key, *_ in _expected(published)}
    assert "Rusu" not in text and "Kovalenko" not in text
    assert AuditEntry.objects.filter(object_type="statistics", channel="cli",
                                     reason="report sdmx-csv").exists()
    # The GLOTIP questionnaire is written next to it, from the same controlled tables.
    beside = tmp_path / "md-2025-glotip-questionnaire.xlsx"
    import openpyxl

    workbook = openpyxl.load_workbook(beside)
    assert len(workbook.sheetnames) >= 4
    assert "Rusu" not in "".join(str(cell.value) for sheet in workbook for row in sheet.iter_rows()
                                 for cell in row if cell.value is not None)


def test_the_command_line_refuses_a_period_sdmx_cannot_name(db, tmp_path):
    output = tmp_path / "x.csv"
    result = runner.invoke(app, ["stats", "report", "--period", "2025-01-01..2025-06-29",
                                 "--format", "sdmx-csv", "--output", str(output)])
    assert result.exit_code == 1
    assert "a year, a quarter or a month" in result.output
    assert not output.exists()


def test_the_command_line_refuses_another_table_set_in_sdmx(db, tmp_path):
    result = runner.invoke(app, ["stats", "report", "--period", "2025", "--format", "sdmx-csv",
                                 "--table-set", "glotip", "--output", str(tmp_path / "x.csv")])
    assert result.exit_code == 1
    assert "writes the table set eurostat" in result.output
