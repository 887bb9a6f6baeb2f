"""Benchmark the caseworker web pages: case list, filtered list, its HTMX partial, case page.

Drops and recreates the benchmark database (never point it at a real one), migrates, loads
`opennrm demo --cases N`, starts gunicorn with production settings and, for each number of
concurrent clients, measures the p50/p95 latency of the pages a caseworker uses most, each
client signed in through the real login form. Then weighs the list and case pages: HTML,
CSS and JS, raw and gzip-compressed, against the 100 KB budget. Prints a Markdown report
and writes it to benchmarks/results/web-latest.md.

    .venv/bin/python benchmarks/bench_web.py --cases 100000 \\
        --database-url postgres://postgres@127.0.0.1:5432/opennrm_bench_web
"""

import argparse
import gzip
import itertools
import json
import math
import os
import random
import re
import statistics
import sys
import time
from collections.abc import Callable
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urljoin, urlsplit

import harness
import httpx
import psycopg

# Helpers shared with the API benchmark (run as a script, benchmarks/ is on sys.path).
from bench_node import (
    BIN,
    RESULTS,
    Figures,
    children,
    cpu_seconds,
    free_port,
    git_commit,
    load_average,
    machine,
    measure,
    median_figures,
    node_env,
    recreate_database,
    run,
    start_server,
    stop_server,
)

P95_TARGET_MS = 150
PAGE_BUDGET_BYTES = 100_000  # "under 100 KB of HTML+CSS+JS after compression"
GZIP_LEVEL = 6  # nginx's gzip_comp_level is 1 by default; 6 is the common setting
FILTERS = {
    "status": "open", "age_band": "child", "exploitation_form": "sexual_exploitation",
    "first_contact_from": "2024-01-01", "sort": "-first_contact",
}
HTMX_HEADERS = {"HX-Request": "true", "HX-Target": "case-results"}
CASE_LINK = re.compile(r'href="/cases/([^/"]+)/"')
TRANSACTION_CONTROL = re.compile(r"(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE SAVEPOINT)\b")
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = harness.parser(__doc__)
    harness.add_load_options(
        parser, cases=100_000, database="opennrm_bench_web",
        reuse_help="skip the load if the database already holds the demo (and the key ring "
                   "of that load is still in RESULTS_DIR)")
    parser.add_argument("--clients", default="8",
                        help="concurrent clients, or a list of levels such as 1,8")
    harness.add_server_options(parser, requests_help="requests per page and concurrency level")
    harness.add_repeat_option(parser)
    parser.add_argument("--results-dir", type=Path, default=RESULTS / "web",
                        help="key ring, logs and server state of this benchmark")
    parser.add_argument("--output", type=Path, default=RESULTS / "web-latest.md")
    parser.add_argument("--probe", nargs=2, metavar=("USERNAME", "PAGES_JSON"),
                        help=argparse.SUPPRESS)  # internal: run in the node's environment
    args = parser.parse_args(argv)
    args.levels = harness.levels(args.clients)
    return args


# --- node ----------------------------------------------------------------------------------

def has_demo(url: str) -> bool:
    try:
        with psycopg.connect(url) as conn:
            return conn.execute("SELECT EXISTS (SELECT 1 FROM cases_case)").fetchone()[0]
    except psycopg.Error:
        return False


def demo_logins(demo_output: str) -> dict[str, str]:
    """username → password, from the table of logins that `opennrm demo` prints."""
    logins = {}
    for line in demo_output.splitlines():
        cells = [cell.strip() for cell in re.split(r"[│┃|]", line)]
        cells = [cell for cell in cells if cell]
        if len(cells) >= 3 and cells[0] != "username":
            logins[cells[0]] = cells[1]
    return logins


def busiest_agency(url: str) -> tuple[str, int]:
    """The agency owning the most cases: its code and its number of cases."""
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT a.code, count(*) FROM cases_case c JOIN accounts_agency a "
            "ON a.id = c.owner_agency_id GROUP BY a.code ORDER BY 2 DESC LIMIT 1").fetchone()


# --- a signed-in browser -------------------------------------------------------------------

