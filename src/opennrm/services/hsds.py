"""The service directory in the Open Referral HSDS 3.0 tabular format, both ways.

An export is a zip: `datapackage.json` (a Frictionless tabular data package) and one CSV per
HSDS table. What HSDS has a field for goes there (organization, service, location, address,
service_at_location, phone, language, service_capacity, unit); what is ours (service type,
organisation type, the sexes a service takes, contact channel, response time, the NRM
agency, whether a provider is active) goes in `attribute` rows pointing at terms of our own
taxonomies, so any HSDS tool reads the file and we read back everything we wrote.

Ids are kept (`hsds_id`), and ids of the rows we derive (locations, phones, …) are UUIDv5 of
them, so exporting twice gives the same file and importing an export again updates instead
of duplicating. An import is checked completely before anything is written; a bad row is
reported by file, row (as a spreadsheet numbers it: the header is row 1) and column.
"""

import csv
import io
import json
import uuid
import zipfile
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO

from django.core.exceptions import ValidationError
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from opennrm.accounts.models import Agency, User
from opennrm.audit.models import Action
from opennrm.audit.services import AuditEvent, record_events
from opennrm.core import codelists
from opennrm.services import services
from opennrm.services.access import ensure_can_manage
from opennrm.services.models import ContactChannel, Provider, Service

HSDS_VERSION = "3.0"
# Fixed, so that derived ids are the same on every node and in every export.
NAMESPACE = uuid.UUID("5b0c6a52-7d1e-4c52-9a55-0b6f1c0e2026")
MAX_UNCOMPRESSED_BYTES = 50 * 1024 * 1024
MAX_ERRORS = 50

TAXONOMY_SERVICE_TYPES = "opennrm-service-types"
TAXONOMY_AGENCY_TYPES = "opennrm-agency-types"
TAXONOMY_GENDERS = "opennrm-genders"
TAXONOMY_CONTACT_CHANNELS = "opennrm-contact-channels"
TAXONOMY_FIELDS = "opennrm-directory-fields"
TAXONOMIES = {  # name → (description, code list or the codes themselves)
    TAXONOMY_SERVICE_TYPES: ("OpenNRM service types (CETS 197 art. 12 assistance measures)",
                             "service_types"),
    TAXONOMY_AGENCY_TYPES: ("OpenNRM organisation types", "agency_types"),
    TAXONOMY_GENDERS: ("Sexes a service takes (HTCDS gender codes)", "genders"),
    TAXONOMY_CONTACT_CHANNELS: ("How a provider receives referrals", ContactChannel.values),
    TAXONOMY_FIELDS: ("OpenNRM directory fields carried as attribute values",
                      ["response_days", "nrm_agency", "provider_active"]),
}
# attribute.link_type of each of our taxonomies.
LINK_TYPES = {
    TAXONOMY_SERVICE_TYPES: "service_type",
    TAXONOMY_AGENCY_TYPES: "organization_type",
    TAXONOMY_GENDERS: "eligibility",
    TAXONOMY_CONTACT_CHANNELS: "contact_channel",
    TAXONOMY_FIELDS: "opennrm",
}

TABLES = {  # file name → columns, in the order HSDS 3.0 lists them
    "organization": ["id", "name", "alternate_name", "description", "email", "website"],
    "service": ["id", "organization_id", "name", "alternate_name", "description", "status",
                "eligibility_description", "minimum_age", "maximum_age", "last_modified"],
    "location": ["id", "location_type", "organization_id", "name"],
    "address": ["id", "location_id", "address_1", "city", "region", "state_province",
                "postal_code", "country", "address_type"],
    "service_at_location": ["id", "service_id", "location_id"],
    "phone": ["id", "organization_id", "number"],
    "language": ["id", "service_id", "name", "code"],
    "unit": ["id", "name", "scheme", "identifier"],
    "service_capacity": ["id", "service_id", "unit_id", "available", "maximum",
                         "description", "updated"],
    "taxonomy": ["id", "name", "description", "version"],
    "taxonomy_term": ["id", "code", "name", "description", "taxonomy", "language",
                      "taxonomy_id"],
    "attribute": ["id", "link_id", "taxonomy_term_id", "link_type", "link_entity", "value",
                  "label"],
}
NUMBER_COLUMNS = {"minimum_age", "maximum_age", "available", "maximum"}
PLACE_UNIT_ID = uuid.uuid5(NAMESPACE, "unit:place")

