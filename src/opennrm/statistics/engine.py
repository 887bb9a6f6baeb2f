"""One engine for every table set: table definitions are data (definitions/*.toml).

A definition names, for each table, the frame it reads (see `extract`), which rows of it
count (`where`), the unit counted (persons, cases, referrals or decisions), and the
dimensions of its rows and columns with the mapping from our codes to the categories of
the standard (Eurostat, GLOTIP, CTDC…). The engine computes every table with Polars on
the frames read in SQL, on SQLite and PostgreSQL alike.

Counting persons: the cases of one statistical person (`person_key`) count once. Each
person is described by their earliest case in the table's population (first contact,
then case number: `case_order`; an offender by their earliest record, by the date the
table counts, then the record) for single-valued dimensions (sex, age group…), and by
the union of their cases for multi-valued ones (forms of exploitation, means of
control). A person with several values of a multi-valued dimension counts once in each of
its rows: such a table is marked non-additive and only its total may be summed.

Unknown is a category of its own, apart from a known zero: every category of a
dimension is listed, with 0 when no unit falls in it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

import polars as pl
from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from opennrm.core import codelists, country_groups, datafiles
from opennrm.statistics import frames as sql_frames
from opennrm.statistics.tables import Cell, Table, TableSetResult

DEFINITIONS_DIR = Path(__file__).parent / "definitions"
SCHEMA_DIR = Path(__file__).parent / "schemas"
# The default population file, beside the table sets but not one of them.
POPULATION_FILE_NAME = "population.toml"
ENGINE_VERSION = "1"

UNIT_KEYS = {"persons": "person_key", "cases": "case_id", "referrals": "referral_id",
             "decisions": "_row"}
# The date that orders a person's cases (their earliest case describes them): the first of
# these a frame has.
ORDER_COLUMNS = ("first_contact_on", "sent_on", "delivered_on", "closed_on", "returned_on",
                 "decided_on", "suspected_on", "prosecuted_on", "convicted_on", "identified_on")
# What breaks a tie on that date: the first of these a frame has (the rank of the case
# number; a suspect's record, in the order recorded; the internal id of a frame from an
# older release snapshot).
TIE_COLUMNS = ("case_order", "suspect_id", "case_id")


class DefinitionError(ValueError):
    """A table definition file is wrong: the message names the file and the table."""


def _check_definition(path: Path, definition: dict) -> None:
    """What the schema cannot say: the key is the file's name, the dimensions a table
    names exist, and the code lists a dimension names exist."""
    datafiles.name_is_file_name("key")(path, definition)
    dimensions = definition.get("dimensions", {})
    for name, dimension in dimensions.items():
        if "codelist" in dimension and dimension["codelist"] not in codelists.available():
            raise datafiles.error_at(path, ["dimensions", name, "codelist"],
                                     f"unknown code list {dimension['codelist']!r}")
    for index, table in enumerate(definition["tables"]):
        for axis in ("rows", "columns"):
            name = table.get(axis)
            if name and name not in dimensions:
                raise datafiles.error_at(path, ["tables", index, axis],
                                         f"table {table['key']}: unknown dimension {name!r}")


# Table sets are found in their folders: every *.toml file but the population file is one.
TABLE_DEFINITIONS = datafiles.register(datafiles.DataKind(
    name="table set",
    schema=SCHEMA_DIR / "table_set.schema.json",
    folders=lambda: [DEFINITIONS_DIR, *map(Path, settings.OPENNRM_TABLE_SET_DIRS)],
    pattern="*.toml",
    exclude=frozenset({POPULATION_FILE_NAME}),
    check=_check_definition,
))
POPULATION = datafiles.register(datafiles.DataKind(
    name="population figures",
    schema=SCHEMA_DIR / "population.schema.json",
    folders=lambda: [DEFINITIONS_DIR],
    pattern=POPULATION_FILE_NAME,
))


@cache
def _table_sets(folders: tuple[str, ...]) -> dict[str, dict]:
    """{key: definition} of every table set in the built-in folder and `folders`, in
    their `order` (sets without one last, by key). A set in a later folder replaces a
    built-in one of the same key."""
    found = {}
    for path, definition in TABLE_DEFINITIONS.load_all(
            [DEFINITIONS_DIR, *map(Path, folders)]).items():
        found[path.stem] = definition
    ordered = sorted(found.items(), key=lambda item: (item[1].get("order") is None,
                                                      item[1].get("order", 0), item[0]))
    return dict(ordered)


def table_sets() -> dict[str, dict]:
    return _table_sets(tuple(settings.OPENNRM_TABLE_SET_DIRS))


def table_set_keys() -> tuple[str, ...]:
    """The keys of the table sets, in their order (the first is the default)."""
    return tuple(table_sets())


def load_definition(key: str) -> dict:
    try:
        return table_sets()[key]
    except KeyError:
        raise KeyError(f"unknown table set {key!r}") from None


def table_set_choices() -> list[tuple[str, str]]:
    return [(key, _(definition["title"])) for key, definition in table_sets().items()]


def frames_needed(keys) -> set[str]:
    return {table["frame"] for key in keys for table in load_definition(key)["tables"]}


@dataclass
class Category:
    code: str
    label: str


# --- dimensions -------------------------------------------------------------------------

def _expand_values(values: list) -> list[str]:
    """Special values: "@national" is the node's country, "@eu" the other EU members."""
    expanded = []
    for value in values:
        if value == "@national":
            expanded.append(settings.OPENNRM_COUNTRY)
        elif value == "@eu":
            expanded.extend(sorted(country_groups.members("eu") - {settings.OPENNRM_COUNTRY}))
        else:
            expanded.append(str(value).lower() if isinstance(value, bool) else value)
    return expanded


