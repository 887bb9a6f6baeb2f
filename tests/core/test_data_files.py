"""Data files are checked against their JSON Schemas when they load (core.datafiles).

A bad file stops loading with the file's path, the line and the reason. The real files are
never changed here: bad files are written to tmp_path.
"""

import fnmatch
import json
import tomllib
from pathlib import Path

import jsonschema_rs
import pytest
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured

from opennrm.core import codelists, country_groups, datafiles

CODELIST_SCHEMA = codelists.CODE_LISTS.schema

GOOD_LIST = """{
  "name": "colours",
  "version": "1",
  "source": "test",
  "codes": [
    {"code": "red", "label": "Red", "labels": {"ro": "Roșu", "uk": "Червоний", "ru": "Красный"}},
    {"code": "blue", "label": "Blue", "labels": {"ro": "Albastru", "uk": "Синій", "ru": "Синий"}}
  ]
}
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def code_list_folder(tmp_path, monkeypatch):
    """The code lists read from tmp_path, with the caches emptied before and after."""
    monkeypatch.setattr(codelists, "CODELIST_DIR", tmp_path)
    codelists.load.cache_clear()
    codelists.entries.cache_clear()
    yield tmp_path
    codelists.load.cache_clear()
    codelists.entries.cache_clear()


def test_it_loads_a_good_file(tmp_path):
    path = write(tmp_path, "colours.json", GOOD_LIST)
    assert [e["code"] for e in datafiles.load(path, CODELIST_SCHEMA)["codes"]] == ["red", "blue"]


def test_it_reports_a_wrong_type_with_the_path_line_and_reason(tmp_path):
    path = write(tmp_path, "colours.json", GOOD_LIST.replace('"code": "blue"', '"code": 7'))
    with pytest.raises(datafiles.DataFileError) as raised:
        datafiles.load(path, CODELIST_SCHEMA)
    error = raised.value
    assert (error.path, error.line) == (path, 7)
    assert "/codes/1/code" in error.reason and "not of type" in error.reason
    assert str(error).startswith(f"{path}:7: ")


def test_it_reports_a_missing_key_on_the_line_of_its_object(tmp_path):
    path = write(tmp_path, "colours.json",
                 GOOD_LIST.replace('"label": "Blue", ', ""))
    with pytest.raises(datafiles.DataFileError) as raised:
        datafiles.load(path, CODELIST_SCHEMA)
    assert raised.value.line == 7
    assert "'label' is a required property" in raised.value.reason.replace('"', "'")


def test_it_reports_an_unknown_field_on_its_own_line(tmp_path):
    path = write(tmp_path, "colours.json",
                 GOOD_LIST.replace('  "source": "test",\n',
                                   '  "source": "test",\n  "colour": "green",\n'))
    with pytest.raises(datafiles.DataFileError) as raised:
        datafiles.load(path, CODELIST_SCHEMA)
    assert raised.value.line == 5
    assert raised.value.reason == "/colour: unknown field 'colour'"


def test_it_reports_a_syntax_error_with_its_line(tmp_path):
    path = write(tmp_path, "colours.json", GOOD_LIST.replace('"version": "1",', '"version": 1'))
    with pytest.raises(datafiles.DataFileError) as raised:
        datafiles.load(path, CODELIST_SCHEMA)
    assert raised.value.line == 4
    assert raised.value.reason.startswith("not valid JSON")


def test_it_reports_a_toml_syntax_error_with_its_line(tmp_path):
    path = write(tmp_path, "broken.toml", 'key = "a"\n\ntitle = \n')
    with pytest.raises(datafiles.DataFileError) as raised:
        datafiles.load(path, CODELIST_SCHEMA)
    assert raised.value.line == 3
    assert raised.value.reason.startswith("not valid TOML")


def test_the_error_stops_django_start_up():
    assert issubclass(datafiles.DataFileError, ImproperlyConfigured)


@pytest.mark.parametrize(("location", "line"), [
    ([], 1), (["name"], 2), (["codes"], 5), (["codes", 1], 7), (["codes", 1, "labels", "uk"], 7),
])
def test_it_finds_the_line_of_a_json_value(location, line):
    assert datafiles.line_of(GOOD_LIST, location) == line


TOML = """key = "demo"
notes = [
  "one",
  "two",
]

[dimensions.sex]
label = "Sex"
categories = [
  { code = "female", label = "Female", values = ["female"] },
  { code = "male", label = "Male", values = ["male"] },
]

