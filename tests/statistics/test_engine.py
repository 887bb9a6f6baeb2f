"""Each table set on the hand-made dataset of conftest.py, with the answers written here."""

from datetime import date

import pytest

from opennrm.statistics import engine

YEAR = (date(2025, 1, 1), date(2025, 12, 31))


def grid(table) -> dict:
    """{row code: {column code: value}} plus "total" row and column."""
    result = {row: {col: cell.value for col, cell in zip(table.columns, cells, strict=True)}
              for row, cells in zip(table.rows, table.cells, strict=True)}
    for row, cell in zip(table.rows, table.row_totals, strict=True):
        result[row]["total"] = cell.value
    result["total"] = {col: cell.value for col, cell in zip(table.columns, table.column_totals,
                                                            strict=True)}
    result["total"]["total"] = table.total.value
    return result


def table(result, key):
    return next(t for t in result.tables if t.key == key)


@pytest.fixture
def computed(dataset):
    return {r.key: r for r in engine.compute_all(engine.table_set_keys(), *YEAR)}


def test_eurostat_counts_each_person_once_by_sex_and_age(computed):
    victims = grid(table(computed["eurostat"], "victims_by_sex_and_age"))
    # Flora (not a victim) and Galina (2024) are out; Costel's two records count once.
    assert victims["total"]["total"] == 5
    assert victims["female"] == {"0-11": 0, "12-17": 1, "0-17": 0, "18+": 1, "unknown": 0,
                                 "total": 2}
    assert victims["male"] == {"0-11": 0, "12-17": 0, "0-17": 0, "18+": 1, "unknown": 1,
                               "total": 2}
    # Eugenia: sex neither female nor male is "unknown" for Eurostat, apart from zero.
    assert victims["unknown"] == {"0-11": 0, "12-17": 0, "0-17": 0, "18+": 1,
                                  "unknown": 0, "total": 1}


def test_eurostat_citizenship_groups_and_forms(computed):
    citizenship = grid(table(computed["eurostat"], "victims_by_citizenship_and_sex"))
    assert citizenship["national"]["total"] == 3  # Ana, Dmitri, Eugenia (node country MD)
    assert citizenship["other_eu"] == {"female": 0, "male": 1, "unknown": 0, "total": 1}
    assert citizenship["non_eu"]["female"] == 1  # Bogdana, UA
    forms = grid(table(computed["eurostat"], "victims_by_form_and_sex"))
    assert forms["sexual"]["total"] == 1
    assert forms["labour"]["total"] == 2  # Bogdana (first form), Costel once
    assert forms["other"]["total"] == 1  # Eugenia, forced marriage
    assert forms["unknown"]["total"] == 1  # Dmitri: no form recorded is unknown, not zero
    status = grid(table(computed["eurostat"], "victims_by_organisation_and_status"))
    assert status["total"] == {"identified": 1, "presumed": 4, "total": 5}
    # Costel is described by his earliest case (the NGO's), so the police count 0.
    assert status["ngo"]["total"] == 5 and status["law_enforcement"]["total"] == 0


def test_glotip_form_breakdown_overlaps_and_is_marked_non_additive(computed):
    forms = table(computed["glotip"], "detected_victims_by_form_and_age")
    assert forms.additive is False
    values = grid(forms)
    assert values["forced_labour"]["total"] == 2
    assert values["begging"] == {"0-17": 1, "18+": 0, "unknown": 0, "total": 1}
    # Bogdana is in two rows: the rows add up to 6, the total stays 5 persons.
    assert sum(values[row]["total"] for row in forms.rows) == 6
    assert values["total"]["total"] == 5
    assert computed["glotip"].small_cell_label == "<5"


def test_sdg_rate_per_100000(computed):
    rates = table(computed["sdg"], "victims_per_100000")
    assert rates.kind == "indicator"
    # 5 victims in a population of 2,400,000 (the demo population file).
    assert rates.cells[0][0].value == pytest.approx(5 * 100_000 / 2_400_000, abs=0.01)
    by_sex = grid(table(computed["sdg"], "victims_per_100000_by_sex"))
    assert by_sex["female"]["rate"] == pytest.approx(2 * 100_000 / 1_260_000, abs=0.01)
    assert by_sex["female"]["total"] == 2  # the base the rate rests on


