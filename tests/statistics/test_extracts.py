"""The research extracts: CTDC-compatible, one row per person, k-anonymous or synthetic,
never an identity field or an internal key. Built on hand-made cases frames."""

import math
from datetime import date
from itertools import count

import polars as pl
import pytest
from django.test import override_settings

from opennrm.statistics.extracts import (
    CTDC_COLUMNS,
    IDENTITY_FIELDS,
    QUASI_IDENTIFIERS,
    assert_no_identity_fields,
    ctdc_extract,
    ctdc_persons,
    render_extract_csv,
)
from opennrm.statistics.kanonymity import (
    GeneralisationStep,
    check_k_anonymity,
    enforce_k_anonymity,
    equivalence_classes,
)
from opennrm.statistics.synthetic import (
    FORM_FLAGS,
    SYNTHETIC_COLUMNS,
    dp_synthetic_extract,
)

CASES_SCHEMA = {
    "case_id": pl.Int64, "person_key": pl.Int64, "agency_type": pl.Utf8,
    "first_contact_on": pl.Date, "gender": pl.Utf8, "birth_year": pl.Int32, "age": pl.Int32,
    "age_band": pl.Utf8, "is_child": pl.Boolean, "citizenships": pl.List(pl.Utf8),
    "exploitation_forms": pl.List(pl.Utf8), "labour_sector": pl.Utf8,
    "exploitation_countries": pl.List(pl.Utf8), "recruitment_countries": pl.List(pl.Utf8),
    "means_of_control": pl.List(pl.Utf8), "recruiter_relation": pl.Utf8,
    "victim_status": pl.Utf8, "victim_status_decided_on": pl.Date, "status": pl.Utf8,
    "closure_reason": pl.Utf8, "closed_on": pl.Date,
}

# Case ids and person keys no extract value could be mistaken for.
_case_ids = count(730_001)


def case(**overrides) -> dict:
    """One case of a new person: an adult Moldovan woman, 2021, sexually exploited in
    Türkiye, unless told otherwise."""
    case_id = next(_case_ids)
    row = {
        "case_id": case_id, "person_key": case_id + 4_000_000, "agency_type": "ngo",
        "first_contact_on": date(2021, 3, 15), "gender": "female", "birth_year": 1990,
        "age": 31, "age_band": "30-38", "is_child": False, "citizenships": ["MD"],
        "exploitation_forms": ["sexual_exploitation"], "labour_sector": "",
        "exploitation_countries": ["TR"], "recruitment_countries": ["MD"],
        "means_of_control": [], "recruiter_relation": "", "victim_status": "presumed",
        "victim_status_decided_on": None, "status": "active", "closure_reason": "",
        "closed_on": None,
    }
    row.update(overrides)
    return row


def persons(number: int, **overrides) -> list[dict]:
    """`number` cases, each of a different person."""
    return [case(**overrides) for _ in range(number)]


def frame(rows: list[dict], extra: dict | None = None) -> pl.DataFrame:
    schema = {**CASES_SCHEMA, **(extra or {})}
    return pl.DataFrame(rows, schema=schema, orient="row")


def test_two_cases_of_one_person_give_one_row():
    first = case(first_contact_on=date(2021, 2, 1), age_band="30-38", age=33,
                 citizenships=["MD", "RO"], exploitation_forms=["sexual_exploitation"],
                 means_of_control=["threats"], recruiter_relation="friend",
                 exploitation_countries=[])
    later = case(person_key=first["person_key"], first_contact_on=date(2022, 6, 1),
                 age_band="39-47", age=40, citizenships=["RO"], gender="unknown",
                 exploitation_forms=["forced_labour"], labour_sector="F",
                 means_of_control=["debt_bondage"], exploitation_countries=["DE"])
    other = case()

    result = ctdc_persons(frame([later, other, first]))

    assert result.height == 2
    row = result.filter(pl.col("CountryOfExploitation") == "DE").row(0, named=True)
    # Demographics from the earliest case, flags from both.
    assert row["yearOfRegistration"] == 2021
    assert (row["gender"], row["ageBroad"], row["citizenship"]) == ("Female", "30--38", "MD")
    assert row["isSexualExploit"] == row["isForcedLabour"] == row["isSexAndLabour"] == 1
    assert row["typeOfLabourConstruction"] == 1
    assert row["meansOfControlThreats"] == row["meansOfControlDebtBondage"] == 1
    assert row["meansOfControlNotSpecified"] == 0
    assert row["recruiterRelationFriend"] == 1
    assert row["recruiterRelationUnknown"] == 0


