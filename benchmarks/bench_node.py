"""Benchmark a whole node: demo load, then REST API latency against the raw SQL it runs.

Drops and recreates the benchmark database (never point it at a real one), migrates,
times `opennrm demo --cases N`, starts gunicorn, and measures at 1, 8 and 32 concurrent
clients the p50/p95 latency of `GET /api/cases` (first page of the caller's agency) and of
`POST /api/cases/search` (exact name and birth date of existing persons), each beside two
yardsticks run directly through psycopg at the same concurrency: the request's query (the
count and page; the blind-index lookup) and the whole request's SQL (with the token lookup,
and for the search its committed audit append). Checks the audit chain afterwards
(`opennrm audit verify`). Prints a Markdown report and writes it to
benchmarks/results/latest.md.

    .venv/bin/python benchmarks/bench_node.py --cases 100000 \\
        --database-url postgres://postgres@127.0.0.1:5432/opennrm_bench
"""

import argparse
import http.client
import itertools
import json
import os
import platform
import re
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
from urllib.parse import urlencode, urlsplit, urlunsplit

import harness
import httpx
import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

ROOT = Path(__file__).resolve().parent.parent
RESULTS = harness.RESULTS
BIN = Path(sys.executable).parent
# The agency whose caseworker calls the API: the police unit owns the most demo cases.
CALLER = "police-caseworker"


def parse_args() -> argparse.Namespace:
    parser = harness.parser(__doc__)
    harness.add_load_options(
        parser, cases=100_000, database="opennrm_bench",
        reuse_help="keep the database and key ring of the previous run (no load)")
    harness.add_server_options(parser, requests_help="requests per endpoint and concurrency "
                                                     "level")
    parser.add_argument("--levels", default="1,8,32", help="concurrent clients")
    harness.add_repeat_option(parser)
    parser.add_argument("--gunicorn-worker-class", default="",
                        help="e.g. gthread: keeps client connections open (the default sync "
                             "worker closes each one after its response)")
    parser.add_argument("--http-client", choices=["stdlib", "httpx"], default="stdlib",
                        help="the benchmark's HTTP client: stdlib (http.client, the least "
                             "client CPU) or httpx (heavier: its CPU shares the cores)")
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
         "--threads", str(threads),
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
               expected: int = 200, client: str = "stdlib",
               body: Callable[[int], dict] | None = None):
    """Clients of the API: `stdlib` (http.client, the least client CPU per request, so that
    the figures are the node's) or `httpx` (about 1–2 ms of CPU per request on this kind of
    machine, spent on the same two cores as the node). With `body`, a POST of that JSON."""
    def make() -> Callable[[int], bool]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        if client == "httpx":
            session = httpx.Client(base_url=base, headers=headers, timeout=60)

            def call_httpx(i: int) -> bool:
                if body:
                    response = session.post(path, params=params(i), json=body(i))
                else:
                    response = session.get(path, params=params(i))
                return response.status_code == expected
            return call_httpx
        address = urlsplit(base)
        # Reconnects by itself when gunicorn's sync worker has closed the connection.
        connection = http.client.HTTPConnection(address.hostname, address.port, timeout=60)
        json_headers = {**headers, "Content-Type": "application/json"}

        def call(i: int) -> bool:
            query = urlencode(params(i))
            target = f"{path}?{query}" if query else path
            if body:
                connection.request("POST", target, body=json.dumps(body(i)),
                                   headers=json_headers)
            else:
                connection.request("GET", target, headers=headers)
            response = connection.getresponse()
            response.read()
            return response.status == expected
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


# --- the whole request's SQL ---------------------------------------------------------------
#
# Beside the request's query alone, every request also runs SQL that is database work, not
# framework overhead: the API token lookup, and for the search an audit append in its own
# committed transaction (a WAL flush). The probe captures every statement; the workers below
# replay them, after a check that the captured request still has the shape they replay.

# Tables a statement reads (FROM, JOIN) or writes (INSERT INTO, UPDATE): the first word
# after the keyword, quoted or not; "FOR UPDATE" at the end of a SELECT names no table.
_TABLES = re.compile(r'\b(?:FROM|JOIN|INTO|UPDATE)\s+"?([A-Za-z_]\w*)"?', re.IGNORECASE)


