"""Deduplicating one register, or linking two, with a probabilistic model (Splink, DuckDB).

The model is the data file `model.json` (comparisons, blocking rules, prior m and u
probabilities, training plan, default threshold) with a version; docs/linkage.md explains
it. A run:

1. normalises the register column by column, each distinct value once
   (`normalise.IdentityNormaliser`); a record that cannot be read is reported with its line
   and the reason, never dropped silently;
2. estimates the prior probability that two records match from pairs that agree on every
   name spelling and the full birth date (divided by the recall the file states);
3. on registers of `train_from_records` or more, estimates u by random sampling (seeded)
   and m by expectation maximisation on at most `em_max_pairs` pairs, as Splink recommends;
   smaller registers keep the file's parameters, which EM cannot estimate from a handful of
   pairs;
4. scores the pairs the blocking rules generate and joins records into clusters (connected
   components) at a match-probability threshold.

Quality against a known truth (`pair_quality`) counts pairs of records: a pair is
predicted when both records are in one cluster, true when both have one truth value.
"""

import csv
import json
import logging
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa

from opennrm.linkage.normalise import (
    CHECKED_FIELDS,
    FIELDS,
    NO_NAME,
    IdentityNormaliser,
    UnreadableRecord,
)

_log = logging.getLogger("opennrm.linkage")
MODEL_PATH = Path(__file__).with_name("model.json")

# The spellings and sound keys of a name, each as the number of the spelling in the run (one
# numbering for given names, family names and places, so that swapped names still meet):
# DuckDB gathers and intersects lists of integers several times faster than lists of text,
# and the comparisons only ask whether two lists share an element. The primary key of each
# name stays text, for Jaro-Winkler.
_NAME_LIST = pa.list_(pa.int32())
_SCHEMA = pa.schema([
    ("unique_id", pa.int64()),
    ("given_forms", _NAME_LIST), ("given_keys", _NAME_LIST), ("given_key", pa.string()),
    ("family_forms", _NAME_LIST), ("family_keys", _NAME_LIST), ("family_key", pa.string()),
    ("birth_text", pa.string()), ("birth_year", pa.int32()), ("birth_month", pa.int32()),
    ("birth_day", pa.int32()), ("sex", pa.string()), ("citizenship", pa.string()),
    ("place_forms", _NAME_LIST), ("place_keys", _NAME_LIST), ("place_key", pa.string()),
    ("phone", pa.string()), ("document_number", pa.string()),
])


class RegisterError(ValueError):
    """A register or an argument that cannot be used at all (not one bad record)."""


@dataclass(frozen=True)
class Unreadable:
    """A record left out of the linkage, and why."""

    source: str
    line: int
    record_id: str
    reason: str


@dataclass(frozen=True)
class ScoredPair:
    source_1: str
    record_id_1: str
    source_2: str
    record_id_2: str
    match_probability: float
    match_weight: float
    # With `explain=True`: for each comparison of the model, the level the pair reached and
    # its match weight (log2 of the Bayes factor), the reason shown to a reviewer.
    fields: tuple["FieldComparison", ...] = ()


@dataclass(frozen=True)
class FieldComparison:
    comparison: str
    level: str
    match_weight: float | None  # None when a value is missing (the comparison is neutral)


def _level_labels(model: dict) -> dict[str, dict[int, str]]:
    """Splink's comparison vector value of each level: -1 for the null level, then the
    other levels counted from the last (0) up to the first."""
    labels = {}
    for comparison in model["splink"]["comparisons"]:
        levels = [level for level in comparison["comparison_levels"]
                  if not level.get("is_null_level")]
        named = {len(levels) - 1 - number: level["label_for_charts"]
                 for number, level in enumerate(levels)}
        named[-1] = next((level["label_for_charts"] for level in comparison["comparison_levels"]
                          if level.get("is_null_level")), "missing")
        labels[comparison["output_column_name"]] = named
    return labels