def test_one_person_counts_once_in_the_extract():
    rows = persons(11)
    rows.append(case(person_key=rows[0]["person_key"], first_contact_on=date(2021, 9, 1)))

    extract = ctdc_extract(frame(rows), k=11, country="MD")

    assert extract.frame.height == 11
    assert extract.report.rows_suppressed == 0


def test_codes_map_to_ctdc_values_and_flags():
    rows = [
        case(gender="transgender_or_other", exploitation_forms=["forced_begging"],
             labour_sector="", means_of_control=[], recruiter_relation="employer"),
        case(exploitation_forms=["servitude", "forced_labour"], labour_sector="T"),
        case(exploitation_forms=["forced_labour"], labour_sector="G"),
        case(exploitation_forms=["forced_labour"], labour_sector=""),
        case(exploitation_forms=["forced_criminality", "surrogacy"], citizenships=[]),
        case(age=None, age_band="", is_child=True, citizenships=["XX"]),
        case(age=None, age_band="", is_child=False, recruiter_relation="unknown"),
        case(age=12, age_band="9-17", is_child=True, exploitation_forms=["organ_removal"]),
    ]

    got = ctdc_persons(frame(rows)).to_dicts()

    assert got[0]["gender"] == "Transgender/NonConforming"
    assert got[0]["isForcedLabour"] == got[0]["typeOfLabourBegging"] == 1
    assert got[0]["typeOfLabourNotSpecified"] == 0
    assert got[0]["meansOfControlNotSpecified"] == 1
    assert got[0]["recruiterRelationOther"] == 1
    assert got[1]["isSlaveryAndPractices"] == got[1]["typeOfLabourDomesticWork"] == 1
    assert got[2]["typeOfLabourOther"] == 1
    assert got[3]["typeOfLabourNotSpecified"] == 1
    assert got[4]["typeOfLabourIllicitActivities"] == got[4]["isOtherExploit"] == 1
    assert got[4]["isSexualExploit"] == 0
    assert got[4]["citizenship"] == "Unknown"
    # Presumed a child although the age is unknown; a code that is no country is Unknown.
    assert (got[5]["majorityStatus"], got[5]["ageBroad"], got[5]["citizenship"]) == (
        "Minor", "Unknown", "Unknown")
    assert got[6]["majorityStatus"] == "Unknown"
    assert got[6]["recruiterRelationUnknown"] == 1
    assert (got[7]["majorityStatus"], got[7]["ageBroad"]) == ("Minor", "9--17")
    assert got[7]["isOrganRemoval"] == 1
    assert {row["Datasource"] for row in got} == {"Case Management"}


def test_not_a_victim_is_left_out():
    rows = [case(), case(victim_status="not_a_victim"), case(victim_status="identified")]

    assert ctdc_persons(frame(rows)).height == 2


def test_registration_years_select_the_persons_first_registered_in_them():
    rows = [case(first_contact_on=date(2020, 5, 1)), case(first_contact_on=date(2021, 5, 1)),
            case(first_contact_on=date(2022, 5, 1))]

    result = ctdc_persons(frame(rows), registration_years=[2021, 2022])

    assert sorted(result["yearOfRegistration"].to_list()) == [2021, 2022]


