"""The Eurostat and GLOTIP tables of a generated year, recomputed outside the engine.

The data go through the ordinary write path (`cases.services`), so the child flag and the
age at first contact are what a node stores. The recomputation reads the tables with plain
SQL and applies the rules of docs/statistics.md in Python, written here a second time:

* victims are presumed and identified cases first contacted in the year;
* a person is `COALESCE(statistical_person_id, person id)` and counts once, described by
  their earliest case (first contact, then case number); forms of exploitation are the
  union of their cases;
* children are the cases' child flag; adults have an age or "adult, exact age unknown";
  anyone else is Unknown; Eurostat's age groups take the age at first contact, and without
  one the child of unknown age or the adult.

The generated year has persons with two cases (same-person links, some on the same day
with case numbers in the other order than the internal ids, and a different recorded sex),
"not a victim" cases, both uncertain-age choices, birth-year-only persons (some who may
still be 17), persons with no age at all, and returns.
"""

import random
from collections import defaultdict
from datetime import date, timedelta

import pytest
from django.conf import settings
from django.db import connection

from opennrm.accounts.models import Role
from opennrm.cases import services
from opennrm.cases.models import Case, Person
from opennrm.core import country_groups
from opennrm.protection.models import ReturnPlan
from opennrm.statistics import engine
from tests.factories import make_agency, make_user, person_data

YEAR = (date(2025, 1, 1), date(2025, 12, 31))
FORMS = ["sexual_exploitation", "forced_labour", "forced_begging", "forced_criminality",
         "forced_marriage", "servitude", "organ_removal", "child_labour", "other"]
COUNTRIES = ["MD", "MD", "MD", "UA", "RO", "RU", "UZ", "BG", "IT", "TR", "DE", "GE"]


def _draw(rng: random.Random, first_contact: date) -> dict:
    kind = rng.random()
    age_fields: dict = {"birth_date": None}
    if kind < 0.55:
        age_fields["birth_date"] = first_contact - timedelta(days=rng.randrange(4 * 365,
                                                                                 60 * 365))
    elif kind < 0.75:
        # Only a birth year, around 17/18 years before often enough.
        age_fields["birth_year"] = first_contact.year - rng.choice([17, 18, 18, 19, 12, 30])
    elif kind < 0.83:
        age_fields["age_uncertainty"] = "possibly_child"
        if rng.random() < 0.3:
            age_fields["birth_year"] = first_contact.year - rng.choice([16, 25])
    elif kind < 0.92:
        age_fields["age_uncertainty"] = "adult"
        if rng.random() < 0.3:
            age_fields["birth_year"] = first_contact.year - rng.choice([18, 40])
    # else: nothing recorded
    forms = rng.sample(FORMS, rng.choice([0, 1, 1, 1, 2]))
    return person_data(
        **age_fields, gender=rng.choice(["female", "female", "male", "unknown",
                                         "transgender_or_other"]),
        citizenships=rng.sample(COUNTRIES, rng.choice([0, 1, 1, 1, 2])),
        exploitation_forms=forms, first_contact_on=first_contact, labour_sector="",
        identity_documents=[], phone="")


@pytest.fixture
def generated_year(db):
    rng = random.Random(20250)
    agencies = [make_agency(f"gen-{kind}", kind) for kind in
                ("ngo", "law_enforcement", "social_services", "border_guard")]
    workers = [make_user(Role.CASEWORKER, agency) for agency in agencies]
    cases = []
    for _ in range(160):
        day = date(2025, 1, 1) + timedelta(days=rng.randrange(365))
        if rng.random() < 0.05:
            day = rng.choice([date(2024, 12, 31), date(2026, 1, 1)])  # outside the year
        cases.append(services.register_case(rng.choice(workers), _draw(rng, day)))
    # The same person registered again by another agency: same day or later, maybe with
    # another recorded sex; linked as the same person.
    for original in rng.sample(cases, 30):
        later = original.first_contact_on + timedelta(days=rng.choice([0, 0, 0, 20, 90]))
        data = _draw(rng, min(later, date(2025, 12, 31)))
        again = services.register_case(rng.choice(workers), data)
        key = min(original.person_id, again.person_id)
        Person.objects.filter(pk__in=[original.person_id, again.person_id]).update(
            statistical_person_id=key)
        if again.first_contact_on == original.first_contact_on:
            # Case numbers in the other order than the ids: the tie rule shows.
            Case.objects.filter(pk=original.pk).update(case_number=f"MD-25-Z{original.pk:07d}")
            Case.objects.filter(pk=again.pk).update(case_number=f"MD-25-A{again.pk:07d}")
        cases.append(again)
    for case in rng.sample(cases, 20):
        Case.objects.filter(pk=case.pk).update(victim_status="not_a_victim")
    for case in rng.sample(cases, 25):
        Case.objects.filter(pk=case.pk).update(victim_status="identified")
    for case in rng.sample(cases, 25):
        ReturnPlan.objects.create(
            case=case, destination_country=rng.choice(COUNTRIES), voluntary=True,
            decided_on=date(2025, 1, 1), recorded_by=workers[0],
            returned_on=date(2025, 1, 1) + timedelta(days=rng.randrange(365)))
    return cases