def statement_shape(statement: str) -> tuple[str, frozenset[str]]:
    """(kind, tables) of a captured statement: ("SELECT", {"cases_case", …}), ("BEGIN", {})."""
    words = statement.split(None, 1)
    kind = words[0].upper().rstrip(";") if words else ""
    kind = "BEGIN" if kind == "START" else kind  # START TRANSACTION
    tables = frozenset(name.lower() for name in _TABLES.findall(statement)
                       if name.upper() not in ("SELECT", "SKIP", "NOWAIT", "OF"))
    return kind, tables


def is_token_touch(statement: str) -> bool:
    """The `UPDATE accounts_apitoken SET last_used_at` a token gets at most once a minute."""
    return statement_shape(statement) == ("UPDATE", frozenset({"accounts_apitoken"}))


def is_token_lookup(statement: str) -> bool:
    kind, tables = statement_shape(statement)
    return kind == "SELECT" and "accounts_apitoken" in tables


def request_mismatch(endpoint: str, captured: list[str], expected: list[str]) -> SystemExit:
    shapes = "\n".join(f"  {kind} {', '.join(sorted(tables))}"
                       for kind, tables in map(statement_shape, captured))
    return SystemExit(
        f"The {endpoint} request's SQL is not the shape bench_node.py replays as its whole "
        f"request's SQL (update the whole-request worker):\n expected "
        f"{'; '.join(expected)}\n captured (kind, tables):\n{shapes}")


def list_request_statements(captured: list[str]) -> list[str]:
    """The list's statements to replay: all it ran but the token's once-a-minute touch.

    All must be reads (replayed verbatim, any number of them) and one the token lookup.
    """
    replayed = [statement for statement in captured if not is_token_touch(statement)]
    expected = ["the token lookup (SELECT … accounts_apitoken)", "then only SELECTs"]
    if (not replayed or not is_token_lookup(replayed[0])
            or any(statement_shape(s)[0] != "SELECT" for s in replayed)):
        raise request_mismatch("list", captured, expected)
    return replayed


@dataclass
class SearchRequest:
    token_lookup: str  # as captured, with the benchmark token's digest
    insert_returning: str  # " RETURNING id" if the captured INSERT returned the ids, or ""


def search_request_shape(captured: list[str]) -> SearchRequest:
    """Check the search ran: token lookup, blind-index lookup, BEGIN, head FOR UPDATE,
    INSERT audit_auditentry, UPDATE audit_audithead, COMMIT (the token touch allowed)."""
    expected = [
        ("the token lookup (SELECT … accounts_apitoken)",
         lambda s, kind, tables: kind == "SELECT" and "accounts_apitoken" in tables),
        ("the lookup (SELECT … cases_case)",
         lambda s, kind, tables: kind == "SELECT" and "cases_case" in tables),
        ("BEGIN", lambda s, kind, tables: kind == "BEGIN"),
        ("SELECT … audit_audithead … FOR UPDATE",
         lambda s, kind, tables: kind == "SELECT" and "audit_audithead" in tables
         and re.search(r"\bFOR\s+UPDATE\b", s, re.IGNORECASE) is not None),
        ("INSERT INTO audit_auditentry",
         lambda s, kind, tables: kind == "INSERT" and "audit_auditentry" in tables),
        ("UPDATE audit_audithead",
         lambda s, kind, tables: kind == "UPDATE" and "audit_audithead" in tables),
        ("COMMIT", lambda s, kind, tables: kind == "COMMIT"),
    ]
    statements = [statement for statement in captured if not is_token_touch(statement)]
    if len(statements) != len(expected) or not all(
            matches(statement, *statement_shape(statement))
            for statement, (_, matches) in zip(statements, expected, strict=True)):
        raise request_mismatch("search", captured, [name for name, _ in expected])
    returning = re.search(r"\bRETURNING\b", statements[4], re.IGNORECASE)
    return SearchRequest(token_lookup=statements[0],
                         insert_returning=" RETURNING id" if returning else "")


def replayable(statement: str) -> str:
    """A captured statement (values inlined) as a psycopg query without parameters."""
    return statement.replace("%", "%%")


# What a search writes for each case found (opennrm.cases.services.find_cases_by_name).
SEARCH_AUDIT = {"action": "search", "object_type": "case",
                "fields": sorted(["given_name", "family_name", "birth_date"]),
                "reason": "exact name search", "channel": "api"}
AUDIT_COLUMNS = ("sequence", "at", "actor_id", "actor_username", "agency_id", "action",
                 "object_type", "object_ref", "fields", "reason", "channel", "previous_hash",
                 "entry_hash")