# Where each of our fields is in the files: for error messages that name the column.
PROVIDER_COLUMNS = {
    "name": ("organization", "name"), "description": ("organization", "description"),
    "email": ("organization", "email"), "website": ("organization", "website"),
    "phone": ("phone", "number"), "country": ("address", "country"),
    "organisation_type": ("attribute", TAXONOMY_AGENCY_TYPES),
    "agency": ("attribute", "nrm_agency"),
}
SERVICE_COLUMNS = {
    "name": ("service", "name"), "description": ("service", "description"),
    "min_age": ("service", "minimum_age"), "max_age": ("service", "maximum_age"),
    "address": ("address", "address_1"), "city": ("address", "city"),
    "region": ("address", "region"), "country": ("address", "country"),
    "languages": ("language", "code"), "capacity": ("service_capacity", "maximum"),
    "places_available": ("service_capacity", "available"),
    "service_type": ("attribute", TAXONOMY_SERVICE_TYPES),
    "genders": ("attribute", TAXONOMY_GENDERS),
    "contact_channel": ("attribute", TAXONOMY_CONTACT_CHANNELS),
    "response_days": ("attribute", "response_days"),
}


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

def _csv(rows: Iterable[dict], columns: list[str]) -> bytes:
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=columns, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return text.getvalue().encode("utf-8")


def _stamp(moment: datetime | None) -> str:
    return moment.isoformat(timespec="milliseconds") if moment else ""


def _number(value: int | None) -> str:
    return "" if value is None else str(value)


def _attribute(link_id, link_entity: str, taxonomy: str, code: str, value: str = "") -> dict:
    return {"id": _id("attribute", link_id, taxonomy, code), "link_id": str(link_id),
            "taxonomy_term_id": term_id(taxonomy, code), "link_type": LINK_TYPES[taxonomy],
            "link_entity": link_entity, "value": value, "label": _term_label(taxonomy, code)}


def _eligibility_description(service: Service) -> str:
    """A line for people reading the file in another tool (not read back)."""
    parts = []
    if service.genders:
        parts.append(", ".join(codelists.label("genders", code, "en")
                               for code in service.genders))
    if service.min_age is not None or service.max_age is not None:
        parts.append(f"ages {service.min_age if service.min_age is not None else 0}"
                     f"–{service.max_age if service.max_age is not None else ''}".rstrip("–"))
    return "; ".join(parts)


def _tables(providers: list[Provider]) -> dict[str, list[dict]]:
    tables: dict[str, list[dict]] = {name: [] for name in TABLES}
    for provider in providers:
        org_id = str(provider.hsds_id)
        tables["organization"].append({
            "id": org_id, "name": provider.name, "alternate_name": "",
            "description": provider.description, "email": provider.email,
            "website": provider.website})
        # The provider's own (postal) location carries its country: HSDS has no
        # organisation-level country.
        head_office = _id("location", org_id)
        tables["location"].append({"id": head_office, "location_type": "postal",
                                   "organization_id": org_id, "name": provider.name})
        tables["address"].append({"id": _id("address", head_office), "location_id": head_office,
                                  "address_1": "", "city": "", "region": "",
                                  "state_province": "", "postal_code": "",
                                  "country": provider.country, "address_type": "postal"})
        if provider.phone:
            tables["phone"].append({"id": _id("phone", org_id), "organization_id": org_id,
                                    "number": provider.phone})
        attributes = [
            _attribute(org_id, "organization", TAXONOMY_AGENCY_TYPES,
                       provider.organisation_type),
            _attribute(org_id, "organization", TAXONOMY_FIELDS, "provider_active",
                       "true" if provider.is_active else "false"),
        ]
        if provider.agency_id:
            attributes.append(_attribute(org_id, "organization", TAXONOMY_FIELDS, "nrm_agency",
                                         provider.agency.code))
        tables["attribute"] += attributes
        for service in sorted(provider.services.all(), key=lambda s: (s.name, str(s.hsds_id))):
            _service_rows(tables, org_id, service)
    return tables


