"""Benchmark the referral inbox (page and API) and the reminder sweep (issue 5).

Drops and recreates the benchmark database (never point it at a real one), migrates, loads
`opennrm demo --cases N`, then `load_referrals.py` (the demo service directory, referrals
with their history, assistance and notifications, and the protection deadlines), starts
gunicorn with production settings and, for each number of concurrent clients, measures the
p50/p95 latency of the referral inbox page and of `GET /api/referrals?box=incoming` as a
supervisor of the agency receiving the most referrals, beside the SQL they run. Then times
`opennrm reminders sweep` over all open deadlines, first and second run. Prints a Markdown
report and writes it to benchmarks/results/referrals-latest.md.

    .venv/bin/python benchmarks/bench_referrals.py --cases 100000 --referrals 300000 \\
        --database-url postgres://postgres@127.0.0.1:5432/opennrm_bench_referrals
"""

import argparse
import json
import re
import statistics
import sys
import time
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import harness
import psycopg

# Helpers shared with the other benchmarks (run as a script, benchmarks/ is on sys.path).
from bench_node import (
    BIN,
    RESULTS,
    Figures,
    api_worker,
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
    sql_worker,
    start_server,
    stop_server,
)
from bench_web import demo_logins, has_demo, page_worker, sign_in

HERE = Path(__file__).resolve().parent
P95_TARGET_MS = 150
SWEEP_TARGET_S = 10
# Deep pages of the inbox's three tables (a page past the end shows the last one).
PAGED = "/referrals/?awaiting_page=2&progress_page=5&sent_page=40"
SWEEP_OUTPUT = re.compile(r"(\d+) new notifications; (\d+) e-mailed")
# The notifications the sweep writes (the referral events' own are kept).
DEADLINE_KINDS = ("referral_unanswered", "reflection_period_ending",
                  "residence_permit_expiring", "support_plan_review")


def parse_args() -> argparse.Namespace:
    parser = harness.parser(__doc__)
    harness.add_load_options(
        parser, cases=100_000, database="opennrm_bench_referrals",
        reuse_help="skip the load if the database already holds it (and its key ring is "
                   "still in RESULTS_DIR)")
    parser.add_argument("--referrals", type=int, default=300_000)
    parser.add_argument("--today", type=date.fromisoformat, default=date.today(),
                        help="the day the data is drawn around and the sweep runs as")
    parser.add_argument("--clients", default="1,8", help="levels of concurrent clients")
    harness.add_server_options(parser, requests_help="requests per endpoint and level")
    harness.add_repeat_option(parser)
    parser.add_argument("--sweeps", type=int, default=3,
                        help="second (idempotent) sweeps to time; the median is reported")
    parser.add_argument("--results-dir", type=Path, default=RESULTS / "referrals",
                        help="key ring, logs and server state of this benchmark")
    parser.add_argument("--output", type=Path, default=RESULTS / "referrals-latest.md")
    args = parser.parse_args()
    args.levels = harness.levels(args.clients)
    return args


# --- the data ------------------------------------------------------------------------------

def has_referrals(url: str) -> bool:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT EXISTS (SELECT 1 FROM referrals_referral)").fetchone()[0]


def data_summary(url: str, today: date) -> dict:
    """Counts of what the benchmark runs on, and the busiest receiving agency."""
    with psycopg.connect(url) as conn:
        def one(query: str, params: tuple = ()):
            return conn.execute(query, params).fetchone()

        agency_id, code, received = one(
            "SELECT a.id, a.code, count(*) FROM referrals_referral r JOIN accounts_agency a "
            "ON a.id = r.recipient_agency_id GROUP BY a.id, a.code ORDER BY 3 DESC LIMIT 1")
        states = dict(conn.execute(
            "SELECT state, count(*) FROM referrals_referral WHERE recipient_agency_id = %s "
            "GROUP BY state", (agency_id,)).fetchall())
        sent_by = one("SELECT count(*) FROM referrals_referral WHERE referring_agency_id = %s",
                      (agency_id,))[0]
        counts = {table: one(f"SELECT count(*) FROM {table}")[0] for table in (
            "cases_case", "referrals_referral", "referrals_referralevent",
            "referrals_assistance", "cases_consent", "reminders_notification",
            "protection_reflectionperiod", "protection_residencepermit",
            "protection_supportplan")}
        all_states = dict(conn.execute(
            "SELECT state, count(*) FROM referrals_referral GROUP BY state").fetchall())
        overdue = one("SELECT count(*) FROM referrals_referral WHERE state = 'sent' "
                      "AND respond_by < %s", (today,))[0]
        postgres = one("SELECT version()")[0].split(" on ")[0]
    return {"agency": code, "received": received, "received_states": states,
            "sent_by_agency": sent_by, "counts": counts, "states": all_states,
            "overdue": overdue, "postgres": postgres}


