"""The PPRL benchmark still runs: it explains its options, and on a tiny register it encodes,
times the Dice kernel and prints the F1 of PPRL beside clear text (anonlink skipped: the
smoke test installs nothing)."""

import re
import sys
from pathlib import Path

import pytest

from tests.linkage.test_bench_smoke import run

pytestmark = pytest.mark.bench

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_pprl.py"
NUMBER = r"\d[\d,]*(?:\.\d+)?"


def test_it_explains_its_options(tmp_path, monkeypatch):
    monkeypatch.setattr(sys.modules["tests.linkage.test_bench_smoke"], "SCRIPT", SCRIPT)
    result = run("--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "usage:" in result.stdout and "--skip-anonlink" in result.stdout


def test_it_links_a_tiny_register_and_prints_its_figures(tmp_path, monkeypatch):
    monkeypatch.setattr(sys.modules["tests.linkage.test_bench_smoke"], "SCRIPT", SCRIPT)
    result = run("--records", "300", "--repeat", "1", "--skip-anonlink", cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    assert re.search(rf"^encoding: {NUMBER} records in {NUMBER} s", result.stdout, re.MULTILINE)
    assert re.search(rf"^\| OpenNRM \(numba\) \| {NUMBER} \| {NUMBER} \| {NUMBER}–{NUMBER} \| "
                     rf"{NUMBER} \| {NUMBER} \|$", result.stdout, re.MULTILINE), result.stdout
    for linkage in (r"PPRL \(all threads\)", r"clear text \(`register.link`\)"):
        assert re.search(rf"^\| {linkage} \| [01]\.\d{{4}} \| [01]\.\d{{4}} \| [01]\.\d{{4}} \| "
                         rf"{NUMBER} \|$", result.stdout, re.MULTILINE), result.stdout
