"""Benchmark the statistics engine: all five table sets for one year, on PostgreSQL and on
SQLite, beside the same computation written naively in pandas.

The issue's benchmark: 1,000,000 demo cases; time to compute all five table sets for one
year (target ≤ 10 s on PostgreSQL) and peak memory (target ≤ 1 GB), with a naive pandas
version as the side-by-side comparison in the same run.

    .venv/bin/python benchmarks/bench_statistics.py --cases 1000000 --engines postgres,sqlite
    # a quick look:
    .venv/bin/python benchmarks/bench_statistics.py --cases 20000 --engines postgres,sqlite

For each engine in `--engines`:

1. **Drops and recreates** the database — PostgreSQL: `--database-url` (default
   `opennrm_bench_statistics`; `postgres`, `template0`, `template1` and `test` are
   refused); SQLite: the file `--sqlite-path` (default
   `RESULTS_DIR/opennrm_bench_statistics.sqlite3`; only a file under
   `--results-dir`, default `benchmarks/results/statistics/`) — runs `opennrm migrate`, and
   times `load_statistics.py --cases N`
   (synthetic cases from 2019 to today with their referrals, assistance, decisions and
   protection steps; see its docstring), as subprocesses in the node's environment
   (DATABASE_URL, OPENNRM_KEYRING = `RESULTS_DIR/<engine>-keyring.json`).
   `--reuse` skips this when the database already holds cases and its key ring is there.
2. `--repeat` times (default 3), alternating, each in a fresh process (so that its peak
   memory is the computation's, not an earlier one's):
   * **OpenNRM**: `engine.compute_all(engine.table_set_keys(), 1 Jan, 31 Dec of --year)` — SQL
     frames, then Polars;
   * **naive pandas**: `pandas_statistics.compute_all` — every table read whole with
     `pandas.read_sql`, JSON parsed per row, joins with `merge`, then pandas.
   Each process reports the wall time of the computation (the database connection, the
   reads and the tables; not Python's and Django's start-up), its peak RSS
   (`ru_maxrss`, interpreter and libraries included) and the peak minus the RSS just
   before the computation (Δ).
3. Compares the tables of the first OpenNRM run and the first pandas run: every table's
   total ("totals agree"), then every cell (the differing cells are listed).

Prints a Markdown report (medians of the repeats) and writes it to
`benchmarks/results/statistics.md`. Logs of each step are in RESULTS_DIR.
The PostgreSQL database and the SQLite file are left in place for `--reuse`; drop them when
done (`dropdb -h 127.0.0.1 -U postgres opennrm_bench_statistics`). PostgreSQL and the
processes share the machine: the report records the load average before and after.
"""

import argparse
import json
import os
import resource
import sqlite3
import statistics
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import harness

HERE = Path(__file__).resolve().parent
RESULTS = harness.RESULTS
SQLITE_NAME = "opennrm_bench_statistics.sqlite3"
REFUSED_DATABASES = ("postgres", "template0", "template1", "test")
SECONDS_TARGET = 10  # on PostgreSQL
MEMORY_TARGET_MB = 1024
ENGINE_NAMES = {"postgres": "PostgreSQL", "sqlite": "SQLite"}
WHO = {"ours": "OpenNRM", "pandas": "naive pandas"}


