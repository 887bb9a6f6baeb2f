"""The PPRL benchmark still runs: it explains its options, and on a tiny register it encodes,
times the Dice kernel and prints the F1 of PPRL beside clear text, their gap and the F1 at
other thresholds (anonlink skipped: the smoke test installs nothing)."""

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.bench

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_pprl.py"
TIMEOUT = 300
NUMBER = r"\d[\d,]*(?:\.\d+)?"
RATIO = r"[01]\.\d{4}"


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """Run the benchmark in its own process group, with no Django or database settings
    of the test run; end the group if it does not finish in time."""
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
    assert "usage:" in result.stdout
    assert "--skip-anonlink" in result.stdout and "--thresholds" in result.stdout


def test_it_links_a_tiny_register_and_prints_its_figures(tmp_path):
    result = run("--records", "300", "--repeat", "1", "--skip-anonlink",
                 "--thresholds", "0.55,0.65", cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    assert re.search(rf"^encoding: {NUMBER} records in {NUMBER} s", result.stdout, re.MULTILINE)
    assert re.search(rf"^\| OpenNRM \(numba\) \| {NUMBER} \| {NUMBER} \| {NUMBER}–{NUMBER} \| "
                     rf"{NUMBER} \| {NUMBER} \|$", result.stdout, re.MULTILINE), result.stdout
    for linkage in (r"PPRL \(all threads\)", r"clear text \(`register.link`\)"):
        assert re.search(rf"^\| {linkage} \| {RATIO} \| {RATIO} \| {RATIO} \| {NUMBER} \|$",
                         result.stdout, re.MULTILINE), result.stdout
    assert re.search(r"^F1 gap, clear text − PPRL: -?\d\.\d{4} \(issue 19 allows 0\.02: "
                     r"(within|OUTSIDE)\)$", result.stdout, re.MULTILINE), result.stdout
    for threshold in ("0.55", "0.65"):
        assert re.search(rf"^\| {threshold} \| {RATIO} \| {RATIO} \| {RATIO} \|$",
                         result.stdout, re.MULTILINE), result.stdout