AUDIT_LOCK_HEAD = "SELECT last_sequence, last_hash FROM audit_audithead WHERE id = 1 FOR UPDATE"
AUDIT_INSERT = (f"INSERT INTO audit_auditentry ({', '.join(AUDIT_COLUMNS)}) VALUES "
                "{rows}{returning}")
AUDIT_ROW = "(" + ", ".join(["%s"] * len(AUDIT_COLUMNS)) + ")"
AUDIT_UPDATE_HEAD = ("UPDATE audit_audithead SET last_sequence = %s, last_hash = %s "
                     "WHERE id = 1")


def audit_entry_hasher(env: dict) -> Callable[[str, dict], str]:
    """`opennrm.audit.services._entry_hash` (the chain's one rule), for entries as dicts.

    Sets up Django in this process, with the node's environment, on first use.
    """
    import django

    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opennrm.settings")
    django.setup()
    from opennrm.audit.models import AuditEntry
    from opennrm.audit.services import _entry_hash

    def entry_hash(previous_hash: str, values: dict) -> str:
        return _entry_hash(previous_hash, AuditEntry(**values))
    return entry_hash


def whole_search_worker(url: str, request: SearchRequest, lookup: str,
                        params: Callable[[int], tuple], caller: dict,
                        entry_hash: Callable[[str, dict], str]):
    """The search's whole SQL: token lookup, blind-index lookup, then a real audit append
    for the cases found (head FOR UPDATE, one multi-row INSERT, head UPDATE) in a committed
    transaction that keeps the hash chain valid."""
    def make() -> Callable[[int], bool]:
        conn = psycopg.connect(url, autocommit=True)
        column = lookup_column(conn, lookup, params(0), "case_number")
        token_lookup = replayable(request.token_lookup)

        def call(i: int) -> bool:
            try:
                with conn.cursor() as cursor:
                    cursor.execute(token_lookup, ())
                    cursor.fetchall()
                    cursor.execute(lookup, params(i))
                    numbers = [row[column] for row in cursor.fetchall()]
                    if numbers:  # as record_events: nothing found, nothing written
                        with conn.transaction():
                            append_search_entries(cursor, request, caller, numbers,
                                                  entry_hash)
            except psycopg.Error as error:
                print(f"  whole-request search SQL failed: {error}", file=sys.stderr,
                      flush=True)
                return False
            return True
        return call
    return make


def lookup_column(conn: psycopg.Connection, lookup: str, params: tuple, name: str) -> int:
    """Position of column `name` in the lookup's result (from the cursor's description)."""
    with conn.cursor() as cursor:
        cursor.execute(lookup, params)
        cursor.fetchall()
        names = [column.name for column in cursor.description or []]
    if name not in names:
        raise SystemExit(f"the captured search lookup selects no column {name!r} (it selects "
                         f"{', '.join(names)}); the whole-request worker needs it to write "
                         "the audit entries of the cases found")
    return names.index(name)


def append_search_entries(cursor: psycopg.Cursor, request: SearchRequest, caller: dict,
                          numbers: list[str], entry_hash: Callable[[str, dict], str]) -> None:
    cursor.execute(AUDIT_LOCK_HEAD)
    last_sequence, previous = cursor.fetchone()
    at = datetime.now(UTC)
    values: list = []
    for offset, number in enumerate(numbers, start=1):
        entry = {"sequence": last_sequence + offset, "at": at, "actor_id": caller["id"],
                 "actor_username": caller["username"], "agency_id": caller["agency_id"],
                 **SEARCH_AUDIT, "object_ref": number, "previous_hash": previous}
        entry["entry_hash"] = previous = entry_hash(previous, entry)
        values += [Jsonb(entry[name]) if name == "fields" else entry[name]
                   for name in AUDIT_COLUMNS]
    cursor.execute(AUDIT_INSERT.format(rows=", ".join([AUDIT_ROW] * len(numbers)),
                                       returning=request.insert_returning), values)
    if request.insert_returning:
        cursor.fetchall()
    cursor.execute(AUDIT_UPDATE_HEAD, (last_sequence + len(numbers), previous))