def parse_args() -> argparse.Namespace:
    parser = harness.parser(__doc__)
    harness.add_load_options(
        parser, cases=1_000_000, database="opennrm_bench_statistics",
        reuse_help="keep the databases and key rings of the previous run (no load)")
    parser.add_argument("--engines", default="postgres,sqlite")
    parser.add_argument("--year", type=int, default=2025)
    harness.add_repeat_option(parser, "runs of each computation; the report gives the "
                                      "medians")
    parser.add_argument("--pandas-repeat", type=int, default=None,
                        help="runs of the naive pandas version (default: --repeat; at "
                             "1,000,000 cases one takes about 5 minutes)")
    parser.add_argument("--results-dir", type=Path, default=RESULTS / "statistics",
                        help="key rings, logs and the SQLite file of this benchmark")
    parser.add_argument("--sqlite-path", type=Path, default=None,
                        help=f"the SQLite file, under RESULTS_DIR (default: {SQLITE_NAME})")
    parser.add_argument("--output", type=Path, default=RESULTS / "statistics.md")
    parser.add_argument("--measure", choices=("ours", "pandas"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.sqlite_path = args.sqlite_path or args.results_dir / SQLITE_NAME
    args.engines = [name.strip() for name in args.engines.split(",") if name.strip()]
    unknown = set(args.engines) - set(ENGINE_NAMES)
    if unknown:
        parser.error(f"unknown engines {sorted(unknown)}: use postgres and/or sqlite")
    return args


# --- one measurement (in its own process, in the node's environment) ------------------------

def rss_mb() -> float:
    """The resident set size of this process now (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def summarise(results) -> dict[str, dict]:
    """The engine's TableSetResults as plain values, shaped as pandas_statistics' tables."""
    def values(cells):
        return [cell.value for cell in cells]

    return {f"{result.key}.{table.key}": {
        "rows": table.rows, "columns": table.columns,
        "cells": [values(row) for row in table.cells],
        "row_totals": values(table.row_totals), "column_totals": values(table.column_totals),
        "total": table.total.value,
    } for result in results for table in result.tables}


def measure(which: str, year: int) -> None:
    """Compute the five table sets once; print seconds, memory and the tables as JSON."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opennrm.settings")
    import django

    django.setup()
    from django.db import connection

    # Each computation loads only its own library before the baseline.
    if which == "ours":
        from opennrm.statistics import engine
    else:
        import pandas_statistics
    start, end = date(year, 1, 1), date(year, 12, 31)
    before = rss_mb()
    began = time.perf_counter()
    if which == "ours":
        results = engine.compute_all(engine.table_set_keys(), start, end)
    else:
        connection.ensure_connection()
        results = pandas_statistics.compute_all(connection.connection, start, end)
    seconds = time.perf_counter() - began
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    tables = summarise(results) if which == "ours" else results
    json.dump({"seconds": seconds, "rss_before_mb": before, "peak_rss_mb": peak,
               "tables": tables}, sys.stdout,
              default=lambda value: value.item() if hasattr(value, "item") else str(value))


# --- databases -----------------------------------------------------------------------------

def database_name(url: str) -> str:
    name = urlsplit(url).path.lstrip("/")
    if not name or name in REFUSED_DATABASES:
        raise SystemExit(f"refusing to use database {name!r} for the benchmark")
    return name


def recreate(engine: str, args: argparse.Namespace) -> None:
    if engine == "postgres":
        import psycopg
        from psycopg import sql

        name = database_name(args.database_url)
        admin = urlunsplit(urlsplit(args.database_url)._replace(path="/postgres"))
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)))
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    else:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{args.sqlite_path}{suffix}").unlink(missing_ok=True)


def query(engine: str, args: argparse.Namespace, sql_text: str, params: tuple = ()):
    """One row of a query on the benchmark database, straight through the driver."""
    if engine == "postgres":
        import psycopg

        with psycopg.connect(args.database_url) as conn:
            return conn.execute(sql_text, params).fetchone()
    with sqlite3.connect(args.sqlite_path) as conn:
        return conn.execute(sql_text.replace("%s", "?"), params).fetchone()


def case_counts(engine: str, args: argparse.Namespace) -> tuple[int, int]:
    """Cases in the database and first contacted in the year."""
    try:
        total = query(engine, args, "SELECT COUNT(*) FROM cases_case")[0]
    except Exception:  # no database or no tables yet
        return 0, 0
    year = query(engine, args, "SELECT COUNT(*) FROM cases_case WHERE first_contact_on >= %s "
                 "AND first_contact_on <= %s",
                 (f"{args.year}-01-01", f"{args.year}-12-31"))[0]
    return total, year


def engine_version(engine: str, args: argparse.Namespace) -> str:
    if engine == "postgres":
        return query(engine, args, "SELECT version()")[0].split(" on ")[0]
    return f"SQLite {sqlite3.sqlite_version}"


def prepare(engine: str, args: argparse.Namespace, env: dict, keyring: Path) -> dict:
    """Recreate, migrate and load the database (unless --reuse). Returns the load figures."""
    from bench_node import BIN, run

    if args.reuse:
        if case_counts(engine, args)[0] and keyring.exists():
            return {}
        raise SystemExit(f"--reuse: no loaded {ENGINE_NAMES[engine]} database with its key "
                         f"ring {keyring} to reuse")
    print(f"{ENGINE_NAMES[engine]}: recreating, migrating, loading {args.cases:,} cases",
          flush=True)
    recreate(engine, args)
    keyring.unlink(missing_ok=True)
    migrate, _ = run([str(BIN / "opennrm"), "migrate"], env,
                     args.results_dir / f"{engine}-migrate.log")
    load, out = run([sys.executable, str(HERE / "load_statistics.py"), "--cases",
                     str(args.cases), "--seed", str(args.seed)], env,
                    args.results_dir / f"{engine}-load.log")
    figures = json.loads(out.strip().splitlines()[-1])
    print(f"  migrate {migrate:.1f} s, load {load:.1f} s", flush=True)
    return {**figures, "migrate_seconds": migrate, "wall_seconds": load}