# --- the recomputation ---------------------------------------------------------------------

def _rows(sql: str, params=()) -> list[dict]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _majority(row) -> str:
    if row["is_child"]:
        return "child"
    if row["age_at_first_contact"] is not None or row["age_uncertainty"] == "adult":
        return "adult"
    return "unknown"


def _victims() -> list[dict]:
    """One row per person: the earliest victim case, forms the union of the person's."""
    cases = _rows("""
        SELECT COALESCE(p.statistical_person_id, p.id) AS person, c.case_number,
               c.first_contact_on, c.is_child, c.age_at_first_contact, p.age_uncertainty,
               p.gender, p.citizenships, c.exploitation_forms, c.victim_status,
               a.agency_type
        FROM cases_case c JOIN cases_person p ON p.id = c.person_id
        JOIN accounts_agency a ON a.id = c.owner_agency_id
        WHERE c.first_contact_on BETWEEN %s AND %s
          AND c.victim_status IN ('presumed', 'identified')""", YEAR)
    import json

    by_person = defaultdict(list)
    for row in cases:
        row["first_contact_on"] = str(row["first_contact_on"])
        for name in ("citizenships", "exploitation_forms"):
            value = row[name]
            row[name] = json.loads(value) if isinstance(value, str) else list(value)
        by_person[row["person"]].append(row)
    people = []
    for rows in by_person.values():
        rows.sort(key=lambda r: (r["first_contact_on"], r["case_number"]))
        first = dict(rows[0])
        forms = []
        for row in rows:
            forms += [f for f in row["exploitation_forms"] if f not in forms]
        first["all_forms"] = forms
        people.append(first)
    return people


def _sex(row) -> str:
    return row["gender"] if row["gender"] in ("female", "male") else "unknown"


def _eurostat_age(row) -> str:
    age = row["age_at_first_contact"]
    if age is None:
        return {"child": "0-17", "adult": "18+"}.get(_majority(row), "unknown")
    return "0-11" if age <= 11 else "12-17" if age <= 17 else "18+"


def _glotip_age(row) -> str:
    return {"child": "0-17", "adult": "18+"}.get(_majority(row), "unknown")


def _citizenship_group(row) -> str:
    first = row["citizenships"][0] if row["citizenships"] else ""
    if not first:
        return "unknown"
    if first == settings.OPENNRM_COUNTRY:
        return "national"
    return "other_eu" if first in country_groups.members("eu") else "non_eu"


def _eurostat_form(row) -> str:
    first = row["exploitation_forms"][0] if row["exploitation_forms"] else ""
    if not first:
        return "unknown"
    if first == "sexual_exploitation":
        return "sexual"
    return "labour" if first in ("forced_labour", "child_labour", "servitude") else "other"


GLOTIP_FORMS = {"sexual_exploitation": "sexual", "forced_labour": "forced_labour",
                "child_labour": "forced_labour", "servitude": "forced_labour",
                "forced_begging": "begging", "forced_criminality": "criminal",
                "forced_marriage": "marriage", "organ_removal": "organ_removal"}


def _count(people, row_of, column_of) -> dict:
    """{(row, column): persons}, a person counted once in each cell that applies."""
    counts: dict = defaultdict(set)
    for index, person in enumerate(people):
        rows, columns = row_of(person), column_of(person)
        for row in rows if isinstance(rows, list) else [rows]:
            for column in columns if isinstance(columns, list) else [columns]:
                counts[(row, column)].add(index)
                counts[(row, "total")].add(index)
                counts[("total", column)].add(index)
        counts[("total", "total")].add(index)
    return {key: len(value) for key, value in counts.items()}


def _engine_cells(table) -> dict:
    cells = {}
    for row, values in zip(table.rows, table.cells, strict=True):
        for column, cell in zip(table.columns, values, strict=True):
            cells[(row, column)] = cell.value
    for row, cell in zip(table.rows, table.row_totals, strict=True):
        cells[(row, "total")] = cell.value
    for column, cell in zip(table.columns, table.column_totals, strict=True):
        cells[("total", column)] = cell.value
    cells[("total", "total")] = table.total.value
    return cells


