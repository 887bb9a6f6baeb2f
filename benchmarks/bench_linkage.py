"""Benchmark deduplicating a register (issue 19): OpenNRM's model beside Splink's own
hand-configured model, on the same generated records, in the same run.

Generates a register with known truth (`opennrm.linkage.synthetic`: persons from Moldova,
Ukraine, Russia, Belarus, Romania and Türkiye, 15 % registered two to four times with their
names in Cyrillic and in several Latin spellings, with and without diacritics, typos, dates
typed in other formats, swapped, a day off or missing; households and twins as hard
negatives), writes the identifiers to a CSV file (no truth in it; no address either, which
is not among the identifiers the models compare) and deduplicates it, each model in a process
of its own, one after the other, `--repeat` times:

* **OpenNRM**: `opennrm.linkage.register.dedupe` with `model.json`, transliteration and
  normalisation included, at the model's threshold;
* **Splink, hand-configured**: plain Splink 5 settings on the raw columns as a user would
  write them (Jaro-Winkler on the lower-cased names, Splink's date-of-birth comparison,
  exact sex, citizenship, place of birth, phone and document number; blocking on names,
  surname and birth year, given name and birth date, phone, document; u by random
  sampling, m by expectation maximisation), at the same threshold.

The time is the deduplication alone (from records in memory to clusters), the median of the
runs; loading the CSV is not in it. Peak memory is the process's maximum resident set
(`ru_maxrss` from `wait4`: DuckDB's memory counts, which tracemalloc would miss), the input
included. Precision, recall and F1 of pairs of records against the truth, for clusters
(connected components of the pairs scored at or above each threshold, as statistics would
count persons) and for the scored pairs themselves; the true pairs are counted from the
person ids, never listed. Writes the Markdown report to benchmarks/results/linkage-latest.md
and prints it.

    .venv/bin/python benchmarks/bench_linkage.py                          # 1,000,000 records
    .venv/bin/python benchmarks/bench_linkage.py --records 100000 --repeat 3
"""

import argparse
import csv
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

import harness

MODELS = {"opennrm": "OpenNRM (`model.json`)", "splink": "Splink, hand-configured"}
THRESHOLDS = (0.5, 0.8, 0.9, 0.95, 0.99)
INPUT_COLUMNS = ("record_id", "given_name", "family_name", "birth_date", "sex", "citizenship",
                 "place_of_birth", "phone", "document_number")


