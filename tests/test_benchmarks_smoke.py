"""The benchmarks still run: each starts and explains its options, and each runs on tiny data
and prints its figures.

The node, web, referral and profiling benchmarks load PostgreSQL databases of their own and
start gunicorn, so they (and the statistics benchmark once more, on PostgreSQL) run against
the PostgreSQL server of the suite's second pass (`OPENNRM_TEST_POSTGRES_URL`, default
127.0.0.1:5432) in both passes: the database is the benchmark's own, named after the
script, the xdist worker and this process, and dropped afterwards. A benchmark stops its
gunicorn in a `finally`; should one hang, the test ends its whole process group (the
benchmark and its server) by the benchmark's PID.

The runs here use production settings with one change, a fast password hasher: the demo's
two dozen Argon2 hashes would take most of a tiny run's time. The benchmarks themselves, at
their default sizes and settings, are not changed by any of this.
"""

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql

# Each benchmark starts its own servers on databases of its own: run once, in the suite's
# PostgreSQL pass (scripts/test.sh).
pytestmark = pytest.mark.bench

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
SCRIPTS = ["bench_node", "bench_person_search", "bench_referrals", "bench_statistics",
           "bench_trm", "bench_web",
           "load_referrals", "load_statistics", "pandas_statistics", "profile_api"]
SERVER = os.environ.get("OPENNRM_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test")
TIMEOUT = 300
SMOKE_SETTINGS = """\
from opennrm.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
"""
# A small node: one gunicorn worker, one client, ten requests per endpoint after five to warm
# up, one run.
SERVER_OPTIONS = ("--requests", "10", "--warmup", "5", "--repeat", "1", "--gunicorn-workers", "1")
NUMBER = r"\d[\d,]*(?:\.\d+)?"


def run(script: str, *args: str, cwd: Path, env: dict | None = None
        ) -> subprocess.CompletedProcess:
    """Run a benchmark in its own process group; end the group if it does not finish."""
    # The benchmark's own environment: not the test suite's settings, key ring or database.
    clean = {name: value for name, value in os.environ.items()
             if not name.startswith(("DJANGO_", "OPENNRM_", "DATABASE_URL", "PYTEST_"))}
    process = subprocess.Popen([sys.executable, str(BENCHMARKS / f"{script}.py"), *args],
                               cwd=cwd, env={**clean, **(env or {})}, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        stdout, stderr = process.communicate(timeout=TIMEOUT)
    finally:
        if process.poll() is None or _group_alive(process.pid):
            _end_group(process)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def _end_group(process: subprocess.Popen) -> None:
    """SIGTERM, then SIGKILL, to the benchmark's process group (its id is the benchmark's
    PID): the benchmark and whatever it started, gunicorn included."""
    for sent, grace in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        try:
            os.killpg(process.pid, sent)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            if process.poll() is not None and not _group_alive(process.pid):
                return
            time.sleep(0.1)


def smoke_env(tmp_path: Path) -> dict:
    """Production settings with a fast password hasher (see the module's docstring)."""
    folder = tmp_path / "settings"
    folder.mkdir(exist_ok=True)
    (folder / "smoke_settings.py").write_text(SMOKE_SETTINGS, encoding="utf-8")
    path = os.pathsep.join(filter(None, [str(folder), os.environ.get("PYTHONPATH")]))
    return {"PYTHONPATH": path, "DJANGO_SETTINGS_MODULE": "smoke_settings"}


@pytest.fixture
def own_database(request):
    """make(script) → the URL of a PostgreSQL database no other run uses; dropped after."""
    parts = urlsplit(SERVER)
    admin = urlunsplit(parts._replace(path="/postgres"))
    try:
        psycopg.connect(admin, connect_timeout=5).close()
    except psycopg.Error as error:
        pytest.skip(f"the benchmarks need PostgreSQL ({admin}): {error}")
    names = []

    def make(script: str) -> str:
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        name = f"opennrm_smoke_{script}_{worker}_{os.getpid()}"
        names.append(name)
        return urlunsplit(parts._replace(path=f"/{name}"))

    yield make
    with psycopg.connect(admin, autocommit=True) as conn:
        for name in names:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)))


