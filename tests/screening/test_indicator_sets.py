"""The indicator list data files: shape (schema.json), labels, rule and sample content.

jsonschema_rs is the JSON Schema validator the node itself checks every data file with
when it loads (core/datafiles.py); these tests check the content beyond the schema.
"""

import copy
import json
from pathlib import Path

import jsonschema_rs
import pytest

import opennrm

FOLDER = Path(opennrm.__file__).parent / "screening" / "indicators"
SCHEMA = json.loads((FOLDER / "schema.json").read_text(encoding="utf-8"))
PATHS = sorted(path for path in FOLDER.glob("*.json") if path.name != "schema.json")
LISTS = {path.stem: json.loads(path.read_text(encoding="utf-8")) for path in PATHS}
LANGUAGES = ("en", "ro", "uk", "ru")
DIMENSIONS = (
    ("deceptive_recruitment", "recruitment"),
    ("coercive_recruitment", "recruitment"),
    ("recruitment_abuse_of_vulnerability", "recruitment"),
    ("exploitative_conditions", "exploitation"),
    ("coercion_at_destination", "destination"),
    ("abuse_of_vulnerability_at_destination", "destination"),
)
RECRUITMENT = ["deceptive_recruitment", "coercive_recruitment",
               "recruitment_abuse_of_vulnerability"]
DIMENSION_PRESENT = [{"strong": 2}, {"strong": 1, "medium_or_weak": 1}, {"medium": 3},
                     {"medium": 2, "weak": 1}]

each_list = pytest.mark.parametrize("data", LISTS.values(), ids=LISTS.keys())


def validator():
    return jsonschema_rs.Draft202012Validator(SCHEMA)


def errors(data: dict) -> list[str]:
    return [f"{'/'.join(map(str, error.instance_path))}: {error.message}"
            for error in validator().iter_errors(data)]


def indicators(data: dict) -> list[dict]:
    return [indicator for dimension in data["dimensions"] for indicator in dimension["indicators"]]


def strengths(data: dict, dimension_code: str) -> dict[str, str]:
    dimension = next(d for d in data["dimensions"] if d["code"] == dimension_code)
    return {indicator["labels"]["en"]: indicator["strength"]
            for indicator in dimension["indicators"]}


def test_the_four_ilo_ec_lists_are_present():
    for population in ("adult", "child"):
        for exploitation in ("labour", "sexual"):
            data = LISTS[f"ilo-ec-{population}-{exploitation}"]
            assert (data["population"], data["exploitation"]) == (population, exploitation)


def test_schema_is_a_valid_draft_2020_12_schema():
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema_rs.meta.validate(SCHEMA)


@each_list
def test_matches_the_schema(data):
    assert errors(data) == []


@each_list
def test_file_name_is_the_id_and_id_version_pairs_are_unique(data):
    assert (FOLDER / f"{data['id']}.json").exists()
    keys = [(d["id"], d["version"]) for d in LISTS.values()]
    assert len(keys) == len(set(keys))


@each_list
def test_every_label_has_all_four_languages(data):
    objects = [("list", data["labels"])]
    objects += [(d["code"], d["labels"]) for d in data["dimensions"]]
    objects += [(i["code"], i["labels"]) for i in indicators(data)]
    for owner, labels in objects:
        for language in LANGUAGES:
            assert labels.get(language, "").strip(), f"{owner}: no {language} label"


@each_list
def test_six_dimensions_in_order(data):
    assert [(d["code"], d["group"]) for d in data["dimensions"]] == list(DIMENSIONS)
    assert all(d["indicators"] for d in data["dimensions"])


@each_list
def test_indicator_codes_are_unique(data):
    codes = [indicator["code"] for indicator in indicators(data)]
    duplicates = sorted({code for code in codes if codes.count(code) > 1})
    assert duplicates == []


@each_list
def test_rule(data):
    rule = data["rule"]
    assert rule["dimension_present"] == DIMENSION_PRESENT
    known = {code for code, _ in DIMENSIONS}
    assert {code for group in rule["probable_victim"] for code in group} <= known
    if data["population"] == "child":  # the means are not required for a child
        assert rule["probable_victim"] == [RECRUITMENT, ["exploitative_conditions"]]
    else:
        assert rule["probable_victim"] == [
            RECRUITMENT, ["exploitative_conditions"],
            ["coercion_at_destination", "abuse_of_vulnerability_at_destination"]]