def measure_in_process(which: str, engine: str, run_number: int, args: argparse.Namespace,
                       env: dict) -> dict:
    from bench_node import run

    log = args.results_dir / f"{engine}-{which}-{run_number}.log"
    _, out = run([sys.executable, str(Path(__file__).resolve()), "--measure", which,
                  "--year", str(args.year)], env, log)
    figures = json.loads(out)
    print(f"  {WHO[which]}: {figures['seconds']:.2f} s, peak RSS "
          f"{figures['peak_rss_mb']:.0f} MB", flush=True)
    return figures


# --- comparing and reporting ---------------------------------------------------------------

def compare(ours: dict, theirs: dict) -> dict:
    """Totals and cells of the two computations, table by table."""
    keys = sorted(set(ours) | set(theirs))
    missing = [key for key in keys if key not in ours or key not in theirs]
    totals = [key for key in keys if key not in missing
              and ours[key]["total"] != theirs[key]["total"]]
    differences = {}
    for key in keys:
        if key in missing or ours[key] == theirs[key]:
            continue
        a, b = ours[key], theirs[key]
        found = []
        if a["rows"] != b["rows"] or a["columns"] != b["columns"]:
            found.append(f"categories differ: {a['rows']}×{a['columns']} against "
                         f"{b['rows']}×{b['columns']}")
        else:
            for i, row in enumerate(a["rows"]):
                for j, column in enumerate(a["columns"]):
                    if a["cells"][i][j] != b["cells"][i][j]:
                        found.append(f"{row}/{column}: {a['cells'][i][j]} against "
                                     f"{b['cells'][i][j]}")
                if a["row_totals"][i] != b["row_totals"][i]:
                    found.append(f"{row}/total: {a['row_totals'][i]} against "
                                 f"{b['row_totals'][i]}")
            for j, column in enumerate(a["columns"]):
                if a["column_totals"][j] != b["column_totals"][j]:
                    found.append(f"total/{column}: {a['column_totals'][j]} against "
                                 f"{b['column_totals'][j]}")
        differences[key] = found
    return {"tables": len(keys), "missing": missing, "totals_differ": totals,
            "differences": differences}


def median(runs: list[dict], field: str) -> float:
    return statistics.median(run[field] for run in runs)