def parse_args():
    parser = harness.parser(__doc__)
    parser.add_argument("--records", type=harness.positive, default=1_000_000)
    parser.add_argument("--seed", type=int, default=harness.SEED)
    harness.add_repeat_option(parser, help="deduplicate this many times with each model; "
                                           "report the medians")
    parser.add_argument("--models", default="opennrm,splink",
                        help="comma-separated, of: " + ", ".join(MODELS))
    parser.add_argument("--thresholds", default=",".join(map(str, THRESHOLDS)),
                        help="match probabilities at which precision and recall are reported")
    parser.add_argument("--results-dir", type=Path, default=harness.RESULTS / "linkage")
    parser.add_argument("--output", type=Path, default=harness.RESULTS / "linkage-latest.md")
    # A run of one model, in a process of its own (started by the benchmark).
    parser.add_argument("--worker", choices=MODELS, help=argparse.SUPPRESS)
    parser.add_argument("--input", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--pairs", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--floor", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.models = [name.strip() for name in args.models.split(",") if name.strip()]
    unknown = set(args.models) - set(MODELS)
    if unknown:
        parser.error(f"unknown models: {', '.join(sorted(unknown))}")
    args.thresholds = sorted(float(value) for value in args.thresholds.split(","))
    return args


# --- the register --------------------------------------------------------------------------

@dataclass
class Register:
    """The truth of the generated records, kept by the benchmark: never given to a model."""

    person: dict[str, str]  # record id → person id
    variants: dict[str, frozenset[str]]  # record id → kinds of variant ("latin", "typo" …)
    household: dict[str, str]  # record id → household or twin pair ("h…", "t…"), if any


def generate(records: int, seed: int, folder: Path) -> tuple[Path, Register, dict, float]:
    """The register's input file (identifiers only), its truth, its summary and the
    generation time."""
    from opennrm.linkage import synthetic

    started = time.perf_counter()
    persons = math.ceil(records / synthetic.expected_records_per_person() * 1.02)
    rows = synthetic.generate_register(persons, seed)[:records]
    seconds = time.perf_counter() - started
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"register-{records}-{seed}.csv"
    synthetic.write_csv(rows, path, columns=INPUT_COLUMNS)
    register = Register(
        person={row["record_id"]: row["person_id"] for row in rows},
        variants={row["record_id"]: frozenset(variant.split(":")[0] for variant in
                                              row["variants"].split(";") if variant)
                  for row in rows},
        household={row["record_id"]: row["household_id"] for row in rows
                   if row["household_id"]})
    return path, register, synthetic.summary(rows), seconds


# --- one model, in its own process ---------------------------------------------------------

def _resident_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def work(model: str, input_path: Path, pairs_path: Path, floor: float) -> dict:
    """Deduplicate the input with one model; write the pairs it scored at `floor` or above
    (record_id_l, record_id_r, match_probability) as Parquet; return the timings."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from opennrm.linkage.register import load_model

    threshold = load_model()["threshold"]
    started = time.perf_counter()
    if model == "opennrm":
        with open(input_path, encoding="utf-8", newline="") as file:
            records = list(csv.DictReader(file))
        loaded = time.perf_counter()
        loaded_mb = _resident_mb()
        pairs, clusters, unreadable = _opennrm(records, threshold)
    else:
        import duckdb

        connection = duckdb.connect()
        connection.execute("SET enable_progress_bar = false")
        connection.execute("CREATE TABLE records AS SELECT * FROM read_csv(?, all_varchar = "
                           "true)", [str(input_path)])
        loaded = time.perf_counter()
        loaded_mb = _resident_mb()
        pairs, clusters, unreadable = _splink(connection, threshold, floor)
    finished = time.perf_counter()
    pq.write_table(pa.table({"record_id_l": [pair[0] for pair in pairs],
                             "record_id_r": [pair[1] for pair in pairs],
                             "match_probability": [pair[2] for pair in pairs]}), pairs_path)
    return {"load_seconds": loaded - started, "seconds": finished - loaded,
            "loaded_mb": loaded_mb, "clusters": clusters, "unreadable": unreadable,
            "pairs": len(pairs), "threshold": threshold}


def _opennrm(records: list[dict], threshold: float):
    from opennrm.linkage.register import dedupe

    result = dedupe(records, threshold)
    pairs = [(pair.record_id_1, pair.record_id_2, pair.match_probability)
             for pair in result.pairs]
    return pairs, len(set(result.clusters.values())), len(result.unreadable)


def splink_settings():
    """Splink 5 settings as its documentation shows them, on the raw columns."""
    import splink.comparison_library as cl
    from splink import ColumnExpression, SettingsCreator, block_on

    given = ColumnExpression("given_name").lower()
    family = ColumnExpression("family_name").lower()
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="record_id",
        comparisons=[
            cl.JaroWinklerAtThresholds(given, [0.92, 0.8]),
            cl.JaroWinklerAtThresholds(family, [0.92, 0.8]),
            cl.DateOfBirthComparison("birth_date", input_is_string=True,
                                     datetime_format="%Y-%m-%d"),
            cl.ExactMatch("sex"),
            cl.ExactMatch("citizenship"),
            cl.ExactMatch("place_of_birth").configure(term_frequency_adjustments=True),
            cl.ExactMatch("phone"),
            cl.ExactMatch("document_number"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on(given, family),
            block_on(family, "substr(birth_date, 1, 4)"),
            block_on(given, "birth_date"),
            block_on("phone"),
            block_on("document_number"),
        ],
    )


def _splink(connection, threshold: float, floor: float):
    import logging

    from splink import ColumnExpression, DuckDBAPI, Linker, block_on

    given = ColumnExpression("given_name").lower()
    family = ColumnExpression("family_name").lower()
    db_api = DuckDBAPI(connection=connection)
    linker = Linker(db_api.register("records"), splink_settings(), log_level=logging.ERROR)
    linker.training.estimate_probability_two_random_records_match(
        [block_on(given, family, "birth_date")], recall=0.7)
    linker.training.estimate_u_using_random_sampling(max_pairs=5e6, seed=1)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on(given, family))
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("birth_date", "substr(lower(family_name), 1, 1)"))
    predictions = linker.inference.predict(threshold_match_probability=floor,
                                           warning_mode="never")
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=threshold)
    pairs = connection.execute(
        f"SELECT record_id_l, record_id_r, match_probability FROM {predictions.physical_name} "
        f"WHERE match_probability >= ?", [floor]).fetchall()
    count = connection.execute(
        f"SELECT count(DISTINCT cluster_id) FROM {clusters.physical_name}").fetchall()[0][0]
    return pairs, count, 0


def run_measured(script: Path, model: str, input_path: Path, pairs_path: Path,
                 floor: float) -> dict:
    """Run one model in a child process: its figures, and its own peak resident memory
    (ru_maxrss from wait4; RUSAGE_CHILDREN would give the largest of all children)."""
    with open(pairs_path.with_suffix(".out"), "w+", encoding="utf-8") as out, \
            open(pairs_path.with_suffix(".err"), "w+", encoding="utf-8") as err:
        process = subprocess.Popen(
            [sys.executable, str(script), "--worker", model, "--input", str(input_path),
             "--pairs", str(pairs_path), "--floor", str(floor)], stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if process.returncode != 0:
            raise SystemExit(f"{model} failed (exit {process.returncode}):\n"
                             f"{err.read()[-5000:]}")
        figures = json.loads(out.read().strip().splitlines()[-1])
    figures["peak_mb"] = usage.ru_maxrss / 1024  # kilobytes on Linux
    return figures


# --- quality -------------------------------------------------------------------------------

def _pairs_in(groups: Counter) -> int:
    return sum(size * (size - 1) // 2 for size in groups.values())


def clusters_at(pairs, records, threshold: float) -> dict[str, str]:
    """Each record's cluster: connected components of the pairs at or above the threshold
    (a record in no such pair is alone)."""
    parent: dict[str, str] = {}  # only records that are not the root of their cluster

    def root(node: str) -> str:
        while node in parent:
            if parent[node] in parent:
                parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for left, right, probability in pairs:
        if probability >= threshold:
            a, b = root(left), root(right)
            if a != b:
                parent[max(a, b)] = min(a, b)
    return {record: root(record) for record in records}


def cluster_quality(clusters: dict[str, str], truth: dict[str, str]) -> tuple[float, ...]:
    """Precision, recall, F1 of pairs of records in one cluster, counted from the sizes of
    clusters, persons and their intersections (no pair is listed)."""
    both = Counter((clusters[record], person) for record, person in truth.items())
    return _scores(_pairs_in(both), _pairs_in(Counter(clusters.values())),
                   _pairs_in(Counter(truth.values())))


def recall_by_variant(clusters: dict[str, str], register: Register) -> dict[str, tuple]:
    """For each kind of variant: of the true pairs where either record has it, how many
    are in one cluster ("none": pairs where neither record has any)."""
    persons = defaultdict(list)
    for record, person in register.person.items():
        persons[person].append(record)
    found, total = Counter(), Counter()
    for records in persons.values():
        for left, right in combinations(records, 2):
            joined = clusters[left] == clusters[right]
            for kind in (register.variants[left] | register.variants[right]) or {"none"}:
                total[kind] += 1
                found[kind] += joined
    return {kind: (found[kind], total[kind]) for kind in sorted(total)}


def hard_negatives_merged(clusters: dict[str, str], register: Register) -> dict[str, tuple]:
    """Pairs of records of different persons of one household ("h…") or pair of twins
    ("t…"): how many are in one cluster, of how many."""
    groups = defaultdict(list)
    for record, household in register.household.items():
        groups[household].append(record)
    merged, total = Counter(), Counter()
    for household, records in groups.items():
        kind = "twins" if household.startswith("t") else "households"
        persons = Counter(register.person[record] for record in records)
        total[kind] += len(records) * (len(records) - 1) // 2 - _pairs_in(persons)
        together = Counter(clusters[record] for record in records)
        same = Counter((clusters[record], register.person[record]) for record in records)
        merged[kind] += _pairs_in(together) - _pairs_in(same)
    return {kind: (merged[kind], total[kind]) for kind in ("households", "twins")}


def scored_pair_quality(pairs, truth: dict[str, str], threshold: float) -> tuple[float, ...]:
    """Precision, recall, F1 of the scored pairs at or above the threshold themselves."""
    predicted = hits = 0
    for left, right, probability in pairs:
        if probability >= threshold:
            predicted += 1
            hits += truth.get(left) == truth.get(right)
    return _scores(hits, predicted, _pairs_in(Counter(truth.values())))


def _scores(hits: int, predicted: int, true: int) -> tuple[float, float, float]:
    precision = hits / predicted if predicted else 1.0
    recall = hits / true if true else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def read_pairs(path: Path) -> list[tuple[str, str, float]]:
    import pyarrow.parquet as pq

    table = pq.read_table(path).to_pydict()
    return list(zip(table["record_id_l"], table["record_id_r"], table["match_probability"],
                    strict=True))


# --- the report ----------------------------------------------------------------------------

def report(args, summary: dict, generation: float, runs: dict[str, list[dict]],
           quality: dict[str, dict]) -> str:
    lines = [
        "# OpenNRM: deduplicating a register (issue 19)",
        "",
        f"{summary['records']:,} generated records of {summary['persons']:,} persons "
        f"({summary['duplicated_persons']:,} registered more than once, "
        f"{summary['true_pairs']:,} true pairs; {summary['persons_in_households']:,} persons "
        f"in {summary['households']:,} households and {summary['twin_pairs']:,} pairs of "
        f"twins as hard negatives), seed {args.seed}, generated in {generation:.1f} s. "
        f"{os.cpu_count()} cores (load average {args.load:.1f} before the run), "
        f"Python {platform.python_version()}, "
        f"{_versions()}; each model in a process of its own, one after the other, "
        f"{args.repeat} run(s) each, medians.",
        "",
        "Records touched by each variant: " + ", ".join(
            f"{name.split(':', 1)[1]} {count:,}" for name, count in summary.items()
            if name.startswith("variant:")) + ".",
        "",
        "| model | deduplication, s | min–max, s | peak memory, MB | input loaded, MB "
        "| pairs scored | clusters | unreadable |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for model, results in runs.items():
        seconds = [result["seconds"] for result in results]
        last = results[-1]
        lines.append(
            f"| {MODELS[model]} | {statistics.median(seconds):.1f} | {min(seconds):.1f}–"
            f"{max(seconds):.1f} | {statistics.median(r['peak_mb'] for r in results):,.0f} | "
            f"{last['loaded_mb']:,.0f} | {last['pairs']:,} | {last['clusters']:,} | "
            f"{last['unreadable']:,} |")
    threshold = next(iter(runs.values()))[-1]["threshold"]
    lines += ["", f"Clusters are made at the model's threshold, {threshold}. Quality of pairs "
              "of records in one cluster (connected components of the pairs at or above the "
              "threshold):", ""]
    lines += _quality_table(runs, quality, "clusters", args.thresholds)
    lines += ["", "Quality of the scored pairs at or above the threshold themselves:", ""]
    lines += _quality_table(runs, quality, "pairs", args.thresholds)
    lines += ["", f"Recall at the threshold, {threshold}, by what was done to either record "
              "of a true pair (a pair can count under several):", "",
              "| variant |" + "".join(f" {MODELS[model]} |" for model in runs) + " true pairs |",
              "|---|" + "---:|" * (len(runs) + 1)]
    kinds = next(iter(quality.values()))["variants"]
    for kind, (_, pairs) in kinds.items():
        cells = "".join(f" {found / of if of else 1.0:.4f} |"
                        for found, of in (quality[model]["variants"][kind] for model in runs))
        lines.append(f"| {kind} |{cells} {pairs:,} |")
    lines += ["", f"Hard negatives put in one cluster at the threshold, {threshold} (pairs of "
              "records of different persons):", "",
              "| pairs |" + "".join(f" {MODELS[model]} |" for model in runs) + " of |",
              "|---|" + "---:|" * (len(runs) + 1)]
    for kind in ("households", "twins"):
        total = next(iter(quality.values()))["hard negatives"][kind][1]
        cells = "".join(f" {quality[model]['hard negatives'][kind][0]:,} |" for model in runs)
        lines.append(f"| {kind} |{cells} {total:,} |")
    return "\n".join(lines) + "\n"


def _quality_table(runs, quality, kind: str, thresholds) -> list[str]:
    header = "| threshold |" + "".join(f" {MODELS[model]} precision | recall | F1 |"
                                      for model in runs)
    lines = [header, "|---:|" + "---:|---:|---:|" * len(runs)]
    for threshold in thresholds:
        cells = "".join(" {:.4f} | {:.4f} | {:.4f} |".format(*quality[model][kind][threshold])
                        for model in runs)
        lines.append(f"| {threshold} |{cells}")
    return lines


def _versions() -> str:
    from importlib.metadata import version

    return f"Splink {version('splink')}, DuckDB {version('duckdb')}"


def main() -> None:
    args = parse_args()
    floor = min(args.thresholds)
    if args.worker:
        figures = work(args.worker, args.input, args.pairs, floor if args.floor is None
                       else args.floor)
        print(json.dumps(figures))
        return
    script = Path(__file__).resolve()
    args.load = os.getloadavg()[0]
    print(f"Generating {args.records:,} records (seed {args.seed}) …", flush=True)
    input_path, register, summary, generation = generate(args.records, args.seed,
                                                         args.results_dir)
    runs: dict[str, list[dict]] = {model: [] for model in args.models}
    for run in range(1, args.repeat + 1):
        for model in args.models:
            pairs_path = args.results_dir / f"pairs-{model}.parquet"
            figures = run_measured(script, model, input_path, pairs_path, floor)
            runs[model].append(figures)
            print(f"run {run}: {model} {figures['seconds']:.1f} s, "
                  f"peak {figures['peak_mb']:,.0f} MB", flush=True)
    quality = {}
    for model in args.models:
        pairs = read_pairs(args.results_dir / f"pairs-{model}.parquet")
        at = {t: clusters_at(pairs, register.person, t) for t in args.thresholds}
        own = clusters_at(pairs, register.person, runs[model][-1]["threshold"])
        quality[model] = {
            "clusters": {t: cluster_quality(at[t], register.person) for t in args.thresholds},
            "pairs": {t: scored_pair_quality(pairs, register.person, t)
                      for t in args.thresholds},
            "variants": recall_by_variant(own, register),
            "hard negatives": hard_negatives_merged(own, register),
        }
    text = report(args, summary, generation, runs, quality)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