@dataclass(frozen=True)
class PairQuality:
    """Pairs of records: true positives, false positives, false negatives."""

    true_positives: int
    false_positives: int
    false_negatives: int

    @property
    def precision(self) -> float:
        predicted = self.true_positives + self.false_positives
        return self.true_positives / predicted if predicted else 1.0

    @property
    def recall(self) -> float:
        true = self.true_positives + self.false_negatives
        return self.true_positives / true if true else 1.0

    @property
    def f1(self) -> float:
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0


@dataclass
class LinkageResult:
    """Every readable record's cluster (keyed by source and record id), the scored pairs
    from `pairs_written_from` up, the unreadable records, and the model used."""

    clusters: dict[tuple[str, str], str]
    pairs: list[ScoredPair]
    unreadable: list[Unreadable]
    threshold: float
    model_version: int
    trained: bool
    link: bool = False
    truth: dict[tuple[str, str], str] = field(default_factory=dict)

    def quality(self) -> PairQuality | None:
        """Precision, recall and F1 of pairs against the truth the records carried; None
        when no record had a truth value. In a link only pairs across the two registers
        count."""
        if not self.truth:
            return None
        return pair_quality(self.clusters, self.truth, across_sources=self.link)


# --- the model ---------------------------------------------------------------------------

def load_model(path: Path | str | None = None) -> dict:
    """The model file: `settings` for Splink, `training`, `threshold`, `version`."""
    return json.loads(Path(path or MODEL_PATH).read_text(encoding="utf-8"))


# --- reading registers -------------------------------------------------------------------

def parse_mapping(text: str) -> dict[str, str]:
    """`given_name=FIRST,family_name=LAST,…` as {field: column}; unknown fields are an
    error."""
    mapping: dict[str, str] = {}
    for item in (text or "").split(","):
        if not item.strip():
            continue
        name, sep, column = item.partition("=")
        name, column = name.strip(), column.strip()
        if not sep or not column:
            raise RegisterError(f"{item.strip()!r}: give FIELD=COLUMN")
        if name not in FIELDS:
            raise RegisterError(f"{name!r} is not a field (known: {', '.join(FIELDS)})")
        mapping[name] = column
    if not {"given_name", "family_name"} & mapping.keys():
        raise RegisterError("map at least given_name or family_name to a column")
    return mapping


