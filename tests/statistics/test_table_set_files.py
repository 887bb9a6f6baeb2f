"""Table sets are found in their folders and checked against their schema; EU membership
and the CTDC mappings are data files.

Bad and new files are written to tmp_path and named in OPENNRM_TABLE_SET_DIRS (or
OPENNRM_POPULATION_FILE); the real files are never changed.
"""

import json
from datetime import date

import pytest
from django.apps import apps

from opennrm.core import codelists, country_groups, datafiles
from opennrm.statistics import engine, extracts

SDG = (engine.DEFINITIONS_DIR / "sdg.toml").read_text(encoding="utf-8")


def _line(text: str, fragment: str, after: str = "") -> int:
    start = text.index(after) if after else 0
    return text[:text.index(fragment, start)].count("\n") + 1


@pytest.fixture
def country_folder(tmp_path, settings):
    settings.OPENNRM_TABLE_SET_DIRS = [str(tmp_path)]
    return tmp_path


def test_the_built_in_sets_come_in_their_order():
    assert engine.table_set_keys() == ("eurostat", "glotip", "sdg", "ctdc", "nrm")


def test_a_new_table_set_file_is_found_without_a_code_change(country_folder, db):
    national = (SDG.replace('key = "sdg"', 'key = "md_national"')
                .replace("SDG 16.2.2: victims", "Moldova: victims").replace("order = 30\n", ""))
    (country_folder / "md_national.toml").write_text(national, encoding="utf-8")
    assert engine.table_set_keys() == ("eurostat", "glotip", "sdg", "ctdc", "nrm",
                                       "md_national")
    assert dict(engine.table_set_choices())["md_national"].startswith("Moldova: victims")
    result = engine.compute("md_national", date(2025, 1, 1), date(2025, 12, 31))
    assert [t.key for t in result.tables] == [t["key"] for t in
                                              engine.load_definition("sdg")["tables"]]


def test_a_table_set_with_a_wrong_type_stops_loading_with_its_line(country_folder):
    text = SDG.replace('key = "sdg"', 'key = "bad"').replace('unit = "persons"', "unit = 5", 1)
    path = country_folder / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(datafiles.DataFileError) as raised:
        engine.table_sets()
    assert (raised.value.path, raised.value.line) == (path, _line(text, "unit = 5"))
    assert raised.value.reason.startswith("/tables/0/unit: ")


def test_a_table_without_its_frame_stops_loading_on_the_line_of_the_table(country_folder):
    text = SDG.replace('key = "sdg"', 'key = "bad"')
    second = text.index("[[tables]]", text.index("[[tables]]") + 1)
    frame = text.index('frame = "cases"\n', second)
    text = text[:frame] + text[frame + len('frame = "cases"\n'):]
    (country_folder / "bad.toml").write_text(text, encoding="utf-8")
    with pytest.raises(datafiles.DataFileError) as raised:
        engine.table_set_keys()
    assert raised.value.line == text[:second].count("\n") + 1
    assert raised.value.reason.startswith("/tables/1: ") and "frame" in raised.value.reason


def test_an_unknown_field_stops_loading_on_its_line(country_folder):
    text = SDG.replace('key = "sdg"', 'key = "bad"').replace(
        'label = "Sex"\n', 'label = "Sex"\ncolour = "red"\n')
    (country_folder / "bad.toml").write_text(text, encoding="utf-8")
    with pytest.raises(datafiles.DataFileError) as raised:
        engine.table_sets()
    assert raised.value.line == _line(text, 'colour = "red"')
    assert raised.value.reason == "/dimensions/sex/colour: unknown field 'colour'"


def test_an_unknown_dimension_stops_loading_on_its_line(country_folder):
    text = SDG.replace('key = "sdg"', 'key = "bad"').replace('rows = "sex"', 'rows = "gender"')
    (country_folder / "bad.toml").write_text(text, encoding="utf-8")
    with pytest.raises(datafiles.DataFileError) as raised:
        engine.table_sets()
    assert raised.value.line == _line(text, 'rows = "gender"')
    assert "unknown dimension 'gender'" in raised.value.reason