def verify_audit_chain(env: dict, log: Path) -> tuple[bool, str]:
    """`opennrm audit verify` on the benchmark database: (intact, its last line)."""
    result = subprocess.run([str(BIN / "opennrm"), "audit", "verify"], env=env, cwd=ROOT,
                            capture_output=True, text=True)
    log.write_text(result.stdout + result.stderr, encoding="utf-8")
    lines = [line.strip() for line in (result.stdout + result.stderr).splitlines()
             if line.strip()]
    intact = result.returncode == 0
    summary = (lines[-1] if intact and lines else
               f"exit {result.returncode}: " + " / ".join(lines[-5:]))
    return intact, summary


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
        f"HTTP client `{args.http_client}`; "
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
        "Beside each API level, the request's SQL runs directly through psycopg at the same "
        "concurrency, measured two ways: **SQL** is the request's query alone (the list's "
        "count and page; the search's blind-index lookup); **whole-request SQL** is every "
        "statement the request runs (the token lookup too, and for the search its audit "
        "append in a committed transaction).",
        "",
        "| Endpoint | Clients | API p50 ms | API p95 ms | API req/s | server CPU ms/req "
        "| SQL p50 ms | SQL p95 ms | API/SQL (p50) "
        "| whole-request SQL p50 ms | whole-request SQL p95 ms "
        "| API/whole-request SQL (p50) | Errors |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        api, raw, whole = row["api"], row["sql"], row["whole"]
        sql_cells = (f"{raw.p50_ms:.2f} | {raw.p95_ms:.2f} | {api.p50_ms / raw.p50_ms:.1f}"
                     if raw else "— | — | —")
        whole_cells = (f"{whole.p50_ms:.2f} | {whole.p95_ms:.2f} "
                       f"| {api.p50_ms / whole.p50_ms:.1f}" if whole else "— | — | —")
        errors = api.errors + sum(figures.errors for figures in (raw, whole) if figures)
        lines.append(
            f"| {row['endpoint']} | {row['clients']} | {api.p50_ms:.1f} | {api.p95_ms:.1f} "
            f"| {api.per_second:.0f} | {row['cpu_ms']:.1f} | {sql_cells} | {whole_cells} "
            f"| {errors} |"
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
    for key, title in (("sql", "API / raw SQL (median)"),
                       ("whole", "API / whole-request SQL (median)")):
        compared = [r for r in rows if r[key]]
        if not compared:
            continue
        worst = max(compared, key=lambda r: r["api"].p50_ms / r[key].p50_ms)
        ratio = worst["api"].p50_ms / worst[key].p50_ms
        lines.append(f"| {title} | ≤ 5 | worst {ratio:.1f} "
                     f"({worst['endpoint']}, {worst['clients']} clients) |")
    intact, summary = info["audit_verify"]
    lines += ["", f"Audit chain after the run (`opennrm audit verify`): "
              f"{'**intact**' if intact else '**BROKEN**'} — {summary}"]
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
    # The second yardstick: the whole request's SQL, checked against the shape replayed.
    list_request = list_request_statements(probe["list_request_sql"])
    whole_list_sql = [(replayable(statement), ()) for statement in list_request]
    search_request = search_request_shape(probe["search_request_sql"])
    entry_hash = audit_entry_hasher(env)

    def search_params(i: int) -> tuple:
        return (targets[i % len(targets)]["name_index"],)

    with psycopg.connect(args.database_url) as conn:
        postgres = conn.execute("SELECT version()").fetchone()[0].split(" on ")[0]
        visible = conn.execute(
            "SELECT count(*) FROM cases_case c JOIN accounts_user u "
            "ON u.agency_id = c.owner_agency_id WHERE u.username = %s", (CALLER,)).fetchone()[0]
        caller = dict(zip(("id", "username", "agency_id"), conn.execute(
            "SELECT id, username, agency_id FROM accounts_user WHERE username = %s",
            (CALLER,)).fetchone(), strict=True))
        lookup_column(conn, probe["search_sql"], search_params(0), "case_number")

    port = free_port()
    print(f"Starting gunicorn on 127.0.0.1:{port} …", flush=True)
    server = start_server(env, port, args.gunicorn_workers, args.gunicorn_threads,
                          results, args.gunicorn_worker_class)
    base = f"http://127.0.0.1:{port}"
    # (endpoint, API, its query alone, the whole request's SQL)
    endpoints = [
        ("list `GET /api/cases?page=1&page_size=50`",
         api_worker(base, token, "/api/cases", lambda i: {"page": 1, "page_size": 50},
                    client=args.http_client),
         sql_worker(args.database_url, lambda i: list_sql),
         sql_worker(args.database_url, lambda i: whole_list_sql)),
        ("search `POST /api/cases/search` (exact name)",
         api_worker(base, token, "/api/cases/search", lambda i: {},
                    client=args.http_client, body=lambda i: {
                        k: targets[i % len(targets)][k]
                        for k in ("given_name", "family_name", "birth_date")}),
         sql_worker(args.database_url, lambda i: [(probe["search_sql"], search_params(i))]),
         whole_search_worker(args.database_url, search_request, probe["search_sql"],
                             search_params, caller, entry_hash)),
    ]
    floor = ("floor: `GET /api/cases` without a token (401: HTTP, middleware, auth)",
             api_worker(base, None, "/api/cases", lambda i: {}, expected=401,
                        client=args.http_client), None, None)
    runs: dict[tuple[str, int], dict[str, list]] = {}
    load_before = load_average()
    try:
        workers = children(server.pid)
        for _, api, raw, whole in endpoints:  # warm every worker process and the caches
            measure(args.gunicorn_workers * args.gunicorn_threads, args.warmup, api)
            measure(4, args.warmup, raw)
            measure(4, args.warmup, whole)
        for repeat in range(1, args.repeat + 1):
            print(f"Run {repeat} of {args.repeat}", flush=True)
            for endpoint, api, raw, whole in [*endpoints, floor]:
                for clients in levels:
                    cpu_before = cpu_seconds(workers)
                    api_figures = measure(clients, args.requests, api)
                    cpu_ms = (cpu_seconds(workers) - cpu_before) / args.requests * 1000
                    sql_figures = measure(clients, args.requests, raw) if raw else None
                    whole_figures = measure(clients, args.requests, whole) if whole else None
                    figures = runs.setdefault((endpoint, clients),
                                              {"api": [], "sql": [], "whole": [], "cpu": []})
                    figures["api"].append(api_figures)
                    figures["cpu"].append(cpu_ms)
                    if sql_figures:
                        figures["sql"].append(sql_figures)
                    if whole_figures:
                        figures["whole"].append(whole_figures)
                    print(f"  {endpoint.split()[0]:7} {clients:>2} clients: API p50 "
                          f"{api_figures.p50_ms:.1f} ms p95 {api_figures.p95_ms:.1f} ms, "
                          f"{cpu_ms:.1f} ms CPU"
                          + (f" | SQL p50 {sql_figures.p50_ms:.2f} ms" if sql_figures else "")
                          + (f" | whole-request SQL p50 {whole_figures.p50_ms:.2f} ms"
                             if whole_figures else ""),
                          flush=True)
    finally:
        stop_server(server)
    rows = [{"endpoint": endpoint, "clients": clients, "api": median_figures(got["api"]),
             "sql": median_figures(got["sql"]) if got["sql"] else None,
             "whole": median_figures(got["whole"]) if got["whole"] else None,
             "cpu_ms": statistics.median(got["cpu"])}
            for (endpoint, clients), got in runs.items()]

    print("Verifying the audit chain (opennrm audit verify) …", flush=True)
    audit_verify = verify_audit_chain(env, results / "audit-verify.log")
    print(f"  {'intact' if audit_verify[0] else 'BROKEN'}: {audit_verify[1]}", flush=True)

    append = (AUDIT_LOCK_HEAD, AUDIT_INSERT.format(
        rows=f"{AUDIT_ROW}, … (one row per case found)",
        returning=search_request.insert_returning), AUDIT_UPDATE_HEAD)
    touched = any(map(is_token_touch, probe["list_request_sql"] + probe["search_request_sql"]))
    info = {"commit": git_commit(), "machine": machine(), "postgres": postgres,
            "visible": visible, "load_before": load_before, "load_after": load_average(),
            "audit_verify": audit_verify,
            "sql": {"list (its statements on cases_case)": probe["list_sql"],
                    "search (blind-index lookup)": [probe["search_sql"]],
                    "list, whole request (as captured"
                    + (", without the token's once-a-minute `UPDATE accounts_apitoken SET "
                       "last_used_at`" if touched else "") + ")": list_request,
                    "search, whole request (the token lookup as captured, the blind-index "
                    "lookup, then in one transaction the audit append for the cases found, "
                    "hashes chained by `opennrm.audit.services._entry_hash`)":
                    [search_request.token_lookup, probe["search_sql"], "BEGIN", *append,
                     "COMMIT"]}}
    text = report(args, load, rows, info)
    args.output.write_text(text, encoding="utf-8")
    print()
    print(text)


if __name__ == "__main__":
    main()