def _categories(dimension: dict, frame: pl.DataFrame) -> list[Category]:
    """The categories of a dimension, in the order they are published."""
    categories: list[Category] = []
    if "codelist" in dimension:
        codes = [entry["code"] for entry in codelists.load(dimension["codelist"])["codes"]]
        if "top" in dimension:
            codes = _top_codes(dimension, frame)
        categories = [Category(code, codelists.label(dimension["codelist"], code))
                      for code in codes]
        if "top" in dimension:
            categories.append(Category("other", _("Other")))
    for entry in dimension.get("categories", []):
        categories.append(Category(entry["code"], _(entry["label"])))
    if dimension.get("unknown", True) and not any(c.code == "unknown" for c in categories):
        categories.append(Category("unknown", _("Unknown")))
    return categories


def _top_codes(dimension: dict, frame: pl.DataFrame) -> list[str]:
    """The `top` most frequent codes of the column in this population (then by code)."""
    column = pl.col(dimension["column"])
    if isinstance(frame.schema[dimension["column"]], pl.List):
        values = frame.select(column.explode().alias("v"))
    else:
        values = frame.select(column.alias("v"))
    counts = (values.filter(pl.col("v").is_not_null() & (pl.col("v") != ""))
              .group_by("v").len().sort(["len", "v"], descending=[True, False]))
    return counts["v"].head(dimension["top"]).to_list()


def _mapping(dimension: dict, categories: list[Category]) -> tuple[dict, str | None]:
    """{our code: category code} and the category for anything else ("*"), if any."""
    mapping: dict[str, str] = {}
    other = None
    if "codelist" in dimension:
        # Every code of the list is its own category, "other" and "unknown" included when
        # the list has them; with `top`, "other" also takes every code not in the top.
        for category in categories:
            mapping[category.code] = category.code
        if "top" in dimension:
            other = "other"
    for entry in dimension.get("categories", []):
        for value in _expand_values(entry.get("values", [])):
            if value == "*":
                other = entry["code"]
            else:
                mapping[value] = entry["code"]
    return mapping, other


