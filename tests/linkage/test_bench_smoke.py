"""The linkage benchmark still runs: it explains its options, and on a tiny register it
deduplicates with both models and prints their figures (see tests/test_benchmarks_smoke.py
for the other benchmarks; this one needs no database and no server)."""

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.bench

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_linkage.py"
TIMEOUT = 300
NUMBER = r"\d[\d,]*(?:\.\d+)?"


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """Run the benchmark in its own process group; end the group if it does not finish."""
    clean = {name: value for name, value in os.environ.items()
             if not name.startswith(("DJANGO_", "OPENNRM_", "DATABASE_URL", "PYTEST_"))}
    process = subprocess.Popen([sys.executable, str(SCRIPT), *args], cwd=cwd, env=clean,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)
    try:
        stdout, stderr = process.communicate(timeout=TIMEOUT)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def test_it_explains_its_options(tmp_path):
    result = run("--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "usage:" in result.stdout and "--records" in result.stdout


def test_it_deduplicates_a_tiny_register_with_both_models(tmp_path):
    result = run("--records", "400", "--repeat", "1", "--results-dir", str(tmp_path / "runs"),
                 "--output", str(tmp_path / "linkage.md"), cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    assert re.search(r"^400 generated records of \d+ persons", result.stdout, re.MULTILINE)
    for model in (r"OpenNRM \(`model.json`\)", "Splink, hand-configured"):
        assert re.search(rf"^\| {model} \| {NUMBER} \| {NUMBER}–{NUMBER} \| {NUMBER} \| "
                         rf"{NUMBER} \| {NUMBER} \| {NUMBER} \| 0 \|$", result.stdout,
                         re.MULTILINE), result.stdout
    for threshold in ("0.5", "0.8", "0.9", "0.95", "0.99"):
        figures = r" \| ".join([r"[01]\.\d{4}"] * 6)
        assert len(re.findall(rf"^\| {threshold} \| {figures} \|$", result.stdout,
                              re.MULTILINE)) == 2, result.stdout
    assert (tmp_path / "linkage.md").read_text(encoding="utf-8").startswith("# OpenNRM")