def test_no_identity_field_or_internal_key_in_the_extract():
    rows = persons(12, birth_year=1979, age=42, first_contact_on=date(2021, 4, 2))
    rows += persons(11, birth_year=1983, age=37, gender="male")
    rows[3]["birth_year"] = 1982  # a birth year in a class of its own: must not show
    extra = {"identified_on": pl.Date}
    rows = [{**row, "identified_on": date(2021, 7, 9)} for row in rows]

    extract = ctdc_extract(frame(rows, extra), k=11, country="MD")
    text = render_extract_csv(extract).decode("utf-8")

    assert list(extract.frame.columns) == list(CTDC_COLUMNS) == extract.columns
    forbidden = {name.lower() for name in IDENTITY_FIELDS}
    assert not forbidden & {name.lower() for name in extract.frame.columns}
    assert not [dtype for dtype in extract.frame.dtypes if dtype.is_temporal()]
    for row in rows:
        assert str(row["case_id"]) not in text
        assert str(row["person_key"]) not in text
    for value in ("1979", "1982", "1983", "2021-04-02", "2021-07-09", "2021-03-15"):
        assert value not in text
    assert text.splitlines()[0].split(",") == list(CTDC_COLUMNS)
    assert len(text.splitlines()) == 1 + extract.frame.height == 24


@pytest.mark.parametrize("columns", [
    {"case_id": [1]}, {"personKey": [1]}, {"birthDate": ["1990-01-01"]},
    {"Phone": ["+373"]}, {"when": [date(2021, 1, 1)]}, {"age": [31]},
])
def test_identity_fields_internal_keys_and_dates_are_refused(columns):
    with pytest.raises(ValueError):
        assert_no_identity_fields(pl.DataFrame(columns))


def test_ctdc_columns_pass_the_identity_check():
    assert_no_identity_fields(pl.DataFrame(schema={name: pl.Utf8 for name in CTDC_COLUMNS}))


def test_extract_passes_k_11_and_drops_and_counts_small_classes():
    rows = persons(11) + [case(first_contact_on=date(2022, 1, 5), gender="male",
                               age=19, age_band="18-20", exploitation_countries=["RU"])]

    extract = ctdc_extract(frame(rows), country="MD")

    assert extract.report.k == 11
    assert extract.frame.height == 11
    assert extract.report.rows_suppressed == 1
    assert extract.report.passes
    assert check_k_anonymity(extract.frame, QUASI_IDENTIFIERS, 11).passes
    assert 2022 not in extract.frame["yearOfRegistration"].to_list()
    assert any("Suppressed: 1 persons" in note for note in extract.notes)


def test_a_smaller_k_keeps_more_detail():
    rows = (persons(11)
            + persons(4, age=19, age_band="18-20")
            + persons(2, gender="male", age=25, age_band="24-26"))
    data = frame(rows)

    strict = ctdc_extract(data, k=11, country="MD")
    lenient = ctdc_extract(data, k=3, country="MD")

    assert (strict.frame.height, strict.report.rows_suppressed) == (11, 6)
    assert (lenient.frame.height, lenient.report.rows_suppressed) == (15, 2)
    assert check_k_anonymity(lenient.frame, QUASI_IDENTIFIERS, 3).passes
    assert lenient.frame["ageBroad"].value_counts().sort("ageBroad").rows() == [
        ("18--20", 4), ("30--38", 11)]
    assert "Male" not in lenient.frame["gender"].to_list()


def test_generalisation_comes_before_suppression():
    # 11 presumed children of unknown age and 3 whose age band is known: withholding the
    # age band of the 3 puts them with the 11, so nobody has to be dropped.
    rows = (persons(11, age=None, age_band="", is_child=True)
            + persons(3, age=12, age_band="9-17", is_child=True))

    extract = ctdc_extract(frame(rows), k=11, country="MD")

    assert extract.frame.height == 14
    assert extract.report.rows_suppressed == 0
    assert extract.report.generalised == {"ageBroad": 3}
    assert set(extract.frame["ageBroad"]) == {"Unknown"}
    assert set(extract.frame["majorityStatus"]) == {"Minor"}