def _category_expression(dimension: dict, categories: list[Category],
                         dtype: pl.DataType) -> pl.Expr:
    """An expression giving each row's category code (a list for a list column)."""
    column = pl.col(dimension["column"])
    unknown = "unknown" if any(c.code == "unknown" for c in categories) else None
    if "bins" in dimension:
        # No number: another column may say which category (`when_unknown`: the child of
        # unknown age presumed a child, the adult whose exact age is unknown).
        other = dimension.get("when_unknown", {"column": "", "values": {}})
        expression = pl
        for value, code in other["values"].items():
            expression = expression.when(
                column.is_null() & (pl.col(other["column"]) == value)).then(pl.lit(code))
        expression = expression.when(column.is_null()).then(pl.lit(unknown))
        for low, high, code in dimension["bins"]:
            expression = expression.when((column >= low) & (column <= high)).then(pl.lit(code))
        return expression.otherwise(pl.lit(unknown))
    mapping, other = _mapping(dimension, categories)
    fallback = other if other is not None else unknown

    def one(value: pl.Expr) -> pl.Expr:
        known = value.replace_strict(mapping, default=fallback, return_dtype=pl.Utf8)
        return pl.when(value.is_null() | (value == "")).then(pl.lit(unknown)).otherwise(known)

    if isinstance(dtype, pl.List):
        mapped = column.list.eval(one(pl.element())).list.unique(maintain_order=True)
        return pl.when(column.list.len() == 0).then(pl.lit([unknown])).otherwise(mapped)
    if dtype == pl.Boolean:
        return one(column.cast(pl.Utf8).str.to_lowercase())
    return one(column)


def _is_multi_valued(dimension: dict | None, frame: pl.DataFrame) -> bool:
    return bool(dimension) and isinstance(frame.schema[dimension["column"]], pl.List)


# --- populations ------------------------------------------------------------------------

def _apply_where(frame: pl.DataFrame, where: dict) -> pl.DataFrame:
    """Keep the rows that meet every condition: {column: [values]} or {column: "set"}."""
    for column, condition in where.items():
        if condition == "set":
            frame = frame.filter(pl.col(column).is_not_null())
        elif condition == "not set":
            frame = frame.filter(pl.col(column).is_null())
        elif isinstance(condition, dict):
            values = _expand_values(condition["not"])
            frame = frame.filter(~pl.col(column).is_in(values) | pl.col(column).is_null())
        else:
            values = _expand_values(condition)
            if frame.schema[column] == pl.Boolean:
                frame = frame.filter(pl.col(column).cast(pl.Utf8).is_in(values))
            else:
                frame = frame.filter(pl.col(column).is_in(values))
    return frame