def reset_sweep(url: str) -> int:
    """Delete the notifications earlier sweeps wrote, so that the next one is a first run."""
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute("DELETE FROM reminders_notification WHERE kind = ANY(%s)",
                            (list(DEADLINE_KINDS),)).rowcount


def sweep(opennrm: str, today: date, env: dict, log: Path) -> tuple[float, int]:
    """Run `opennrm reminders sweep --today` as a subprocess: (seconds, new notifications)."""
    seconds, out = run([opennrm, "reminders", "sweep", "--today", today.isoformat()], env, log)
    found = SWEEP_OUTPUT.search(out)
    if not found:
        raise SystemExit(f"unexpected output of the sweep, see {log}")
    return seconds, int(found.group(1))


# --- report --------------------------------------------------------------------------------

def report(args, load: dict, data: dict, loaded: dict, rows: list[dict], pages: dict,
           probes: dict, sweeps: dict, info: dict) -> str:
    counts = data["counts"]
    lines = [
        f"# OpenNRM referrals and reminders benchmark — {info['when']}",
        "",
        f"* Commit `{info['commit']}`; {info['machine']['cpu']}, {info['machine']['memory']}; "
        f"{info['machine']['os']}; Python {info['machine']['python']}",
        f"* {data['postgres']}; {counts['cases_case']:,} cases, "
        f"{counts['referrals_referral']:,} referrals ({counts['referrals_referralevent']:,} "
        f"events, {counts['referrals_assistance']:,} assistance records, "
        f"{counts['cases_consent']:,} consents), {counts['reminders_notification']:,} "
        f"notifications (after the sweeps), {counts['protection_reflectionperiod']:,} "
        f"reflection periods, {counts['protection_residencepermit']:,} residence permits, "
        f"{counts['protection_supportplan']:,} support plans",
        "* Referrals by state: " + ", ".join(
            f"{state} {count:,}" for state, count in sorted(data["states"].items(),
                                                            key=lambda item: -item[1]))
        + f"; {data['overdue']:,} waiting past their answer date",
        f"* Signed in as `{info['username']}`, a supervisor of `{data['agency']}`, the agency "
        f"receiving the most referrals: {data['received']:,} received ("
        + ", ".join(f"{state} {count:,}" for state, count in
                    sorted(data["received_states"].items(), key=lambda item: -item[1]))
        + f"), {data['sent_by_agency']:,} sent",
        f"* gunicorn {args.gunicorn_workers} workers × {args.gunicorn_threads} threads, "
        "production settings; each client is a thread with its own keep-alive httpx client "
        "(pages: signed in through the login form; API: a bearer token from `opennrm tokens "
        f"create`); {args.requests} requests per endpoint and level, medians of {args.repeat} "
        f"runs; load average {info['load_before']} before the HTTP measurements, "
        f"{info['load_after']} after; client, server and PostgreSQL share the machine",
        "",
        "Endpoints:",
        "",
        *(f"* **{key}**: {description}" for key, description in pages.items()),
        "",
    ]
    if load:
        lines += ["| Step | Seconds |", "|---|---:|"]
        lines += [f"| {step} | {seconds:.1f} |" for step, seconds in load.items()]
        lines.append("")
    if loaded:
        lines += ["Loaded by `load_referrals.py`: " + ", ".join(
            f"{key} {value:,}" for key, value in loaded.items()
            if isinstance(value, int)) + ".", ""]
    lines += [
        "| Endpoint | Clients | p50 ms | p95 ms | req/s | server CPU ms/req | SQL p50 ms "
        "| SQL p95 ms | HTTP/SQL (p50) | Errors |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        figures: Figures = row["figures"]
        raw: Figures | None = row["sql"]
        sql_cells = (f"{raw.p50_ms:.2f} | {raw.p95_ms:.2f} | {figures.p50_ms / raw.p50_ms:.1f}"
                     if raw else "— | — | —")
        lines.append(
            f"| {row['key']} | {row['clients']} | {figures.p50_ms:.1f} | {figures.p95_ms:.1f} "
            f"| {figures.per_second:.0f} | {row['cpu_ms']:.1f} | {sql_cells} "
            f"| {figures.errors + (raw.errors if raw else 0)} |")
    lines += [
        "",
        "\"SQL\" runs, right after each HTTP level and at the same concurrency, the "
        "statements on `referrals_referral` that one request runs (captured below), through "
        "psycopg: the database's floor for the request.",
        "",
        "Where a request's time goes, in-process through Django's test client (no HTTP, one "
        "at a time, median of the last 10 of 20 requests; SQL statements, without BEGIN and "
        "COMMIT, from one more request):",
        "",
        "| Endpoint | Request ms | CPU ms | SQL queries | SQL ms | Rest (Python) ms |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for key, probed in probes.items():
        sql_ms = sum(q["ms"] for q in probed["queries"])
        lines.append(f"| {key} | {probed['wall_ms']:.1f} | {probed['cpu_ms']:.1f} "
                     f"| {len(probed['queries'])} | {sql_ms:.1f} "
                     f"| {probed['wall_ms'] - sql_ms:.1f} |")
    deadlines = sweeps["deadlines"]
    lines += [
        "",
        f"Reminder sweep, `opennrm reminders sweep --today {args.today}` as a subprocess "
        "(process start-up, Django set-up, the sweep in one transaction, then the e-mail of "
        f"pending notifications): {deadlines['deadlines']:,} open deadlines ("
        + ", ".join(f"{kind} {count:,}" for kind, count in deadlines["by_kind"].items())
        + f") for {deadlines['people']:,} deadline × person pairs. Listing them in-process "
        f"(`open_deadlines`, {deadlines['queries']} queries) takes "
        f"{deadlines['seconds']:.2f} s ({deadlines['cpu_seconds']:.2f} s CPU).",
        "",
        "| Sweep | Seconds | New notifications |",
        "|---|---:|---:|",
        f"| first run (creates the notifications) | {sweeps['first'][0]:.2f} "
        f"| {sweeps['first'][1]:,} |",
    ]
    lines += [f"| second run #{i} (idempotent) | {seconds:.2f} | {new:,} |"
              for i, (seconds, new) in enumerate(sweeps["again"], 1)]
    again = statistics.median(seconds for seconds, _ in sweeps["again"])
    lines += [f"| second run, median of {len(sweeps['again'])} | {again:.2f} | |", ""]
    first, later = sweeps["deadlines"], sweeps["probe_again"]
    lines += [
        "The same in-process, without process start-up (`reminder_sweep` in a transaction "
        "rolled back afterwards, then `send_pending_emails`, which e-mails nothing here: the "
        "demo users have no address); `django.setup()` alone took "
        f"{first['setup_seconds']:.2f} s in that process:",
        "",
        "| In-process | `reminder_sweep` s | CPU s | queries | new | `send_pending_emails` s |",
        "|---|---:|---:|---:|---:|---:|",
        *(f"| {title} | {got['sweep_seconds']:.2f} | {got['sweep_cpu_seconds']:.2f} "
          f"| {got['sweep_queries']:,} | {got['sweep_new']:,} | {got['email_seconds']:.2f} |"
          for title, got in (("before the first run", first),
                             ("after the second runs", later))),
        "",
    ]

    lines += ["| Target | Wanted | Measured | Verdict |", "|---|---|---|---|"]
    for row in rows:
        if row["clients"] == 8 or len(args.levels) == 1:
            met = row["figures"].p95_ms <= P95_TARGET_MS
            lines.append(f"| p95, {row['key']}, {row['clients']} clients "
                         f"| ≤ {P95_TARGET_MS} ms | {row['figures'].p95_ms:.1f} ms "
                         f"| {'met' if met else '**not met**'} |")
    for title, seconds in (("sweep, first run", sweeps["first"][0]),
                           ("sweep, second run (median)", again)):
        met = seconds <= SWEEP_TARGET_S
        lines.append(f"| {title} | ≤ {SWEEP_TARGET_S} s | {seconds:.2f} s "
                     f"| {'met' if met else '**not met**'} |")
    lines += ["", "SQL on `referrals_referral` per request (timed as \"SQL\" above), and the "
              "slowest SELECT of each request with `EXPLAIN (ANALYZE, BUFFERS)`:", ""]
    for key, probed in probes.items():
        lines += [f"* {key}:", ""]
        for query in probed["queries"]:
            if '"referrals_referral"' in query["sql"]:
                lines += ["  ```sql", f"  {query['sql']}", "  ```", ""]
        slowest = probed["slowest"]
        lines += [f"  slowest, {slowest['ms']:.1f} ms:", "", "  ```sql", f"  {slowest['sql']}",
                  "  ```", "", "  ```", *(f"  {line}" for line in probed["plan"].splitlines()),
                  "  ```", ""]
    return "\n".join(lines).rstrip() + "\n"


# --- main ----------------------------------------------------------------------------------

def main() -> None:
    args = parse_args()
    results = args.results_dir
    results.mkdir(parents=True, exist_ok=True)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    keyring = results / "bench-keyring.json"
    env = node_env(args.database_url, keyring, results)
    opennrm = str(BIN / "opennrm")
    load: dict[str, float] = {}
    loaded: dict = {}
    url = args.database_url
    if args.reuse and keyring.exists() and has_demo(url) and has_referrals(url):
        print("Reusing the data already in the database (migrated to this code)", flush=True)
        load["opennrm migrate"], _ = run([opennrm, "migrate"], env, results / "migrate.log")
        _, demo_output = run([opennrm, "demo", "--cases", "0"], env, results / "logins.log")
    else:
        print(f"Recreating {urlsplit(url).path.lstrip('/')} …", flush=True)
        recreate_database(url)
        keyring.unlink(missing_ok=True)
        load["opennrm migrate"], _ = run([opennrm, "migrate"], env, results / "migrate.log")
        print(f"Loading {args.cases:,} demo cases …", flush=True)
        step = f"opennrm demo --cases {args.cases}"
        load[step], demo_output = run(
            [opennrm, "demo", "--cases", str(args.cases), "--seed", str(args.seed)], env,
            results / "demo.log")
        print(f"  {load[step]:.1f} s", flush=True)
        print(f"Loading {args.referrals:,} referrals and the protection deadlines …", flush=True)
        step = f"load_referrals.py --referrals {args.referrals}"
        load[step], out = run(
            [sys.executable, str(HERE / "load_referrals.py"), "--referrals",
             str(args.referrals), "--seed", str(args.seed), "--today", args.today.isoformat()],
            env, results / "load.log")
        loaded = json.loads(out.strip().splitlines()[-1])
        print(f"  {load[step]:.1f} s: {loaded}", flush=True)
        began = time.perf_counter()
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
        load["VACUUM ANALYZE (after the load, as autovacuum would)"] = (
            time.perf_counter() - began)

    data = data_summary(url, args.today)
    username = f"{data['agency']}-supervisor"
    password = demo_logins(demo_output).get(username)
    if not password:
        raise SystemExit(f"no demo login for {username} in the output of opennrm demo")
    _, out = run([opennrm, "tokens", "create", username, "--name", "benchmark"], env,
                 results / "token.log")
    token = out.strip().splitlines()[-1]
    bearer = {"Authorization": f"Bearer {token}"}

    endpoints = [  # key, description, path, query, how (page or api)
        ("inbox", "`GET /referrals/`: the inbox page, first page of each of its three tables "
         "(awaiting an answer, in progress, sent; 25 rows each)", "/referrals/", {}, "page"),
        ("inbox paged", f"`GET {PAGED}`: deeper pages of the three tables (the page has no "
         "filters; a page past the end shows the last one)", PAGED, {}, "page"),
        ("API incoming", "`GET /api/referrals?box=incoming`: count + first page of 50, the "
         "nearest answer date first", "/api/referrals", {"box": "incoming"}, "api"),
        ("API awaiting", "`GET /api/referrals?box=incoming&state=sent`: only those waiting "
         "for an answer", "/api/referrals", {"box": "incoming", "state": "sent"}, "api"),
    ]
    pages = {key: description for key, description, *_ in endpoints}

    print("Capturing each request's SQL in-process …", flush=True)
    probe_pages = {key: (path + (("?" + "&".join(f"{k}={v}" for k, v in query.items()))
                                 if query else ""), bearer if how == "api" else {})
                   for key, _, path, query, how in endpoints}
    _, out = run([sys.executable, str(HERE / "bench_web.py"), "--probe", username,
                  json.dumps(probe_pages)], env, results / "probe.log")
    probes = json.loads(out)
    referral_sql = {key: [(q["sql"].replace("%", "%%"), ()) for q in probed["queries"]
                          if '"referrals_referral"' in q["sql"]]
                    for key, probed in probes.items()}

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    print(f"Starting gunicorn on 127.0.0.1:{port} …", flush=True)
    server = start_server(env, port, args.gunicorn_workers, args.gunicorn_threads, results)
    runs: dict[tuple[str, int], dict[str, list]] = {}
    try:
        workers = children(server.pid)
        print(f"Signing {max(args.levels)} clients in as {username} …", flush=True)
        pool = [sign_in(base, username, password) for _ in range(max(args.levels))]

        def worker(path: str, query: dict, how: str):
            """A fresh measure() worker factory (a page worker hands out the pool once)."""
            if how == "api":
                return lambda: api_worker(base, token, path, lambda i: query)
            return lambda: page_worker(pool, lambda i: path, {})

        timed = [(key, worker(path, query, how), sql_worker(url, lambda i, k=key:
                                                            referral_sql[k]))
                 for key, _, path, query, how in endpoints]
        for _, http, raw in timed:  # warm every worker process and the caches
            measure(min(len(pool), args.gunicorn_workers * args.gunicorn_threads), args.warmup,
                    http())
            measure(2, max(1, args.warmup // 2), raw)
        load_before = load_average()
        for repeat in range(1, args.repeat + 1):
            print(f"Run {repeat} of {args.repeat}", flush=True)
            for key, http, raw in timed:
                for clients in args.levels:
                    cpu_before = cpu_seconds(workers)
                    figures = measure(clients, args.requests, http())
                    cpu_ms = (cpu_seconds(workers) - cpu_before) / args.requests * 1000
                    sql_figures = measure(clients, args.requests, raw)
                    got = runs.setdefault((key, clients), {"figures": [], "sql": [], "cpu": []})
                    got["figures"].append(figures)
                    got["sql"].append(sql_figures)
                    got["cpu"].append(cpu_ms)
                    print(f"  {key:13} {clients:>2} clients: p50 {figures.p50_ms:.1f} ms "
                          f"p95 {figures.p95_ms:.1f} ms, {figures.per_second:.0f} req/s, "
                          f"{cpu_ms:.1f} ms CPU, {figures.errors} errors | SQL p50 "
                          f"{sql_figures.p50_ms:.2f} ms", flush=True)
        load_after = load_average()
        for client in pool:
            client.close()
    finally:
        stop_server(server)

    print("Timing the reminder sweep …", flush=True)
    removed = reset_sweep(url)
    if removed:
        print(f"  deleted {removed:,} notifications of earlier sweeps", flush=True)
    probe_sweep = [sys.executable, str(HERE / "load_referrals.py"), "--probe-sweep",
                   args.today.isoformat()]
    _, out = run(probe_sweep, env, results / "sweep-probe-1.log")
    sweeps = {"deadlines": json.loads(out)}
    sweeps["first"] = sweep(opennrm, args.today, env, results / "sweep-1.log")
    print(f"  first run: {sweeps['first'][0]:.2f} s, {sweeps['first'][1]:,} new", flush=True)
    sweeps["again"] = []
    for i in range(args.sweeps):
        sweeps["again"].append(sweep(opennrm, args.today, env, results / f"sweep-{i + 2}.log"))
        print(f"  second run #{i + 1}: {sweeps['again'][-1][0]:.2f} s, "
              f"{sweeps['again'][-1][1]:,} new", flush=True)

    _, out = run(probe_sweep, env, results / "sweep-probe-2.log")
    sweeps["probe_again"] = json.loads(out)
    data = data_summary(url, args.today)  # with the sweep's notifications
    rows = [{"key": key, "clients": clients, "figures": median_figures(got["figures"]),
             "sql": median_figures(got["sql"]), "cpu_ms": statistics.median(got["cpu"])}
            for (key, clients), got in runs.items()]
    info = {"when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "commit": git_commit(),
            "machine": machine(), "username": username, "load_before": load_before,
            "load_after": load_after}
    text = report(args, load, data, loaded, rows, pages, probes, sweeps, info)
    args.output.write_text(text, encoding="utf-8")
    print()
    print(text)


if __name__ == "__main__":
    main()
