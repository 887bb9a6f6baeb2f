"""The Eurostat THB tables as SDMX-CSV 2.0, from a data structure definition kept as data.

The data structure definition (DSD) is a file in `statistics/sdmx/` (`crim_thb.json`),
checked against `sdmx/structure.schema.json` and against its table set when it loads. It
names the code lists, the dimensions in key order, the measure and the observation
attributes, and how the table set's categories become the DSD's codes: the mapping is data,
so a country that must send Eurostat's own codes changes the file, not this module.

Every count of a published table (cells, row and column totals, the overall total) is one
observation: the dimensions the table breaks down take the codes of its row and column
(their total code for a total), the others their total code (`_T`) or the code the file
gives the table (the indicator it counts, "not applicable" for a victim's status of a
suspect). A count printed by several tables (the number of women among registered victims
is a margin of three tables) is one observation: disclosure control hid it in all of them
or in none (`releases.controlled_together`), and two different figures for one key stop
the export.

Only the disclosure-controlled tables (`releases.report`) are written. Unknown is a code of
its dimension (`_U`), apart from a known zero; a hidden count has no value and says why in
its observation status (Q, missing value; suppressed) and confidentiality status (A,
primary: a small count; D, secondary: hidden to protect another), as the file maps them.

pysdmx (and pandas under it) is imported only when a file is written, not when the node
starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from opennrm.audit.models import Action
from opennrm.audit.services import AuditEvent, record_event
from opennrm.core import datafiles
from opennrm.statistics import engine
from opennrm.statistics.tables import (
    NOISY,
    ROUNDED,
    SECONDARY,
    SUPPRESSED,
    Cell,
    Table,
    TableSetResult,
)

if TYPE_CHECKING:
    from opennrm.accounts.models import User

STRUCTURE_DIR = Path(__file__).parent / "sdmx"
DEFAULT_STRUCTURE = "crim_thb"
TOTAL = "_T"
# A cell's disclosure flag (reports.tables) → the name the structure file maps it by.
FLAG_NAMES = {"": "published", SUPPRESSED: "suppressed", SECONDARY: "secondary",
              ROUNDED: "rounded", NOISY: "noisy"}
# Which flag wins when one count is printed by several tables (a count hidden as small in
# one table is hidden as small in all of them; see `_merge`).
FLAG_RANK = {SUPPRESSED: 3, SECONDARY: 2, ROUNDED: 1, NOISY: 1, "": 0}


class SdmxError(ValueError):
    """The tables cannot be written in this structure (the message says why)."""


def category_codes(definition: dict, dimension_name: str) -> list[str]:
    """The category codes of a table set's dimension, as the engine lists them (Unknown
    included unless the dimension says not). A dimension of the `top` most frequent codes
    has no fixed categories: ValueError."""
    dimension = definition["dimensions"][dimension_name]
    if "top" in dimension:
        raise ValueError(f"dimension {dimension_name!r} lists the most frequent codes of "
                         "each period: its categories are not known in advance")
    return [category.code for category in engine._categories(dimension, pl.DataFrame())]


# --- the structure file ---------------------------------------------------------------------

def _check_structure(path: Path, data: dict) -> None:
    """What the schema cannot say: the name is the file's, the table set exists, every code
    named is in its code list, every category of the set is mapped (one code each, no two
    to one code), and every table of the set gets a code on every dimension."""
    datafiles.name_is_file_name("name")(path, data)
    codelists = data["codelists"]
    try:
        definition = engine.load_definition(data["table_set"])
    except KeyError:
        raise datafiles.error_at(path, ["table_set"],
                                 f"unknown table set {data['table_set']!r}") from None

    def known(codelist: str, location: list) -> dict:
        if codelist not in codelists:
            raise datafiles.error_at(path, location, f"unknown code list {codelist!r}")
        return codelists[codelist]["codes"]

    broken_down = {}  # table set dimension → DSD dimension id
    for index, dimension in enumerate(data["dimensions"]):
        if "codelist" not in dimension:
            continue
        codes = known(dimension["codelist"], ["dimensions", index, "codelist"])
        if dimension.get("total", TOTAL) not in codes and dimension.get("categories"):
            raise datafiles.error_at(path, ["dimensions", index, "total"],
                                     f"{dimension.get('total', TOTAL)!r} is not a code of "
                                     f"{dimension['codelist']}")
        for name, mapping in dimension.get("categories", {}).items():
            where = ["dimensions", index, "categories", name]
            if name not in definition.get("dimensions", {}):
                raise datafiles.error_at(path, where, f"table set {data['table_set']} has no "
                                                      f"dimension {name!r}")
            try:
                expected = category_codes(definition, name)
            except ValueError as error:
                raise datafiles.error_at(path, where, str(error)) from None
            missing = [code for code in expected if code not in mapping]
            extra = [code for code in mapping if code not in expected]
            if missing or extra:
                raise datafiles.error_at(path, where, "the categories must be those of the "
                                         f"table set: missing {missing}, not in the set {extra}")
            for category, code in mapping.items():
                if code not in codes:
                    raise datafiles.error_at(path, [*where, category], f"{code!r} is not a "
                                             f"code of {dimension['codelist']}")
            if len(set(mapping.values())) < len(mapping):
                raise datafiles.error_at(path, where, "two categories map to one code: their "
                                                      "counts would be one observation")
            broken_down[name] = dimension["id"]
    for index, attribute in enumerate(data["attributes"]):
        if "codelist" in attribute:
            codes = known(attribute["codelist"], ["attributes", index, "codelist"])
            for flag, code in attribute["flags"].items():
                if code not in codes:
                    raise datafiles.error_at(path, ["attributes", index, "flags", flag],
                                             f"{code!r} is not a code of "
                                             f"{attribute['codelist']}")
    table_keys = [table["key"] for table in definition["tables"]]
    for key in table_keys:
        if key not in data["tables"]:
            raise datafiles.error_at(path, ["tables"], f"table {key} of the set "
                                                       f"{data['table_set']} is not listed")
    by_id = {dimension["id"]: dimension for dimension in data["dimensions"]}
    for table in definition["tables"]:
        codes_given = data["tables"][table["key"]]
        axes = [table["rows"]] + ([table["columns"]] if table.get("columns") else [])
        for axis in axes:
            if axis not in broken_down:
                raise datafiles.error_at(path, ["dimensions"], f"table {table['key']}: no "
                                         f"dimension takes the categories of {axis!r}")
        own = {broken_down[axis] for axis in axes}
        for dimension_id, code in codes_given.items():
            where = ["tables", table["key"], dimension_id]
            dimension = by_id.get(dimension_id)
            if dimension is None or "codelist" not in dimension:
                raise datafiles.error_at(path, where, f"{dimension_id!r} is not a coded "
                                                      "dimension")
            if dimension_id in own:
                raise datafiles.error_at(path, where, f"table {table['key']} breaks "
                                                      f"{dimension_id} down by its categories")
            if code not in codelists[dimension["codelist"]]["codes"]:
                raise datafiles.error_at(path, where, f"{code!r} is not a code of "
                                                      f"{dimension['codelist']}")
        for dimension in data["dimensions"]:
            if "codelist" not in dimension or dimension["id"] in codes_given:
                continue
            total = dimension.get("total", TOTAL)
            if total not in codelists[dimension["codelist"]]["codes"]:
                raise datafiles.error_at(path, ["tables", table["key"]],
                                         f"gives no code to {dimension['id']}, and its total "
                                         f"{total!r} is not a code of {dimension['codelist']}")
    for key in data["tables"]:
        if key not in table_keys:
            raise datafiles.error_at(path, ["tables", key], f"no table {key} in the set "
                                                            f"{data['table_set']}")


STRUCTURES = datafiles.register(datafiles.DataKind(
    name="SDMX data structure",
    schema=STRUCTURE_DIR / "structure.schema.json",
    folders=lambda: [STRUCTURE_DIR],
    pattern="*.json",
    check=_check_structure,
))


@cache
def _structure(path: str) -> dict:
    return STRUCTURES.load(path)


def load_structure(path: Path | str | None = None) -> dict:
    """A structure file, read and validated (the shipped crim_thb.json by default).
    A broken file raises `datafiles.DataFileError` naming the file, the line and the reason.
    """
    return _structure(str(path or STRUCTURE_DIR / f"{DEFAULT_STRUCTURE}.json"))


# --- observations ---------------------------------------------------------------------------

def time_period(start: date, end: date) -> tuple[str, str]:
    """(FREQ, TIME_PERIOD) of a reporting period: a year, a quarter or a month. SdmxError
    for any other period: SDMX time periods have no free range of days here."""
    from opennrm.statistics.periods import parse_period

    for frequency, text in (("A", f"{start.year}"),
                            ("Q", f"{start.year}-Q{(start.month + 2) // 3}"),
                            ("M", f"{start.year}-{start.month:02d}")):
        if parse_period(text) == (start, end):
            return frequency, text
    raise SdmxError("SDMX reports a year, a quarter or a month: "
                    f"{start.isoformat()}..{end.isoformat()} is none of them.")


@dataclass
class Observation:
    key: tuple[str, ...]
    cell: Cell
    table: str


def _grid(table: Table, has_columns: bool):
    """(row code or None for the total, column code or None, cell) of every count of a
    table: a one-way table's counts are its row totals and total."""
    if has_columns:
        for row, cells in zip(table.rows, table.cells, strict=True):
            for column, cell in zip(table.columns, cells, strict=True):
                yield row, column, cell
        for column, cell in zip(table.columns, table.column_totals, strict=True):
            yield None, column, cell
    for row, cell in zip(table.rows, table.row_totals, strict=True):
        yield row, None, cell
    yield None, None, table.total


