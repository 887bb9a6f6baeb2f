"""Benchmark a whole node: demo load, then REST API latency against the raw SQL it runs.

Drops and recreates the benchmark database (never point it at a real one), migrates,
times `opennrm demo --cases N`, starts gunicorn, and measures at 1, 8 and 32 concurrent
clients the p50/p95 latency of `GET /api/cases` (first page of the caller's agency) and of
`GET /api/cases/search` (exact name and birth date of existing persons), each beside the
same SQL run directly through psycopg at the same concurrency. Prints a Markdown report
and writes it to benchmarks/results/latest.md.

    .venv/bin/python benchmarks/bench_node.py --cases 100000 \\
        --database-url postgres://postgres@127.0.0.1:5432/opennrm_bench
"""

import argparse
import itertools
import json
import os
import platform
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
BIN = Path(sys.executable).parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/opennrm_bench"
# The agency whose caseworker calls the API: the police unit owns the most demo cases.
CALLER = "police-caseworker"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--requests", type=int, default=300,
                        help="requests per endpoint and concurrency level")
    parser.add_argument("--levels", default="1,8,32", help="concurrent clients")
    parser.add_argument("--repeat", type=int, default=3,
                        help="measure every level this many times; report the medians")
    parser.add_argument("--gunicorn-workers", type=int, default=3)
    parser.add_argument("--gunicorn-threads", type=int, default=1)
    parser.add_argument("--gunicorn-worker-class", default="",
                        help="e.g. gthread: keeps client connections open (the default sync "
                             "worker closes each one after its response)")
    parser.add_argument("--reuse", action="store_true",
                        help="keep the database and key ring of the previous run (no load)")
    parser.add_argument("--results-dir", type=Path, default=RESULTS,
                        help="key ring, logs and report (another directory lets two runs "
                             "on different databases go side by side)")
    parser.add_argument("--output", type=Path, default=None,
                        help="the report (default: RESULTS_DIR/latest.md)")
    args = parser.parse_args()
    args.output = args.output or args.results_dir / "latest.md"
    return args


# --- database and node ---------------------------------------------------------------------

def recreate_database(url: str) -> None:
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not name or name in ("postgres", "template0", "template1"):
        raise SystemExit(f"refusing to drop database {name!r}")
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def node_env(url: str, keyring: Path, results: Path) -> dict:
    return {
        **os.environ,
        "DATABASE_URL": url,
        "OPENNRM_KEYRING": str(keyring),
        "OPENNRM_VAR_DIR": str(results / "var"),
        "OPENNRM_SECRET_KEY": secrets.token_urlsafe(50),
        "OPENNRM_ALLOWED_HOSTS": "127.0.0.1",
        "OPENNRM_SSL_REDIRECT": "0",
        "OPENNRM_DEBUG": "0",
        "OPENNRM_ALLOW_DEMO": "1",  # a throw-away database
        "COLUMNS": "200",
    }


