"""The service directory in the Open Referral HSDS 3.0 tabular format, both ways.

An export is a zip: the HSDS 3.0 `datapackage.json` (the specification's own resources,
`hsds_schema`) and its 21 CSV files under their 3.0 names (`organizations.csv`,
`services.csv`, …), every one of them written, empty ones with their header. It validates
against the specification's `datapackage.json`.

An import reads a zip or a folder of such files. Its `datapackage.json`, when there is one,
says where each table is; the tables' fields, types, required fields and foreign keys are
those of HSDS 3.0. Every column of a table must be there: a missing or renamed column is an
error, never an empty value. What OpenNRM models (a provider's name, a service's ages,
languages, address, …) goes into its fields; every other HSDS row and value is kept
(`HsdsRecord`) and written back on export. What cannot be kept — a reference to a row that
is not in the package, an HSDS 3.1 table or field — is listed in the import's summary with
the number of values, never dropped silently.

What HSDS has no field for (service type, organisation type, the sexes a service takes,
contact channel, response time, capacity and places free, the NRM agency, whether a provider
is active, a provider's country) goes in `attribute` rows pointing at terms of our own
taxonomies (`opennrm-…`). An import of a directory that has none of them takes the
organisation and service types from the mapping file (`mappings/hsds.json`) or the import's
options, and the country from the addresses, else the options, else the node's country.

Ids are kept (`hsds_id`), and ids of the rows we derive are UUIDv5 of them, so exporting
twice gives the same file and importing an export again updates instead of duplicating. An
import is checked completely before anything is written; a bad row is reported by file, row
(as a spreadsheet numbers it: the header is row 1) and column.
"""

import csv
import io
import json
import os
import tempfile
import uuid
import zipfile
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from opennrm.accounts.models import Agency, User
from opennrm.audit.models import Action
from opennrm.audit.services import AuditEvent, record_events
from opennrm.core import codelists
from opennrm.core.datafiles import DataFileError
from opennrm.services import hsds_schema, services
from opennrm.services.access import ensure_can_manage
from opennrm.services.models import ContactChannel, HsdsRecord, Provider, Service

HSDS_VERSION = hsds_schema.VERSION
# Fixed, so that derived ids are the same on every node and in every export.
NAMESPACE = uuid.UUID("5b0c6a52-7d1e-4c52-9a55-0b6f1c0e2026")
MAX_UNCOMPRESSED_BYTES = 50 * 1024 * 1024
MAX_ERRORS = 50

TAXONOMY_SERVICE_TYPES = "opennrm-service-types"
TAXONOMY_AGENCY_TYPES = "opennrm-agency-types"
TAXONOMY_GENDERS = "opennrm-genders"
TAXONOMY_CONTACT_CHANNELS = "opennrm-contact-channels"
TAXONOMY_FIELDS = "opennrm-directory-fields"
# Our fields carried as attribute values (term codes of TAXONOMY_FIELDS).
VALUE_FIELDS = ["response_days", "nrm_agency", "provider_active", "country", "address_1",
                "city", "region", "capacity", "places_available", "capacity_updated_at"]
TAXONOMIES = {  # name → (description, code list or the codes themselves)
    TAXONOMY_SERVICE_TYPES: ("OpenNRM service types (CETS 197 art. 12 assistance measures)",
                             "service_types"),
    TAXONOMY_AGENCY_TYPES: ("OpenNRM organisation types", "agency_types"),
    TAXONOMY_GENDERS: ("Sexes a service takes (HTCDS gender codes)", "genders"),
    TAXONOMY_CONTACT_CHANNELS: ("How a provider receives referrals", ContactChannel.values),
    TAXONOMY_FIELDS: ("OpenNRM directory fields carried as attribute values", VALUE_FIELDS),
}
# attribute.link_type of each of our taxonomies.
LINK_TYPES = {
    TAXONOMY_SERVICE_TYPES: "service_type",
    TAXONOMY_AGENCY_TYPES: "organization_type",
    TAXONOMY_GENDERS: "eligibility",
    TAXONOMY_CONTACT_CHANNELS: "contact_channel",
    TAXONOMY_FIELDS: "opennrm",
}
INACTIVE_STATUSES = ("inactive", "defunct", "temporarily closed")


def _resources() -> dict[str, hsds_schema.Resource]:
    return hsds_schema.resources()


def columns(table: str) -> list[str]:
    """The columns of an HSDS 3.0 table (resource name), in the specification's order."""
    return _resources()[table].columns


def file_name(table: str) -> str:
    """The file of an HSDS 3.0 table (resource name) in the package: organizations.csv, …"""
    return _resources()[table].path


def _id(*parts) -> str:
    return str(uuid.uuid5(NAMESPACE, ":".join(str(part) for part in parts)))


def term_id(taxonomy: str, code: str) -> str:
    return _id("term", taxonomy, code)


def _taxonomy_codes(taxonomy: str) -> list[str]:
    source = TAXONOMIES[taxonomy][1]
    return list(codelists.entries(source)) if isinstance(source, str) else list(source)


def _term_label(taxonomy: str, code: str) -> str:
    source = TAXONOMIES[taxonomy][1]
    return codelists.label(source, code, "en") if isinstance(source, str) else code


# --- export ------------------------------------------------------------------------------

def _csv(rows: Iterable[dict], names: list[str]) -> bytes:
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=names, lineterminator="\r\n",
                            extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return text.getvalue().encode("utf-8")


def _stamp(moment: datetime | None) -> str:
    return moment.isoformat(timespec="milliseconds") if moment else ""


def _number(value: int | None) -> str:
    return "" if value is None else str(value)


def _same_number(text: str, value: int | None) -> bool:
    text = (text or "").strip()
    if not text:
        return value is None
    try:
        return value is not None and float(text) == value
    except ValueError:
        return False


