"""The Open Referral HSDS 3.0 tabular package as data: its tables, fields, types, required
fields and foreign keys, read from the specification's own `datapackage.json`
(`hsds30/datapackage.json`, copied unchanged), and the mapping file that gives imported
organisations and services the types OpenNRM needs and HSDS does not have
(`mappings/hsds.json`, checked against `schemas/hsds_mapping.schema.json`).
"""

import json
import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.utils.translation import gettext as _

from opennrm.core import codelists, datafiles

HERE = Path(__file__).parent
PACKAGE_PATH = HERE / "hsds30" / "datapackage.json"
MAPPING_PATH = HERE / "mappings" / "hsds.json"
VERSION = "3.0"

# What HSDS 3.1 adds to 3.0 (and nothing else changes in the tabular format): read from a
# 3.1 package, these are reported as not kept.
HSDS31_TABLES = {"url": "urls.csv", "unit": "units.csv", "service_capacity": "service_capacity.csv"}
HSDS31_FIELDS = {"attribute": {"label"}, "service_area": {"service_at_location_id"}}


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    format: str
    required: bool


@dataclass(frozen=True)
class ForeignKey:
    field: str
    resource: str
    reference: str


@dataclass(frozen=True)
class Resource:
    name: str
    path: str
    fields: tuple[Field, ...]
    foreign_keys: tuple[ForeignKey, ...]

    @property
    def columns(self) -> list[str]:
        return [item.name for item in self.fields]

    def field(self, name: str) -> Field | None:
        return next((item for item in self.fields if item.name == name), None)


@cache
def package() -> dict:
    """The HSDS 3.0 `datapackage.json`, as published."""
    return json.loads(PACKAGE_PATH.read_text(encoding="utf-8"))


@cache
def resources() -> dict[str, Resource]:
    """The HSDS 3.0 tables by resource name, in the specification's order."""
    found = {}
    for resource in package()["resources"]:
        schema = resource["schema"]
        fields = tuple(Field(item["name"], item.get("type", "string"), item.get("format", ""),
                             bool(item.get("constraints", {}).get("required")))
                       for item in schema["fields"])
        keys = []
        for key in schema.get("foreignKeys", []):
            names = key["fields"] if isinstance(key["fields"], list) else [key["fields"]]
            references = key["reference"]["fields"]
            references = references if isinstance(references, list) else [references]
            keys += [ForeignKey(name, key["reference"]["resource"], reference)
                     for name, reference in zip(names, references, strict=True)]
        found[resource["name"]] = Resource(resource["name"], resource["path"], fields,
                                           tuple(keys))
    return found


# --- values ------------------------------------------------------------------------------

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                   r"[0-9a-fA-F]{12}$")
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIME = re.compile(r"^\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$")


def value_error(item: Field, text: str) -> str | None:
    """Why `text` is not a value of the field's type and format (None: it is)."""
    if item.type == "string":
        if item.format == "uuid" and not _UUID.match(text):
            return _("Enter a UUID.")
        if item.format == "uri" and not _URI.match(text):
            return _("Enter an address with its scheme (https://…).")
        if item.format == "email":
            try:
                EmailValidator()(text)
            except ValidationError:
                return _("Enter a valid e-mail address.")
        return None
    if item.type == "number":
        try:
            number = Decimal(text)
        except InvalidOperation:
            number = None
        return None if number is not None and number.is_finite() else _("Enter a number.")
    if item.type == "date":
        try:
            if _DATE.match(text):
                date.fromisoformat(text)
                return None
        except ValueError:
            pass
        return _("Enter a date as YYYY-MM-DD.")
    if item.type == "datetime":
        try:
            datetime.fromisoformat(text.replace("Z", "+00:00"))
            return None
        except ValueError:
            return _("Enter a date and time (ISO 8601).")
    if item.type == "time":
        try:
            if _TIME.match(text):
                time.fromisoformat(text[:8])
                return None
        except ValueError:
            pass
        return _("Enter a time as HH:MM:SS.")
    return None


def is_uuid(text: str) -> bool:
    return bool(_UUID.match(text))


def as_uuid(text: str) -> uuid.UUID:
    return uuid.UUID(text)


# --- the mapping file --------------------------------------------------------------------

def _check_mapping(path: Path, data: dict) -> None:
    datafiles.name_is_file_name()(path, data)
    for part, codelist in (("organisation_types", "agency_types"),
                           ("service_types", "service_types")):
        known = codelists.entries(codelist)
        if data[part]["default"] is not None and data[part]["default"] not in known:
            raise datafiles.error_at(path, [part, "default"],
                                     f"{data[part]['default']!r} is not in {codelist}")
        for index, rule in enumerate(data[part]["rules"]):
            if rule["code"] not in known:
                raise datafiles.error_at(path, [part, "rules", index, "code"],
                                         f"{rule['code']!r} is not in {codelist}")


HSDS_MAPPINGS = datafiles.register(datafiles.DataKind(
    name="HSDS import mapping",
    schema=HERE / "schemas" / "hsds_mapping.schema.json",
    folders=lambda: [HERE / "mappings"],
    check=_check_mapping,
))


def load_mapping(path: Path | str | None = None) -> dict:
    """The mapping file (the node's own by default), read and checked."""
    return HSDS_MAPPINGS.load(Path(path) if path else MAPPING_PATH)


def mapped_code(mapping: dict, part: str, values: dict, terms: set[tuple[str, str]]) -> str:
    """The code the first matching rule gives ('' if none matches). `values`: the HSDS row;
    `terms`: the (taxonomy name, term code) of the entity's attributes."""
    for rule in mapping[part]["rules"]:
        if "field" in rule:
            if (values.get(rule["field"]) or "").strip().casefold() == \
                    rule["value"].strip().casefold():
                return rule["code"]
        elif (rule["taxonomy"], rule["term"]) in terms:
            return rule["code"]
    return ""
