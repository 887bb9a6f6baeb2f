"""Disclosure control across tables: one count hidden in one table is hidden in every table.

Tables of one period share counts. Eurostat's row "Reporting country" of victims by
citizenship and GLOTIP's row for the node's own country count the same persons; every
table of victims has the same overall total; Eurostat's victims by sex are the sex
margins of three tables. Protecting each table on its own is not enough: a count hidden
in one table and printed in another, or a margin printed in one table that rebuilds a
count hidden in another, gives the hidden count away by subtraction.

So the tables published together (every table set of the period) are seen as one system
of linear relations over the underlying counts:

* **Keys.** Each count of each table gets a key naming what it counts: the frame, the
  unit, the table's population (`where`, one row per person or not) and, for each of its
  dimensions, the column and the exact set of our codes (or age range) its category
  takes. Two counts with the same key are the same number, in whatever table or table set
  they appear. A key is derived from the table set's definition: no table-specific code.
* **Relations.** In each table, each row of cells adds up to its row total, each column
  to its column total, and the totals to the overall total. A relation of a non-additive
  table is kept only where it holds.

`protect` makes suppression consistent: a key hidden anywhere is hidden everywhere, then
each table's own secondary suppression runs again (`disclosure.protect_table`), until
nothing changes. `audit` then solves, by linear programming (`scipy.optimize.linprog`),
for the smallest and largest value of every hidden small count that is consistent with
all the published counts of all the tables: published counts fixed (a rounded count is
any value that rounds to it), relations as equalities, every count ≥ 0.

**Protection rule.** The interval a reader can work out for a count hidden as too small
(0 < value < threshold) must be at least `threshold` wide: upper − lower ≥ threshold. It
then contains more than `threshold` whole values, so it cannot lie inside the range of
small counts 1…threshold−1, and the reader cannot tell a small count from a zero or from
a count at or above the threshold. Counts hidden only to protect others (secondary) need
no interval of their own. When a count fails, `protect` hides one more count linked to it
(the smallest published one, a zero last) and checks again.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field

from opennrm.statistics import disclosure
from opennrm.statistics.tables import ROUNDED, SECONDARY, SUPPRESSED, Cell, Table, TableSetResult

logger = logging.getLogger(__name__)

Position = tuple[int, int]
Key = tuple


# --- keys --------------------------------------------------------------------------------

def _canonical(value):
    """`where` as a hashable value, lists sorted (their order says nothing)."""
    if isinstance(value, dict):
        return tuple(sorted((name, _canonical(item)) for name, item in value.items()))
    if isinstance(value, list):
        return tuple(sorted(json.dumps(item, sort_keys=True, default=str) for item in value))
    return value


def _merged(ranges) -> tuple:
    """Whole-number ranges merged: [0, 11] and [12, 17] are [0, 17]."""
    merged: list[list[int]] = []
    for low, high in sorted(ranges):
        if merged and low <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], high)
        else:
            merged.append([low, high])
    return tuple(tuple(pair) for pair in merged)


def category_sets(dimension: dict, codes: list[str]) -> dict[str, tuple]:
    """For each category code of a dimension, the exact set of values it takes, as the
    engine maps them (`engine._category_expression`): ("in", values), ("not", values) —
    every value but these, None standing for "not recorded" — or an age range."""
    from opennrm.statistics import engine

    unknown = "unknown" if "unknown" in codes else None
    if "bins" in dimension:
        ranges: dict[str, list] = {}
        for low, high, code in dimension["bins"]:
            ranges.setdefault(code, []).append((low, high))
        everything = _merged([r for found in ranges.values() for r in found])
        return {code: ("range", _merged(ranges[code])) if code in ranges
                else ("not range", everything) if code == unknown else ("none",)
                for code in codes}
    categories = [engine.Category(code, "") for code in codes]
    mapping, other = engine._mapping(dimension, categories)
    fallback = other if other is not None else unknown
    sets = {}
    for code in codes:
        if code == fallback:
            excluded = {value for value, target in mapping.items() if target != code}
            if code != unknown:
                excluded.add(None)
            sets[code] = ("not", frozenset(excluded))
        else:
            members = {value for value, target in mapping.items() if target == code}
            if code == unknown:
                members.add(None)
            sets[code] = ("in", frozenset(members))
    return sets


def _definition_of(set_key: str, table_key: str) -> tuple[dict, dict] | None:
    from opennrm.statistics import engine

    try:
        definition = engine.load_definition(set_key)
    except KeyError:
        return None
    for table in definition["tables"]:
        if table["key"] == table_key:
            return definition, table
    return None


def table_keys(set_key: str, table: Table) -> dict[Position, Key]:
    """The key of every count of a table, by its position in the grid of counts with
    totals (`disclosure._grid`): row len(rows) holds the column totals, column
    len(columns) the row totals. An indicator table's counts are its bases (row totals
    and overall total). A table whose definition cannot be found, or a non-additive
    indicator table, gets keys of its own (linked to nothing)."""
    found = _definition_of(set_key, table.key)
    height, width = len(table.rows), len(table.columns)
    positions = [(i, width) for i in range(height)] + [(height, width)]
    if table.kind != "indicator":
        positions += [(i, j) for i in range(height) for j in range(width)]
        positions += [(height, j) for j in range(width)]
    if found is None or (table.kind == "indicator" and not table.additive):
        return {p: ("table", set_key, table.key, p) for p in positions}
    definition, spec = found
    dimensions = definition.get("dimensions", {})
    per_person = (spec.get("unit", "persons") == "persons"
                  and spec.get("count_persons") != "per_category")
    population = ("population", spec["frame"], spec.get("unit", "persons"), per_person,
                  _canonical(spec.get("where", {})))
    row_dimension = dimensions[spec["rows"]]
    row_sets = category_sets(row_dimension, table.rows)
    column_dimension = dimensions.get(spec.get("columns") or "")
    column_sets = category_sets(column_dimension, table.columns) if column_dimension else {}

    def condition(dimension, sets, code):
        if dimension is None or code not in sets:
            return None  # the single "total" column: no condition
        return (dimension["column"], sets[code])

    keys = {}
    for i, j in positions:
        conditions = []
        if i < height:
            conditions.append(condition(row_dimension, row_sets, table.rows[i]))
        if j < width:
            conditions.append(condition(column_dimension, column_sets, table.columns[j]))
        keys[(i, j)] = (*population, frozenset(c for c in conditions if c is not None))
    return keys


# --- the system of tables ----------------------------------------------------------------

@dataclass
class Count:
    """One count of one table: where it is and what it counts."""

    result: int  # index of its table set in the list
    table: int  # index of its table in the set
    position: Position
    key: Key
    name: str


@dataclass
class System:
    """The counts of several table sets, and the relations between them."""

    results: list[TableSetResult]
    counts: list[Count] = field(default_factory=list)
    # Each relation: {key: coefficient}, the sum of coefficient × count being 0.
    relations: list[dict] = field(default_factory=list)
    # Each relation once, as sorted (key, coefficient) pairs: one table repeats another's.
    relations_seen: set[tuple] = field(default_factory=set)

    def cell(self, count: Count) -> Cell:
        table = self.results[count.result].tables[count.table]
        return _grid_cell(table, count.position)

    def keys(self) -> list[Key]:
        return list(dict.fromkeys(count.key for count in self.counts))


def _grid_cell(table: Table, position: Position) -> Cell:
    i, j = position
    height, width = len(table.rows), len(table.columns)
    if i < height and j < width:
        return table.cells[i][j]
    if i < height:
        return table.row_totals[i]
    if j < width:
        return table.column_totals[j]
    return table.total


def _name(result: TableSetResult, table: Table, position: Position) -> str:
    i, j = position
    height, width = len(table.rows), len(table.columns)
    row = table.row_labels[i] if i < height else "Total"
    column = table.column_labels[j] if j < width else "Total"
    return f"{result.key} / {table.key} / {row} × {column}"


def build(results: list[TableSetResult], exact: list[TableSetResult]) -> System:
    """The system of `results` (tables being protected), keyed and related on the counts
    of `exact` (the same tables before any suppression, to check the relations and the
    keys: two counts of one key must be equal, or their keys are told apart)."""
    system = System(results)
    values: dict[Key, float] = {}
    for r, (result, exact_result) in enumerate(zip(results, exact, strict=True)):
        if result.controls.get("epsilon") is not None:
            continue  # noisy tables: the noise protects them; their totals differ anyway
        for t, (table, exact_table) in enumerate(zip(result.tables, exact_result.tables,
                                                     strict=True)):
            keys = table_keys(result.key, table)
            for position, key in keys.items():
                value = _grid_cell(exact_table, position).value
                if key in values and values[key] != value:
                    logger.warning("statistics: %s and another count share a key but differ",
                                   _name(result, table, position))
                    key = ("table", result.key, table.key, position)
                    keys[position] = key
                values.setdefault(key, value)
                system.counts.append(Count(r, t, position, key,
                                           _name(result, table, position)))
            _add_relations(system, table, exact_table, keys)
    return system


def _add_relations(system: System, table: Table, exact: Table, keys: dict) -> None:
    height, width = len(table.rows), len(table.columns)
    lines = []
    if table.kind != "indicator":
        lines += [[(i, j) for j in range(width + 1)] for i in range(height + 1)]
        lines += [[(i, j) for i in range(height + 1)] for j in range(width + 1)]
    else:
        lines.append([(i, width) for i in range(height + 1)])
    seen = system.relations_seen
    for line in lines:
        relation: dict = {}
        for position in line[:-1]:
            relation[keys[position]] = relation.get(keys[position], 0) + 1
        relation[keys[line[-1]]] = relation.get(keys[line[-1]], 0) - 1
        relation = {key: c for key, c in relation.items() if c != 0}
        if not relation:
            continue
        parts = sum(_grid_cell(exact, position).value or 0 for position in line[:-1])
        if parts != (_grid_cell(exact, line[-1]).value or 0):
            continue  # a non-additive line: it does not add up, so it tells nothing
        canonical = tuple(sorted(relation.items(), key=repr))
        if canonical not in seen:
            seen.add(canonical)
            system.relations.append(relation)


# --- consistent suppression --------------------------------------------------------------

def _propagate(system: System) -> int:
    """Hide every count whose key is hidden in some table; the number of counts hidden."""
    hidden = {count.key for count in system.counts if system.cell(count).value is None}
    primary = {count.key for count in system.counts if system.cell(count).flag == SUPPRESSED}
    hid = 0
    for count in system.counts:
        cell = system.cell(count)
        if count.key in hidden and cell.value is not None:
            cell.value = None
            cell.flag = SUPPRESSED if count.key in primary else SECONDARY
            hid += 1
    return hid


def make_consistent(system: System) -> int:
    """Propagate hidden keys and re-run each table's secondary suppression until nothing
    changes; the number of counts hidden."""
    hid = 0
    while True:
        step = _propagate(system)
        for r, t in dict.fromkeys((c.result, c.table) for c in system.counts):
            step += disclosure.protect_table(system.results[r].tables[t])
        if not step:
            return hid
        hid += step


@dataclass
class Interval:
    """What a reader can work out about one hidden small count."""

    name: str
    lower: float
    upper: float  # float("inf") when nothing bounds it
    required: int

    @property
    def width(self) -> float:
        return self.upper - self.lower

    @property
    def ok(self) -> bool:
        return self.width >= self.required - 1e-6

    def describe(self) -> str:
        upper = "no upper bound" if self.upper == float("inf") else f"{self.upper:g}"
        return (f"{self.name}: between {self.lower:g} and {upper}, an interval of "
                f"{self.width:g} where at least {self.required} is required")


def audit(system: System, threshold: int, rounding: int = 0,
          solved_before: dict | None = None) -> list[Interval]:
    """For every key hidden as too small, the smallest and largest value consistent with
    every published count of the system (`scipy.optimize.linprog`). `solved_before`: see
    `_solve`."""
    return [interval for _key, interval in _solve(system, threshold, rounding,
                                                  solved_before=solved_before)]


def _solve(system: System, threshold: int, rounding: int = 0,
           skip: frozenset = frozenset(), solved_before: dict | None = None):
    """`audit`'s intervals one by one, as (key, interval), leaving out the keys in `skip`.
    `solved_before` keeps the intervals solved, by the problem solved: a later call given
    the same dictionary takes an interval from it when the key's group is unchanged.

    A published count is a constant, not an unknown: each relation is reduced to its
    unknowns (the hidden counts, and the rounded ones within their rounding range), and the
    unknowns fall apart into groups that share no relation. A hidden count's interval
    depends only on its group, so each is solved on its group's few relations rather than
    on the whole system (the same bounds, far smaller problems)."""
    import numpy as np
    from scipy.optimize import linprog

    value_of: dict[Key, float] = {}
    range_of: dict[Key, tuple[float, float]] = {}
    names: dict[Key, str] = {}
    primary: list[Key] = []
    for count in system.counts:
        cell = system.cell(count)
        names.setdefault(count.key, count.name)
        if cell.value is None:
            if cell.flag == SUPPRESSED and count.key not in primary:
                primary.append(count.key)
            continue
        value = float(cell.value)
        if cell.flag == ROUNDED and rounding > 1:
            low = max(0.0, value - rounding // 2)
            range_of[count.key] = (low, value - rounding // 2 + rounding - 1)
        else:
            value_of[count.key] = value
    primary = [key for key in primary if key not in skip]
    if not primary:
        return
    hidden = {key for key in system.keys() if key not in value_of and key not in range_of}

    # Each relation as (its unknowns with their coefficients, what they must add up to).
    reduced: list[tuple[dict[Key, float], float]] = []
    for relation in system.relations:
        unknowns = {key: c for key, c in relation.items() if key not in value_of}
        constant = sum(c * value_of[key] for key, c in relation.items() if key in value_of)
        if unknowns:
            reduced.append((unknowns, -constant))
        elif abs(constant) > 1e-9:
            raise RuntimeError("the release audit found published counts that do not add up")

    group_of = _groups(reduced)
    problems: dict[int, tuple] = {}  # each group's problem, as a hashable value
    for key in primary:
        group = group_of.get(key)
        if group is None:  # in no relation: nothing bounds it from above
            yield key, Interval(names[key], 0.0, float("inf"), threshold)
            continue
        unknowns, relations = group
        bounds = [range_of.get(other, (0, None)) if other not in hidden else (0, None)
                  for other in unknowns]
        if solved_before is not None:
            if id(group) not in problems:
                problems[id(group)] = (
                    tuple((tuple(terms.items()), total) for terms, total in relations),
                    frozenset(zip(unknowns, bounds, strict=True)))
            problem = (key, threshold, problems[id(group)])
            if problem in solved_before:
                yield key, solved_before[problem]
                continue
        column = {other: n for n, other in enumerate(unknowns)}
        matrix = np.zeros((len(relations), len(unknowns)))
        totals = np.zeros(len(relations))
        for row, (terms, total) in enumerate(relations):
            for other, coefficient in terms.items():
                matrix[row, column[other]] = coefficient
            totals[row] = total
        objective = np.zeros(len(unknowns))
        objective[column[key]] = 1.0
        ends = []
        for sign in (1.0, -1.0):
            solved = linprog(sign * objective, A_eq=matrix, b_eq=totals, bounds=bounds,
                             method="highs")
            if solved.status == 3:  # unbounded
                ends.append(float("inf"))
            elif solved.status != 0:
                raise RuntimeError(f"the release audit could not solve for {names[key]}: "
                                   f"{solved.message}")
            else:
                ends.append(sign * solved.fun)
        interval = Interval(names[key], ends[0], ends[1], threshold)
        if solved_before is not None:
            solved_before[problem] = interval
        yield key, interval


def _groups(relations: list[tuple[dict[Key, float], float]]) -> dict[Key, tuple]:
    """The unknowns joined through shared relations: for each unknown, its group as
    (the group's unknowns, the group's relations), one tuple shared by the group."""
    parent: dict[Key, Key] = {}

    def root(key: Key) -> Key:
        while parent.setdefault(key, key) != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    for terms, _total in relations:
        first, *others = terms
        for other in others:
            parent[root(other)] = root(first)
    members: dict[Key, list[Key]] = {}
    for key in parent:
        members.setdefault(root(key), []).append(key)
    groups: dict[Key, tuple] = {top: (keys, []) for top, keys in members.items()}
    for relation in relations:
        groups[root(next(iter(relation[0])))][1].append(relation)
    return {key: groups[root(key)] for key in parent}


def _repair(system: System, failing: Interval) -> bool:
    """Hide one more count so that the failing hidden count gets a wider interval: the
    smallest published count in a relation reached from it through hidden counts (a zero
    last). Returns False when there is none left to hide."""
    hidden = {c.key for c in system.counts if system.cell(c).value is None}
    start = next(c.key for c in system.counts if c.name == failing.name)
    reached, to_visit, candidates = {start}, [start], {}
    values = {c.key: system.cell(c).value for c in system.counts}
    while to_visit:
        key = to_visit.pop()
        for relation in system.relations:
            if key not in relation:
                continue
            for other in relation:
                if other in hidden and other not in reached:
                    reached.add(other)
                    to_visit.append(other)
                elif other not in hidden:
                    candidates[other] = values[other]
    if not candidates:
        return False
    chosen = min(candidates, key=lambda k: (candidates[k] == 0, candidates[k],
                                            list(values).index(k)))
    for count in system.counts:
        if count.key == chosen:
            cell = system.cell(count)
            cell.value, cell.flag = None, SECONDARY
    return True


@dataclass
class Protection:
    """What `protect` did: counts hidden to make the tables consistent, counts hidden to
    pass the audit, and the audit's intervals."""

    made_consistent: int
    repaired: int
    intervals: list[Interval]