def _service_rows(tables: dict[str, list[dict]], org_id: str, service: Service) -> None:
    service_id = str(service.hsds_id)
    tables["service"].append({
        "id": service_id, "organization_id": org_id, "name": service.name,
        "alternate_name": "", "description": service.description,
        "status": "active" if service.is_active else "inactive",
        "eligibility_description": _eligibility_description(service),
        "minimum_age": _number(service.min_age), "maximum_age": _number(service.max_age),
        "last_modified": _stamp(service.updated_at)})
    location_id = _id("location", service_id)
    tables["location"].append({"id": location_id, "location_type": "physical",
                               "organization_id": org_id, "name": service.name})
    tables["address"].append({
        "id": _id("address", location_id), "location_id": location_id,
        "address_1": service.address, "city": service.city, "region": service.region,
        "state_province": service.region, "postal_code": "", "country": service.country,
        "address_type": "physical"})
    tables["service_at_location"].append({"id": _id("service_at_location", service_id),
                                          "service_id": service_id,
                                          "location_id": location_id})
    for code in service.languages:
        tables["language"].append({"id": _id("language", service_id, code),
                                   "service_id": service_id,
                                   "name": codelists.label("languages", code, "en"),
                                   "code": code})
    if service.capacity is not None or service.places_available is not None:
        tables["service_capacity"].append({
            "id": _id("service_capacity", service_id), "service_id": service_id,
            "unit_id": str(PLACE_UNIT_ID), "available": _number(service.places_available),
            "maximum": _number(service.capacity), "description": "",
            "updated": _stamp(service.capacity_updated_at)})
    tables["attribute"].append(_attribute(service_id, "service", TAXONOMY_SERVICE_TYPES,
                                          service.service_type))
    tables["attribute"] += [_attribute(service_id, "service", TAXONOMY_GENDERS, code)
                            for code in service.genders]
    tables["attribute"].append(_attribute(service_id, "service", TAXONOMY_CONTACT_CHANNELS,
                                          service.contact_channel))
    tables["attribute"].append(_attribute(service_id, "service", TAXONOMY_FIELDS,
                                          "response_days", str(service.response_days)))


def _reference_tables(tables: dict[str, list[dict]]) -> None:
    tables["unit"].append({"id": str(PLACE_UNIT_ID), "name": "place", "scheme": "",
                           "identifier": ""})
    for name, (description, _source) in TAXONOMIES.items():
        taxonomy_id = _id("taxonomy", name)
        version = (codelists.load(_source)["version"] if isinstance(_source, str)
                   else "1")
        tables["taxonomy"].append({"id": taxonomy_id, "name": name,
                                   "description": description, "version": version})
        for code in _taxonomy_codes(name):
            label = _term_label(name, code)
            tables["taxonomy_term"].append({
                "id": term_id(name, code), "code": code, "name": label, "description": label,
                "taxonomy": name, "language": "en", "taxonomy_id": taxonomy_id})


def _datapackage() -> dict:
    return {
        "profile": "tabular-data-package",
        "name": "opennrm-service-directory",
        "title": "OpenNRM service directory",
        "description": f"Open Referral Human Services Data Specification {HSDS_VERSION}",
        "resources": [{
            "name": name, "path": f"{name}.csv", "profile": "tabular-data-resource",
            "format": "csv", "mediatype": "text/csv", "encoding": "utf-8",
            "schema": {"fields": [
                {"name": column,
                 "type": "number" if column in NUMBER_COLUMNS else "string"}
                for column in columns]},
        } for name, columns in TABLES.items()],
    }