def test_ctdc_profile(computed):
    exploitation = grid(table(computed["ctdc"], "exploitation_by_gender"))
    assert exploitation["forced_labour"] == {"female": 1, "male": 1,
                                             "transgender_or_other": 0, "unknown": 0,
                                             "total": 2}
    assert exploitation["forced_begging"]["female"] == 1
    age = grid(table(computed["ctdc"], "persons_by_age_and_gender"))
    assert age["9-17"]["female"] == 1
    assert age["unknown"]["male"] == 1  # Dmitri


def test_nrm_monitoring_indicators(computed):
    identified = grid(table(computed["nrm"], "share_formally_identified"))
    # Ana of 3 adults: Dmitri's age is unknown, so he is under Unknown, not an adult.
    assert identified["adult"]["share"] == 33.3
    assert identified["unknown"]["total"] == 1
    assert identified["total"]["share"] == 20.0  # 1 of 5 persons
    days = grid(table(computed["nrm"], "days_to_identification"))
    assert days["adult"]["median"] == 45.0  # 2025-03-01 → 2025-04-15
    assert days["child"]["median"] is None  # nobody: no figure, not zero
    reflection = grid(table(computed["nrm"], "share_reflection_period"))
    assert reflection["total"]["share"] == 20.0
    decisions = grid(table(computed["nrm"], "identification_decisions"))
    assert decisions["identified"]["total"] == 1


def test_counting_cases_instead_of_persons_counts_costel_twice(dataset):
    definition = engine.load_definition("eurostat")
    spec = dict(definition["tables"][0], unit="cases")
    from opennrm.statistics import frames as sql_frames

    frames = sql_frames.read_frames(["cases"], *YEAR)
    counted = engine.compute_table(spec, definition, frames)
    assert counted.total.value == 6


def test_linking_a_person_changes_the_count(dataset):
    from opennrm.cases.models import Person

    costel = dataset["cases"]["costel_again"]
    Person.objects.filter(pk=costel.person_id).update(statistical_person_id=None)
    result = engine.compute("eurostat", *YEAR)
    assert table(result, "victims_by_sex_and_age").total.value == 6


def test_every_definition_names_known_dimensions_and_units():
    for key in engine.table_set_keys():
        definition = engine.load_definition(key)
        assert definition["tables"], key
        for spec in definition["tables"]:
            assert spec.get("unit", "persons") in engine.UNIT_KEYS
            assert spec["frame"] in ("cases", "referrals", "assistance", "closures",
                                     "returns", "decisions", "transnational", "offences",
                                     "suspects", "prosecutions", "convictions",
                                     "identifications")


def test_a_code_list_s_own_other_is_its_own_row_not_unknown(dataset):
    from opennrm.cases.models import Case

    Case.objects.filter(pk=dataset["cases"]["ana"].pk).update(
        exploitation_forms=["other"], recruiter_relation="other")
    result = engine.compute("ctdc", *YEAR)
    assert grid(table(result, "exploitation_by_gender"))["other"]["total"] == 1
    assert grid(table(result, "recruiter_relation_by_majority"))["other"]["total"] == 1


def test_a_case_closed_at_midnight_on_new_year_counts_in_the_new_year(dataset):
    from datetime import UTC, datetime

    from opennrm.cases.models import Case

    Case.objects.filter(pk=dataset["cases"]["bogdana"].pk).update(
        status="closed", closure_reason="assistance_completed",
        closed_at=datetime(2026, 1, 1, 0, 0, 0, tzinfo=UTC))
    closed_2025 = engine.compute("nrm", *YEAR)
    closed_2026 = engine.compute("nrm", date(2026, 1, 1), date(2026, 12, 31))
    assert table(closed_2025, "cases_closed_by_reason").total.value == 0
    assert table(closed_2026, "cases_closed_by_reason").total.value == 1


@pytest.mark.django_db(transaction=True)
def test_frames_read_side_by_side_equal_frames_read_one_by_one(dataset):
    from django.db import connection, transaction

    from opennrm.statistics import frames as sql_frames

    names = engine.frames_needed(engine.table_set_keys())
    assert not connection.in_atomic_block  # PostgreSQL: read on several connections
    side_by_side = sql_frames.read_frames(names, *YEAR)
    with transaction.atomic():  # one connection, one after the other
        one_by_one = sql_frames.read_frames(names, *YEAR)
    assert side_by_side.keys() == one_by_one.keys()
    for name in names:
        assert side_by_side[name].sort("case_id").equals(one_by_one[name].sort("case_id"))
    assert side_by_side["cases"].height == 7