def test_generalisation_steps_run_in_order_and_only_on_small_classes():
    # Ukrainians and Romanians, too few apart: the age band goes first (it is the first
    # step), then the citizenship, which brings them together. The 11 Moldovans keep all.
    rows = persons(11) + persons(6, citizenships=["UA"]) + persons(5, citizenships=["RO"])

    extract = ctdc_extract(frame(rows), k=11, country="MD")
    foreign = extract.frame.filter(pl.col("citizenship") != "MD")

    assert extract.report.rows_suppressed == 0
    assert extract.report.generalised == {"ageBroad": 11, "citizenship": 11}
    assert foreign.height == 11
    assert set(foreign["citizenship"]) == {"Other"}
    assert set(foreign["ageBroad"]) == {"Unknown"}
    assert set(extract.frame.filter(pl.col("citizenship") == "MD")["ageBroad"]) == {"30--38"}
    assert any("citizenship other than MD" in note for note in extract.notes)


def test_the_reporting_country_defaults_to_the_nodes():
    rows = persons(11, citizenships=["UA"], exploitation_countries=["UA"]) + persons(2)

    with override_settings(OPENNRM_COUNTRY="UA"):
        extract = ctdc_extract(frame(rows), k=11)

    # Ukrainians are the nationals here; the 2 Moldovans become "Other" and stay too few.
    assert set(extract.frame["citizenship"]) == {"UA"}
    assert extract.report.rows_suppressed == 2


@pytest.mark.parametrize("k", [1, 0, -3, "11", 2.5, True])
def test_extract_refuses_a_k_that_protects_nobody(k):
    with pytest.raises(ValueError):
        ctdc_extract(frame(persons(11)), k=k, country="MD")


def test_check_k_anonymity_finds_the_small_classes():
    data = pl.DataFrame({"gender": ["F", "F", "F", "M", "M", "X"],
                         "year": [2021, 2021, 2021, 2021, 2021, 2022]})

    report = check_k_anonymity(data, ["gender", "year"], 3)
    classes = equivalence_classes(data, ["gender", "year"])

    assert (report.smallest_class, report.rows, report.classes_below_k,
            report.rows_below_k, report.passes) == (1, 6, 2, 3, False)
    assert classes["class_size"].to_list() == [1, 2, 3]
    assert check_k_anonymity(data, ["year"], 1).passes
    assert check_k_anonymity(data.head(0), ["year"], 11).passes


def test_a_few_stragglers_are_suppressed_without_generalising_everyone():
    data = pl.DataFrame({"band": ["30--38"] * 150 + ["48+"],
                         "country": ["MD"] * 151})
    step = GeneralisationStep(name="band", column="band", replacement="Unknown")

    tolerant, tolerant_report = enforce_k_anonymity(data, ["band", "country"], 11, [step],
                                                    acceptable_suppression=0.01)
    strict, strict_report = enforce_k_anonymity(data, ["band", "country"], 11, [step],
                                                acceptable_suppression=0.0)

    assert (tolerant.height, tolerant_report.rows_suppressed) == (150, 1)
    assert tolerant_report.generalised == {}
    # Generalised alone, the straggler is still alone: suppressed all the same.
    assert (strict.height, strict_report.rows_suppressed) == (150, 1)
    assert strict_report.generalised == {"band": 1}


def test_a_step_must_change_a_quasi_identifier():
    data = pl.DataFrame({"band": ["48+"], "notes_free": ["x"]})
    step = GeneralisationStep(name="x", column="notes_free", replacement="")

    with pytest.raises(ValueError):
        enforce_k_anonymity(data, ["band"], 2, [step])


def _synthetic_input() -> pl.DataFrame:
    rows = (persons(90)
            + persons(50, first_contact_on=date(2022, 5, 1), gender="male", age=25,
                      age_band="24-26", exploitation_forms=["forced_labour"])
            + persons(40, first_contact_on=date(2022, 7, 1), age=15, age_band="9-17",
                      is_child=True, citizenships=["UA"])
            + persons(20, exploitation_forms=[], first_contact_on=date(2022, 1, 1)))
    return frame(rows)


