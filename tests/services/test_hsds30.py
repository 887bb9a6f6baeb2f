"""HSDS 3.0 conformance, on the specification's own files (tests/services/hsds30/: the root
datapackage.json and the official example, copied from openreferral/specification)."""

import csv
import io
import json
import shutil
import zipfile
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from frictionless import Package, system

from opennrm.accounts.models import User
from opennrm.cases.demo import ensure_demo_accounts
from opennrm.services import hsds, hsds_schema
from opennrm.services.access import DirectoryAccessDenied
from opennrm.services.demo import create_demo_directory
from opennrm.services.models import HsdsRecord, Provider, Service

FIXTURES = Path(__file__).parent / "hsds30"
EXAMPLE = FIXTURES / "examples"
OFFICIAL = FIXTURES / "datapackage.json"
EXAMPLE_OPTIONS = hsds.ImportOptions(service_type="psychological")
# The example's references to rows that are not in it (the only thing not kept).
DANGLING = {("locations.csv", "organization_id"), ("contacts.csv", "organization_id"),
            ("contacts.csv", "service_at_location_id"), ("taxonomy_terms.csv", "taxonomy_id")}


def example_zip(files: dict[str, bytes] | None = None, drop: tuple[str, ...] = ()) -> io.BytesIO:
    """The official example as a zip (in a folder, as a zip of examples/csv would be)."""
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w") as archive:
        for path in sorted(EXAMPLE.iterdir()):
            if path.name not in drop:
                archive.writestr(f"csv/{path.name}", path.read_bytes())
        for name, data in (files or {}).items():
            archive.writestr(f"csv/{name}", data)
    output.seek(0)
    return output


def export(user) -> bytes:
    output = io.BytesIO()
    hsds.export_directory(user, output)
    return output.getvalue()