def report(args: argparse.Namespace, results: list[dict], info: dict) -> str:
    period = f"{args.year}"
    lines = [
        f"# OpenNRM statistics benchmark — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"* All five table sets (eurostat, glotip, sdg, ctdc, nrm) for {period}, computed "
        "by OpenNRM's engine (`engine.compute_all`: SQL frames, then Polars) and by the "
        "same computation written naively in pandas (`benchmarks/pandas_statistics.py`: "
        "tables read whole, joined and computed in pandas); medians of "
        f"{args.repeat} runs (pandas: {args.pandas_repeat or args.repeat}), each in a fresh "
        "process.",
        f"* {info['machine']['cpu']}, {info['machine']['memory']}; {info['machine']['os']}; "
        f"Python {info['machine']['python']}; load average {info['load_before']} before, "
        f"{info['load_after']} after (other work on the machine skews figures).",
        f"* Targets: ≤ {SECONDS_TARGET} s on PostgreSQL; peak memory ≤ "
        f"{MEMORY_TARGET_MB:,} MB.",
        "",
        f"| Engine | Cases in DB | Cases in {period} | OpenNRM (s) | Naive pandas (s) | "
        "pandas ÷ OpenNRM | Peak RSS OpenNRM (MB) | Peak RSS pandas (MB) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for result in results:
        ours, theirs = result["runs"]["ours"], result["runs"]["pandas"]
        seconds_ours, seconds_pandas = median(ours, "seconds"), median(theirs, "seconds")

        def memory(runs):
            peak = median(runs, "peak_rss_mb")
            delta = statistics.median(r["peak_rss_mb"] - r["rss_before_mb"] for r in runs)
            return f"{peak:,.0f} (Δ {delta:,.0f})"

        lines.append(
            f"| {result['version']} | {result['cases']:,} | {result['in_year']:,} | "
            f"{seconds_ours:.2f} | {seconds_pandas:.2f} | "
            f"{seconds_pandas / seconds_ours:.1f}× | {memory(ours)} | {memory(theirs)} |")
    lines += [
        "",
        "Time: the computation alone (connection, reads, tables), not the process start-up. "
        "Peak RSS: `ru_maxrss` of the measuring process, Python, Django and Polars or pandas "
        "included; Δ: the peak above the RSS just before the computation.",
        "",
        "## Do both compute the same thing?",
        "",
    ]
    for result in results:
        check = result["comparison"]
        agree = not check["missing"] and not check["totals_differ"]
        same = check["tables"] - len(check["differences"]) - len(check["missing"])
        lines.append(f"* {ENGINE_NAMES[result['engine']]}: totals agree: "
                     f"{'yes' if agree else 'no'} ({check['tables']} tables); every cell "
                     f"agrees in {same} of {check['tables']} tables.")
        for key in check["missing"]:
            lines.append(f"  * {key}: computed by only one of the two")
        for key, found in check["differences"].items():
            shown = "; ".join(found[:6]) + (f"; … ({len(found)} in all)" if len(found) > 6
                                            else "")
            lines.append(f"  * {key} (OpenNRM against pandas): {shown}")
    lines += ["", "## Load", "",
              "| Engine | migrate (s) | load_statistics.py (s) | of which writing (s) | "
              "ANALYZE (s) | "
              "load per 100,000 cases (s) | rows |",
              "|---|---:|---:|---:|---:|---:|---|"]
    for result in results:
        load = result["load"]
        if not load:
            lines.append(f"| {ENGINE_NAMES[result['engine']]} | – | – | – | – | – | reused |")
            continue
        rows = ", ".join(f"{table} {count:,}" for table, count in load["rows"].items())
        lines.append(f"| {ENGINE_NAMES[result['engine']]} | {load['migrate_seconds']:.1f} | "
                     f"{load['wall_seconds']:.1f} | {load['write_seconds']:.1f} | "
                     f"{load['analyze_seconds']:.1f} | "
                     f"{load['wall_seconds'] * 100_000 / load['cases']:.1f} | {rows} |")
    lines += ["", "## Every run", "",
              "| Engine | Computation | Seconds | Peak RSS (MB) | Δ (MB) |",
              "|---|---|---|---|---|"]
    for result in results:
        for which, runs in result["runs"].items():
            lines.append(
                f"| {ENGINE_NAMES[result['engine']]} | {WHO[which]} | "
                + ", ".join(f"{r['seconds']:.2f}" for r in runs) + " | "
                + ", ".join(f"{r['peak_rss_mb']:.0f}" for r in runs) + " | "
                + ", ".join(f"{r['peak_rss_mb'] - r['rss_before_mb']:.0f}" for r in runs)
                + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    args = parse_args()
    if args.measure:
        measure(args.measure, args.year)
        return
    from bench_node import load_average, machine, node_env

    if args.repeat < 1:
        raise SystemExit("--repeat must be at least 1")
    if ("sqlite" in args.engines
            and not args.sqlite_path.resolve().is_relative_to(args.results_dir.resolve())):
        raise SystemExit(f"refusing to use {args.sqlite_path}: the SQLite file must be under "
                         f"{args.results_dir}")
    if "postgres" in args.engines:
        database_name(args.database_url)
    args.results_dir.mkdir(parents=True, exist_ok=True)
    info = {"machine": machine(), "load_before": load_average()}
    results = []
    for engine in args.engines:
        url = (args.database_url if engine == "postgres"
               else f"sqlite:///{args.sqlite_path.resolve()}")
        keyring = args.results_dir / f"{engine}-keyring.json"
        env = node_env(url, keyring, args.results_dir)
        load = prepare(engine, args, env, keyring)
        cases, in_year = case_counts(engine, args)
        print(f"{ENGINE_NAMES[engine]}: {cases:,} cases, {in_year:,} in {args.year}",
              flush=True)
        runs = {"ours": [], "pandas": []}
        for number in range(1, args.repeat + 1):
            for which in runs:
                if which == "pandas" and number > (args.pandas_repeat or args.repeat):
                    continue
                runs[which].append(measure_in_process(which, engine, number, args, env))
        comparison = compare(runs["ours"][0]["tables"], runs["pandas"][0]["tables"])
        agree = not comparison["missing"] and not comparison["totals_differ"]
        print(f"  totals agree: {'yes' if agree else 'no'}", flush=True)
        for run_figures in runs["ours"] + runs["pandas"]:
            del run_figures["tables"]
        results.append({"engine": engine, "version": engine_version(engine, args),
                        "cases": cases, "in_year": in_year, "load": load, "runs": runs,
                        "comparison": comparison})
    info["load_after"] = load_average()
    text = report(args, results, info)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    print()
    print(text)


if __name__ == "__main__":
    main()