def _same_stamp(text: str, moment: datetime | None) -> bool:
    parsed = _parse_stamp(text)
    return parsed == moment if parsed and moment else not text.strip() and moment is None


def _parse_stamp(text: str) -> datetime | None:
    try:
        moment = parse_datetime((text or "").strip())
    except ValueError:
        return None
    return moment if moment and moment.tzinfo else None


def _attribute(link_id, link_entity: str, taxonomy: str, code: str, value: str = "") -> dict:
    return {"id": _id("attribute", link_id, taxonomy, code), "link_id": str(link_id),
            "taxonomy_term_id": term_id(taxonomy, code), "link_type": LINK_TYPES[taxonomy],
            "link_entity": link_entity, "value": value}


def _eligibility_description(genders: list, min_age, max_age) -> str:
    """A line for people reading the file in another tool (written when the service has no
    text of its own from an import)."""
    parts = []
    if genders:
        parts.append(", ".join(codelists.label("genders", code, "en") for code in genders))
    if min_age is not None or max_age is not None:
        parts.append(f"ages {min_age if min_age is not None else 0}"
                     f"–{max_age if max_age is not None else ''}".rstrip("–"))
    return "; ".join(parts)


class _Tables:
    """The rows being exported, table by table, in order, with an index by id."""

    def __init__(self) -> None:
        self.rows: dict[str, list[dict]] = {name: [] for name in _resources()}
        self.by_id: dict[tuple[str, str], dict] = {}

    def get(self, table: str, row_id: str) -> dict | None:
        return self.by_id.get((table, row_id))

    def put(self, table: str, values: dict) -> dict:
        """Add a row (every column of the table, '' where not given), or change the row of
        that id already there."""
        row = self.by_id.get((table, values["id"]))
        if row is None:
            row = {name: "" for name in columns(table)}
            self.rows[table].append(row)
            self.by_id[(table, values["id"])] = row
        row.update({name: value for name, value in values.items() if name in row})
        return row

    def remove(self, table: str, row: dict) -> None:
        self.rows[table].remove(row)
        self.by_id.pop((table, row["id"]), None)


def _keep_or(row: dict, column: str, value: str) -> None:
    """Write our value over the kept one unless they say the same (so the kept text, its
    spaces and its spelling of a number or a time, is given back unchanged)."""
    if (row.get(column) or "").strip() != value:
        row[column] = value


def _export_tables(providers: list[Provider]) -> dict[str, list[dict]]:
    tables = _Tables()
    for record in HsdsRecord.objects.order_by("id"):
        if record.table in tables.rows:
            tables.put(record.table, {**record.values, "id": record.row_id})
    for provider in providers:
        _provider_rows(tables, provider)
        for service in sorted(provider.services.all(), key=lambda s: (s.name, str(s.hsds_id))):
            _service_rows(tables, str(provider.hsds_id), service)
    _reference_tables(tables)
    _drop_dangling_references(tables)
    return tables.rows


def _provider_rows(tables: _Tables, provider: Provider) -> None:
    org_id = str(provider.hsds_id)
    row = tables.put("organization", {"id": org_id})
    _keep_or(row, "name", provider.name)
    # HSDS 3.0 requires a description: a provider without one is described by its name.
    if provider.description or not row["description"].strip():
        _keep_or(row, "description", provider.description or provider.name)
    _keep_or(row, "email", provider.email)
    _keep_or(row, "website", provider.website)
    phone = next((phone for phone in tables.rows["phone"]
                  if phone["organization_id"] == org_id), None)
    if phone is not None and provider.phone:
        _keep_or(phone, "number", provider.phone)
    elif phone is not None:
        tables.remove("phone", phone)
    elif provider.phone:
        tables.put("phone", {"id": _id("phone", org_id), "organization_id": org_id,
                             "number": provider.phone})
    attributes = [
        _attribute(org_id, "organization", TAXONOMY_AGENCY_TYPES, provider.organisation_type),
        _attribute(org_id, "organization", TAXONOMY_FIELDS, "provider_active",
                   "true" if provider.is_active else "false"),
        # HSDS has no organisation-level country.
        _attribute(org_id, "organization", TAXONOMY_FIELDS, "country", provider.country),
    ]
    if provider.agency_id:
        attributes.append(_attribute(org_id, "organization", TAXONOMY_FIELDS, "nrm_agency",
                                     provider.agency.code))
    for attribute in attributes:
        tables.put("attribute", attribute)


def _service_address(tables: _Tables, service_id: str) -> dict | None:
    """The address our service fields were read from: of the first of its locations that
    has one."""
    for link in tables.rows["service_at_location"]:
        if link["service_id"] != service_id:
            continue
        for address in tables.rows["address"]:
            if address["location_id"] and address["location_id"] == link["location_id"]:
                return address
    return None


def _address_values(address: dict) -> dict[str, str]:
    """Our service fields as an import reads them from an address row."""
    return {"address": address["address_1"].strip(), "city": address["city"].strip(),
            "region": address["region"].strip() or address["state_province"].strip(),
            "country": address["country"].strip().upper()}


ADDRESS_FIELDS = {"address": ("address_1", "address_1"), "city": ("city", "city"),
                  "region": ("region", "region"), "country": ("country", "country")}