def protect(results: list[TableSetResult], exact: list[TableSetResult],
            threshold: int) -> Protection:
    """Make suppression consistent across `results` (changed in place: each table already
    suppressed on its own, not yet rounded) and repair until the audit passes."""
    system = build(results, exact)
    consistent = make_consistent(system)
    repaired = 0
    # Hiding a count only widens every interval (a constant becomes an unknown), so a
    # hidden count that passed stays passed: after a repair only the others are solved
    # again, and the whole audit once, at the end, for the record, taking the intervals
    # whose group no repair changed from those already solved.
    passed: set[Key] = set()
    solved: dict = {}
    for _attempt in range(len(system.counts)):
        failing = _first_failing(system, threshold, passed, solved)
        if failing is None or not _repair(system, failing):
            break
        repaired += 1 + make_consistent(system)
    return Protection(consistent, repaired, audit(system, threshold, solved_before=solved))


def _first_failing(system: System, threshold: int, passed: set[Key],
                   solved: dict) -> Interval | None:
    """The first hidden count, of those not in `passed`, whose interval is too narrow;
    the ones found wide enough on the way are added to `passed`."""
    for key, interval in _solve(system, threshold, skip=frozenset(passed),
                                solved_before=solved):
        if not interval.ok:
            return interval
        passed.add(key)
    return None