def test_synthetic_total_is_the_number_of_persons_give_or_take_the_noise():
    epsilon = 1.0
    extract = dp_synthetic_extract(_synthetic_input(), epsilon=epsilon,
                                   registration_years=[2021, 2022], country="MD")

    cells = 2 * 4 * 3 * 5 * 3
    alpha = math.exp(-epsilon)
    cell_sd = math.sqrt(2 * alpha) / (1 - alpha)
    assert abs(extract.frame.height - 200) <= 5 * math.sqrt(cells) * cell_sd


def test_synthetic_columns_and_values_come_from_the_allowed_sets():
    rows = _synthetic_input()
    extract = dp_synthetic_extract(rows, epsilon=0.5, registration_years=[2021, 2022],
                                   country="MD", seed=7)
    text = render_extract_csv(extract).decode("utf-8")

    assert tuple(extract.frame.columns) == SYNTHETIC_COLUMNS
    assert extract.report is None
    assert set(extract.frame["yearOfRegistration"]) <= {2021, 2022}
    assert set(extract.frame["gender"]) <= {"Female", "Male", "Transgender/NonConforming",
                                            "Unknown"}
    assert set(extract.frame["majorityStatus"]) <= {"Adult", "Minor", "Unknown"}
    assert set(extract.frame["citizenship"]) <= {"MD", "Other", "Unknown"}
    for name in FORM_FLAGS:
        assert set(extract.frame[name]) <= {0, 1}
    for case_id in rows["case_id"]:
        assert str(case_id) not in text


def test_synthetic_extract_with_little_noise_keeps_the_table():
    data = _synthetic_input()

    first = dp_synthetic_extract(data, epsilon=1000.0, registration_years=[2021, 2022],
                                 country="MD", seed=3)
    again = dp_synthetic_extract(data, epsilon=1000.0, registration_years=[2021, 2022],
                                 country="MD", seed=3)

    assert first.frame.height == 200
    assert first.frame.equals(again.frame)
    combinations = {(row["yearOfRegistration"], row["gender"], row["majorityStatus"],
                     row["citizenship"], row["isForcedLabour"], row["isSexualExploit"])
                    for row in first.frame.to_dicts()}
    assert combinations <= {(2021, "Female", "Adult", "MD", 0, 1),
                            (2022, "Male", "Adult", "MD", 1, 0),
                            (2022, "Female", "Minor", "Other", 0, 1),
                            (2022, "Female", "Adult", "MD", 0, 0)}


def test_synthetic_extract_adds_noise_to_empty_combinations_too():
    # 4 of the 360 combinations hold persons. With this much noise about half of the empty
    # ones come out above zero: if they were left out, nothing would be drawn from them.
    extract = dp_synthetic_extract(_synthetic_input(), epsilon=0.1, rows=2000,
                                   registration_years=[2021, 2022], country="MD")

    assert extract.frame.filter(
        (pl.col("gender") == "Transgender/NonConforming") | (pl.col("citizenship") == "Unknown")
    ).height > 0


def test_synthetic_extract_records_epsilon_and_draws_the_rows_asked_for():
    extract = dp_synthetic_extract(_synthetic_input(), epsilon=0.5, rows=50,
                                   registration_years=[2021, 2022], country="MD")

    assert extract.epsilon == 0.5
    assert "epsilon = 0.5" in extract.notes[0]
    assert extract.frame.height == 50


@pytest.mark.parametrize("epsilon", [0, -1.0, float("nan"), float("inf"), "1"])
def test_synthetic_extract_refuses_an_epsilon_that_is_not_positive(epsilon):
    with pytest.raises(ValueError):
        dp_synthetic_extract(_synthetic_input(), epsilon=epsilon, country="MD")
