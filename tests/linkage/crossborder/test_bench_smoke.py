"""The benchmark of linkage across nodes still runs: it explains its options, and with a few
persons a node on SQLite it starts three nodes, links them over the channel and prints its
figures (its own servers, databases and key rings, all ended afterwards)."""

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.bench

SCRIPT = Path(__file__).resolve().parents[3] / "benchmarks" / "bench_crossborder.py"
TIMEOUT = 900


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
    assert "--persons-per-node" in result.stdout


def test_it_links_three_tiny_nodes_end_to_end(tmp_path):
    result = run("--persons-per-node", "60", "--database-url", "", "--timeout", "300",
                 "--output", str(tmp_path / "crossborder.md"), cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    for phase in ("encode at MD", "encode at UA", "encode at RO", "send: last join",
                  "link at host", "groups back", "total"):
        assert re.search(rf"^\| {phase}.* \| \d+\.\d \|$", result.stdout, re.MULTILINE), phase
    assert re.search(r"precision [01]\.\d{3}, recall [01]\.\d{3}", result.stdout)
    assert (tmp_path / "crossborder.md").read_text(encoding="utf-8").startswith("# OpenNRM")
