"""A country adds its own indicator list, or a new version, without code changes."""

import json
from datetime import date
from pathlib import Path

import pytest

from opennrm.core import datafiles
from opennrm.screening import indicator_sets, services
from opennrm.screening.engine import score

BUILT_IN = indicator_sets.BUILT_IN / "ilo-ec-adult-labour.json"


def test_a_new_version_in_a_country_folder_supersedes_the_built_in_one(tmp_path, settings):
    data = json.loads(BUILT_IN.read_text(encoding="utf-8"))
    data["version"] = "2027.1"
    data["labels"]["en"] = "Adults — labour exploitation (Moldova 2027)"
    (tmp_path / "md-adult-labour-2027.json").write_text(json.dumps(data), encoding="utf-8")
    settings.OPENNRM_INDICATOR_DIRS = [str(tmp_path)]
    current = {s.data["id"]: s.data["version"] for s in indicator_sets.current()}
    assert current["ilo-ec-adult-labour"] == "2027.1"
    # The old version is still there for the screenings made with it.
    assert indicator_sets.get("ilo-ec-adult-labour", "2009.1").data["version"] == "2009.1"


def test_old_screenings_keep_the_version_they_were_made_with(tmp_path, settings, caseworker,
                                                             case):
    old = indicator_sets.get("ilo-ec-adult-labour", "2009.1")
    codes = [code for code, (_dim, strength) in old.indicators.items() if strength == "strong"]
    screening = services.record_screening(caseworker, case, "ilo-ec-adult-labour", "2009.1",
                                          {code: "" for code in codes[:2]}, date(2026, 3, 5))
    data = json.loads(BUILT_IN.read_text(encoding="utf-8"))
    data["version"] = "2027.1"
    for dimension in data["dimensions"]:
        for indicator in dimension["indicators"]:
            indicator["strength"] = "weak"  # a (silly) new version that weakens everything
            indicator["departure"] = "Weakened on purpose for this test."
    (tmp_path / "new.json").write_text(json.dumps(data), encoding="utf-8")
    settings.OPENNRM_INDICATOR_DIRS = [str(tmp_path)]
    screening.refresh_from_db()
    assert screening.indicator_set_version == "2009.1"
    again = score(indicator_sets.get(screening.indicator_set, screening.indicator_set_version),
                  screening.observed)
    assert again.outcome == screening.outcome


def test_a_country_may_add_a_list_of_its_own(tmp_path, settings):
    data = json.loads(BUILT_IN.read_text(encoding="utf-8"))
    data.update(id="md-forced-begging", version="2027.1")
    (tmp_path / "md-forced-begging.json").write_text(json.dumps(data), encoding="utf-8")
    settings.OPENNRM_INDICATOR_DIRS = [str(tmp_path)]
    assert "md-forced-begging" in {s.data["id"] for s in indicator_sets.current()}


def _country_file(tmp_path, settings, change) -> tuple[Path, str]:
    data = json.loads(BUILT_IN.read_text(encoding="utf-8"))
    data.update(id="md-adult-labour", version="2027.1")
    change(data)
    text = json.dumps(data, indent=2, ensure_ascii=False)
    path = tmp_path / "md-adult-labour.json"
    path.write_text(text, encoding="utf-8")
    settings.OPENNRM_INDICATOR_DIRS = [str(tmp_path)]
    return path, text


def _line(text: str, fragment: str) -> int:
    return text[:text.index(fragment)].count("\n") + 1


def test_a_country_list_with_a_wrong_value_stops_loading_with_its_line(tmp_path, settings):
    def change(data):
        data["dimensions"][1]["indicators"][2]["strength"] = "very strong"

    path, text = _country_file(tmp_path, settings, change)
    with pytest.raises(datafiles.DataFileError) as raised:
        indicator_sets.all_sets()
    assert (raised.value.path, raised.value.line) == (path, _line(text, '"very strong"'))
    assert raised.value.reason.startswith("/dimensions/1/indicators/2/strength: ")


def test_a_country_list_without_its_rule_stops_loading(tmp_path, settings):
    path, _text = _country_file(tmp_path, settings, lambda data: data.pop("rule"))
    with pytest.raises(datafiles.DataFileError) as raised:
        indicator_sets.current()
    assert raised.value.path == path and raised.value.line == 1
    assert "rule" in raised.value.reason and "required" in raised.value.reason


def test_a_country_list_with_an_unknown_field_stops_loading(tmp_path, settings):
    path, text = _country_file(tmp_path, settings,
                               lambda data: data.update(threshold=3))
    with pytest.raises(datafiles.DataFileError) as raised:
        indicator_sets.get("md-adult-labour", "2027.1")
    assert raised.value.line == _line(text, '"threshold"')
    assert raised.value.reason == "/threshold: unknown field 'threshold'"


def test_a_country_list_with_an_indicator_code_twice_stops_loading(tmp_path, settings):
    def change(data):
        data["dimensions"][5]["indicators"][0]["code"] = "deceived_about_nature_of_job"

    path, text = _country_file(tmp_path, settings, change)
    with pytest.raises(datafiles.DataFileError) as raised:
        indicator_sets.all_sets()
    assert raised.value.line == text.count("\n", 0, text.rindex(
        '"deceived_about_nature_of_job"')) + 1
    assert "appears twice" in raised.value.reason
