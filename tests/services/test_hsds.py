import csv
import io
import json
import zipfile
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from opennrm.services import hsds, hsds_schema, services
from opennrm.services.access import DirectoryAccessDenied
from opennrm.services.models import Provider, Service
from tests.factories import make_provider, make_service

FIXTURES = Path(__file__).parent / "hsds30"


def export(user) -> bytes:
    output = io.BytesIO()
    hsds.export_directory(user, output)
    return output.getvalue()


def tables(archive_bytes: bytes) -> dict[str, list[dict]]:
    with zipfile.ZipFile(io.BytesIO(archive_bytes)) as archive:
        return {name[:-4]: list(csv.DictReader(io.StringIO(archive.read(name).decode())))
                for name in archive.namelist() if name.endswith(".csv")}


def by_table(archive_bytes: bytes) -> dict[str, list[dict]]:
    """The export's rows by HSDS resource name."""
    found = tables(archive_bytes)
    return {name: found[hsds.file_name(name)[:-4]] for name in hsds_schema.resources()}


def rewrite(archive_bytes: bytes, table: str, change, header=None) -> io.BytesIO:
    """The zip with `change(rows)` applied to one table (and its header changed by
    `header(names)`)."""
    source = zipfile.ZipFile(io.BytesIO(archive_bytes))
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w") as target:
        for name in source.namelist():
            data = source.read(name)
            if name == hsds.file_name(table):
                rows = list(csv.DictReader(io.StringIO(data.decode())))
                change(rows)
                names = hsds.columns(table)
                text = io.StringIO()
                writer = csv.writer(text)
                writer.writerow(header(list(names)) if header else names)
                writer.writerows([[row[column] for column in names] for row in rows])
                data = text.getvalue().encode()
            target.writestr(name, data)
    output.seek(0)
    return output


@pytest.fixture
def directory(provider, service, shelter_staff):
    """A small directory using every field: an NRM agency's shelter, an external clinic."""
    services.update_capacity(shelter_staff, service, 2)
    clinic = make_provider(name="Clinica Sănătatea", organisation_type="health_service",
                           email="clinic@example.md", phone="+373 299 12345",
                           website="https://clinic.example.md", description="Private clinic")
    make_service(clinic, name="Check-up", service_type="medical", region="Cahul",
                 city="Cahul", address="str. Republicii 5", languages=["ro", "ru", "uk"],
                 genders=["female", "male"], max_age=64, contact_channel="phone",
                 response_days=2, description="Free for presumed victims")
    make_service(clinic, name="Closed unit", service_type="psychological", is_active=False,
                 contact_channel="email")
    make_provider(name="Old interpreters", is_active=False)
    return Service.objects.count()


def test_hsds_import_export_round_trip_keeps_every_provider_and_service(coordinator,
                                                                         directory):
    first = export(coordinator)
    before = {(p.hsds_id, p.name, p.is_active, p.agency_id) for p in Provider.objects.all()}
    Service.objects.all().delete()
    Provider.objects.all().delete()

    summary = hsds.import_directory(coordinator, io.BytesIO(first))

    assert (summary.providers_created, summary.services_created) == (3, 3)
    assert {(p.hsds_id, p.name, p.is_active, p.agency_id)
            for p in Provider.objects.all()} == before
    assert export(coordinator) == first


def test_the_export_is_hsds_3_0_tabular(coordinator, directory):
    archive_bytes = export(coordinator)
    exported = by_table(archive_bytes)
    with zipfile.ZipFile(io.BytesIO(archive_bytes)) as archive:
        package = json.loads(archive.read("datapackage.json"))
        names = set(archive.namelist())

    official = json.loads((FIXTURES / "datapackage.json").read_text())
    assert package["profile"] == "tabular-data-package"
    assert package["resources"] == official["resources"]
    assert names == {"datapackage.json", *(r["path"] for r in official["resources"])}
    assert "organizations.csv" in names and "organization.csv" not in names
    clinic = next(row for row in exported["service"] if row["name"] == "Check-up")
    assert (clinic["status"], clinic["maximum_age"]) == ("active", "64")
    assert {row["code"] for row in exported["language"]
            if row["service_id"] == clinic["id"]} == {"ro", "ru", "uk"}
    # HSDS 3.0 has no service_capacity (3.1): capacity is carried by our attributes.
    shelter = next(row for row in exported["service"] if row["name"] == "Shelter")
    values = {row["taxonomy_term_id"]: row["value"] for row in exported["attribute"]
              if row["link_id"] == shelter["id"]}
    assert values[hsds.term_id(hsds.TAXONOMY_FIELDS, "capacity")] == "12"
    assert values[hsds.term_id(hsds.TAXONOMY_FIELDS, "places_available")] == "2"


def test_importing_an_export_again_updates_instead_of_duplicating(coordinator, directory):
    first = export(coordinator)
    changed = rewrite(first, "service", lambda rows: rows[0].update(name="Renamed service"))

    summary = hsds.import_directory(coordinator, changed)

    assert (summary.services_created, summary.services_updated) == (0, 1)
    assert Service.objects.count() == directory
    assert Service.objects.filter(name="Renamed service").count() == 1


def test_a_bad_row_changes_nothing_and_is_named(coordinator, directory):
    def break_rows(rows):
        rows[0]["name"] = "Would be renamed"
        rows[1]["minimum_age"] = "eighteen"

    with pytest.raises(ValidationError) as error:
        hsds.import_directory(coordinator, rewrite(export(coordinator), "service", break_rows))

    assert error.value.messages == [
        "services.csv, row 3, minimum_age: Enter a number."]
    assert not Service.objects.filter(name="Would be renamed").exists()


def test_an_unknown_agency_is_named(coordinator, directory):
    def break_rows(rows):
        for row in rows:
            if row["value"] == "casa-sperantei":
                row["value"] = "nowhere"

    with pytest.raises(ValidationError) as error:
        hsds.import_directory(coordinator, rewrite(export(coordinator), "attribute",
                                                   break_rows))
    assert len(error.value.messages) == 1
    assert "No active agency has the code nowhere." in error.value.messages[0]


def test_a_file_that_is_not_a_zip_is_refused(coordinator):
    with pytest.raises(ValidationError) as error:
        hsds.import_directory(coordinator, io.BytesIO(b"name,id\n"))
    assert error.value.messages == [
        "the file: This is not a zip file. Upload the HSDS zip as exported."]


def test_only_directory_managers_import_and_export(caseworker):
    with pytest.raises(DirectoryAccessDenied):
        export(caseworker)
    with pytest.raises(DirectoryAccessDenied):
        hsds.import_directory(caseworker, io.BytesIO(b""))


def test_the_commands_export_and_import(coordinator, directory, tmp_path):
    path = tmp_path / "directory.zip"
    call_command("hsds_export", str(path), "--as", "coordinator", stdout=io.StringIO())
    output = io.StringIO()
    call_command("hsds_import", str(path), "--as", "coordinator", stdout=output)

    assert "Services: 0 created, 0 updated." in output.getvalue()
    with pytest.raises(CommandError, match="no active user"):
        call_command("hsds_import", str(path), "--as", "nobody")