class BrowserCookies:
    """A browser's cookie store for one host, that also sends `Secure` cookies over HTTP.

    Production settings mark the session and CSRF cookies Secure; the client stands where
    the TLS-terminating reverse proxy would, and sends `X-Forwarded-Proto: https` as the
    proxy adds it. (httpx's own cookie jar never sends a Secure cookie to an http:// URL.)
    """

    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def store(self, response: httpx.Response) -> None:
        for header in response.headers.get_list("set-cookie"):
            for name, morsel in SimpleCookie(header).items():
                if morsel["max-age"] == "0" or "1970" in morsel["expires"]:
                    self.values.pop(name, None)
                else:
                    self.values[name] = morsel.value

    def send(self, request: httpx.Request) -> None:
        if self.values:
            request.headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.values.items())


def sign_in(base: str, username: str, password: str) -> httpx.Client:
    """A keep-alive client signed in through the login form, as a browser would."""
    host = urlsplit(base).netloc
    cookies = BrowserCookies()
    client = httpx.Client(base_url=base, timeout=60, headers={"X-Forwarded-Proto": "https"},
                          event_hooks={"request": [cookies.send], "response": [cookies.store]})
    form = client.get("/login/")
    token = CSRF_INPUT.search(form.text)
    if form.status_code != 200 or token is None or "csrftoken" not in cookies.values:
        raise SystemExit(f"GET /login/ answered {form.status_code} without a CSRF token")
    answer = client.post("/login/", data={
        "csrfmiddlewaretoken": token.group(1), "username": username, "password": password,
        "code": "", "next": "",
    }, headers={"Referer": f"https://{host}/login/", "Origin": f"https://{host}"})
    if answer.status_code != 302 or "sessionid" not in cookies.values:
        raise SystemExit(f"signing in as {username} failed ({answer.status_code}): "
                         f"{answer.text[:500]}")
    return client


def page_worker(pool: list[httpx.Client], path: Callable[[int], str], headers: dict):
    """measure()'s worker factory: each thread takes its own signed-in client of `pool`."""
    slots = iter(pool)

    def make() -> Callable[[int], bool]:
        client = next(slots)

        def call(i: int) -> bool:
            response = client.get(path(i), headers=headers)
            return response.status_code == 200 and bool(response.content)
        return call
    return make


def collect_case_numbers(client: httpx.Client, visible: int, wanted: int, seed: int
                         ) -> list[str]:
    """Case numbers read off list pages picked at random across the agency's cases."""
    pages = list(range(1, max(1, math.ceil(visible / 50)) + 1))
    random.Random(seed).shuffle(pages)
    numbers: dict[str, None] = {}
    for page in pages:
        if len(numbers) >= wanted:
            break
        response = client.get("/cases/", params={"page": page})
        numbers.update(dict.fromkeys(n for n in CASE_LINK.findall(response.text)
                                     if n != "new"))
    found = list(numbers)
    random.Random(seed).shuffle(found)
    return found


# --- bytes ---------------------------------------------------------------------------------