def _service_rows(tables: _Tables, org_id: str, service: Service) -> None:
    service_id = str(service.hsds_id)
    row = tables.by_id.get(("service", service_id))
    generated = row is None
    row = tables.put("service", {"id": service_id, "organization_id": org_id})
    _keep_or(row, "name", service.name)
    _keep_or(row, "description", service.description)
    if service.is_active:
        row["status"] = "active"
    elif row["status"].strip() not in INACTIVE_STATUSES:
        row["status"] = "inactive"
    if not _same_number(row["minimum_age"], service.min_age):
        row["minimum_age"] = _number(service.min_age)
    if not _same_number(row["maximum_age"], service.max_age):
        row["maximum_age"] = _number(service.max_age)
    if not _same_stamp(row["last_modified"], service.updated_at):
        row["last_modified"] = _stamp(service.updated_at)
    if generated or not row["eligibility_description"].strip():
        row["eligibility_description"] = _eligibility_description(
            service.genders, service.min_age, service.max_age)

    attributes = []
    # Where: over the kept address; what it cannot carry (or all of it, for a service that
    # has no address from an import) as attribute values.
    address = _service_address(tables, service_id)
    ours = {"address": service.address, "city": service.city, "region": service.region,
            "country": service.country}
    if address is not None:
        for name, (column, _term) in ADDRESS_FIELDS.items():
            if _address_values(address)[name] != ours[name] and (
                    ours[name] or not hsds_schema.resources()["address"].field(column).required):
                address[column] = ours[name]
    read = _address_values(address) if address is not None else {}
    for name, (_column, term) in ADDRESS_FIELDS.items():
        if read.get(name, "") != ours[name]:
            attributes.append(_attribute(service_id, "service", TAXONOMY_FIELDS, term,
                                         ours[name]))

    kept_languages = set()
    for language in list(tables.rows["language"]):
        if language["service_id"] != service_id:
            continue
        code = language["code"].strip()
        if code and code not in service.languages:
            tables.remove("language", language)
        kept_languages.add(code)
    for code in service.languages:
        if code not in kept_languages:
            tables.put("language", {"id": _id("language", service_id, code),
                                    "service_id": service_id,
                                    "name": codelists.label("languages", code, "en"),
                                    "code": code})

    attributes.append(_attribute(service_id, "service", TAXONOMY_SERVICE_TYPES,
                                 service.service_type))
    attributes += [_attribute(service_id, "service", TAXONOMY_GENDERS, code)
                   for code in service.genders]
    attributes.append(_attribute(service_id, "service", TAXONOMY_CONTACT_CHANNELS,
                                 service.contact_channel))
    attributes.append(_attribute(service_id, "service", TAXONOMY_FIELDS, "response_days",
                                 str(service.response_days)))
    # HSDS 3.0 has no capacity (service_capacity is 3.1).
    for term, value in (("capacity", _number(service.capacity)),
                        ("places_available", _number(service.places_available)),
                        ("capacity_updated_at", _stamp(service.capacity_updated_at))):
        if value:
            attributes.append(_attribute(service_id, "service", TAXONOMY_FIELDS, term, value))
    for attribute in attributes:
        tables.put("attribute", attribute)


def _reference_tables(tables: _Tables) -> None:
    for name, (description, source) in TAXONOMIES.items():
        taxonomy_id = _id("taxonomy", name)
        version = codelists.load(source)["version"] if isinstance(source, str) else "1"
        tables.put("taxonomy", {"id": taxonomy_id, "name": name, "description": description,
                                "version": version})
        for code in _taxonomy_codes(name):
            label = _term_label(name, code)
            tables.put("taxonomy_term", {
                "id": term_id(name, code), "code": code, "name": label, "description": label,
                "taxonomy": name, "language": "en", "taxonomy_id": taxonomy_id})


def _drop_dangling_references(tables: _Tables) -> None:
    """A reference to a row that is not written (a kept row whose target is gone: a phone we
    removed, …): cleared, or the row left out when the reference is required."""
    changed = True
    while changed:
        changed = False
        for resource in _resources().values():
            for key in resource.foreign_keys:
                known = {row[key.reference] for row in tables.rows[key.resource]}
                required = resource.field(key.field).required
                for row in list(tables.rows[resource.name]):
                    if row[key.field] and row[key.field] not in known:
                        if required:
                            tables.remove(resource.name, row)
                            changed = True
                        else:
                            row[key.field] = ""


def _datapackage() -> dict:
    """The specification's datapackage.json, named as ours."""
    package = dict(hsds_schema.package())
    package.pop("license", None)  # the specification's licence, not the data's
    return {**package, "name": "opennrm-service-directory",
            "title": "OpenNRM service directory",
            "description": f"Open Referral Human Services Data Specification {HSDS_VERSION}"
                           f" (package version {package.get('version', '')})"}


def export_directory(actor: User, output: BinaryIO, channel: str = "") -> int:
    """Write the whole directory (inactive entries too) as an HSDS 3.0 zip to `output`.

    Returns the number of services written. Directory managers only; audited.
    """
    ensure_can_manage(actor)
    providers = list(Provider.objects.select_related("agency").prefetch_related("services")
                     .order_by("name", "hsds_id"))
    tables = _export_tables(providers)
    with zipfile.ZipFile(output, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(_entry("datapackage.json"),
                         json.dumps(_datapackage(), indent=2, ensure_ascii=False) + "\n")
        for name in _resources():
            archive.writestr(_entry(file_name(name)), _csv(tables[name], columns(name)))
    record_events(actor, [AuditEvent(Action.EXPORT, "service_directory", "hsds",
                                     reason=f"{len(tables['service'])} services")], channel)
    return len(tables["service"])


def export_to_path(actor: User, path: Path | str, channel: str = "") -> int:
    """`export_directory` into the file `path`, written whole or not at all: a failed
    export leaves no file (and an earlier file of that name as it was)."""
    path = Path(path)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.",
                                         suffix=".part")
    try:
        with os.fdopen(handle, "wb") as output:
            count = export_directory(actor, output, channel)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return count