@each_list
def test_children_have_no_weak_tier(data):
    used = {indicator["strength"] for indicator in indicators(data)}
    if data["population"] == "child":
        assert used == {"strong", "medium"}
    else:
        assert used == {"strong", "medium", "weak"}


@each_list
def test_uncertainty_is_stated(data):
    assert isinstance(data["uncertain"], str)
    if data["id"] != "ilo-ec-adult-labour":  # lists not given in the domain reference
        assert data["uncertain"].strip()
    assert all(i["note"].strip() for i in indicators(data) if "note" in i)


def test_schema_rejects_a_weak_indicator_in_a_child_list():
    data = copy.deepcopy(LISTS["ilo-ec-child-labour"])
    data["dimensions"][0]["indicators"][0]["strength"] = "weak"
    assert errors(data)


def test_schema_rejects_a_missing_translation_and_a_bad_dimension_order():
    data = copy.deepcopy(LISTS["ilo-ec-adult-labour"])
    del data["dimensions"][2]["indicators"][0]["labels"]["uk"]
    assert errors(data)
    data = copy.deepcopy(LISTS["ilo-ec-adult-labour"])
    data["dimensions"][0], data["dimensions"][1] = data["dimensions"][1], data["dimensions"][0]
    assert errors(data)


def test_adult_labour_counts_per_dimension():
    data = LISTS["ilo-ec-adult-labour"]
    assert [len(d["indicators"]) for d in data["dimensions"]] == [10, 10, 16, 9, 15, 7]


@pytest.mark.parametrize(("dimension", "label", "strength"), [
    ("deceptive_recruitment", "Deceived about the nature of the job, location or employer",
     "strong"),
    ("deceptive_recruitment", "Deceived about wages or earnings", "medium"),
    ("deceptive_recruitment", "Deceived about access to education opportunities", "weak"),
    ("coercive_recruitment", "Violence on the victim", "strong"),
    ("coercive_recruitment", "Confiscation of documents", "medium"),
    ("coercive_recruitment", "Debt bondage", "medium"),
    ("recruitment_abuse_of_vulnerability", "Abuse of illegal status", "medium"),
    ("recruitment_abuse_of_vulnerability", "Abuse of cultural or religious beliefs", "weak"),
    ("exploitative_conditions", "Excessive working days or hours", "strong"),
    ("exploitative_conditions", "Wage manipulation", "medium"),
    ("exploitative_conditions", "No access to education", "weak"),
    ("coercion_at_destination", "Confiscation of documents", "strong"),
    ("coercion_at_destination", "Debt bondage", "strong"),
    ("coercion_at_destination", "Isolation, confinement or surveillance", "strong"),
    ("coercion_at_destination", "Violence on the victim", "strong"),
    ("coercion_at_destination", "Withholding of wages", "medium"),
    ("coercion_at_destination", "Threat to inform family, community or public", "weak"),
    ("abuse_of_vulnerability_at_destination", "Dependency on exploiters", "medium"),
    ("abuse_of_vulnerability_at_destination", "Difficulties in the past", "weak"),
])
def test_adult_labour_strengths_match_the_domain_reference(dimension, label, strength):
    assert strengths(LISTS["ilo-ec-adult-labour"], dimension)[label] == strength


def test_strong_indicators_per_adult_labour_dimension():
    data = LISTS["ilo-ec-adult-labour"]
    strong = {d["code"]: sorted(i["code"] for i in d["indicators"] if i["strength"] == "strong")
              for d in data["dimensions"]}
    assert strong == {
        "deceptive_recruitment": ["deceived_about_nature_of_job"],
        "coercive_recruitment": ["recruitment_violence_on_victim"],
        "recruitment_abuse_of_vulnerability": [],
        "exploitative_conditions": ["excessive_working_hours"],
        "coercion_at_destination": ["destination_confiscation_of_documents",
                                    "destination_debt_bondage",
                                    "destination_isolation_confinement_or_surveillance",
                                    "destination_violence_on_victim"],
        "abuse_of_vulnerability_at_destination": [],
    }