def read_register(path: Path | str, id_column: str, mapping: Mapping[str, str],
                  truth_column: str | None = None) -> list[dict]:
    """The records of a CSV file (UTF-8, a header line, comma, semicolon or tab
    separated) as dicts of `record_id`, `line`, the mapped fields and `truth`. A missing
    file, or a column named that the header lacks, is a `RegisterError`."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise RegisterError(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise RegisterError(f"{path}: not UTF-8 text") from None
    try:
        dialect = csv.Sniffer().sniff(text.split("\n", 1)[0], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(text.splitlines(keepends=True), dialect=dialect)
    header = reader.fieldnames or []
    wanted = [id_column, *mapping.values(), *([truth_column] if truth_column else [])]
    missing = [column for column in wanted if column not in header]
    if missing:
        raise RegisterError(f"{path}: no column {', '.join(map(repr, missing))} "
                            f"(the header has {', '.join(header) or 'nothing'})")
    records = []
    next_line = 2
    for row in reader:
        records.append({
            "record_id": (row.get(id_column) or "").strip(),
            "line": next_line,
            **{name: row.get(column) or "" for name, column in mapping.items()},
            "truth": (row.get(truth_column) or "").strip() if truth_column else "",
        })
        next_line = reader.line_num + 1
    return records


def _prepare(records: Iterable[Mapping], source: str, first_id: int, today: date | None):
    """The normalised register as an Arrow table with internal ids, the (source, record id)
    of each row, the truth of each and the unreadable records (in the order of the
    records). The register is read column by column and each distinct value once
    (`IdentityNormaliser`): at a million records, reading each record on its own cost more
    than the whole of the linkage's SQL."""
    records = list(records)
    problems: list[tuple[int, Unreadable]] = []
    identified: list[int] = []
    record_ids: list[str] = []
    seen: set[str] = set()
    for index, record in enumerate(records):
        record_id = str(record.get("record_id") or "").strip()
        if not record_id or record_id in seen:
            reason = ("the record id is used by an earlier record" if record_id
                      else "no record id")
            problems.append((index, Unreadable(source, record.get("line") or index + 1,
                                               record_id, reason)))
            continue
        seen.add(record_id)
        identified.append(index)
        record_ids.append(record_id)
    rows = [records[index] for index in identified]
    columns, reasons = _normalised_columns(rows, IdentityNormaliser(today))
    readable = np.ones(len(rows), dtype=bool)
    for found in reasons.values():
        readable &= ~found.unreadable
    for position in np.flatnonzero(~readable).tolist():
        why = {field: found.reason(position) for field, found in reasons.items()
               if found.unreadable[position]}
        index = identified[position]
        problems.append((index, Unreadable(source, rows[position].get("line") or index + 1,
                                           record_ids[position], str(UnreadableRecord(why)))))
    kept = np.flatnonzero(readable)
    columns["unique_id"] = pa.array(np.arange(first_id, first_id + len(kept), dtype=np.int64))
    table = pa.Table.from_arrays(
        [columns[name] if name == "unique_id" else columns[name].take(kept)
         for name in _SCHEMA.names], schema=_SCHEMA)
    keys = [(source, record_ids[position]) for position in kept.tolist()]
    truth = {}
    for position in kept.tolist():
        record = rows[position]
        value = record.get("truth") or record.get("person_id")
        if value:
            truth[(source, record_ids[position])] = str(value)
    unreadable = [item for _, item in sorted(problems, key=lambda problem: problem[0])]
    return table, keys, truth, unreadable


@dataclass(frozen=True)
class _Reasons:
    """Which rows of a column cannot be read, and why (the reason of each distinct value)."""

    unreadable: np.ndarray  # one bool a row
    reasons: list  # the reason of each distinct value, None when it can be read
    rows: np.ndarray  # the distinct value of each row

    def reason(self, position: int) -> str:
        return self.reasons[self.rows[position]]


def _distinct(texts: Sequence[str]) -> tuple[list[str], np.ndarray]:
    """The distinct values of a column and, for each row, the number of its value."""
    encoded = pa.array(texts, pa.string()).dictionary_encode()
    return encoded.dictionary.to_pylist(), encoded.indices.to_numpy(zero_copy_only=False)


