"""The regional benchmark still runs: it explains its options, and with tiny data it prints
its figures (its own database and key ring in a temporary folder)."""

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.bench

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_regional.py"
TIMEOUT = 600


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
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
    assert "--cases-per-node" in result.stdout


def test_it_renders_a_tiny_regional_view(tmp_path):
    result = run("--nodes", "3", "--cases-per-node", "2000", "--release-cases", "300",
                 "--output", str(tmp_path / "regional.md"), cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    for phase in ("overview", "page, first", "page, again", "pdf", "send release"):
        assert re.search(rf"^\| {re.escape(phase)}.* \| \d+\.\d\d \|$", result.stdout,
                         re.MULTILINE), phase
    assert "3 countries in view" in result.stdout
    assert (tmp_path / "regional.md").read_text(encoding="utf-8").startswith("# OpenNRM")