def assert_ran(result: subprocess.CompletedProcess) -> None:
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]


def assert_row(text: str, first_cells: str, cells: int) -> None:
    """A report row starting with `first_cells`, then `cells` figures, the last 0 errors."""
    figures = r" \| ".join([NUMBER] * (cells - 1) + ["0"])
    pattern = rf"^\| {re.escape(first_cells)} \| {figures} \|$"
    assert re.search(pattern, text, re.MULTILINE), f"no row {pattern!r} in:\n{text}"


@pytest.mark.parametrize("script", SCRIPTS)
def test_it_explains_its_options(script, tmp_path):
    result = run(script, "--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "usage:" in result.stdout


def test_the_statistics_benchmark_runs_on_tiny_data(tmp_path):
    result = run("bench_statistics", "--engines", "sqlite", "--cases", "200", "--repeat", "1",
                 "--results-dir", str(tmp_path / "statistics"),
                 "--output", str(tmp_path / "statistics.md"), cwd=tmp_path)
    assert_ran(result)
    assert "SQLite: 200 cases" in result.stdout
    assert "OpenNRM:" in result.stdout and "naive pandas:" in result.stdout
    assert "| SQLite" in result.stdout
    assert (tmp_path / "statistics.md").read_text(encoding="utf-8").startswith("# OpenNRM")


def test_the_statistics_benchmark_runs_on_tiny_data_in_postgresql(tmp_path, own_database):
    result = run("bench_statistics", "--engines", "postgres", "--cases", "200", "--repeat", "1",
                 "--database-url", own_database("bench_statistics"),
                 "--results-dir", str(tmp_path / "statistics"),
                 "--output", str(tmp_path / "statistics.md"), cwd=tmp_path)
    assert_ran(result)
    assert "PostgreSQL: 200 cases" in result.stdout
    assert "OpenNRM:" in result.stdout and "naive pandas:" in result.stdout
    assert "totals agree: yes" in result.stdout
    assert "| PostgreSQL" in result.stdout


def test_the_node_benchmark_and_the_profiler_run_on_tiny_data(tmp_path, own_database):
    url = own_database("bench_node")
    env = smoke_env(tmp_path)
    result = run("bench_node", "--cases", "20", "--levels", "1", *SERVER_OPTIONS,
                 "--database-url", url, "--results-dir", str(tmp_path / "node"), cwd=tmp_path,
                 env=env)
    assert_ran(result)
    for endpoint in ("list `GET /api/cases?page=1&page_size=50`",
                     "search `POST /api/cases/search` (exact name)"):
        assert_row(result.stdout, f"{endpoint} | 1", 11)
    assert re.search(rf"^\| floor: .* \| 1 \| {NUMBER} \|", result.stdout, re.MULTILINE)
    assert "| opennrm demo --cases 20 |" in result.stdout
    assert "**intact**" in result.stdout
    assert (tmp_path / "node" / "latest.md").read_text(encoding="utf-8").startswith("# OpenNRM")

    # profile_api.py on the node the benchmark loaded, with its key ring.
    result = run("profile_api", "--requests", "5", "--profile", "list", "--limit", "5",
                 cwd=tmp_path, env={**env, "DATABASE_URL": url,
                                    "OPENNRM_KEYRING": str(tmp_path / "node" /
                                                           "bench-keyring.json"),
                                    "OPENNRM_VAR_DIR": str(tmp_path / "node" / "var")})
    assert_ran(result)
    for name in ("list", "search", "floor"):
        assert re.search(rf"^{name} +wall p50 +{NUMBER} ms +CPU mean +{NUMBER} ms +SQL wait "
                         rf"+{NUMBER} ms in {NUMBER} statements$", result.stdout, re.MULTILINE)
    assert "=== cProfile: list ===" in result.stdout


def test_the_web_benchmark_runs_on_tiny_data(tmp_path, own_database):
    result = run("bench_web", "--cases", "20", "--clients", "1", *SERVER_OPTIONS,
                 "--database-url", own_database("bench_web"),
                 "--results-dir", str(tmp_path / "web"),
                 "--output", str(tmp_path / "web.md"), cwd=tmp_path, env=smoke_env(tmp_path))
    assert_ran(result)
    for page in ("list", "filtered", "filtered p5", "partial", "detail"):
        assert_row(result.stdout, f"{page} | 1", 5)
    for page in ("list", "filtered", "detail"):
        assert re.search(rf"^\| {page} \| \*\*HTML\+CSS\+JS\*\* \| {NUMBER} \| \| "
                         rf"\*\*{NUMBER}\*\* \|$", result.stdout, re.MULTILINE)
    assert (tmp_path / "web.md").read_text(encoding="utf-8").startswith("# OpenNRM")


def test_the_referrals_benchmark_runs_on_tiny_data(tmp_path, own_database):
    result = run("bench_referrals", "--cases", "20", "--referrals", "200", "--clients", "1",
                 "--sweeps", "1", *SERVER_OPTIONS,
                 "--database-url", own_database("bench_referrals"),
                 "--results-dir", str(tmp_path / "referrals"),
                 "--output", str(tmp_path / "referrals.md"), cwd=tmp_path,
                 env=smoke_env(tmp_path))
    assert_ran(result)
    assert "Loading 200 referrals" in result.stdout
    for endpoint in ("inbox", "inbox paged", "API incoming", "API awaiting"):
        assert_row(result.stdout, f"{endpoint} | 1", 8)
    assert re.search(rf"^\| first run \(creates the notifications\) \| {NUMBER} \| {NUMBER} \|$",
                     result.stdout, re.MULTILINE)
    assert re.search(rf"^\| second run #1 \(idempotent\) \| {NUMBER} \| 0 \|$", result.stdout,
                     re.MULTILINE)
    assert (tmp_path / "referrals.md").read_text(encoding="utf-8").startswith("# OpenNRM")


def test_the_transnational_benchmark_runs_on_tiny_data(tmp_path, own_database):
    own_database("bench_trm")  # PostgreSQL or skip; the benchmark makes and drops its own two
    server = urlunsplit(urlsplit(SERVER)._replace(path="/postgres"))
    result = run("bench_trm", "--server", server, "--duration", "2", "--backlog", "20",
                 "--latency-messages", "3", "--latency-gap", "0.05", "--crypto-messages", "5",
                 "--gunicorn-workers", "1", "--output", str(tmp_path / "trm.md"), cwd=tmp_path,
                 env=smoke_env(tmp_path))
    assert_ran(result)
    assert re.search(rf"^\| floor \(both\) \| {NUMBER} ", result.stdout, re.MULTILINE)
    for name in ("worker woken by NOTIFY", "thread after commit"):
        assert re.search(rf"^\| {name} \| {NUMBER} \| {NUMBER} \|", result.stdout, re.MULTILINE)
    for phase in ("throughput", "backlog"):
        assert re.search(rf"^\| {phase} \| {NUMBER} \| {NUMBER} \| 0 \| 0 \|", result.stdout,
                         re.MULTILINE)
    assert "0 lost, 0 duplicated: yes" in result.stdout
    assert (tmp_path / "trm.md").read_text(encoding="utf-8").startswith("# OpenNRM")


def test_the_person_search_benchmark_runs_on_tiny_data(tmp_path):
    result = run("bench_person_search", "--persons", "300", "--queries", "45", "--pages", "5",
                 "--results-dir", str(tmp_path), "--output", str(tmp_path / "r.md"),
                 cwd=tmp_path, env=smoke_env(tmp_path))
    assert_ran(result)
    assert re.search(rf"^\| \*\*all variants above\*\* \(the target\) \| {NUMBER} \| {NUMBER} \| "
                     rf"\*\*{NUMBER}\*\* \|", result.stdout, re.MULTILINE)
    assert re.search(r"^Recall target .*: \*\*(met|missed)\*\*", result.stdout, re.MULTILINE)
    assert (tmp_path / "r.md").exists()