class Assets(HTMLParser):
    """The stylesheets and scripts a page links to."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        attributes = dict(attrs)
        rel = (attributes.get("rel") or "").lower().split()
        if tag == "link" and "stylesheet" in rel and attributes.get("href"):
            self.urls.append(attributes["href"])
        elif tag == "script" and attributes.get("src"):
            self.urls.append(attributes["src"])


def gzipped_size(body: bytes) -> int:
    return len(gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0))


def weigh(client: httpx.Client, path: str, headers: dict | None = None) -> dict:
    """Sizes of a page and of every CSS/JS file it links (raw, on the wire, gzip -6)."""
    response = client.get(path, headers=headers or {})
    response.raise_for_status()
    parser = Assets()
    parser.feed(response.text)
    assets = []
    for url in dict.fromkeys(parser.urls):
        asset = client.get(urljoin(path, url))
        asset.raise_for_status()
        assets.append({"url": url, "raw": len(asset.content), "gzip": gzipped_size(
            asset.content), "wire": asset.num_bytes_downloaded,
            "encoding": asset.headers.get("content-encoding", "none")})
    html = {"raw": len(response.content), "gzip": gzipped_size(response.content),
            "wire": response.num_bytes_downloaded,
            "encoding": response.headers.get("content-encoding", "none")}
    total = html["gzip"] + sum(asset["gzip"] for asset in assets)
    return {"html": html, "assets": assets, "total_gzip": total,
            "total_raw": html["raw"] + sum(asset["raw"] for asset in assets)}


# --- queries per page (run in the node's environment, through Django's test client) ---------

def probe(username: str, pages_json: str, rounds: int = 20) -> None:
    """Print JSON: for each page, the SQL one request runs with its times, the median time
    of a whole request in-process (no HTTP), and EXPLAIN ANALYZE of the slowest SELECT."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opennrm.settings")
    import django

    django.setup()
    from django.db import connection, transaction
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from opennrm.accounts.models import User

    def timed(execute, sql, params, many, context):
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            took.append((time.perf_counter() - began) * 1000)

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(User.objects.get(username=username))
    found = {}
    for name, (path, headers) in json.loads(pages_json).items():
        walls, cpus = [], []
        for _ in range(rounds):  # the first rounds warm caches, as the HTTP runs are
            began, cpu = time.perf_counter(), time.process_time()
            response = client.get(path, headers=headers)
            walls.append((time.perf_counter() - began) * 1000)
            cpus.append((time.process_time() - cpu) * 1000)
            if response.status_code != 200:
                raise SystemExit(f"{path} answered {response.status_code}")
        took: list[float] = []
        with CaptureQueriesContext(connection) as context, connection.execute_wrapper(timed):
            client.get(path, headers=headers)
        # Transaction control (BEGIN, COMMIT, savepoints) is captured but not wrapped.
        queries = [{"sql": q["sql"], "ms": took.pop(0)} for q in context.captured_queries
                   if not TRANSACTION_CONTROL.match(q["sql"])]
        # Only a SELECT is explained: EXPLAIN ANALYZE runs the statement, and a write (the
        # session, an audit entry) must not happen twice. Rolled back all the same.
        slowest = max((q for q in queries if q["sql"].lstrip().upper().startswith("SELECT")),
                      key=lambda q: q["ms"])
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + slowest["sql"])
            plan = "\n".join(row[0] for row in cursor.fetchall())
            transaction.set_rollback(True)
        half = walls[rounds // 2:]
        found[name] = {"queries": queries, "slowest": slowest, "plan": plan,
                       "wall_ms": statistics.median(half),
                       "cpu_ms": statistics.median(cpus[rounds // 2:])}
    json.dump(found, sys.stdout)


# --- report --------------------------------------------------------------------------------

def kb(size: int) -> str:
    return f"{size / 1000:.1f}"


def report(args, load: dict, rows: list[dict], pages: dict, sizes: dict, queries: dict,
           info: dict) -> str:
    lines = [
        f"# OpenNRM caseworker pages benchmark — {info['when']}",
        "",
        f"* Commit `{info['commit']}`; {info['machine']['cpu']}, {info['machine']['memory']}; "
        f"{info['machine']['os']}; Python {info['machine']['python']}",
        f"* {info['postgres']}; {info['total']:,} cases; load average {info['load_before']} "
        f"before the HTTP measurements, {info['load_after']} after (other work on the machine "
        "skews figures)",
        f"* gunicorn {args.gunicorn_workers} workers × {args.gunicorn_threads} threads, "
        "production settings; each client is a thread with its own keep-alive httpx client, "
        f"signed in through the login form as `{info['username']}` ({info['visible']:,} cases "
        f"of their agency); {args.requests} requests per page and level, medians of "
        f"{args.repeat} runs; latency measured by the client on localhost (client, server "
        "and PostgreSQL share the machine)",
        "",
        "Pages:",
        "",
        *(f"* **{key}**: {description}" for key, description in pages.items()),
        "",
    ]
    if load:
        lines += ["| Step | Seconds |", "|---|---:|"]
        lines += [f"| {step} | {seconds:.1f} |" for step, seconds in load.items()]
        lines.append("")
    lines += [
        "| Page | Clients | p50 ms | p95 ms | req/s | server CPU ms/req | Errors |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        figures: Figures = row["figures"]
        lines.append(
            f"| {row['key']} | {row['clients']} | {figures.p50_ms:.1f} | {figures.p95_ms:.1f} "
            f"| {figures.per_second:.0f} | {row['cpu_ms']:.1f} | {figures.errors} |")
    lines += [
        "",
        "Where a request's time goes, in-process through Django's test client (no HTTP, one "
        "at a time, median of 10 after 10 warm-up requests; SQL statements, without BEGIN and "
        "COMMIT, from one more request):",
        "",
        "| Page | Request ms | CPU ms | SQL queries | SQL ms | Rest (Python) ms |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for key, probed in queries.items():
        sql_ms = sum(q["ms"] for q in probed["queries"])
        lines.append(f"| {key} | {probed['wall_ms']:.1f} | {probed['cpu_ms']:.1f} "
                     f"| {len(probed['queries'])} | {sql_ms:.1f} "
                     f"| {probed['wall_ms'] - sql_ms:.1f} |")
    lines += [
        "",
        f"Bytes per page (bodies only; gzip level {GZIP_LEVEL}, computed here as a reverse "
        "proxy would compress; \"sent\" is what gunicorn/WhiteNoise put on the wire, which "
        "compress nothing themselves):",
        "",
        "| Page | Resource | Raw bytes | Sent bytes | gzip bytes |",
        "|---|---|---:|---:|---:|",
    ]
    for key, weighed in sizes.items():
        html = weighed["html"]
        lines.append(f"| {key} | HTML | {html['raw']:,} | {html['wire']:,} "
                     f"| {html['gzip']:,} |")
        for asset in weighed["assets"]:
            lines.append(f"| {key} | `{asset['url']}` | {asset['raw']:,} "
                         f"| {asset['wire']:,} | {asset['gzip']:,} |")
        lines.append(f"| {key} | **HTML+CSS+JS** | {weighed['total_raw']:,} | "
                     f"| **{weighed['total_gzip']:,}** |")
    lines += ["", "| Target | Wanted | Measured | Verdict |", "|---|---|---|---|"]
    for row in rows:
        if row["clients"] == 8 or len(args.levels) == 1:
            met = row["figures"].p95_ms <= P95_TARGET_MS
            lines.append(f"| p95, {row['key']}, {row['clients']} clients "
                         f"| ≤ {P95_TARGET_MS} ms | {row['figures'].p95_ms:.1f} ms "
                         f"| {'met' if met else '**not met**'} |")
    for key, weighed in sizes.items():
        if key == "partial":  # swapped into a page already loaded: no CSS or JS of its own
            continue
        met = weighed["total_gzip"] < PAGE_BUDGET_BYTES
        lines.append(f"| {key}: HTML+CSS+JS after compression | < 100 KB "
                     f"| {kb(weighed['total_gzip'])} kB | {'met' if met else '**not met**'} |")
    lines += ["", "Slowest SELECT of each page (from the in-process request above), with "
              "`EXPLAIN (ANALYZE, BUFFERS)`:", ""]
    for key, probed in queries.items():
        slowest = probed["slowest"]
        lines += [f"* {key}: {slowest['ms']:.1f} ms", "",
                  "  ```sql", f"  {slowest['sql']}", "  ```", "", "  ```",
                  *(f"  {line}" for line in probed["plan"].splitlines()), "  ```", ""]
    return "\n".join(lines).rstrip() + "\n"


# --- main ----------------------------------------------------------------------------------

def main() -> None:
    args = parse_args()
    if args.probe:
        probe(*args.probe)
        return
    results = args.results_dir
    results.mkdir(parents=True, exist_ok=True)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    keyring = results / "bench-keyring.json"
    env = node_env(args.database_url, keyring, results)
    opennrm = str(BIN / "opennrm")
    load: dict[str, float] = {}
    if args.reuse and keyring.exists() and has_demo(args.database_url):
        print("Reusing the demo already in the database (migrated to this code)", flush=True)
        load["opennrm migrate"], _ = run([opennrm, "migrate"], env, results / "migrate.log")
        _, demo_output = run([opennrm, "demo", "--cases", "0"], env, results / "logins.log")
    else:
        print(f"Recreating {urlsplit(args.database_url).path.lstrip('/')} …", flush=True)
        recreate_database(args.database_url)
        keyring.unlink(missing_ok=True)
        load["opennrm migrate"], _ = run([opennrm, "migrate"], env, results / "migrate.log")
        print(f"Loading {args.cases:,} demo cases …", flush=True)
        step = f"opennrm demo --cases {args.cases}"
        load[step], demo_output = run(
            [opennrm, "demo", "--cases", str(args.cases), "--seed", str(args.seed)], env,
            results / "demo.log")
        print(f"  {load[step]:.1f} s", flush=True)
        began = time.perf_counter()
        with psycopg.connect(args.database_url, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
        load["VACUUM ANALYZE (after the load, as autovacuum would)"] = (
            time.perf_counter() - began)

    agency, visible = busiest_agency(args.database_url)
    username = f"{agency}-caseworker"
    password = demo_logins(demo_output).get(username)
    if not password:
        raise SystemExit(f"no demo login for {username} in the output of opennrm demo")
    with psycopg.connect(args.database_url) as conn:
        postgres = conn.execute("SELECT version()").fetchone()[0].split(" on ")[0]
        total = conn.execute("SELECT count(*) FROM cases_case").fetchone()[0]

    filtered = "/cases/?" + urlencode(FILTERS)
    filtered_page5 = "/cases/?" + urlencode({**FILTERS, "page": 5})
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    print(f"Starting gunicorn on 127.0.0.1:{port} …", flush=True)
    server = start_server(env, port, args.gunicorn_workers, args.gunicorn_threads, results)
    runs: dict[tuple[str, int], dict[str, list]] = {}
    try:
        workers = children(server.pid)
        print(f"Signing {max(args.levels)} clients in as {username} …", flush=True)
        pool = [sign_in(base, username, password) for _ in range(max(args.levels))]
        wanted = min(args.requests * args.repeat * len(args.levels), 5000)
        numbers = collect_case_numbers(pool[0], visible, wanted, args.seed)
        print(f"  {len(numbers):,} case numbers read off list pages", flush=True)
        detail_counter = itertools.count()  # every request opens another case

        def detail(i: int) -> str:
            return f"/cases/{numbers[next(detail_counter) % len(numbers)]}/"

        pages = [  # key, description, path(i), headers
            ("list", "`GET /cases/`: first page, 50 rows, default sort", lambda i: "/cases/",
             {}),
            ("filtered", f"`GET {filtered}`", lambda i: filtered, {}),
            ("filtered p5", "the same filters, `page=5`", lambda i: filtered_page5, {}),
            ("partial", "the filtered list as the filter form's HTMX request gets it "
             "(headers `HX-Request: true`, `HX-Target: case-results`: the results only)",
             lambda i: filtered, HTMX_HEADERS),
            ("detail", f"`GET /cases/<number>/`, another case each request ({len(numbers):,} "
             "case numbers read off list pages picked at random)", detail, {}),
        ]
        for _, _, path, headers in pages:  # warm every worker process and the caches
            measure(min(len(pool), args.gunicorn_workers * args.gunicorn_threads),
                    args.warmup, page_worker(pool, path, headers))
        load_before = load_average()
        for repeat in range(1, args.repeat + 1):
            print(f"Run {repeat} of {args.repeat}", flush=True)
            for key, _, path, headers in pages:
                for clients in args.levels:
                    cpu_before = cpu_seconds(workers)
                    figures = measure(clients, args.requests, page_worker(pool, path, headers))
                    cpu_ms = (cpu_seconds(workers) - cpu_before) / args.requests * 1000
                    got = runs.setdefault((key, clients), {"figures": [], "cpu": []})
                    got["figures"].append(figures)
                    got["cpu"].append(cpu_ms)
                    print(f"  {key:15} {clients:>2} clients: p50 {figures.p50_ms:.1f} ms "
                          f"p95 {figures.p95_ms:.1f} ms, {figures.per_second:.0f} req/s, "
                          f"{cpu_ms:.1f} ms CPU, {figures.errors} errors", flush=True)
        load_after = load_average()
        print("Weighing pages …", flush=True)
        sizes = {
            "list": weigh(pool[0], "/cases/"),
            "filtered": weigh(pool[0], filtered),
            "partial": weigh(pool[0], filtered, HTMX_HEADERS),
            "detail": weigh(pool[0], detail(0)),
        }
        for client in pool:
            client.close()
    finally:
        stop_server(server)

    print("Counting queries per page …", flush=True)
    probe_pages = {key: (path(0), headers) for key, _, path, headers in pages}
    _, out = run([sys.executable, str(Path(__file__).resolve()), "--probe", username,
                  json.dumps(probe_pages)], env, results / "probe.log")
    queries = json.loads(out)

    descriptions = {key: description for key, description, _, _ in pages}
    rows = [{"key": key, "clients": clients,
             "figures": median_figures(got["figures"]), "cpu_ms": statistics.median(got["cpu"])}
            for (key, clients), got in runs.items()]
    info = {"when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "commit": git_commit(),
            "machine": machine(), "postgres": postgres, "total": total, "visible": visible,
            "username": username, "load_before": load_before, "load_after": load_after}
    text = report(args, load, rows, descriptions, sizes, queries, info)
    args.output.write_text(text, encoding="utf-8")
    print()
    print(text)


if __name__ == "__main__":
    main()