def _entry(name: str) -> zipfile.ZipInfo:
    # A fixed date: the same directory gives the same bytes.
    info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


# --- import ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Row:
    """A data row and where it is (for error messages)."""

    table: str  # the HSDS resource name
    number: int  # as a spreadsheet shows it: the header is row 1
    values: dict
    file: str = ""


@dataclass
class ImportOptions:
    """What an imported directory may lack and OpenNRM needs: used where the files and the
    mapping file give nothing. The country defaults to the node's (OPENNRM_COUNTRY)."""

    country: str = ""
    organisation_type: str = ""
    service_type: str = ""
    mapping: Path | str | None = None


@dataclass
class Package:
    """An import read and checked: what goes into our fields, the rows kept as they are, and
    what is not kept."""

    providers: list[services.ImportedProvider]
    records: list[services.ImportedRecord]
    not_kept: list[services.NotKept] = field(default_factory=list)


class Problems:
    """Errors found in a file, each naming file, row and column; raised all at once."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def add(self, row: Row | None, column: str, message: str, table: str = "") -> None:
        if row is None:
            self.messages.append(_("%(file)s: %(message)s") % {
                "file": table or _("the file"), "message": message})
        else:
            self.messages.append(_("%(file)s, row %(row)d, %(column)s: %(message)s") % {
                "file": row.file or file_name(row.table), "row": row.number,
                "column": column, "message": message})

    def raise_if_any(self) -> None:
        if self.messages:
            if len(self.messages) > MAX_ERRORS:
                extra = len(self.messages) - MAX_ERRORS
                self.messages = self.messages[:MAX_ERRORS] + [
                    _("… and %(count)d more errors.") % {"count": extra}]
            raise ValidationError({"file": self.messages})


class _NotKept:
    def __init__(self) -> None:
        self.counts: Counter = Counter()

    def add(self, file: str, column: str, reason: str, count: int = 1) -> None:
        if count:
            self.counts[(file, column, reason)] += count

    def items(self) -> list[services.NotKept]:
        return [services.NotKept(file, column, count, reason)
                for (file, column, reason), count in self.counts.items()]


def _files(source: BinaryIO | Path | str, problems: Problems) -> dict[str, bytes]:
    """The package's files by name: of a folder, or of a zip (its folders ignored)."""
    if isinstance(source, (str, Path)):
        folder = Path(source)
        if folder.is_dir():
            paths = [path for path in sorted(folder.iterdir()) if path.is_file()]
            if sum(path.stat().st_size for path in paths) > MAX_UNCOMPRESSED_BYTES:
                problems.add(None, "", _("The file is too large to import."))
                problems.raise_if_any()
            return {path.name: path.read_bytes() for path in paths}
        with open(folder, "rb") as upload:
            return _files(upload, problems)
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError, ValueError):
        problems.add(None, "", _("This is not a zip file. Upload the HSDS zip as exported."))
        problems.raise_if_any()
    with archive:
        members = {info.filename.rsplit("/", 1)[-1]: info for info in archive.infolist()
                   if not info.is_dir() and not info.filename.rsplit("/", 1)[-1].startswith(
                       ".")}
        if sum(info.file_size for info in members.values()) > MAX_UNCOMPRESSED_BYTES:
            problems.add(None, "", _("The file is too large to import."))
            problems.raise_if_any()
        files = {}
        for name, info in members.items():
            try:
                files[name] = archive.read(info)
            except (zipfile.BadZipFile, RuntimeError, OSError, NotImplementedError):
                problems.add(None, "", _("The file cannot be read from the zip."), name)
        return files


def _descriptor(files: dict[str, bytes], problems: Problems) -> dict | None:
    data = files.get("datapackage.json")
    if data is None:
        return None
    try:
        descriptor = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        problems.add(None, "", _("It is not readable JSON: %(error)s") % {"error": error},
                     "datapackage.json")
        return None
    if not isinstance(descriptor, dict) or not isinstance(descriptor.get("resources"), list):
        problems.add(None, "", _("It has no list of resources."), "datapackage.json")
        return None
    version = str(descriptor.get("version", ""))
    if version and not version.startswith(("3.0", "3.1")):
        problems.add(None, "version", _(
            "This is HSDS %(version)s; OpenNRM reads HSDS 3.0 (and 3.1, without what 3.1 "
            "adds).") % {"version": version}, "datapackage.json")
    return descriptor


def _read_package(files: dict[str, bytes], problems: Problems,
                  not_kept: _NotKept) -> dict[str, list[Row]]:
    """Every HSDS 3.0 table of the package, its columns and values checked."""
    descriptor = _descriptor(files, problems)
    paths = {name: resource.path for name, resource in _resources().items()}
    declared: dict[str, set[str]] = {}  # resource → fields its datapackage.json declares
    listed: set[str] = set()
    others: dict[str, str] = {}  # resources that are not HSDS 3.0 → path
    for resource in (descriptor or {}).get("resources", []):
        name = resource.get("name") if isinstance(resource, dict) else None
        path = resource.get("path") if isinstance(resource, dict) else None
        if not isinstance(name, str) or not isinstance(path, str):
            problems.add(None, "resources", _("Each resource needs a name and one path."),
                         "datapackage.json")
            continue
        path = path.rsplit("/", 1)[-1]
        schema = resource.get("schema")
        if name in paths:
            paths[name] = path
            listed.add(name)
            if isinstance(schema, dict):
                declared[name] = {item.get("name") for item in schema.get("fields", [])
                                  if isinstance(item, dict)}
        else:
            others[name] = path
    tables: dict[str, list[Row]] = {}
    for name, resource in _resources().items():
        data = files.get(paths[name])
        if data is None:
            if name in listed or name == "organization":
                problems.add(None, "", _("The file is missing from the package."),
                             paths[name])
            tables[name] = []
            continue
        tables[name] = _rows(resource, paths[name], data, declared.get(name, set()),
                             problems, not_kept)
    # What is in the package and is not HSDS 3.0.
    used = set(paths.values()) | {"datapackage.json"}
    for name, path in others.items():
        used.add(path)
        reason = (_("an HSDS 3.1 table; OpenNRM reads HSDS 3.0")
                  if name in hsds_schema.HSDS31_TABLES else _("not an HSDS 3.0 table"))
        not_kept.add(path, "", reason, _count_rows(files.get(path)))
    for path in sorted(set(files) - used):
        table = next((name for name, known in hsds_schema.HSDS31_TABLES.items()
                      if known == path), None)
        reason = (_("an HSDS 3.1 table; OpenNRM reads HSDS 3.0") if table
                  else _("not an HSDS 3.0 file"))
        not_kept.add(path, "", reason, _count_rows(files[path]) if path.endswith(".csv")
                     else 1)
    return tables


