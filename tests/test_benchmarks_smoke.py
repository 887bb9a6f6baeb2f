"""The benchmarks still run: each starts and explains its options, and the statistics
benchmark runs on a tiny SQLite database and prints its figures.

The node, web and referral benchmarks load PostgreSQL databases of their own and start
gunicorn; they are run by hand (see benchmarks/README.md).
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
SCRIPTS = ["bench_node", "bench_referrals", "bench_statistics", "bench_web", "load_referrals",
           "load_statistics", "pandas_statistics", "profile_api"]


def run(script: str, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    # The benchmark's own environment: not the test suite's settings, key ring or database.
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("DJANGO_", "OPENNRM_", "DATABASE_URL", "PYTEST_"))}
    return subprocess.run([sys.executable, str(BENCHMARKS / f"{script}.py"), *args], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize("script", SCRIPTS)
def test_it_explains_its_options(script, tmp_path):
    result = run(script, "--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "usage:" in result.stdout


def test_the_statistics_benchmark_runs_on_tiny_data(tmp_path):
    result = run("bench_statistics", "--engines", "sqlite", "--cases", "200", "--repeat", "1",
                 "--results-dir", str(tmp_path / "statistics"),
                 "--output", str(tmp_path / "statistics.md"), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SQLite: 200 cases" in result.stdout
    assert "OpenNRM:" in result.stdout and "naive pandas:" in result.stdout
    assert "| SQLite" in result.stdout
    assert (tmp_path / "statistics.md").read_text(encoding="utf-8").startswith("# OpenNRM")
