"""`opennrm linkage dedupe` and `link` on CSV files (no database needed)."""

import csv

from typer.testing import CliRunner

from opennrm.cli import app

runner = CliRunner()

HEADER = "ID;First;Last;Born;Sex;Country;Person\n"
HOTLINE = HEADER + (
    "h1;Олександр;Шевченко;03.05.1990;ч;UA;oleksandr\n"
    "h2;Ірина;Шевченко;1993-11-20;F;UA;iryna\n"
    "h3;Maria;Popescu;31.02.1990;F;MD;maria\n"
)
POLICE = HEADER + (
    "p1;Oleksandr;Shevchenko;1990-05-03;M;UKR;oleksandr\n"
    "p2;Ганна;Shevchenko;1965;F;UA;hanna\n"
)
MAP = "given_name=First,family_name=Last,birth_date=Born,sex=Sex,citizenship=Country"


def _rows(path):
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _files(tmp_path):
    hotline, police = tmp_path / "hotline.csv", tmp_path / "police.csv"
    hotline.write_text(HOTLINE, encoding="utf-8")
    police.write_text(POLICE, encoding="utf-8")
    return hotline, police


def test_dedupe_writes_a_cluster_for_every_readable_record_and_reports_the_rest(tmp_path):
    hotline, police = _files(tmp_path)
    both = tmp_path / "both.csv"
    both.write_text(HOTLINE + POLICE.split("\n", 1)[1], encoding="utf-8")
    out, pairs = tmp_path / "clusters.csv", tmp_path / "pairs.csv"
    result = runner.invoke(app, ["linkage", "dedupe", str(both), "--id-column", "ID",
                                 "--map", MAP, "--truth-column", "Person",
                                 "--output", str(out), "--pairs", str(pairs)])
    assert result.exit_code == 0, result.output
    clusters = {row["record_id"]: row["cluster_id"] for row in _rows(out)}
    assert set(clusters) == {"h1", "h2", "p1", "p2"}
    assert clusters["h1"] == clusters["p1"]
    assert len({clusters["h1"], clusters["h2"], clusters["p2"]}) == 3
    assert "line 4 (record h3)" in result.stderr and "not a date of the calendar" in result.stderr
    assert "1 unreadable" in result.stderr
    assert "precision 1.0000, recall 1.0000, F1 1.0000" in result.stderr
    [pair] = _rows(pairs)
    assert {pair["record_id_1"], pair["record_id_2"]} == {"h1", "p1"}
    assert float(pair["match_probability"]) > 0.99


def test_dedupe_without_output_writes_csv_to_standard_output(tmp_path):
    hotline, _ = _files(tmp_path)
    result = runner.invoke(app, ["linkage", "dedupe", str(hotline), "--id-column", "ID",
                                 "--map", MAP])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "record_id,cluster_id" and len(lines) == 3
    assert "F1" not in result.stderr


def test_link_shares_cluster_ids_across_the_two_files(tmp_path):
    hotline, police = _files(tmp_path)
    out = tmp_path / "linked.csv"
    result = runner.invoke(app, ["linkage", "link", str(hotline), str(police),
                                 "--id-column", "ID", "--map", MAP, "--threshold", "0.95",
                                 "--truth-column", "Person", "--output", str(out)])
    assert result.exit_code == 0, result.output
    clusters = {(row["source"], row["record_id"]): row["cluster_id"] for row in _rows(out)}
    assert clusters[("hotline.csv", "h1")] == clusters[("police.csv", "p1")]
    assert clusters[("hotline.csv", "h2")] != clusters[("police.csv", "p2")]
    assert ("hotline.csv", "h3") not in clusters
    assert "hotline.csv: line 4 (record h3)" in result.stderr
    assert "F1 1.0000" in result.stderr


def test_unusable_arguments_or_files_exit_non_zero(tmp_path):
    hotline, _ = _files(tmp_path)
    for arguments, says in (
        ([str(tmp_path / "missing.csv"), "--id-column", "ID", "--map", MAP], "no such file"),
        ([str(hotline), "--id-column", "Nr", "--map", MAP], "no column 'Nr'"),
        ([str(hotline), "--id-column", "ID", "--map", "name=First"], "not a field"),
        ([str(hotline), "--id-column", "ID", "--map", MAP, "--threshold", "2"], "threshold"),
    ):
        result = runner.invoke(app, ["linkage", "dedupe", *arguments])
        assert result.exit_code == 1, arguments
        assert says in " ".join(result.output.split())