def _normalised_columns(rows: list[Mapping], normalise: IdentityNormaliser):
    """The comparison columns of the rows (Arrow arrays, `_SCHEMA`'s names but
    `unique_id`) and, for each field that can make a record unreadable, a `_Reasons`."""
    texts = {name: [row.get(name) or "" for row in rows] for name in FIELDS}
    columns: dict[str, pa.Array] = {}
    missing_name = np.ones(len(rows), dtype=bool)
    spelling_numbers: dict[str, int] = {}

    def numbered(spellings: tuple[str, ...]) -> list[int]:
        return [spelling_numbers.setdefault(spelling, len(spelling_numbers))
                for spelling in spellings]

    for prefix, name in (("given", "given_name"), ("family", "family_name"),
                         ("place", "place_of_birth")):
        distinct, numbers = _distinct(texts[name])
        forms = [normalise.name(text) for text in distinct]
        columns[f"{prefix}_forms"] = pa.array(
            [numbered(each.forms) if each else None for each in forms], _NAME_LIST
        ).take(numbers)
        columns[f"{prefix}_keys"] = pa.array(
            [numbered(each.keys) if each else None for each in forms], _NAME_LIST
        ).take(numbers)
        columns[f"{prefix}_key"] = pa.array(
            [each.key if each else None for each in forms], pa.string()).take(numbers)
        if prefix != "place":
            missing_name &= np.array([each is None for each in forms], dtype=bool)[numbers]
    reasons = {"family_name": _Reasons(missing_name, [NO_NAME], np.zeros(len(rows), np.int64))}
    codes: dict[str, tuple[list, np.ndarray]] = {}
    for name in CHECKED_FIELDS:
        distinct, numbers = _distinct(texts[name])
        if name == "phone":  # read in the person's country: distinct (number, country)
            countries, of_country = codes["citizenship"]
            pairs, numbers = np.unique(numbers.astype(np.int64) * (len(countries) + 1)
                                       + of_country, return_inverse=True)
            read = [normalise.read(name, distinct[pair // (len(countries) + 1)],
                                   countries[pair % (len(countries) + 1)])
                    for pair in pairs.tolist()]
        else:
            read = [normalise.read(name, text) for text in distinct]
        values = [value for value, _ in read]
        codes[name] = (values, numbers)
        reasons[name] = _Reasons(np.array([why is not None for _, why in read],
                                          dtype=bool)[numbers],
                                 [why for _, why in read], numbers)
    born, numbers = codes["birth_date"]
    columns["birth_text"] = pa.array([each.isoformat() if each else None for each in born],
                                     pa.string()).take(numbers)
    for part in ("year", "month", "day"):
        columns[f"birth_{part}"] = pa.array([getattr(each, part) if each else None
                                             for each in born], pa.int32()).take(numbers)
    for name in ("sex", "citizenship", "phone"):
        values, numbers = codes[name]
        columns[name] = pa.array(values, pa.string()).take(numbers)
    distinct, numbers = _distinct(texts["document_number"])
    columns["document_number"] = pa.array(
        [normalise.read("document_number", text)[0] for text in distinct],
        pa.string()).take(numbers)
    return columns, reasons


# --- running the model -------------------------------------------------------------------

def _splink_settings(model: dict, link_type: str, prior: float, explain: bool = False) -> dict:
    settings = {**model["splink"], "link_type": link_type,
                "probability_two_random_records_match": prior}
    if explain:  # Splink keeps the comparison levels (gamma_) only with the matching columns
        settings["retain_intermediate_calculation_columns"] = True
        settings["retain_matching_columns"] = True
    return settings


def _prior(db_api, tables, model: dict, link_type: str, pairs: int) -> float:
    """The probability that two records match, from the pairs the deterministic rules find
    and the recall the model states for them; at least one match in all the pairs."""
    from splink.blocking_analysis import count_comparisons_from_blocking_rules

    training = model["training"]
    counts = count_comparisons_from_blocking_rules(
        tables, blocking_rules=training["deterministic_rules"], link_type=link_type,
        record_sample_proportion=1.0)
    found = counts[-1]["cumulative_comparison_count"] if counts else 0
    expected = max(found / training["deterministic_recall"], 1.0)
    return min(expected / pairs, 0.5)


def _run(arrow_tables: Sequence[pa.Table], link_type: str, model: dict, threshold: float,
         explain: bool = False, db_api=None):
    """Score and cluster on Splink's `db_api` (DuckDB unless another backend is given)."""
    from splink import DuckDBAPI, Linker

    logging.getLogger("splink").setLevel(logging.ERROR)
    db_api = db_api or DuckDBAPI()
    tables = [db_api.register(table, table_name=f"register_{number}")
              for number, table in enumerate(arrow_tables)]
    sizes = [table.num_rows for table in arrow_tables]
    pairs = sizes[0] * (sizes[0] - 1) // 2 if link_type == "dedupe_only" else sizes[0] * sizes[1]
    clock = _Clock()
    prior = _prior(db_api, tables if len(tables) > 1 else tables[0], model, link_type, pairs)
    linker = Linker(tables if len(tables) > 1 else tables[0],
                    _splink_settings(model, link_type, prior, explain), log_level=logging.ERROR)
    training = model["training"]
    trained = sum(sizes) >= training["train_from_records"]
    clock("prior")
    if trained:
        linker.training.estimate_u_using_random_sampling(
            max_pairs=training["u_max_pairs"], seed=training["u_seed"])
        clock("u by random sampling")
        for rule in training["em_blocking_rules"]:
            # The model has no term-frequency adjustments, so EM can iterate on the counts
            # of each pattern of levels instead of on every pair: the same estimates. Pairs
            # beyond `em_max_pairs` (a million records born on 30,000 days make 28 million)
            # are left out by a hash of the record ids, the same on every run.
            linker.training.estimate_parameters_using_expectation_maximisation(
                rule, estimate_without_term_frequencies=True,
                max_pairs=training["em_max_pairs"])
            clock(f"EM blocked on {rule}")
    floor = min(threshold, model["pairs_written_from"])
    predictions = linker.inference.predict(threshold_match_probability=floor)
    clock("scoring")
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=threshold)
    clock("clustering")
    names = [comparison["output_column_name"] for comparison in model["splink"]["comparisons"]]
    columns = "unique_id_l, unique_id_r, match_probability, match_weight"
    if explain:
        columns += "".join(f", gamma_{name}, mw_{name}" for name in names)
    written = predictions.as_duckdbpyrelation().filter(
        f"match_probability >= {model['pairs_written_from']}").select(columns).fetchnumpy()
    scored = list(zip(written["unique_id_l"].tolist(), written["unique_id_r"].tolist(),
                      written["match_probability"].tolist(), written["match_weight"].tolist(),
                      _explanations(written, names, model) if explain
                      else [()] * len(written["unique_id_l"]),
                      strict=True))
    found = clusters.as_duckdbpyrelation().select("unique_id, cluster_id").fetchnumpy()
    cluster_of = dict(zip(found["unique_id"].tolist(), found["cluster_id"].tolist(),
                          strict=True))
    clock("reading the results")
    return scored, cluster_of, trained