def csv_rows(data: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def exported_tables(archive_bytes: bytes) -> dict[str, list[dict]]:
    with zipfile.ZipFile(io.BytesIO(archive_bytes)) as archive:
        return {name: csv_rows(archive.read(name)) for name in archive.namelist()
                if name.endswith(".csv")}


def frictionless_errors(archive_bytes: bytes, folder: Path, descriptor: Path | None = OFFICIAL
                        ) -> list[str]:
    """The errors of `frictionless validate` on the export, against the official HSDS 3.0
    datapackage.json (or the export's own, `descriptor=None`)."""
    folder.mkdir()
    with zipfile.ZipFile(io.BytesIO(archive_bytes)) as archive:
        archive.extractall(folder)
    if descriptor is not None:
        shutil.copy(descriptor, folder / "datapackage.json")
    with system.use_context(trusted=True):
        report = Package(str(folder / "datapackage.json")).validate()
    return [f"{task.name}: {error.type}: {error.message}" for task in report.tasks
            for error in task.errors]


def test_the_node_reads_the_specifications_own_datapackage():
    assert json.loads(hsds_schema.PACKAGE_PATH.read_text()) == json.loads(OFFICIAL.read_text())
    assert hsds.file_name("organization") == "organizations.csv"
    assert len(hsds_schema.resources()) == 21


def test_the_official_example_alone_has_four_dangling_references(tmp_path):
    # Why the import reports four values as not kept: the example is not valid on its own.
    shutil.copytree(EXAMPLE, tmp_path / "example")
    with system.use_context(trusted=True):
        report = Package(str(tmp_path / "example" / "datapackage.json")).validate()
    errors = [(task.name, error.type) for task in report.tasks for error in task.errors]
    assert sorted(errors) == [("contact", "foreign-key"), ("contact", "foreign-key"),
                              ("location", "foreign-key"), ("taxonomy_term", "foreign-key")]


@pytest.mark.parametrize("source", ["zip", "folder"])
def test_the_official_example_imports_unchanged(coordinator, settings, source):
    settings.OPENNRM_COUNTRY = "MD"
    upload = example_zip() if source == "zip" else EXAMPLE

    summary = hsds.import_directory(coordinator, upload, options=EXAMPLE_OPTIONS)

    assert (summary.providers_created, summary.services_created) == (1, 1)
    provider = Provider.objects.get()
    # HSDS has no organisation type or country: the mapping file's default, the node's.
    assert (provider.name, provider.organisation_type, provider.country) == (
        "Example Organization Inc.", "ngo", "MD")
    assert provider.phone == '"+44 1234 234567"'
    service = Service.objects.get()
    assert (service.name, service.service_type, service.min_age, service.max_age) == (
        "Community Counselling", "psychological", 12, 100)
    assert (service.address, service.city, service.region, service.country) == (
        "1-30 Main Street", "MyCity", "MyRegion", "US")
    assert service.languages == ["ur"]
    assert {(item.file, item.column, item.count) for item in summary.not_kept} == {
        (file, column, 1) for file, column in DANGLING}
    # Every row of every table is kept.
    example_rows = {path.stem: len(csv_rows(path.read_bytes()))
                    for path in EXAMPLE.glob("*.csv")}
    kept = {hsds.file_name(table)[:-4]: count for table, count in summary.rows_kept.items()}
    assert kept == example_rows


def test_the_official_example_comes_back_out_whole_and_valid(coordinator, tmp_path):
    hsds.import_directory(coordinator, example_zip(), options=EXAMPLE_OPTIONS)
    archive_bytes = export(coordinator)
    exported = exported_tables(archive_bytes)

    for path in sorted(EXAMPLE.glob("*.csv")):
        by_id = {row["id"]: row for row in exported[path.name]}
        for row in csv_rows(path.read_bytes()):
            assert row["id"] in by_id, f"{path.name} {row['id']} not exported"
            written = by_id[row["id"]]
            for column, value in row.items():
                expected = "" if (path.name, column) in DANGLING else value
                assert written[column] == expected, (path.name, column)
    # No HSDS 3.1 file or field.
    assert not {"service_capacity.csv", "units.csv", "urls.csv"} & set(exported)
    assert "label" not in exported["attributes.csv"][0]
    assert frictionless_errors(archive_bytes, tmp_path / "official") == []
    assert frictionless_errors(archive_bytes, tmp_path / "own", descriptor=None) == []
    # And it reads back the same.
    again = hsds.import_directory(coordinator, io.BytesIO(archive_bytes))
    assert (again.providers_updated, again.services_updated, again.not_kept) == (0, 0, [])
    assert export(coordinator) == archive_bytes


def test_the_demo_directory_exports_valid_hsds_3_0(db, tmp_path):
    ensure_demo_accounts()
    create_demo_directory()
    manager = User.objects.get(username="coordinator")

    archive_bytes = export(manager)

    assert frictionless_errors(archive_bytes, tmp_path / "demo") == []
    before = sorted(Service.objects.values_list("hsds_id", "name", "city", "region", "country",
                                                "languages", "capacity", "service_type"))
    Service.objects.all().delete()
    Provider.objects.all().delete()
    hsds.import_directory(manager, io.BytesIO(archive_bytes))
    assert sorted(Service.objects.values_list("hsds_id", "name", "city", "region", "country",
                                              "languages", "capacity",
                                              "service_type")) == before
    assert export(manager) == archive_bytes


def test_an_edit_in_opennrm_is_written_over_the_kept_row(coordinator):
    hsds.import_directory(coordinator, example_zip(), options=EXAMPLE_OPTIONS)
    service = Service.objects.get()
    Service.objects.filter(pk=service.pk).update(city="Bălți", languages=["ro"])

    exported = exported_tables(export(coordinator))

    address = exported["addresses.csv"][0]
    assert (address["city"], address["address_1"], address["postal_code"]) == (
        "Bălți", "1-30 Main Street", "ABC 1234")
    assert [row["code"] for row in exported["languages.csv"]] == ["ro"]


def test_options_and_the_mapping_file_give_what_hsds_lacks(coordinator, settings):
    settings.OPENNRM_COUNTRY = "MD"
    organizations = (EXAMPLE / "organizations.csv").read_text().replace(
        "Limited Company", "Charity")
    hsds.import_directory(coordinator, example_zip({"organizations.csv": organizations.encode()},
                                                   drop=("organizations.csv",)),
                          options=hsds.ImportOptions(country="RO", service_type="legal_aid",
                                                     organisation_type="health_service"))
    provider = Provider.objects.get()
    # The mapping file's rule (legal_status Charity → ngo) wins over the option's default.
    assert (provider.organisation_type, provider.country) == ("ngo", "RO")
    assert Service.objects.get().service_type == "legal_aid"


def test_the_import_option_gives_the_type_when_no_rule_matches(coordinator):
    hsds.import_directory(coordinator, example_zip(), options=hsds.ImportOptions(
        service_type="medical", organisation_type="health_service"))
    assert Provider.objects.get().organisation_type == "health_service"


def test_a_service_without_a_type_is_an_error_naming_the_ways_to_give_one(coordinator):
    with pytest.raises(ValidationError) as error:
        hsds.import_directory(coordinator, example_zip())
    assert error.value.messages == [
        "services.csv, row 2, opennrm-service-types: The service has no OpenNRM service "
        "type: add an attribute of the taxonomy opennrm-service-types, a rule to the "
        "mapping file, or give a service type as an import option."]


def test_a_renamed_column_is_an_error_and_wipes_nothing(coordinator):
    hsds.import_directory(coordinator, example_zip(), options=EXAMPLE_OPTIONS)
    languages = (EXAMPLE / "languages.csv").read_text().replace(",code,", ",language_code,", 1)

    with pytest.raises(ValidationError) as error:
        hsds.import_directory(coordinator, example_zip({"languages.csv": languages.encode()},
                                                       drop=("languages.csv",)),
                              options=EXAMPLE_OPTIONS)

    assert error.value.messages == [
        "languages.csv: The column “code” is missing.",
        "languages.csv: The column “language_code” is not a field of the HSDS 3.0 table "
        "language."]
    assert Service.objects.get().languages == ["ur"]


def test_a_missing_column_is_an_error(coordinator):
    header, row = (EXAMPLE / "organizations.csv").read_text().splitlines()
    keep = [index for index, name in enumerate(header.split(",")) if name != "tax_id"]
    cut = [",".join(header.split(",")[index] for index in keep),
           ",".join(next(csv.reader([row]))[index] for index in keep)]
    with pytest.raises(ValidationError) as error:
        hsds.import_directory(coordinator, example_zip(
            {"organizations.csv": "\n".join(cut).encode()}, drop=("organizations.csv",)),
            options=EXAMPLE_OPTIONS)
    assert "organizations.csv: The column “tax_id” is missing." in error.value.messages


def test_a_file_listed_in_datapackage_json_must_be_there(coordinator):
    with pytest.raises(ValidationError) as error:
        hsds.import_directory(coordinator, example_zip(drop=("schedules.csv",)),
                              options=EXAMPLE_OPTIONS)
    assert error.value.messages == ["schedules.csv: The file is missing from the package."]


def test_a_value_of_the_wrong_type_is_named(coordinator):
    schedules = (EXAMPLE / "schedules.csv").read_text().replace("10:00:00", "ten o'clock")
    with pytest.raises(ValidationError) as error:
        hsds.import_directory(coordinator, example_zip({"schedules.csv": schedules.encode()},
                                                       drop=("schedules.csv",)),
                              options=EXAMPLE_OPTIONS)
    assert error.value.messages == [
        "schedules.csv, row 2, opens_at: Enter a time as HH:MM:SS."]


def test_hsds_3_1_is_read_and_what_3_1_adds_is_reported_not_kept(coordinator):
    attributes = (EXAMPLE / "attributes.csv").read_text().splitlines()
    attributes = [attributes[0] + ",label", attributes[1] + ",A label"]
    capacity = ("id,service_id,unit_id,available,maximum,description,updated\n"
                "7c3fa8f2-31a5-4a0e-b2a1-16f2c4b9a001,ac148810-d857-441c-9679-408f346de14b,"
                "7c3fa8f2-31a5-4a0e-b2a1-16f2c4b9a002,3,10,,2025-01-01T00:00:00Z\n")

    summary = hsds.import_directory(coordinator, example_zip(
        {"attributes.csv": "\n".join(attributes).encode(),
         "service_capacity.csv": capacity.encode()}, drop=("attributes.csv",)),
        options=EXAMPLE_OPTIONS)

    not_kept = {(item.file, item.column, item.count, item.reason) for item in summary.not_kept}
    assert ("attributes.csv", "label", 1,
            "an HSDS 3.1 field; OpenNRM reads HSDS 3.0") in not_kept
    assert ("service_capacity.csv", "", 1,
            "an HSDS 3.1 table; OpenNRM reads HSDS 3.0") in not_kept


def test_an_unknown_hsds_version_is_refused(coordinator):
    package = json.loads(OFFICIAL.read_text())
    package["version"] = "2.0.1"
    with pytest.raises(ValidationError) as error:
        hsds.import_directory(coordinator, example_zip(
            {"datapackage.json": json.dumps(package).encode()}, drop=("datapackage.json",)),
            options=EXAMPLE_OPTIONS)
    assert error.value.messages == [
        "datapackage.json: This is HSDS 2.0.1; OpenNRM reads HSDS 3.0 (and 3.1, without what "
        "3.1 adds)."]


def test_importing_again_replaces_the_rows_kept_for_a_service(coordinator):
    hsds.import_directory(coordinator, example_zip(), options=EXAMPLE_OPTIONS)
    header = (EXAMPLE / "schedules.csv").read_text().splitlines()[0]

    hsds.import_directory(coordinator, example_zip({"schedules.csv": (header + "\n").encode()},
                                                   drop=("schedules.csv",)),
                          options=EXAMPLE_OPTIONS)

    assert not HsdsRecord.objects.filter(table="schedule").exists()
    assert HsdsRecord.objects.filter(table="program").count() == 1


def test_a_refused_export_leaves_no_file(caseworker, coordinator, tmp_path):
    path = tmp_path / "directory.zip"
    with pytest.raises(DirectoryAccessDenied):
        hsds.export_to_path(caseworker, path)
    with pytest.raises(CommandError):
        call_command("hsds_export", str(path), "--as", caseworker.username,
                     stdout=io.StringIO())
    assert list(tmp_path.iterdir()) == []
    path.write_bytes(b"earlier")
    with pytest.raises(DirectoryAccessDenied):
        hsds.export_to_path(caseworker, path)
    assert path.read_bytes() == b"earlier"
    assert sorted(tmp_path.iterdir()) == [path]


def test_the_command_imports_a_folder_with_options(coordinator):
    output = io.StringIO()
    call_command("hsds_import", str(EXAMPLE), "--as", "coordinator", "--service-type",
                 "psychological", "--country", "RO", stdout=output)
    assert "Services: 1 created, 0 updated." in output.getvalue()
    assert "locations.csv, organization_id: 1 not kept" in output.getvalue()
    assert Provider.objects.get().country == "RO"