def run(args: list[str], env: dict, log: Path) -> tuple[float, str]:
    """Run a command to completion; (wall seconds, stdout). Output also goes to `log`."""
    started = time.perf_counter()
    result = subprocess.run(args, env=env, cwd=ROOT, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    log.write_text(result.stdout + result.stderr, encoding="utf-8")
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed ({result.returncode}), see {log}:\n"
                         f"{result.stderr[-2000:]}")
    return elapsed, result.stdout


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(env: dict, port: int, workers: int, threads: int, results: Path,
                 worker_class: str = "") -> subprocess.Popen:
    log = (results / "gunicorn.log").open("w")
    server = subprocess.Popen(
        [str(BIN / "gunicorn"), "opennrm.wsgi", "-b", f"127.0.0.1:{port}", "-w", str(workers),
         "--threads", str(threads), "--access-logfile", "-",
         *(["--worker-class", worker_class] if worker_class else [])],
        env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited ({server.returncode}), see {log.name}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/cases", timeout=2).status_code == 401:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    server.terminate()
    raise SystemExit("gunicorn did not answer within 90 s")


def stop_server(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


# --- measuring -----------------------------------------------------------------------------

@dataclass
class Figures:
    p50_ms: float
    p95_ms: float
    per_second: float
    errors: int


def measure(clients: int, requests: int, make_worker: Callable[[], Callable[[int], bool]]
            ) -> Figures:
    """Run `requests` calls spread over `clients` threads, each with its own connection.

    `make_worker()` returns a function doing call number i and saying whether it succeeded.
    """
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    counter = itertools.count()
    workers = [make_worker() for _ in range(clients)]
    start = threading.Barrier(clients + 1)

    def loop(call: Callable[[int], bool]) -> None:
        nonlocal errors
        start.wait()
        while (i := next(counter)) < requests:
            began = time.perf_counter()
            ok = call(i)
            took = time.perf_counter() - began
            with lock:
                latencies.append(took)
                errors += not ok

    threads = [threading.Thread(target=loop, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began
    ordered = sorted(latencies)
    return Figures(
        p50_ms=statistics.median(ordered) * 1000,
        p95_ms=ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] * 1000,
        per_second=len(ordered) / wall,
        errors=errors,
    )


def median_figures(runs: list[Figures]) -> Figures:
    return Figures(*(statistics.median(getattr(run, name) for run in runs)
                     for name in ("p50_ms", "p95_ms", "per_second")),
                   errors=sum(run.errors for run in runs))


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of processes (Linux /proc; 0 elsewhere)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 0.0


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
        except (OSError, ValueError, IndexError):
            continue
    return found


def api_worker(base: str, token: str | None, path: str, params: Callable[[int], dict],
               expected: int = 200):
    def make() -> Callable[[int], bool]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        client = httpx.Client(base_url=base, headers=headers, timeout=60)

        def call(i: int) -> bool:
            return client.get(path, params=params(i)).status_code == expected
        return call
    return make


def sql_worker(url: str, statements: Callable[[int], list[tuple[str, tuple]]]):
    def make() -> Callable[[int], bool]:
        conn = psycopg.connect(url, autocommit=True)

        def call(i: int) -> bool:
            with conn.cursor() as cursor:
                for statement, params in statements(i):
                    cursor.execute(statement, params)
                    cursor.fetchall()
            return True
        return call
    return make


# --- report --------------------------------------------------------------------------------

def machine() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    memory = next((line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal")), "0")
    return {"cpu": f"{cpu} × {os.cpu_count()}", "memory": f"{int(memory) // 1024 // 1024} GiB",
            "os": platform.platform(), "python": platform.python_version()}


def load_average() -> str:
    return " / ".join(f"{value:.1f}" for value in os.getloadavg())


def git_commit() -> str:
    result = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT,
                            capture_output=True, text=True)
    return result.stdout.strip() or "unknown"


def report(args, load: dict, rows: list[dict], info: dict) -> str:
    lines = [
        f"# OpenNRM node benchmark — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"* Commit `{info['commit']}`; {info['machine']['cpu']}, {info['machine']['memory']}; "
        f"{info['machine']['os']}; Python {info['machine']['python']}",
        f"* {info['postgres']}; load average {info['load_before']} before the HTTP "
        f"measurements, {info['load_after']} after (other work on the machine skews figures)",
        f"* gunicorn {args.gunicorn_workers} workers × {args.gunicorn_threads} threads"
        f"{f' ({args.gunicorn_worker_class})' if args.gunicorn_worker_class else ''}; "
        f"{args.requests} requests per endpoint and level, medians of {args.repeat} "
        f"runs; caller `{CALLER}` "
        f"({info['visible']:,} visible cases); client, server and database on one machine",
        "",
        "| Step | Seconds |",
        "|---|---:|",
    ]
    lines += [f"| {step} | {seconds:.1f} |" for step, seconds in load.items()]
    lines += [
        "",
        "| Endpoint | Clients | API p50 ms | API p95 ms | API req/s | server CPU ms/req "
        "| SQL p50 ms | SQL p95 ms | API/SQL (p50) | Errors |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        api, raw = row["api"], row["sql"]
        sql_cells = (f"{raw.p50_ms:.2f} | {raw.p95_ms:.2f} | {api.p50_ms / raw.p50_ms:.1f}"
                     if raw else "— | — | —")
        lines.append(
            f"| {row['endpoint']} | {row['clients']} | {api.p50_ms:.1f} | {api.p95_ms:.1f} "
            f"| {api.per_second:.0f} | {row['cpu_ms']:.1f} | {sql_cells} "
            f"| {api.errors + (raw.errors if raw else 0)} |"
        )
    search8 = next((r for r in rows if r["endpoint"].startswith("search") and r["clients"] == 8),
                   None)
    demo = load.get(f"opennrm demo --cases {args.cases}")
    lines += ["", "| Target | Wanted | Measured |", "|---|---|---|"]
    if demo is not None:
        lines.append(f"| demo load of {args.cases:,} cases | ≤ 120 s (for 100,000) "
                     f"| {demo:.1f} s |")
    if search8:
        lines.append(f"| search p95 at 8 clients | ≤ 100 ms | {search8['api'].p95_ms:.1f} ms |")
    compared = [r for r in rows if r["sql"]]
    worst = max(compared, key=lambda r: r["api"].p50_ms / r["sql"].p50_ms)
    ratio = worst["api"].p50_ms / worst["sql"].p50_ms
    lines.append(f"| API / raw SQL (median) | ≤ 5 | worst {ratio:.1f} "
                 f"({worst['endpoint']}, {worst['clients']} clients) |")
    lines += ["", "SQL timed beside the API (captured from the ORM by "
              "`benchmarks/probe_queries.py`):", ""]
    for title, statements in info["sql"].items():
        lines += [f"* {title}:", ""]
        lines += [f"  ```sql\n  {statement}\n  ```" for statement in statements]
    return "\n".join(lines) + "\n"


# --- main ----------------------------------------------------------------------------------

def main() -> None:
    args = parse_args()
    levels = [int(level) for level in args.levels.split(",")]
    results = args.results_dir
    results.mkdir(parents=True, exist_ok=True)
    keyring = results / "bench-keyring.json"
    env = node_env(args.database_url, keyring, results)
    opennrm = str(BIN / "opennrm")
    load: dict[str, float] = {}
    if not args.reuse:
        print(f"Recreating {urlsplit(args.database_url).path.lstrip('/')} …", flush=True)
        recreate_database(args.database_url)
        keyring.unlink(missing_ok=True)
        load["opennrm migrate"], _ = run([opennrm, "migrate"], env, results / "migrate.log")
        print(f"Loading {args.cases:,} demo cases …", flush=True)
        load[f"opennrm demo --cases {args.cases}"], _ = run(
            [opennrm, "demo", "--cases", str(args.cases), "--seed", str(args.seed)], env,
            results / "demo.log")
        print(f"  {load[f'opennrm demo --cases {args.cases}']:.1f} s", flush=True)
        began = time.perf_counter()
        with psycopg.connect(args.database_url, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
        load["VACUUM ANALYZE (after the load, as autovacuum would)"] = (
            time.perf_counter() - began)

    _, out = run([opennrm, "tokens", "create", CALLER, "--name", "benchmark"], env,
                 results / "token.log")
    token = out.strip().splitlines()[-1]
    _, out = run([sys.executable, str(ROOT / "benchmarks" / "probe_queries.py"), CALLER, token,
                  str(min(args.requests, 500))], env, results / "probe.log")
    probe = json.loads(out)
    targets = probe["targets"]
    list_sql = [(statement.replace("%", "%%"), ()) for statement in probe["list_sql"]]

    with psycopg.connect(args.database_url) as conn:
        postgres = conn.execute("SELECT version()").fetchone()[0].split(" on ")[0]
        visible = conn.execute(
            "SELECT count(*) FROM cases_case c JOIN accounts_user u "
            "ON u.agency_id = c.owner_agency_id WHERE u.username = %s", (CALLER,)).fetchone()[0]

    port = free_port()
    print(f"Starting gunicorn on 127.0.0.1:{port} …", flush=True)
    server = start_server(env, port, args.gunicorn_workers, args.gunicorn_threads,
                          results, args.gunicorn_worker_class)
    base = f"http://127.0.0.1:{port}"
    endpoints = [
        ("list `GET /api/cases?page=1&page_size=50`",
         api_worker(base, token, "/api/cases", lambda i: {"page": 1, "page_size": 50}),
         sql_worker(args.database_url, lambda i: list_sql)),
        ("search `GET /api/cases/search` (exact name)",
         api_worker(base, token, "/api/cases/search", lambda i: {
             k: targets[i % len(targets)][k] for k in ("given_name", "family_name",
                                                        "birth_date")}),
         sql_worker(args.database_url, lambda i: [
             (probe["search_sql"], (targets[i % len(targets)]["name_index"],))])),
    ]
    floor = ("floor: `GET /api/cases` without a token (401: HTTP, middleware, auth)",
             api_worker(base, None, "/api/cases", lambda i: {}, expected=401), None)
    runs: dict[tuple[str, int], dict[str, list]] = {}
    load_before = load_average()
    try:
        workers = children(server.pid)
        for _, api, raw in endpoints:  # warm every worker process and the caches
            measure(args.gunicorn_workers * args.gunicorn_threads, 40, api)
            measure(4, 40, raw)
        for repeat in range(1, args.repeat + 1):
            print(f"Run {repeat} of {args.repeat}", flush=True)
            for endpoint, api, raw in [*endpoints, floor]:
                for clients in levels:
                    cpu_before = cpu_seconds(workers)
                    api_figures = measure(clients, args.requests, api)
                    cpu_ms = (cpu_seconds(workers) - cpu_before) / args.requests * 1000
                    sql_figures = measure(clients, args.requests, raw) if raw else None
                    figures = runs.setdefault((endpoint, clients),
                                              {"api": [], "sql": [], "cpu": []})
                    figures["api"].append(api_figures)
                    figures["cpu"].append(cpu_ms)
                    if sql_figures:
                        figures["sql"].append(sql_figures)
                    print(f"  {endpoint.split()[0]:7} {clients:>2} clients: API p50 "
                          f"{api_figures.p50_ms:.1f} ms p95 {api_figures.p95_ms:.1f} ms, "
                          f"{cpu_ms:.1f} ms CPU"
                          + (f" | SQL p50 {sql_figures.p50_ms:.2f} ms" if sql_figures else ""),
                          flush=True)
    finally:
        stop_server(server)
    rows = [{"endpoint": endpoint, "clients": clients, "api": median_figures(got["api"]),
             "sql": median_figures(got["sql"]) if got["sql"] else None,
             "cpu_ms": statistics.median(got["cpu"])}
            for (endpoint, clients), got in runs.items()]

    info = {"commit": git_commit(), "machine": machine(), "postgres": postgres,
            "visible": visible, "load_before": load_before, "load_after": load_average(),
            "sql": {"list (its statements on cases_case)": probe["list_sql"],
                    "search (blind-index lookup)": [probe["search_sql"]]}}
    text = report(args, load, rows, info)
    args.output.write_text(text, encoding="utf-8")
    print()
    print(text)


if __name__ == "__main__":
    main()