[[tables]]
key = "first"

[[tables]]
key = "second"
where = { victim_status = ["presumed"] }
"""


@pytest.mark.parametrize(("location", "line"), [
    (["key"], 1), (["notes", 1], 4), (["dimensions", "sex"], 7),
    (["dimensions", "sex", "categories", 1, "values"], 11), (["tables", 1], 17),
    (["tables", 1, "key"], 18), (["tables", 1, "where", "victim_status"], 19),
])
def test_it_finds_the_line_of_a_toml_value(location, line):
    assert datafiles.line_of(TOML, location, toml=True) == line


def test_a_code_list_whose_name_is_not_its_file_name_is_refused(tmp_path):
    path = write(tmp_path, "colors.json", GOOD_LIST)
    with pytest.raises(datafiles.DataFileError) as raised:
        codelists.CODE_LISTS.load(path)
    assert raised.value.line == 2 and "not the file's name" in raised.value.reason


def test_a_code_that_appears_twice_is_refused_on_its_line(tmp_path):
    path = write(tmp_path, "colours.json", GOOD_LIST.replace('"code": "blue"', '"code": "red"'))
    with pytest.raises(datafiles.DataFileError) as raised:
        codelists.CODE_LISTS.load(path)
    assert raised.value.line == 7 and "'red' appears twice" in raised.value.reason


def test_a_new_code_list_file_is_enough(code_list_folder):
    write(code_list_folder, "colours.json", GOOD_LIST)
    assert "colours" in codelists.available()
    assert codelists.label("colours", "blue", "uk") == "Синій"


def test_a_bad_code_list_stops_start_up(code_list_folder):
    path = write(code_list_folder, "colours.json",
                 GOOD_LIST.replace('"code": "blue"', '"code": "blue", "shade": 3'))
    with pytest.raises(datafiles.DataFileError) as raised:
        apps.get_app_config("core").ready()
    assert (raised.value.path, raised.value.line) == (path, 7)
    assert raised.value.reason == "/codes/1/shade: unknown field 'shade'"


def test_eu_membership_is_a_data_file():
    data = json.loads((country_groups.GROUP_DIR / "eu.json").read_text(encoding="utf-8"))
    assert country_groups.members("eu") == frozenset(data["members"])
    assert len(data["members"]) == 27 and "GB" not in data["members"]
    known = set(codelists.entries("countries"))
    assert set(data["members"]) <= known


def test_every_registered_data_file_matches_its_schema():
    import opennrm.screening.indicator_sets  # noqa: F401 — they register their kinds
    import opennrm.statistics.engine  # noqa: F401
    import opennrm.statistics.extracts  # noqa: F401
    import opennrm.statistics.glotip_questionnaire  # noqa: F401
    import opennrm.statistics.sdmx  # noqa: F401

    assert {"code list", "country group", "indicator list", "table set", "population figures",
            "CTDC mapping", "SDMX data structure", "questionnaire layout"
            } <= set(datafiles.registered())
    datafiles.check_all()


def test_every_schema_is_a_valid_draft_2020_12_schema():
    import opennrm.screening.indicator_sets  # noqa: F401
    import opennrm.statistics.engine  # noqa: F401
    import opennrm.statistics.extracts  # noqa: F401
    import opennrm.statistics.glotip_questionnaire  # noqa: F401
    import opennrm.statistics.sdmx  # noqa: F401

    for kind in datafiles.registered().values():
        schema = json.loads(kind.schema.read_text(encoding="utf-8"))
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema", kind.name
        jsonschema_rs.meta.validate(schema)


def test_every_data_file_and_schema_is_shipped_in_the_package():
    import opennrm.screening.indicator_sets  # noqa: F401
    import opennrm.statistics.engine  # noqa: F401
    import opennrm.statistics.extracts  # noqa: F401
    import opennrm.statistics.glotip_questionnaire  # noqa: F401
    import opennrm.statistics.sdmx  # noqa: F401

    root = Path(codelists.__file__).parents[1]
    pyproject = tomllib.loads((root.parents[1] / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = pyproject["tool"]["setuptools"]["package-data"]["opennrm"]
    for kind in datafiles.registered().values():
        for path in [kind.schema, *kind.paths()]:
            relative = path.relative_to(root).as_posix()
            assert any(fnmatch.fnmatch(relative, pattern) for pattern in patterns), relative