def _merge(found: dict[tuple, Observation], observation: Observation) -> None:
    """One count printed by several tables is one observation, with the same figure."""
    earlier = found.get(observation.key)
    if earlier is None:
        found[observation.key] = observation
        return
    if earlier.cell.value != observation.cell.value:
        raise SdmxError(f"The count {'.'.join(observation.key)} is "
                        f"{earlier.cell.display()} in table {earlier.table} but "
                        f"{observation.cell.display()} in table {observation.table}.")
    if FLAG_RANK.get(observation.cell.flag, 0) > FLAG_RANK.get(earlier.cell.flag, 0):
        found[observation.key] = observation


def observations(result: TableSetResult, structure: dict, country: str) -> list[Observation]:
    """Every count of the published tables as an observation of the structure, each key
    once, in the order first printed."""
    if result.key != structure["table_set"]:
        raise SdmxError(f"The structure {structure['name']} carries the table set "
                        f"{structure['table_set']}, not {result.key}.")
    if result.controls.get("epsilon") is not None:
        raise SdmxError("Differentially private tables are not sent: their totals differ "
                        "from table to table.")
    frequency, period = time_period(result.period_start, result.period_end)
    values = {"@frequency": frequency, "@country": country, "@time_period": period}
    definition = engine.load_definition(result.key)
    tables = {table["key"]: table for table in definition["tables"]}
    found: dict[tuple, Observation] = {}
    for table in result.tables:
        spec = tables[table.key]
        has_columns = bool(spec.get("columns"))
        given = structure["tables"][table.key]
        for row, column, cell in _grid(table, has_columns):
            key = []
            for dimension in structure["dimensions"]:
                if "value" in dimension:
                    key.append(values[dimension["value"]])
                    continue
                code = given.get(dimension["id"], dimension.get("total", TOTAL))
                categories = dimension.get("categories", {})
                if spec["rows"] in categories and row is not None:
                    code = categories[spec["rows"]][row]
                if has_columns and spec["columns"] in categories and column is not None:
                    code = categories[spec["columns"]][column]
                key.append(code)
            _merge(found, Observation(tuple(key), cell, table.key))
    return list(found.values())