def _count_rows(data: bytes | None) -> int:
    if not data:
        return 0
    try:
        return max(sum(1 for _row in csv.reader(io.StringIO(data.decode("utf-8-sig"),
                                                            newline=""))) - 1, 0)
    except (UnicodeDecodeError, csv.Error):
        return 0


def _rows(resource: hsds_schema.Resource, path: str, data: bytes, declared: set[str],
          problems: Problems, not_kept: _NotKept) -> list[Row]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        problems.add(None, "", _("The file is not readable UTF-8 CSV."), path)
        return []
    try:
        lines = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as error:
        problems.add(None, "", _("The CSV cannot be read: %(error)s") % {"error": error}, path)
        return []
    if not lines:
        problems.add(None, "", _("The file has no header row."), path)
        return []
    header = [name.strip() for name in lines[0]]
    ok = True
    for name in resource.columns:
        if name not in header:
            problems.add(None, "", _("The column “%(column)s” is missing.") % {
                "column": name}, path)
            ok = False
    extra_columns = []
    for index, name in enumerate(header):
        if header.index(name) != index:
            problems.add(None, "", _("The column “%(column)s” appears twice.") % {
                "column": name}, path)
            ok = False
        elif name not in resource.columns:
            if name in hsds_schema.HSDS31_FIELDS.get(resource.name, set()) or name in declared:
                extra_columns.append(name)
            else:
                problems.add(None, "", _("The column “%(column)s” is not a field of the HSDS "
                                         "3.0 table %(table)s.") % {
                    "column": name, "table": resource.name}, path)
                ok = False
    if not ok:
        return []
    rows = []
    for number, cells in enumerate(lines[1:], start=2):
        if not cells:
            continue  # a blank line
        if len(cells) != len(header):
            problems.add(None, "", _("Row %(row)d has %(cells)d cells; the header has "
                                     "%(columns)d.") % {
                "row": number, "cells": len(cells), "columns": len(header)}, path)
            continue
        values = dict(zip(header, cells, strict=True))
        for item in resource.fields:
            if item.format == "uuid":  # one spelling, so references match their rows
                values[item.name] = values[item.name].strip().lower()
        row = Row(resource.name, number, {name: values[name] for name in resource.columns},
                  path)
        for name in extra_columns:
            if values[name].strip():
                reason = (_("an HSDS 3.1 field; OpenNRM reads HSDS 3.0")
                          if name in hsds_schema.HSDS31_FIELDS.get(resource.name, set())
                          else _("not an HSDS 3.0 field"))
                not_kept.add(path, name, reason)
        for item in resource.fields:
            value = row.values[item.name].strip()
            if not value:
                if item.required:
                    problems.add(row, item.name, _("This field is required."))
                continue
            message = hsds_schema.value_error(item, value)
            if message:
                problems.add(row, item.name, message)
        rows.append(row)
    return rows


def _check_keys(tables: dict[str, list[Row]], problems: Problems, not_kept: _NotKept) -> None:
    """Ids unique in each table; references (foreign keys) to rows of the package: a
    required one must be there, an optional one to a row that is not is not kept."""
    for rows in tables.values():
        seen = set()
        for row in rows:
            row_id = row.values["id"].strip().lower()
            if row_id in seen:
                problems.add(row, "id", _("This id appears twice."))
            seen.add(row_id)
    for resource in _resources().values():
        for key in resource.foreign_keys:
            known = {row.values[key.reference].strip().lower()
                     for row in tables[key.resource]}
            required = resource.field(key.field).required
            for row in tables[resource.name]:
                value = row.values[key.field].strip()
                if not value or value.lower() in known:
                    continue
                if required:
                    problems.add(row, key.field, _("No row of %(file)s has this id.") % {
                        "file": file_name(key.resource)})
                else:
                    row.values[key.field] = ""
                    not_kept.add(row.file, key.field, _(
                        "a reference to a row of %(file)s that is not in the package") % {
                        "file": file_name(key.resource)})


def _by(rows: list[Row], column: str) -> dict[str, list[Row]]:
    grouped: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        grouped[row.values.get(column, "").strip().lower()].append(row)
    return grouped