def _explanations(written, names: list[str], model: dict) -> list[tuple]:
    labels = _level_labels(model)
    rows = []
    for number in range(len(written["unique_id_l"])):
        fields = []
        for name in names:
            gamma = int(written[f"gamma_{name}"][number])
            weight = None if gamma == -1 else float(written[f"mw_{name}"][number])
            fields.append(FieldComparison(name, labels[name].get(gamma, str(gamma)), weight))
        rows.append(tuple(fields))
    return rows


class _Clock:
    """Logs (at DEBUG, logger `opennrm.linkage`) the seconds each stage of a run took, and
    the processor seconds of the process (all threads): on a shared machine the wall time
    alone says more about the neighbours than about the stage."""

    def __init__(self):
        self.last = time.perf_counter()
        self.last_cpu = time.process_time()

    def __call__(self, stage: str) -> None:
        now, cpu = time.perf_counter(), time.process_time()
        _log.debug("%s: %.1f s (processor %.1f s)", stage, now - self.last, cpu - self.last_cpu)
        self.last, self.last_cpu = now, cpu


def _result(keys, truth, unreadable, scored, cluster_of, model, threshold, trained, link):
    numbers: dict[object, str] = {}
    clusters = {}
    for unique_id, key in enumerate(keys):
        found = cluster_of.get(unique_id, ("alone", unique_id))
        if found not in numbers:
            numbers[found] = f"C{len(numbers) + 1:06d}"
        clusters[key] = numbers[found]
    pairs = sorted(
        (ScoredPair(*keys[left], *keys[right], float(probability), float(weight), fields)
         for left, right, probability, weight, fields in scored
         if probability >= model["pairs_written_from"]),
        key=lambda pair: (-pair.match_probability, pair.record_id_1, pair.record_id_2))
    return LinkageResult(clusters=clusters, pairs=pairs, unreadable=unreadable,
                         threshold=threshold, model_version=model["version"], trained=trained,
                         link=link, truth=truth)


