"""`opennrm stats report`: the annual report from the command line."""

import subprocess

from typer.testing import CliRunner

from opennrm.audit.models import AuditEntry
from opennrm.cli import app

runner = CliRunner()


def test_stats_report_writes_the_pdf_annual_report(dataset, tmp_path):
    output = tmp_path / "report.pdf"
    result = runner.invoke(app, ["stats", "report", "--period", "2025", "--format", "pdf",
                                 "--output", str(output)])
    assert result.exit_code == 0, result.output
    text = subprocess.run(["pdftotext", "-layout", str(output), "-"], capture_output=True,
                          check=True).stdout.decode()
    for title in ("Registered victims by sex and age group", "Detected victims by sex and age",
                  "Victims per 100,000 population", "Type of exploitation by gender",
                  "Share of presumed victims formally identified"):
        assert title in text
    assert "Rusu" not in text and "Kovalenko" not in text
    assert AuditEntry.objects.filter(object_type="statistics", channel="cli").exists()


def test_stats_report_csv_of_one_table_set(dataset, tmp_path):
    output = tmp_path / "glotip.csv"
    result = runner.invoke(app, ["stats", "report", "--period", "2025", "--format", "csv",
                                 "--table-set", "glotip", "--output", str(output)])
    assert result.exit_code == 0, result.output
    text = output.read_text(encoding="utf-8-sig")
    assert "detected_victims_by_sex_and_age" in text
    assert "<5" in text


def test_stats_report_explains_a_wrong_period(db, tmp_path):
    result = runner.invoke(app, ["stats", "report", "--period", "2025-Q5",
                                 "--output", str(tmp_path / "x.pdf")])
    assert result.exit_code == 1
    assert "2025-Q5" in result.output
    assert not (tmp_path / "x.pdf").exists()