def export_directory(actor: User, output: BinaryIO, channel: str = "") -> int:
    """Write the whole directory (inactive entries too) as an HSDS zip to `output`.

    Returns the number of services written. Directory managers only; audited.
    """
    ensure_can_manage(actor)
    providers = list(Provider.objects.select_related("agency").prefetch_related("services")
                     .order_by("name", "hsds_id"))
    tables = _tables(providers)
    _reference_tables(tables)
    with zipfile.ZipFile(output, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(_entry("datapackage.json"),
                         json.dumps(_datapackage(), indent=2, ensure_ascii=False) + "\n")
        for name, columns in TABLES.items():
            archive.writestr(_entry(f"{name}.csv"), _csv(tables[name], columns))
    record_events(actor, [AuditEvent(Action.EXPORT, "service_directory", "hsds",
                                     reason=f"{len(tables['service'])} services")], channel)
    return len(tables["service"])


def _entry(name: str) -> zipfile.ZipInfo:
    # A fixed date: the same directory gives the same bytes.
    info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


# --- import ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Row:
    """A data row and where it is (for error messages)."""

    table: str
    number: int  # as a spreadsheet shows it: the header is row 1
    values: dict


class Problems:
    """Errors found in a file, each naming file, row and column; raised all at once."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def add(self, row: Row | None, column: str, message: str, table: str = "") -> None:
        if row is None:
            self.messages.append(_("%(file)s: %(message)s") % {
                "file": f"{table}.csv" if table else _("the file"), "message": message})
        else:
            self.messages.append(_("%(file)s, row %(row)d, %(column)s: %(message)s") % {
                "file": f"{row.table}.csv", "row": row.number, "column": column,
                "message": message})

    def raise_if_any(self) -> None:
        if self.messages:
            if len(self.messages) > MAX_ERRORS:
                extra = len(self.messages) - MAX_ERRORS
                self.messages = self.messages[:MAX_ERRORS] + [
                    _("… and %(count)d more errors.") % {"count": extra}]
            raise ValidationError({"file": self.messages})


def _read_zip(upload: BinaryIO, problems: Problems) -> dict[str, list[Row]]:
    try:
        archive = zipfile.ZipFile(upload)
    except (zipfile.BadZipFile, OSError, ValueError):
        problems.add(None, "", _("This is not a zip file. Upload the HSDS zip as exported."))
        problems.raise_if_any()
    with archive:
        members = {info.filename.rsplit("/", 1)[-1]: info for info in archive.infolist()
                   if not info.is_dir()}
        if sum(info.file_size for info in members.values()) > MAX_UNCOMPRESSED_BYTES:
            problems.add(None, "", _("The file is too large to import."))
            problems.raise_if_any()
        tables: dict[str, list[Row]] = {}
        for name in TABLES:
            info = members.get(f"{name}.csv")
            if info is None:
                if name in ("organization", "service"):
                    problems.add(None, "", _("%(file)s is missing from the zip.") % {
                        "file": f"{name}.csv"})
                tables[name] = []
                continue
            try:
                text = archive.read(info).decode("utf-8-sig")
            except (UnicodeDecodeError, zipfile.BadZipFile, RuntimeError, OSError):
                problems.add(None, "", _("The file is not readable UTF-8 CSV."), name)
                tables[name] = []
                continue
            tables[name] = _rows(name, text, problems)
    problems.raise_if_any()
    return tables


def _rows(table: str, text: str, problems: Problems) -> list[Row]:
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""))
        rows = [Row(table, number, {key: (value or "").strip() for key, value in row.items()
                                    if isinstance(key, str)})
                for number, row in enumerate(reader, start=2)]
    except csv.Error as error:
        problems.add(None, "", _("The CSV cannot be read: %(error)s") % {"error": error}, table)
        return []
    if "id" not in (reader.fieldnames or []):
        problems.add(None, "", _("The column “id” is missing."), table)
        return []
    return rows


def _uuid(row: Row, column: str, problems: Problems) -> uuid.UUID | None:
    try:
        return uuid.UUID(row.values.get(column, ""))
    except ValueError:
        problems.add(row, column, _("Enter a UUID."))
        return None


def _stamp_or_none(row: Row, column: str, problems: Problems) -> datetime | None:
    text = row.values.get(column, "")
    if not text:
        return None
    try:
        moment = parse_datetime(text)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        problems.add(row, column, _("Enter a date and time with its UTC offset (ISO 8601)."))
        return None
    return moment


def _by(rows: list[Row], column: str) -> dict[str, list[Row]]:
    grouped: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        grouped[row.values.get(column, "")].append(row)
    return grouped


class _Terms:
    """The attributes of each organisation and service, read as (taxonomy, code, value)."""

    def __init__(self, tables: dict[str, list[Row]], problems: Problems):
        taxonomy_names = {row.values.get("id", ""): row.values.get("name", "")
                          for row in tables["taxonomy"]}
        terms = {}
        for row in tables["taxonomy_term"]:
            taxonomy = (taxonomy_names.get(row.values.get("taxonomy_id", ""))
                        or row.values.get("taxonomy", ""))
            terms[row.values.get("id", "")] = (taxonomy, row.values.get("code", ""))
        self.by_link: dict[str, list[tuple[str, str, str, Row]]] = defaultdict(list)
        for row in tables["attribute"]:
            term = terms.get(row.values.get("taxonomy_term_id", ""))
            if term is None:
                problems.add(row, "taxonomy_term_id", _("No taxonomy term has this id."))
                continue
            if term[0] in TAXONOMIES:  # terms of other taxonomies are not ours to read
                self.by_link[row.values.get("link_id", "")].append((*term, row.values.get(
                    "value", ""), row))

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


def read_directory(upload: BinaryIO) -> list[services.ImportedProvider]:
    """Read and check an HSDS zip completely; ValidationError listing every problem found."""
    problems = Problems()
    tables = _read_zip(upload, problems)
    terms = _Terms(tables, problems)
    addresses = _by(tables["address"], "location_id")
    service_locations = _by(tables["service_at_location"], "service_id")
    service_location_ids = {row.values.get("location_id", "")
                            for row in tables["service_at_location"]}
    phones = _by(tables["phone"], "organization_id")
    languages = _by(tables["language"], "service_id")
    capacities = _by(tables["service_capacity"], "service_id")
    services_of = _by(tables["service"], "organization_id")
    agencies = {agency.code: agency for agency in Agency.objects.filter(is_active=True)}

    seen: set[str] = set()
    providers = []
    for org in tables["organization"]:
        org_id = org.values.get("id", "")
        hsds_id = _uuid(org, "id", problems)
        if hsds_id is None:
            continue
        if org_id in seen:
            problems.add(org, "id", _("This id appears twice."))
            continue
        seen.add(org_id)
        provider = _read_provider(org, hsds_id, tables, terms, service_location_ids, addresses,
                                  phones, agencies, problems)
        if provider is None:
            continue
        for row in services_of.get(org_id, []):
            if row.values.get("id", "") in seen:
                problems.add(row, "id", _("This id appears twice."))
                continue
            seen.add(row.values.get("id", ""))
            service = _read_service(row, provider, terms, service_locations, addresses,
                                    languages, capacities, problems)
            if service is not None:
                provider.services.append(service)
        providers.append(provider)
    known_orgs = {row.values.get("id", "") for row in tables["organization"]}
    for row in tables["service"]:
        if row.values.get("organization_id", "") not in known_orgs:
            problems.add(row, "organization_id", _("No organization in organization.csv has "
                                                   "this id."))
    problems.raise_if_any()
    return providers


def _read_provider(org: Row, hsds_id: uuid.UUID, tables, terms: _Terms,
                   service_location_ids: set[str], addresses, phones, agencies,
                   problems: Problems) -> services.ImportedProvider | None:
    org_id = org.values["id"]
    # The country: of the organisation's own location, else of its first service location.
    own = [row for row in tables["location"] if row.values.get("organization_id") == org_id]
    own.sort(key=lambda row: row.values.get("id", "") in service_location_ids)
    country_row = next((address for location in own
                        for address in addresses.get(location.values.get("id", ""), [])
                        if address.values.get("country")), None)
    phone_row = next(iter(phones.get(org_id, [])), None)
    types = terms.codes(org_id, TAXONOMY_AGENCY_TYPES)
    agency_code = terms.value(org_id, "nrm_agency")
    data = {
        "name": org.values.get("name", ""), "description": org.values.get("description", ""),
        "email": org.values.get("email", ""), "website": org.values.get("website", ""),
        "phone": phone_row.values.get("number", "") if phone_row else "",
        "country": country_row.values.get("country", "") if country_row else "",
        "organisation_type": types[0] if types else "",
        "agency": agencies.get(agency_code) if agency_code else None,
    }
    where = {
        "name": (org, "name"), "description": (org, "description"), "email": (org, "email"),
        "website": (org, "website"), "phone": (phone_row, "number"),
        "country": (country_row, "country") if country_row else (org, "country"),
        "organisation_type": (terms.row(org_id, TAXONOMY_AGENCY_TYPES) or org,
                              TAXONOMY_AGENCY_TYPES),
    }
    valid = True
    if agency_code and agency_code not in agencies:
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
    return services.ImportedProvider(hsds_id, clean, is_active=active != "false")


def _read_service(row: Row, provider: services.ImportedProvider, terms: _Terms,
                  service_locations, addresses, languages, capacities,
                  problems: Problems) -> services.ImportedService | None:
    service_id = row.values["id"]
    hsds_id = _uuid(row, "id", problems)
    address_row = next((address for link in service_locations.get(service_id, [])
                        for address in addresses.get(link.values.get("location_id", ""), [])),
                       None)
    capacity_row = next(iter(capacities.get(service_id, [])), None)
    service_types = terms.codes(service_id, TAXONOMY_SERVICE_TYPES)
    channels = terms.codes(service_id, TAXONOMY_CONTACT_CHANNELS)
    language_rows = languages.get(service_id, [])
    address = address_row.values if address_row else {}
    capacity = capacity_row.values if capacity_row else {}
    data = {
        "name": row.values.get("name", ""), "description": row.values.get("description", ""),
        "service_type": service_types[0] if service_types else "",
        "address": address.get("address_1", ""), "city": address.get("city", ""),
        "region": address.get("region") or address.get("state_province", ""),
        "country": address.get("country", ""),
        "genders": terms.codes(service_id, TAXONOMY_GENDERS),
        "min_age": row.values.get("minimum_age", ""),
        "max_age": row.values.get("maximum_age", ""),
        "languages": [language.values.get("code", "") for language in language_rows],
        "capacity": capacity.get("maximum", ""),
        "places_available": capacity.get("available", ""),
        "contact_channel": channels[0] if channels else (
            ContactChannel.IN_SYSTEM if provider.values.get("agency") else ContactChannel.EMAIL),
        "response_days": terms.value(service_id, "response_days") or 5,
    }
    where: dict[str, tuple[Row | None, str]] = {
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
        "capacity": (capacity_row, "maximum"), "places_available": (capacity_row, "available"),
    }
    for name in ("address", "city", "region", "country"):
        where[name] = (address_row, SERVICE_COLUMNS[name][1]) if address_row else (
            row, "service_at_location")
    status = row.values.get("status", "")
    valid = hsds_id is not None
    if status not in ("active", "inactive", "defunct", "temporarily closed"):
        problems.add(row, "status", _("Enter active, inactive, defunct or temporarily "
                                      "closed."))
        valid = False
    updated_at = _stamp_or_none(row, "last_modified", problems)
    capacity_updated_at = (_stamp_or_none(capacity_row, "updated", problems)
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
    return services.ImportedService(hsds_id, clean, is_active=status == "active",
                                    updated_at=updated_at,
                                    capacity_updated_at=capacity_updated_at)


def import_directory(actor: User, upload: BinaryIO,
                     channel: str = "") -> services.ImportSummary:
    """Check an HSDS zip completely, then create or update its providers and services in one
    transaction. A problem anywhere: ValidationError({"file": [...]}), nothing written."""
    ensure_can_manage(actor)
    return services.import_directory(actor, read_directory(upload), channel)