def _threshold(model: dict, threshold: float | None) -> float:
    value = model["threshold"] if threshold is None else threshold
    if not 0 < value < 1:
        raise RegisterError(f"the threshold {value} is not a probability between 0 and 1")
    return value


def dedupe(records: Iterable[Mapping], threshold: float | None = None, *,
           model: dict | None = None, source: str = "", today: date | None = None,
           explain: bool = False, db_api=None) -> LinkageResult:
    """Cluster the records of one register that are the same person. Each record is a
    mapping with `record_id`, any of `normalise.FIELDS`, and optionally `line` (for the
    report) and `truth` or `person_id` (for `LinkageResult.quality`). `explain`: each
    scored pair carries the level and weight of every comparison. `db_api`: a Splink
    backend other than DuckDB (`linkage.spark`)."""
    model = model or load_model()
    threshold = _threshold(model, threshold)
    rows, keys, truth, unreadable = _prepare(records, source, 0, today)
    if rows.num_rows < 2:
        return _result(keys, truth, unreadable, [], {}, model, threshold, False, False)
    scored, cluster_of, trained = _run([rows], "dedupe_only", model, threshold, explain,
                                       db_api)
    return _result(keys, truth, unreadable, scored, cluster_of, model, threshold, trained,
                   False)


def link(left: Iterable[Mapping], right: Iterable[Mapping], threshold: float | None = None,
         *, model: dict | None = None, sources: tuple[str, str] = ("left", "right"),
         today: date | None = None, explain: bool = False, db_api=None) -> LinkageResult:
    """Cluster the records of two registers that are the same person: only pairs across
    the registers are compared; the cluster ids are shared by both."""
    model = model or load_model()
    threshold = _threshold(model, threshold)
    if sources[0] == sources[1]:
        raise RegisterError("the two registers need different names")
    left_rows, left_keys, left_truth, left_unreadable = _prepare(left, sources[0], 0, today)
    right_rows, right_keys, right_truth, right_unreadable = _prepare(
        right, sources[1], left_rows.num_rows, today)
    keys = left_keys + right_keys
    truth = {**left_truth, **right_truth}
    unreadable = left_unreadable + right_unreadable
    if not left_rows.num_rows or not right_rows.num_rows:
        return _result(keys, truth, unreadable, [], {}, model, threshold, False, True)
    scored, cluster_of, trained = _run([left_rows, right_rows], "link_only", model, threshold,
                                       explain, db_api)
    return _result(keys, truth, unreadable, scored, cluster_of, model, threshold, trained,
                   True)


# --- quality -----------------------------------------------------------------------------

def _pairs_within(groups: Mapping[object, Counter], across_sources: bool) -> int:
    total = 0
    for by_source in groups.values():
        if across_sources:
            sizes = list(by_source.values())
            everyone = sum(sizes)
            total += (everyone * everyone - sum(size * size for size in sizes)) // 2
        else:
            size = sum(by_source.values())
            total += size * (size - 1) // 2
    return total


def pair_quality(clusters: Mapping[tuple[str, str], str], truth: Mapping[tuple[str, str], str],
                 across_sources: bool = False) -> PairQuality:
    """Pairs in one cluster against pairs with one truth value, over the records that have
    a cluster (a record without truth is a person of its own). With `across_sources`, only
    pairs of records from different sources count (a link)."""
    predicted: dict[object, Counter] = defaultdict(Counter)
    true: dict[object, Counter] = defaultdict(Counter)
    both: dict[object, Counter] = defaultdict(Counter)
    for key, cluster in clusters.items():
        person = truth.get(key) or ("unknown", key)
        predicted[cluster][key[0]] += 1
        true[person][key[0]] += 1
        both[(cluster, person)][key[0]] += 1
    hits = _pairs_within(both, across_sources)
    return PairQuality(true_positives=hits,
                       false_positives=_pairs_within(predicted, across_sources) - hits,
                       false_negatives=_pairs_within(true, across_sources) - hits)