def test_a_key_that_is_not_the_file_name_is_refused(country_folder):
    (country_folder / "other.toml").write_text(SDG, encoding="utf-8")
    with pytest.raises(datafiles.DataFileError) as raised:
        engine.table_sets()
    assert raised.value.line == _line(SDG, 'key = "sdg"')


def test_a_toml_syntax_error_stops_loading_with_its_line(country_folder):
    text = SDG.replace('key = "sdg"', 'key = "bad"').replace('label = "Sex"', 'label = Sex')
    (country_folder / "bad.toml").write_text(text, encoding="utf-8")
    with pytest.raises(datafiles.DataFileError) as raised:
        engine.table_sets()
    assert raised.value.line == _line(text, "label = Sex")
    assert raised.value.reason.startswith("not valid TOML")


def test_a_bad_table_set_stops_start_up(country_folder):
    (country_folder / "bad.toml").write_text(SDG.replace('key = "sdg"', 'key = "bad"')
                                             .replace('version = "2026.2"', "version = 2026"),
                                             encoding="utf-8")
    with pytest.raises(datafiles.DataFileError) as raised:
        apps.get_app_config("nrm_statistics").ready()
    assert raised.value.line == 4 and raised.value.reason.startswith("/version: ")


def test_a_bad_population_file_stops_loading(tmp_path, settings):
    path = tmp_path / "population.toml"
    path.write_text('[total]\ntotal = 2_400_000\n\n[sex]\nfemale = "many"\n', encoding="utf-8")
    settings.OPENNRM_POPULATION_FILE = str(path)
    engine.population_figures.cache_clear()
    try:
        with pytest.raises(datafiles.DataFileError) as raised:
            engine.population_figures()
    finally:
        engine.population_figures.cache_clear()
    assert (raised.value.path, raised.value.line) == (path, 5)


def test_eu_membership_comes_from_its_data_file(tmp_path, monkeypatch, settings):
    settings.OPENNRM_COUNTRY = "MD"
    assert engine._expand_values(["@eu"]) == sorted(country_groups.members("eu"))
    (tmp_path / "eu.json").write_text(json.dumps({
        "name": "eu", "label": "EU", "version": "2030-01-01", "source": "test",
        "members": ["AT", "MD", "UA"]}), encoding="utf-8")
    monkeypatch.setattr(country_groups, "GROUP_DIR", tmp_path)
    country_groups.load.cache_clear()
    try:
        assert engine._expand_values(["@eu"]) == ["AT", "UA"]
    finally:
        country_groups.load.cache_clear()


def test_the_ctdc_mappings_come_from_their_data_file():
    data = json.loads((engine.DEFINITIONS_DIR.parent / "mappings" / "ctdc.json")
                      .read_text(encoding="utf-8"))
    assert extracts.GENDERS == data["gender"]
    assert extracts.MEANS_OF_CONTROL == data["means_of_control"]
    assert extracts.EXPLOITATION_FLAGS == {k: tuple(v)
                                           for k, v in data["exploitation_flags"].items()}
    assert extracts.LABOUR_SECTORS == {k: tuple(v) for k, v in data["labour_sectors"].items()}
    assert extracts.LABOUR_FORMS == {k: tuple(v) for k, v in data["labour_forms"].items()}
    assert extracts.RECRUITER_RELATIONS == {k: tuple(v)
                                            for k, v in data["recruiter_relations"].items()}


def test_the_ctdc_mappings_name_codes_of_our_code_lists():
    data = extracts.CTDC_MAPPING
    assert set(data["gender"]) <= set(codelists.entries("genders"))
    assert set(data["means_of_control"]) <= set(codelists.entries("means_of_control"))
    forms = set(codelists.entries("exploitation_forms"))
    for codes in [*data["exploitation_flags"].values(), *data["labour_forms"].values()]:
        assert set(codes) <= forms
    sectors = set(codelists.entries("labour_sectors"))
    for codes in data["labour_sectors"].values():
        assert set(codes) <= sectors
    relations = set(codelists.entries("recruiter_relations"))
    for codes in data["recruiter_relations"].values():
        assert set(codes) <= relations