class _Terms:
    """The attributes of each organisation and service: ours read as (taxonomy, code,
    value), every one as (taxonomy name, term code) for the mapping file."""

    def __init__(self, tables: dict[str, list[Row]]):
        taxonomy_names = {row.values["id"].strip().lower(): row.values["name"].strip()
                          for row in tables["taxonomy"]}
        terms = {}
        for row in tables["taxonomy_term"]:
            taxonomy = (taxonomy_names.get(row.values["taxonomy_id"].strip().lower())
                        or row.values["taxonomy"].strip())
            terms[row.values["id"].strip().lower()] = (taxonomy, row.values["code"].strip())
        self.by_link: dict[str, list[tuple[str, str, str, Row]]] = defaultdict(list)
        self.all_terms: dict[str, set[tuple[str, str]]] = defaultdict(set)
        self.ours: set[int] = set()  # id() of the attribute rows that carry our fields
        self.our_terms: set[str] = set()
        for term_key, (taxonomy, _code) in terms.items():
            if taxonomy in TAXONOMIES:
                self.our_terms.add(term_key)
        for row in tables["attribute"]:
            term = terms.get(row.values["taxonomy_term_id"].strip().lower())
            if term is None:
                continue
            link = row.values["link_id"].strip().lower()
            self.all_terms[link].add(term)
            if term[0] in TAXONOMIES:
                self.by_link[link].append((*term, row.values["value"].strip(), row))
                self.ours.add(id(row))

    def codes(self, link_id: str, taxonomy: str) -> list[str]:
        return [code for name, code, _value, _row in self.by_link[link_id] if name == taxonomy]

    def value(self, link_id: str, code: str) -> str | None:
        for name, term_code, value, _row in self.by_link[link_id]:
            if name == TAXONOMY_FIELDS and term_code == code:
                return value
        return None

    def row(self, link_id: str, taxonomy: str, code: str = "") -> Row | None:
        for name, term_code, _value, row in self.by_link[link_id]:
            if name == taxonomy and (not code or term_code == code):
                return row
        return None


def _located(problems: Problems, error: ValidationError, where: dict[str, tuple[Row | None,
                                                                                 str]]) -> None:
    """Turn a service function's field errors into file/row/column messages."""
    for field_name, messages in error.message_dict.items():
        row, column = where.get(field_name, (None, field_name))
        for message in messages:
            problems.add(row, column, message)


@dataclass
class _Context:
    tables: dict[str, list[Row]]
    terms: _Terms
    options: ImportOptions
    mapping: dict
    agencies: dict[str, Agency]
    problems: Problems
    addresses: dict[str, list[Row]]
    service_locations: dict[str, list[Row]]
    service_location_ids: set[str]
    phones: dict[str, list[Row]]
    languages: dict[str, list[Row]]


def read_directory(source: BinaryIO | Path | str,
                   options: ImportOptions | None = None) -> Package:
    """Read and check an HSDS package (a zip, or a folder) completely; ValidationError listing
    every problem found."""
    options = options or ImportOptions()
    problems = Problems()
    not_kept = _NotKept()
    files = _files(source, problems)
    problems.raise_if_any()
    tables = _read_package(files, problems, not_kept)
    problems.raise_if_any()
    _check_keys(tables, problems, not_kept)
    problems.raise_if_any()
    try:
        mapping = hsds_schema.load_mapping(options.mapping)
    except (DataFileError, OSError) as error:  # names the file and the line
        problems.add(None, "", str(error), _("the mapping file"))
        problems.raise_if_any()
    context = _Context(
        tables=tables, terms=_Terms(tables), options=options, mapping=mapping,
        agencies={agency.code: agency for agency in Agency.objects.filter(is_active=True)},
        problems=problems, addresses=_by(tables["address"], "location_id"),
        service_locations=_by(tables["service_at_location"], "service_id"),
        service_location_ids={row.values["location_id"].strip().lower()
                              for row in tables["service_at_location"]},
        phones=_by(tables["phone"], "organization_id"),
        languages=_by(tables["language"], "service_id"))
    for name, value in (("country", options.country),
                        ("organisation_type", options.organisation_type),
                        ("service_type", options.service_type)):
        codelist = {"country": "countries", "organisation_type": "agency_types",
                    "service_type": "service_types"}[name]
        if value and value not in codelists.entries(codelist) and not (
                name == "country" and value.upper() in codelists.entries(codelist)):
            problems.add(None, name, _("%(value)s is not in the list.") % {"value": value},
                         _("the import options"))
    problems.raise_if_any()

    services_of = _by(tables["service"], "organization_id")
    providers = []
    for org in tables["organization"]:
        provider = _read_provider(org, context)
        if provider is None:
            continue
        for row in services_of.get(org.values["id"].strip().lower(), []):
            service = _read_service(row, provider, context)
            if service is not None:
                provider.services.append(service)
        providers.append(provider)
    problems.raise_if_any()
    return Package(providers, _records(tables, context.terms), not_kept.items())