def _attribute_value(attribute: dict, cell: Cell, controls: dict) -> str:
    text = attribute["flags"].get(FLAG_NAMES.get(cell.flag, "published"), "")
    return text.format(threshold=controls.get("threshold", ""),
                       rounding=controls.get("rounding", ""))


# --- pysdmx ---------------------------------------------------------------------------------

def data_structure(structure: dict):
    """The structure as a pysdmx DataStructureDefinition."""
    from pysdmx.model import (
        Code,
        Codelist,
        Component,
        Components,
        Concept,
        DataStructureDefinition,
        DataType,
        Facets,
        Role,
    )

    def codelist(codelist_id: str) -> Codelist:
        entry = structure["codelists"][codelist_id]
        return Codelist(id=codelist_id, agency=entry["agency"], version=entry["version"],
                        name=entry["name"],
                        items=[Code(id=code, name=name) for code, name in entry["codes"].items()])

    components = []
    for dimension in structure["dimensions"]:
        concept = Concept(id=dimension["id"], name=dimension["name"])
        if "codelist" in dimension:
            components.append(Component(id=dimension["id"], required=True,
                                        role=Role.DIMENSION, concept=concept,
                                        name=dimension["name"],
                                        local_codes=codelist(dimension["codelist"])))
        elif dimension["value"] == "@time_period":
            components.append(Component(id=dimension["id"], required=True,
                                        role=Role.DIMENSION, concept=concept,
                                        name=dimension["name"],
                                        local_dtype=DataType.PERIOD))
        else:
            facets = Facets(pattern="^[A-Z]{2}$") if dimension["value"] == "@country" else None
            components.append(Component(id=dimension["id"], required=True,
                                        role=Role.DIMENSION, concept=concept,
                                        name=dimension["name"], local_dtype=DataType.STRING,
                                        local_facets=facets))
    measure = structure["measure"]
    # Not required: a hidden count has no value, and its status says why.
    components.append(Component(id=measure["id"], required=False, role=Role.MEASURE,
                                concept=Concept(id=measure["id"], name=measure["name"]),
                                name=measure["name"], local_dtype=DataType.INTEGER))
    for attribute in structure["attributes"]:
        coded = {"local_codes": codelist(attribute["codelist"])} \
            if "codelist" in attribute else {"local_dtype": DataType.STRING}
        components.append(Component(id=attribute["id"], required=attribute["required"],
                                    role=Role.ATTRIBUTE,
                                    concept=Concept(id=attribute["id"], name=attribute["name"]),
                                    name=attribute["name"], attachment_level="O", **coded))
    info = structure["structure"]
    return DataStructureDefinition(id=info["id"], agency=info["agency"],
                                   version=info["version"], name=info["name"],
                                   components=Components(components))