def _compare(table, expected: dict) -> int:
    got = _engine_cells(table)
    wrong = {key: (value, expected.get(key, 0)) for key, value in got.items()
             if value != expected.get(key, 0)}
    assert not wrong, f"{table.key}: engine vs recomputed {wrong}"
    missing = {key for key, value in expected.items() if value and key not in got}
    assert not missing, f"{table.key}: categories missing {missing}"
    return len(got)


def test_every_cell_agrees_with_an_independent_recomputation(generated_year):
    people = _victims()
    results = {r.key: r for r in engine.compute_all(["eurostat", "glotip"], *YEAR)}
    tables = {t.key: t for result in results.values() for t in result.tables}

    def forms_of(person):
        forms = list(dict.fromkeys(GLOTIP_FORMS.get(f, "other") for f in person["all_forms"]))
        return forms or ["unknown"]

    top = defaultdict(set)
    for index, person in enumerate(people):
        if person["citizenships"]:
            top[person["citizenships"][0]].add(index)
    ten = [code for code, _n in sorted(top.items(), key=lambda kv: (-len(kv[1]), kv[0]))[:10]]

    def glotip_citizenship(person):
        first = person["citizenships"][0] if person["citizenships"] else ""
        return first if first in ten else ("other" if first else "unknown")

    expected = {
        "victims_by_sex_and_age": _count(people, _sex, _eurostat_age),
        "victims_by_citizenship_and_sex": _count(people, _citizenship_group, _sex),
        "victims_by_form_and_sex": _count(people, _eurostat_form, _sex),
        "victims_by_organisation_and_status": _count(
            people, lambda p: p["agency_type"], lambda p: p["victim_status"]),
        "detected_victims_by_sex_and_age": _count(people, _sex, _glotip_age),
        "detected_victims_by_form_and_age": _count(people, forms_of, _glotip_age),
        "detected_victims_by_citizenship_and_sex": _count(people, glotip_citizenship, _sex),
    }
    # Repatriations: one row per person, their earliest return (then case number).
    returns = _rows("""
        SELECT COALESCE(p.statistical_person_id, p.id) AS person, c.case_number,
               rp.returned_on, rp.destination_country, c.is_child, c.age_at_first_contact,
               p.age_uncertainty
        FROM protection_returnplan rp JOIN cases_case c ON c.id = rp.case_id
        JOIN cases_person p ON p.id = c.person_id
        WHERE rp.returned_on BETWEEN %s AND %s""", YEAR)
    first_return = {}
    for row in sorted(returns, key=lambda r: (str(r["returned_on"]), r["case_number"])):
        first_return.setdefault(row["person"], row)
    destinations = defaultdict(int)
    for row in first_return.values():
        destinations[row["destination_country"]] += 1
    top_destinations = [code for code, _n in sorted(destinations.items(),
                                                     key=lambda kv: (-kv[1], kv[0]))[:10]]
    expected["victims_repatriated_by_country"] = _count(
        list(first_return.values()),
        lambda r: r["destination_country"] if r["destination_country"] in top_destinations
        else "other", _glotip_age)

    compared = sum(_compare(tables[key], cells) for key, cells in expected.items())
    # Every victims' table (the criminal-justice tables: tests/statistics/test_justice_tables.py).
    victim_tables = {spec["key"] for key in ("eurostat", "glotip")
                     for spec in engine.load_definition(key)["tables"]
                     if spec["frame"] in ("cases", "returns")}
    assert set(expected) == victim_tables
    assert compared > 150
    # The year has what the rules are about.
    statuses = {p["age_uncertainty"] for p in people}
    assert {"possibly_child", "adult"} <= statuses
    assert any(p["age_at_first_contact"] is None and not p["age_uncertainty"] for p in people)
    assert len(people) < len(_rows("""SELECT c.id FROM cases_case c WHERE c.first_contact_on
        BETWEEN %s AND %s AND c.victim_status <> 'not_a_victim'""", YEAR))


def test_a_tie_on_the_first_contact_is_broken_by_case_number(generated_year):
    from opennrm.statistics import frames as sql_frames

    frame = sql_frames.cases_frame(*YEAR)
    tied = frame.filter(frame.select(["person_key", "first_contact_on"]).is_duplicated())
    assert tied.height >= 2  # the generated year has same-day registrations
    for (key,), group in tied.group_by(["person_key"]):
        ids = group.sort("case_order")["case_id"].to_list()
        numbers = list(Case.objects.filter(pk__in=ids).order_by("case_number")
                       .values_list("pk", flat=True))
        assert ids == numbers, key