def _read_provider(org: Row, context: _Context) -> services.ImportedProvider | None:
    terms, problems = context.terms, context.problems
    org_id = org.values["id"].strip().lower()
    # The country: our attribute, else of the organisation's own location (one no service
    # is at), else of its other locations, else the import's option, else the node's.
    own = [row for row in context.tables["location"]
           if row.values["organization_id"].strip().lower() == org_id]
    own.sort(key=lambda row: row.values["id"].strip().lower() in context.service_location_ids)
    country_row = next((address for location in own
                        for address in context.addresses.get(
                            location.values["id"].strip().lower(), [])
                        if address.values["country"].strip()), None)
    country = terms.value(org_id, "country")
    where_country = (terms.row(org_id, TAXONOMY_FIELDS, "country"), "value")
    if country is None and country_row is not None:
        country = country_row.values["country"].strip()
        where_country = (country_row, "country")
    if country is None:
        country = context.options.country or settings.OPENNRM_COUNTRY
        where_country = (None, _("the import option country"))
    phone_row = next(iter(context.phones.get(org_id, [])), None)
    types = terms.codes(org_id, TAXONOMY_AGENCY_TYPES)
    organisation_type = (
        types[0] if types else
        hsds_schema.mapped_code(context.mapping, "organisation_types", org.values,
                                terms.all_terms[org_id])
        or context.options.organisation_type
        or context.mapping["organisation_types"]["default"] or "")
    agency_code = terms.value(org_id, "nrm_agency")
    description = org.values["description"].strip()
    if description == org.values["name"].strip():
        # HSDS requires a description: the export writes the name for a provider with none.
        description = ""
    data = {
        "name": org.values["name"], "description": description,
        "email": org.values["email"], "website": org.values["website"],
        "phone": phone_row.values["number"] if phone_row else "",
        "country": country.upper(), "organisation_type": organisation_type,
        "agency": context.agencies.get(agency_code) if agency_code else None,
    }
    where = {
        "name": (org, "name"), "description": (org, "description"), "email": (org, "email"),
        "website": (org, "website"), "phone": (phone_row, "number"),
        "country": where_country,
        "organisation_type": (terms.row(org_id, TAXONOMY_AGENCY_TYPES) or org,
                              TAXONOMY_AGENCY_TYPES),
    }
    valid = True
    if agency_code and agency_code not in context.agencies:
        problems.add(terms.row(org_id, TAXONOMY_FIELDS, "nrm_agency"), "value",
                     _("No active agency has the code %(code)s.") % {"code": agency_code})
        valid = False
    active = terms.value(org_id, "provider_active")
    if active not in (None, "true", "false"):
        problems.add(terms.row(org_id, TAXONOMY_FIELDS, "provider_active"), "value",
                     _("Enter true or false."))
        valid = False
    try:
        clean = services.clean_provider(data)
    except ValidationError as error:
        _located(problems, error, where)
        return None
    if not valid:
        return None
    return services.ImportedProvider(uuid.UUID(org_id), clean, is_active=active != "false")


def _read_service(row: Row, provider: services.ImportedProvider,
                  context: _Context) -> services.ImportedService | None:
    terms, problems, options = context.terms, context.problems, context.options
    service_id = row.values["id"].strip().lower()
    address_row = next((address for link in context.service_locations.get(service_id, [])
                        for address in context.addresses.get(
                            link.values["location_id"].strip().lower(), [])), None)
    address = _address_values(address_row.values) if address_row else {}
    # Our attribute values win over the address (we write them where it cannot say it).
    where: dict[str, tuple[Row | None, str]] = {}
    located = {}
    for name, (column, term) in ADDRESS_FIELDS.items():
        value = terms.value(service_id, term)
        if value is not None:
            located[name] = value
            where[name] = (terms.row(service_id, TAXONOMY_FIELDS, term), "value")
        elif address_row is not None:
            located[name] = address[name]
            where[name] = (address_row, column)
        else:
            located[name] = ""
            where[name] = (row, "service_at_location")
    if not located["country"]:
        located["country"] = options.country or settings.OPENNRM_COUNTRY
        where["country"] = (None, _("the import option country"))
    service_types = terms.codes(service_id, TAXONOMY_SERVICE_TYPES)
    service_type = (
        service_types[0] if service_types else
        hsds_schema.mapped_code(context.mapping, "service_types", row.values,
                                terms.all_terms[service_id])
        or options.service_type or context.mapping["service_types"]["default"] or "")
    channels = terms.codes(service_id, TAXONOMY_CONTACT_CHANNELS)
    language_rows = context.languages.get(service_id, [])
    data = {
        "name": row.values["name"], "description": row.values["description"],
        "service_type": service_type,
        "address": located["address"], "city": located["city"], "region": located["region"],
        "country": located["country"].upper(),
        "genders": terms.codes(service_id, TAXONOMY_GENDERS),
        "min_age": _whole(row.values["minimum_age"]),
        "max_age": _whole(row.values["maximum_age"]),
        "languages": [language.values["code"].strip() for language in language_rows
                      if language.values["code"].strip()],
        "capacity": terms.value(service_id, "capacity") or "",
        "places_available": terms.value(service_id, "places_available") or "",
        "contact_channel": channels[0] if channels else (
            ContactChannel.IN_SYSTEM if provider.values.get("agency") else ContactChannel.EMAIL),
        "response_days": terms.value(service_id, "response_days") or 5,
    }
    where.update({
        "name": (row, "name"), "description": (row, "description"),
        "min_age": (row, "minimum_age"), "max_age": (row, "maximum_age"),
        "service_type": (terms.row(service_id, TAXONOMY_SERVICE_TYPES) or row,
                         TAXONOMY_SERVICE_TYPES),
        "genders": (terms.row(service_id, TAXONOMY_GENDERS) or row, TAXONOMY_GENDERS),
        "contact_channel": (terms.row(service_id, TAXONOMY_CONTACT_CHANNELS) or row,
                            TAXONOMY_CONTACT_CHANNELS),
        "response_days": (terms.row(service_id, TAXONOMY_FIELDS, "response_days") or row,
                          "value"),
        "languages": (language_rows[0] if language_rows else row, "code"),
        "capacity": (terms.row(service_id, TAXONOMY_FIELDS, "capacity"), "value"),
        "places_available": (terms.row(service_id, TAXONOMY_FIELDS, "places_available"),
                             "value"),
    })
    if not service_types and not service_type:
        problems.add(row, TAXONOMY_SERVICE_TYPES, _(
            "The service has no OpenNRM service type: add an attribute of the taxonomy "
            "%(taxonomy)s, a rule to the mapping file, or give a service type as an import "
            "option.") % {"taxonomy": TAXONOMY_SERVICE_TYPES})
        return None
    status = row.values["status"].strip()
    valid = True
    if status not in ("active", *INACTIVE_STATUSES):
        problems.add(row, "status", _("Enter active, inactive, defunct or temporarily "
                                      "closed."))
        valid = False
    updated_at = _stamp_or_none(row, "last_modified", problems)
    capacity_row = terms.row(service_id, TAXONOMY_FIELDS, "capacity_updated_at")
    capacity_updated_at = (_stamp_or_none(capacity_row, "value", problems)
                           if capacity_row else None)
    try:
        clean = services.clean_service(data)
    except ValidationError as error:
        _located(problems, error, where)
        return None
    # The rules between fields (ages, places, channel), on the service as it would be.
    errors: dict = {}
    services.check_service(Service(provider=Provider(agency=provider.values.get("agency")),
                                   **clean), errors)
    if errors:
        _located(problems, ValidationError(errors), where)
        return None
    if not valid:
        return None
    if row.values["eligibility_description"].strip() == _eligibility_description(
            clean.get("genders", []), clean.get("min_age"), clean.get("max_age")):
        # The text the export writes from our fields: written again from them, not kept.
        row.values["eligibility_description"] = ""
    return services.ImportedService(uuid.UUID(service_id), clean,
                                    is_active=status == "active", updated_at=updated_at,
                                    capacity_updated_at=capacity_updated_at)