def dataset(result: TableSetResult, structure: dict, country: str):
    """The published tables as a pysdmx PandasDataset of the structure."""
    import pandas as pd
    from pysdmx.io.pd import PandasDataset
    from pysdmx.model.dataset import ActionType

    dimension_ids = [dimension["id"] for dimension in structure["dimensions"]]
    measure = structure["measure"]["id"]
    rows = []
    for observation in observations(result, structure, country):
        row = dict(zip(dimension_ids, observation.key, strict=True))
        row[measure] = observation.cell.value
        for attribute in structure["attributes"]:
            row[attribute["id"]] = _attribute_value(attribute, observation.cell,
                                                    result.controls)
        rows.append(row)
    columns = [*dimension_ids, measure, *(a["id"] for a in structure["attributes"])]
    frame = pd.DataFrame(rows, columns=columns)
    frame[measure] = frame[measure].astype("Int64")
    return PandasDataset(structure=data_structure(structure).to_schema(), data=frame,
                         action=ActionType.Information)


def sdmx_csv(result: TableSetResult, country: str, structure: dict | None = None) -> str:
    """The published tables as an SDMX-CSV 2.0 file (text)."""
    from pysdmx.io.csv.sdmx20.writer import write

    return write([dataset(result, structure or load_structure(), country)])


def export_sdmx_csv(user: User | None, result: TableSetResult, *, country: str,
                    object_ref: str, channel: str = "") -> bytes:
    """`sdmx_csv` as UTF-8 bytes, the export recorded in the audit trail as
    `releases.export_tables` records its formats. `user` None is the operator on the server
    (the command line)."""
    from opennrm.statistics.access import ensure_can_view_statistics

    if user is not None:
        ensure_can_view_statistics(user)
    body = sdmx_csv(result, country).encode("utf-8")
    record_event(user, AuditEvent(Action.EXPORT, "statistics", object_ref,
                                  reason="report sdmx-csv"), channel=channel)
    return body