def _one_row_per_person(frame: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    """Each person once: the earliest case for single values, the union for lists.

    Only the columns a table needs are sorted, and only persons with several cases have
    their lists merged: most persons have one case.
    """
    order = ([c for c in ORDER_COLUMNS if c in frame.columns][:1]
             + [c for c in TIE_COLUMNS if c in frame.columns][:1])
    wanted = [c for c in dict.fromkeys(columns) if c != "person_key"]
    lists = [c for c in wanted if isinstance(frame.schema[c], pl.List)]
    people = (frame.select(list(dict.fromkeys(["person_key", *order, *wanted])))
              .sort(order).unique("person_key", keep="first", maintain_order=True)
              .select(["person_key", *wanted]))
    if lists and people.height < frame.height:
        several = frame.filter(pl.col("person_key").is_duplicated())
        unions = several.group_by("person_key").agg(
            [pl.col(c).flatten().drop_nulls().unique(maintain_order=True).alias(f"{c}__all")
             for c in lists])
        people = people.join(unions, on="person_key", how="left").with_columns(
            [pl.coalesce(f"{c}__all", c).alias(c) for c in lists]
        ).drop([f"{c}__all" for c in lists])
    return people


def _population_key(table: dict, frame: pl.DataFrame) -> tuple:
    per_person = (table.get("unit", "persons") == "persons"
                  and table.get("count_persons") != "per_category")
    return (id(frame), json.dumps(table.get("where", {}), sort_keys=True), per_person)


def _columns_read(table: dict, definition: dict) -> list[str]:
    """The columns of its frame a table reads for its rows, columns and figures."""
    dimensions = definition.get("dimensions", {})
    names = [table["rows"]] + ([table["columns"]] if table.get("columns") else [])
    columns = [dimensions[name]["column"] for name in names]
    columns += [dimensions[name]["when_unknown"]["column"] for name in names
                if "when_unknown" in dimensions[name]]
    for extra in ("measure", "share", "ratio"):
        if extra in table:
            columns += [c for c in (table[extra].get("from"), table[extra].get("to"),
                                    table[extra].get("column")) if c]
    return columns


def _plan_columns(keys, frames: dict[str, pl.DataFrame], cache: dict) -> None:
    """Note in `cache` which columns each shared population needs, over all the tables."""
    plan = cache.setdefault("_columns", {})
    for key in keys:
        definition = load_definition(key)
        for table in definition["tables"]:
            frame = frames[table["frame"]]
            plan.setdefault(_population_key(table, frame), set()).update(
                [*TIE_COLUMNS, *ORDER_COLUMNS,
                 *_columns_read(table, definition)])


def _population(table: dict, frame: pl.DataFrame, columns: list[str],
                cache: dict | None = None) -> pl.DataFrame:
    """The units a table counts: the frame's rows that meet `where`, one per person when
    the table counts persons. Tables of one population share it through `cache`."""
    key = _population_key(table, frame)
    if cache is not None and key in cache:
        population = cache[key]
    else:
        population = _apply_where(frame, table.get("where", {}))
        if key[2]:  # one row per person
            # Only the columns the tables of this population read (all, if not known).
            wanted = (cache or {}).get("_columns", {}).get(key) or population.columns
            population = _one_row_per_person(
                population, [c for c in population.columns if c in wanted])
        if cache is not None:
            cache[key] = population
    if table.get("unit", "persons") == "decisions":
        population = population.with_row_index("_row")
    keep = [c for c in (*UNIT_KEYS.values(), *columns) if c in population.columns]
    return population.select(list(dict.fromkeys(keep)))


# --- tables ------------------------------------------------------------------------------

def _with_majority(frame: pl.DataFrame) -> pl.DataFrame:
    """A frame from a release snapshot taken before `majority` existed: derive it from the
    child flag as it was then (child or adult, never unknown)."""
    if "majority" in frame.columns or "is_child" not in frame.columns:
        return frame
    return frame.with_columns(
        pl.when(pl.col("is_child")).then(pl.lit("child")).otherwise(pl.lit("adult"))
        .alias("majority"))


def compute_table(table: dict, definition: dict, frames: dict[str, pl.DataFrame],
                  cache: dict | None = None) -> Table:
    frame = frames[table["frame"]]
    dimensions = definition.get("dimensions", {})
    row_dim = dimensions[table["rows"]]
    col_dim = dimensions.get(table["columns"]) if table.get("columns") else None
    population = _population(table, frame, _columns_read(table, definition), cache)
    if table.get("kind", "count") == "count":
        # A multi-valued dimension: one row per value (a person with none: one row of
        # null, counted as unknown). Counting distinct units keeps each unit once a cell.
        for dimension in (row_dim, col_dim):
            column = dimension["column"] if dimension else None
            if column and isinstance(population.schema[column], pl.List):
                population = population.with_columns(
                    pl.when(pl.col(column).list.len() > 0).then(pl.col(column))
                    .otherwise(pl.lit(None, dtype=pl.List(pl.Utf8))).alias(column)
                ).explode(column)
    rows = _categories(row_dim, population)
    columns = _categories(col_dim, population) if col_dim else []
    population = population.with_columns(
        _category_expression(row_dim, rows, population.schema[row_dim["column"]]).alias("_r"))
    if col_dim:
        population = population.with_columns(
            _category_expression(col_dim, columns, population.schema[col_dim["column"]])
            .alias("_c"))
    else:
        population = population.with_columns(pl.lit("total").alias("_c"))
    additive = not (_is_multi_valued(row_dim, frame) or _is_multi_valued(col_dim, frame)
                    or table.get("count_persons") == "per_category")
    if table.get("kind", "count") == "count":
        result = _count_table(table, population, rows, columns)
    else:
        result = _indicator_table(table, definition, population, rows)
    result.additive = additive
    result.row_dimension = _(row_dim.get("label", table["rows"]))
    result.column_dimension = _(col_dim.get("label", table["columns"])) if col_dim else ""
    return result


def _explode(frame: pl.DataFrame) -> pl.DataFrame:
    for column in ("_r", "_c"):
        if isinstance(frame.schema[column], pl.List):
            frame = frame.explode(column)
    return frame


def _counts(frame: pl.DataFrame, by: list[str], key: str) -> dict:
    if not by:
        return {(): frame.select(pl.col(key).n_unique()).item() if frame.height else 0}
    grouped = frame.group_by(by).agg(pl.col(key).n_unique().alias("n"))
    return {tuple(row[:-1]): row[-1] for row in grouped.iter_rows()}


def _count_table(table: dict, population: pl.DataFrame, rows: list[Category],
                 columns: list[Category]) -> Table:
    key = UNIT_KEYS[table.get("unit", "persons")]
    exploded = _explode(population.select([key, "_r", "_c"]))
    by_cell = _counts(exploded, ["_r", "_c"], key)
    by_row = _counts(exploded, ["_r"], key)
    by_column = _counts(exploded, ["_c"], key)
    total = _counts(population, [], key)[()]
    column_codes = [c.code for c in columns] or ["total"]
    return Table(
        key=table["key"], title=_(table["title"]), unit=table.get("unit", "persons"),
        row_dimension="", rows=[r.code for r in rows], row_labels=[r.label for r in rows],
        columns=column_codes, column_labels=[c.label for c in columns] or [_("Total")],
        cells=[[Cell(by_cell.get((r.code, c), 0)) for c in column_codes] for r in rows],
        row_totals=[Cell(by_row.get((r.code,), 0)) for r in rows],
        column_totals=[Cell(by_column.get((c,), 0)) for c in column_codes],
        total=Cell(total),
        description=_(table.get("description", "")) if table.get("description") else "",
        notes=[_(note) for note in table.get("notes", [])],
    )


# Column headings of indicator tables: marked here for the catalogues, translated where
# the table is computed (in the reader's language, or English for a release).
STATISTIC_LABELS = {
    "median": gettext_noop("Median (days)"),
    "p90": gettext_noop("90th percentile (days)"),
    "share": gettext_noop("Share (%)"),
    "rate": gettext_noop("Per 100,000 population"),
    "ratio": gettext_noop("Per person"),
}


def _statistic(frame: pl.DataFrame, statistic: str, table: dict, definition: dict,
               row_code: str | None) -> float | None:
    if frame.height == 0:
        return None
    if statistic in ("median", "p90"):
        days = frame["_days"].drop_nulls()
        if days.len() == 0:
            return None
        quantile = 0.5 if statistic == "median" else 0.9
        return float(days.quantile(quantile, interpolation="nearest"))
    if statistic == "share":
        return round(100.0 * frame["_hit"].sum() / frame.height, 1)
    if statistic == "ratio":
        # The distinct values of the units' column (a list: of all their lists) per unit: a
        # value found in several units counts once.
        values = frame["_values"]
        if isinstance(values.dtype, pl.List):
            values = values.explode()
        values = values.drop_nulls()
        if values.dtype == pl.Utf8:
            values = values.filter(values != "")
        return round(values.n_unique() / frame.height, 2)
    if statistic == "rate":
        population = _population_figure(definition, table, row_code)
        if not population:
            return None
        return round(frame.height * 100_000 / population, 2)
    raise DefinitionError(f"unknown statistic {statistic!r} in table {table['key']}")


def _indicator_table(table: dict, definition: dict, population: pl.DataFrame,
                     rows: list[Category]) -> Table:
    """Rows of one dimension; columns are statistics; the totals column holds the base."""
    statistics = table["statistics"]
    if "measure" in table:
        measure = table["measure"]
        population = population.with_columns(
            (pl.col(measure["to"]) - pl.col(measure["from"])).dt.total_days().alias("_days"))
    if "share" in table:
        share = table["share"]
        column = pl.col(share["column"])
        hit = column.is_not_null() if share.get("values") is None \
            else column.is_in(_expand_values(share["values"]))
        population = population.with_columns(hit.fill_null(False).alias("_hit"))
    if "ratio" in table:
        population = population.with_columns(pl.col(table["ratio"]["column"]).alias("_values"))
    population = _explode(population)
    cells, bases, row_totals = [], [], []
    for row in rows:
        part = population.filter(pl.col("_r") == row.code)
        base = part.height
        cells.append([Cell(_statistic(part, s, table, definition, row.code)) for s in statistics])
        bases.append([_base(part, s) for s in statistics])
        row_totals.append(Cell(base))
    return Table(
        key=table["key"], title=_(table["title"]), unit=table.get("unit", "persons"),
        kind="indicator", row_dimension="", rows=[r.code for r in rows],
        row_labels=[r.label for r in rows], columns=list(statistics),
        column_labels=[_(STATISTIC_LABELS[s]) for s in statistics],
        cells=cells, bases=bases, row_totals=row_totals,
        column_totals=[Cell(_statistic(population, s, table, definition, None))
                       for s in statistics],
        total=Cell(population.height),
        total_label=_("Persons") if table.get("unit", "persons") == "persons" else _("Number"),
        description=_(table.get("description", "")) if table.get("description") else "",
        notes=[_(note) for note in table.get("notes", [])],
    )


def _base(frame: pl.DataFrame, statistic: str) -> int:
    """How many units a statistic rests on (for suppressing figures on too few persons)."""
    if statistic in ("median", "p90"):
        return int(frame["_days"].drop_nulls().len()) if frame.height else 0
    return frame.height


def _population_figure(definition: dict, table: dict, row_code: str | None) -> int | None:
    """The resident population for a rate (the node's population file, by row category)."""
    figures = population_figures()
    group_name = table.get("population", "total")
    if group_name == "total" or row_code is None:
        return figures["total"]["total"]
    return figures.get(group_name, {}).get(row_code)


@cache
def population_figures() -> dict:
    path = Path(getattr(settings, "OPENNRM_POPULATION_FILE", "") or
                DEFINITIONS_DIR / POPULATION_FILE_NAME)
    return POPULATION.load(path)


# --- table sets --------------------------------------------------------------------------

def compute(key: str, start: date, end: date,
            frames: dict[str, pl.DataFrame] | None = None,
            cache: dict | None = None) -> TableSetResult:
    """Every table of the table set `key` for the period, exact counts (not for publishing:
    `releases.controlled` applies disclosure control)."""
    definition = load_definition(key)
    if frames is None:
        frames = sql_frames.read_frames(frames_needed([key]), start, end)
    frames = {name: _with_majority(frame) for name, frame in frames.items()}
    if cache is None:
        cache = {}
        _plan_columns([key], frames, cache)
    tables = [compute_table(table, definition, frames, cache)
              for table in definition["tables"]]
    return TableSetResult(
        key=key, title=_(definition["title"]), period_start=start, period_end=end,
        tables=tables, small_cell_label=definition.get("small_cell_label", ""),
        notes=[_(note) for note in definition.get("notes", [])],
    )


def compute_all(keys, start: date, end: date) -> list[TableSetResult]:
    """Several table sets for one period, reading each frame once."""
    frames = sql_frames.read_frames(frames_needed(keys), start, end)
    frames = {name: _with_majority(frame) for name, frame in frames.items()}
    cache: dict = {}  # the populations tables share, across the sets
    _plan_columns(keys, frames, cache)
    return [compute(key, start, end, frames, cache) for key in keys]