def _whole(text: str) -> str:
    """An age as HSDS writes it ("12" or "12.0") as the whole number our fields take."""
    text = text.strip()
    try:
        number = float(text)
    except ValueError:
        return text
    return str(int(number)) if number.is_integer() and number >= 0 else text


def _stamp_or_none(row: Row, column: str, problems: Problems) -> datetime | None:
    text = row.values.get(column, "").strip()
    if not text:
        return None
    moment = _parse_stamp(text)
    if moment is None:
        problems.add(row, column, _("Enter a date and time with its UTC offset (ISO 8601)."))
    return moment


# --- what is kept as it is ----------------------------------------------------------------

def _records(tables: dict[str, list[Row]], terms: _Terms) -> list[services.ImportedRecord]:
    """Every row to keep, with the service or organisation it belongs to (None: the
    directory's). Our own taxonomies and their attributes are not kept: they are our fields,
    written again from them."""
    index = {name: {row.values["id"].strip().lower(): row for row in rows}
             for name, rows in tables.items()}
    services_at = _by(tables["service_at_location"], "location_id")
    owners: dict[tuple[str, str], tuple[str, str] | None] = {}

    def owner(table: str, row: Row | None, depth: int = 0) -> tuple[str, str] | None:
        if row is None or depth > 5:
            return None
        key = (table, row.values["id"].strip().lower())
        if key not in owners:
            owners[key] = _owner(table, row, depth)
        return owners[key]

    def ref(column: str, values: dict) -> str:
        return values.get(column, "").strip().lower()

    def _owner(table: str, row: Row, depth: int) -> tuple[str, str] | None:
        values = row.values
        if table == "organization":
            return ("organization", ref("id", values))
        if table == "service":
            return ("service", ref("id", values))

        def service(column="service_id"):
            return ("service", ref(column, values)) if ref(column, values) in index[
                "service"] else None

        def organization(column="organization_id"):
            return (("organization", ref(column, values))
                    if ref(column, values) in index["organization"] else None)

        def via(target: str, column: str):
            return owner(target, index[target].get(ref(column, values)), depth + 1)

        def location_owner():
            links = services_at.get(ref("id", values), [])
            return organization() or next(
                (found for link in links if (found := owner("service_at_location", link,
                                                            depth + 1))), None)

        candidates = {
            "program": lambda: organization(),
            "organization_identifier": lambda: organization(),
            "service_at_location": lambda: service(),
            "required_document": lambda: service(),
            "cost_option": lambda: service(),
            "service_area": lambda: service(),
            "location": location_owner,
            "address": lambda: via("location", "location_id"),
            "accessibility": lambda: via("location", "location_id"),
            "phone": lambda: (service() or via("service_at_location", "service_at_location_id")
                              or via("contact", "contact_id")
                              or via("location", "location_id") or organization()),
            "contact": lambda: (service() or via("service_at_location",
                                                 "service_at_location_id")
                                or via("location", "location_id") or organization()),
            "schedule": lambda: (service() or via("service_at_location",
                                                  "service_at_location_id")
                                 or via("location", "location_id")),
            "funding": lambda: service() or organization(),
            "language": lambda: (service() or via("location", "location_id")
                                 or via("phone", "phone_id")),
            "attribute": lambda: next(
                (found for name in index if (target := index[name].get(ref("link_id", values)))
                 and (found := owner(name, target, depth + 1))), None),
        }
        return candidates.get(table, lambda: None)()

    records = []
    for table, rows in tables.items():
        for row in rows:
            if table == "attribute" and id(row) in terms.ours:
                continue
            if table == "taxonomy_term" and row.values["id"].strip().lower() in terms.our_terms:
                continue
            if table == "taxonomy" and row.values["name"].strip() in TAXONOMIES:
                continue
            found = owner(table, row)
            values = {name: value for name, value in row.values.items() if name != "id"}
            records.append(services.ImportedRecord(
                table, row.values["id"].strip().lower(), values,
                uuid.UUID(found[1]) if found and found[0] == "organization" else None,
                uuid.UUID(found[1]) if found and found[0] == "service" else None))
    return records


def import_directory(actor: User, upload: BinaryIO | Path | str, channel: str = "",
                     options: ImportOptions | None = None) -> services.ImportSummary:
    """Check an HSDS package (zip or folder) completely, then create or update its providers
    and services and keep its other rows, in one transaction. A problem anywhere:
    ValidationError({"file": [...]}), nothing written. The summary lists what is not kept."""
    ensure_can_manage(actor)
    package = read_directory(upload, options)
    summary = services.import_directory(actor, package.providers, channel,
                                        records=package.records)
    summary.not_kept = package.not_kept
    return summary
