"""The criminal-justice tables (Eurostat crim_thb offenders, GLOTIP offences and persons in
formal contact, prosecuted and convicted, the NRM's access-to-justice indicators),
recomputed outside the engine.

The justice rows are created with the ORM (`opennrm.justice.models`), the victims' cases
through `cases.services`. The recomputation reads the tables with plain SQL and applies the
rules of docs/statistics.md ("Criminal justice") in Python, written here a second time:

* only criminal cases whose legal qualification is ICCS 0204 in the code list file count
  for the Eurostat and GLOTIP tables (related offences do not);
* a suspect counts as suspected in the period of `suspected_on`, as prosecuted in the period
  of `prosecuted_on`, as convicted in the period of `outcome_on` when the outcome is
  "convicted";
* one offender: the suspects with the same non-empty `name_index`, else the suspect alone;
  each counts once per table, described by their earliest record in the table (by the
  date, then the record's id);
* NRM: victims whose case was first formally identified in the period, each person once
  (described by their earliest identified case); indicted when a criminal case linked to
  one of their cases reached the indictment or a later stage of the trial; the judgement
  is the first first-instance judgement on or after the case's identification; the ratio
  counts each convicted offender once per row.
"""

import json
import math
import random
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

import pytest

import opennrm.core
from opennrm.accounts.models import Role
from opennrm.cases import services
from opennrm.cases.models import Person
from opennrm.justice.models import CriminalCase, CriminalCaseStage, SuspectedPerson, VictimLink
from opennrm.protection.models import CriminalProceeding
from opennrm.screening.models import IdentificationDecision
from opennrm.statistics import engine, releases
from opennrm.statistics.tables import SECONDARY, SUPPRESSED
from tests.factories import make_agency, make_user, person_data
from tests.statistics.test_engine import grid, table
from tests.statistics.test_independent import (
    GLOTIP_FORMS,
    _citizenship_group,
    _compare,
    _count,
    _majority,
    _rows,
    _sex,
)

YEAR = (date(2025, 1, 1), date(2025, 12, 31))
# The code list file itself, read here (not through `core.codelists`).
QUALIFICATIONS = json.loads(
    (Path(opennrm.core.__file__).parent / "codelists" / "offence_qualifications.json")
    .read_text(encoding="utf-8"))["codes"]
ICCS = {entry["code"]: entry["iccs"] for entry in QUALIFICATIONS}
TRIAL = ["investigation_opened", "suspects_identified", "indictment",
         "first_instance_judgement", "appeal", "final_judgement"]
INDICTED = set(TRIAL[2:])
FORMS = ["sexual_exploitation", "forced_labour", "forced_begging", "forced_criminality",
         "forced_marriage", "servitude", "organ_removal", "child_labour", "other", ""]
COUNTRIES = ["MD", "MD", "MD", "UA", "RO", "RU", "BG", "IT", "TR", "DE"]


# --- writing justice rows with the ORM ----------------------------------------------------

def _criminal_case(user, qualification: str, opened_on: date, *, form="sexual_exploitation",
                   stages=()) -> CriminalCase:
    """A criminal case with its stages: investigation opened on `opened_on`, then each
    (stage, day) of `stages`."""
    history = [("investigation_opened", opened_on), *stages]
    criminal_case = CriminalCase.objects.create(
        agency_in_charge=user.agency, national_reference="CC-TEST",
        legal_qualification=qualification, exploitation_form=form, opened_on=opened_on,
        stage=history[-1][0], stage_reached_on=history[-1][1], recorded_by=user)
    for stage, on in history:
        CriminalCaseStage.objects.create(criminal_case=criminal_case, stage=stage,
                                         reached_on=on, recorded_by=user)
    return criminal_case


def _suspect(criminal_case, user, suspected_on: date, *, name_index="", gender="male",
             age=35, citizenships=("MD",), prosecuted_on=None, outcome="",
             outcome_on=None) -> SuspectedPerson:
    return SuspectedPerson.objects.create(
        criminal_case=criminal_case, name_index=name_index, gender=gender, age=age,
        citizenships=list(citizenships), role="exploiter", suspected_on=suspected_on,
        prosecuted_on=prosecuted_on, outcome=outcome, outcome_on=outcome_on,
        recorded_by=user)


def _link(criminal_case, case, user) -> VictimLink:
    proceeding = CriminalProceeding.objects.create(
        case=case, opened_on=criminal_case.opened_on, stage="investigation", role="victim",
        recorded_by=user, kept_by_criminal_case=True)
    return VictimLink.objects.create(criminal_case=criminal_case, case=case,
                                     proceeding=proceeding, linked_by=user)


def _identify(case, user, on: date) -> None:
    IdentificationDecision.objects.create(case=case, decision="identified", decided_on=on,
                                          deciding_agency=user.agency, grounds="Test",
                                          decided_by=user)


def _day(rng, first: date, last: date) -> date:
    return first + timedelta(days=rng.randrange((last - first).days + 1))


@pytest.fixture
def police(db):
    return make_user(Role.CASEWORKER, make_agency("police-justice", "law_enforcement"))


@pytest.fixture
def justice_year(police):
    """A generated year: victims' cases (some linked as the same person) identified in and
    around 2025; criminal cases of every legal qualification with their stages; suspects
    who recur across criminal cases under one blind index, of every sex, with and without
    an age and a citizenship, suspected, indicted and convicted in and around 2025; victims
    linked to criminal cases."""
    rng = random.Random(18)
    ngo = make_user(Role.CASEWORKER, make_agency("ngo-justice", "ngo"))
    victims = []
    for _ in range(40):
        first_contact = _day(rng, date(2024, 6, 1), date(2025, 12, 31))
        age_fields = rng.choice([{"birth_date": first_contact - timedelta(days=16 * 365)},
                                 {"birth_date": date(1990, 5, 5)},
                                 {"birth_date": None, "age_uncertainty": "adult"},
                                 {"birth_date": None}])
        victims.append(services.register_case(rng.choice([ngo, police]), person_data(
            **age_fields, first_contact_on=first_contact, identity_documents=[], phone="",
            labour_sector="")))
    for original, again in zip(victims[:5], victims[5:10], strict=True):
        key = min(original.person_id, again.person_id)
        Person.objects.filter(pk__in=[original.person_id, again.person_id]).update(
            statistical_person_id=key)
    for case in rng.sample(victims, 32):
        on = max(case.first_contact_on, _day(rng, date(2024, 11, 1), date(2026, 1, 31)))
        _identify(case, police, on)
        if rng.random() < 0.2:
            _identify(case, police, on + timedelta(days=40))  # only the first one counts
    criminal_cases = []
    for number in range(48):
        opened = _day(rng, date(2024, 10, 1), date(2026, 1, 31))
        stages, day = [], opened
        for stage in TRIAL[1:rng.randrange(1, len(TRIAL) + 1)]:
            day += timedelta(days=rng.randrange(1, 120))
            stages.append((stage, day))
        if stages and rng.random() < 0.15:
            stages = [*stages[:1], ("closed_without_prosecution", day)]
        qualification = QUALIFICATIONS[number % len(QUALIFICATIONS)]["code"]
        criminal_case = _criminal_case(police, qualification, opened,
                                       form=rng.choice(FORMS), stages=stages)
        criminal_cases.append(criminal_case)
        for _ in range(rng.choice([0, 1, 2, 2, 3, 4])):
            suspected = opened + timedelta(days=rng.randrange(0, 60))
            prosecuted = (suspected + timedelta(days=rng.randrange(10, 200))
                          if rng.random() < 0.6 else None)
            outcome, outcome_on = "", None
            if prosecuted and rng.random() < 0.75:
                outcome = rng.choice(["convicted", "convicted", "acquitted", "charges_dropped"])
                outcome_on = prosecuted + timedelta(days=rng.randrange(10, 200))
            _suspect(criminal_case, police, suspected,
                     name_index=f"index-{rng.randrange(20):02d}" if rng.random() < 0.7 else "",
                     gender=rng.choice(["female", "male", "male", "unknown",
                                        "transgender_or_other"]),
                     age=rng.choice([None, 16, 17, 19, 25, 34, 41, 58]),
                     citizenships=rng.sample(COUNTRIES, rng.choice([0, 1, 1, 2])),
                     prosecuted_on=prosecuted, outcome=outcome, outcome_on=outcome_on)
    pairs = {(rng.choice(criminal_cases).pk, rng.choice(victims).pk) for _ in range(60)}
    by_id = {c.pk: c for c in criminal_cases}
    cases = {c.pk: c for c in victims}
    for criminal_case_id, case_id in sorted(pairs):
        _link(by_id[criminal_case_id], cases[case_id], police)
    return victims


# --- the recomputation ---------------------------------------------------------------------

def _in_year(day) -> bool:
    return day is not None and str(YEAR[0]) <= str(day) <= str(YEAR[1])


def _offenders() -> list[dict]:
    """Every suspect record with its offender key (the smallest id of its blind index)."""
    records = _rows("""
        SELECT s.id, s.criminal_case_id, s.name_index, s.gender, s.age, s.citizenships,
               s.suspected_on, s.prosecuted_on, s.outcome, s.outcome_on,
               cc.legal_qualification, cc.exploitation_form
        FROM justice_suspectedperson s
        JOIN justice_criminalcase cc ON cc.id = s.criminal_case_id""")
    smallest: dict = {}
    for record in records:
        if record["name_index"]:
            smallest[record["name_index"]] = min(smallest.get(record["name_index"], record["id"]),
                                                 record["id"])
    for record in records:
        record["key"] = smallest.get(record["name_index"], record["id"])
        value = record["citizenships"]
        record["citizenships"] = json.loads(value) if isinstance(value, str) else list(value)
        record["convicted_on"] = record["outcome_on"] if record["outcome"] == "convicted" \
            else None
    return records


def _persons(records, date_column: str) -> list[dict]:
    """The THB offenders of the year at one stage: each once, their earliest record."""
    earliest: dict = {}
    for record in sorted(records, key=lambda r: (str(r[date_column]), r["id"])):
        if _in_year(record[date_column]) and ICCS[record["legal_qualification"]] == "0204":
            earliest.setdefault(record["key"], record)
    return list(earliest.values())


def _eurostat_age(record) -> str:
    age = record["age"]
    if age is None:
        return "unknown"
    return "0-11" if age <= 11 else "12-17" if age <= 17 else "18+"


def _glotip_age(record) -> str:
    if record["age"] is None:
        return "unknown"
    return "0-17" if record["age"] < 18 else "18+"


def _eurostat_form(record) -> str:
    form = record["exploitation_form"]
    if not form:
        return "unknown"
    if form == "sexual_exploitation":
        return "sexual"
    return "labour" if form in ("forced_labour", "child_labour", "servitude") else "other"


def _glotip_form(record) -> str:
    form = record["exploitation_form"]
    return GLOTIP_FORMS.get(form, "other") if form else "unknown"


def _expected_counts() -> dict:
    records = _offenders()
    expected = {}
    for stage, column, glotip in (("suspected", "suspected_on", "persons_in_formal_contact"),
                                  ("prosecuted", "prosecuted_on", "persons_prosecuted"),
                                  ("convicted", "convicted_on", "persons_convicted")):
        people = _persons(records, column)
        expected[f"{stage}_by_sex_and_age"] = _count(people, _sex, _eurostat_age)
        expected[f"{stage}_by_citizenship_and_sex"] = _count(people, _citizenship_group, _sex)
        expected[f"{stage}_by_form_and_sex"] = _count(people, _eurostat_form, _sex)
        expected[f"{glotip}_by_sex_and_age"] = _count(people, _sex, _glotip_age)
    offences = [row for row in _rows("""SELECT id, legal_qualification, exploitation_form,
                                               opened_on FROM justice_criminalcase""")
                if _in_year(row["opened_on"]) and ICCS[row["legal_qualification"]] == "0204"]
    expected["offences_by_form"] = _count(offences, _glotip_form, lambda row: "total")
    return expected


def _identified_persons() -> list[dict]:
    """The victims first formally identified in the year, each person once, with what the
    criminal cases linked to their cases reached."""
    cases = _rows("""
        SELECT c.id, c.case_number, COALESCE(p.statistical_person_id, p.id) AS person,
               c.is_child, c.age_at_first_contact, p.age_uncertainty,
               MIN(d.decided_on) AS identified_on
        FROM cases_case c JOIN cases_person p ON p.id = c.person_id
        JOIN screening_identificationdecision d ON d.case_id = c.id
        WHERE d.decision = 'identified'
        GROUP BY c.id, c.case_number, p.statistical_person_id, p.id, c.is_child,
                 c.age_at_first_contact, p.age_uncertainty""")
    links = defaultdict(list)
    for row in _rows("SELECT case_id, criminal_case_id FROM justice_victimlink"):
        links[row["case_id"]].append(row["criminal_case_id"])
    stages = defaultdict(list)
    for row in _rows("SELECT criminal_case_id, stage, reached_on FROM justice_criminalcasestage"):
        stages[row["criminal_case_id"]].append((row["stage"], str(row["reached_on"])))
    convicted = defaultdict(set)
    for record in _offenders():
        if record["outcome"] == "convicted":
            convicted[record["criminal_case_id"]].add(record["key"])
    by_person = defaultdict(list)
    for case in cases:
        case["identified_on"] = str(case["identified_on"])
        if _in_year(case["identified_on"]):
            by_person[case["person"]].append(case)
    people = []
    for rows in by_person.values():
        rows.sort(key=lambda r: (r["identified_on"], r["case_number"]))
        indicted, judgements, offenders = [], [], set()
        for case in rows:
            for criminal_case in links[case["id"]]:
                indicted += [on for stage, on in stages[criminal_case] if stage in INDICTED]
                judgements += [on for stage, on in stages[criminal_case]
                               if stage == "first_instance_judgement"
                               and on >= case["identified_on"]]
                offenders |= convicted[criminal_case]
        first = rows[0]
        people.append({"majority": _majority(first), "identified_on": first["identified_on"],
                       "indicted": bool(indicted),
                       "judgement_on": min(judgements) if judgements else None,
                       "offenders": offenders})
    return people


def _nearest(values: list[int], q: float) -> float | None:
    values = sorted(values)
    return float(values[math.floor((len(values) - 1) * q + 0.5)]) if values else None


def _days(person) -> int:
    return (date.fromisoformat(person["judgement_on"])
            - date.fromisoformat(person["identified_on"])).days


def _indicator_expected(people) -> dict:
    """{table: {row: (cells, base)}} with the row "total" for the whole population."""
    rows = {"child": "child", "adult": "adult", "unknown": "unknown"}
    groups = {row: [p for p in people if p["majority"] == row] for row in rows}
    groups["total"] = people
    expected = defaultdict(dict)
    for row, group in groups.items():
        share = round(100.0 * sum(p["indicted"] for p in group) / len(group), 1) \
            if group else None
        expected["share_identified_indictment"][row] = ([share], len(group))
        judged = [p for p in group if p["judgement_on"]]
        days = [_days(p) for p in judged]
        expected["days_identification_to_judgement"][row] = (
            [_nearest(days, 0.5), _nearest(days, 0.9)], len(judged))
        offenders = set().union(*(p["offenders"] for p in group)) if group else set()
        ratio = round(len(offenders) / len(group), 2) if group else None
        expected["convictions_per_identified_victim"][row] = ([ratio], len(group))
    return expected


def _indicator_got(spec) -> dict:
    got = {row: ([cell.value for cell in cells], base.value)
           for row, cells, base in zip(spec.rows, spec.cells, spec.row_totals, strict=True)}
    got["total"] = ([cell.value for cell in spec.column_totals], spec.total.value)
    return got


# --- the tests -----------------------------------------------------------------------------

def test_every_cell_of_the_justice_tables_agrees_with_an_independent_recomputation(
        justice_year):
    results = {r.key: r for r in engine.compute_all(["eurostat", "glotip", "nrm"], *YEAR)}
    tables = {t.key: t for result in results.values() for t in result.tables}
    expected = _expected_counts()
    compared = sum(_compare(tables[key], cells) for key, cells in expected.items())
    assert compared > 200
    for key, cells in expected.items():
        assert cells[("total", "total")] > 0, key  # the year has something in each table
    assert all(tables[key].additive for key in expected)

    people = _identified_persons()
    for key, rows in _indicator_expected(people).items():
        assert _indicator_got(tables[key]) == rows, key
    # The year has what the rules are about.
    assert 0 < sum(p["indicted"] for p in people) < len(people)
    assert sum(1 for p in people if p["judgement_on"]) >= 2
    assert any(len(p["offenders"]) > 1 for p in people)
    records = _offenders()
    assert len({r["key"] for r in records}) < len(records)  # offenders in several cases


def test_a_person_in_two_criminal_cases_counts_once(police):
    first = _criminal_case(police, "thb", date(2025, 2, 1))
    second = _criminal_case(police, "thb_child", date(2025, 6, 1), form="forced_labour")
    # The same person (one blind index), a woman of 30 first, recorded as 31 in the second.
    _suspect(first, police, date(2025, 2, 3), name_index="same", gender="female", age=30,
             citizenships=["RO"], prosecuted_on=date(2025, 5, 1), outcome="convicted",
             outcome_on=date(2025, 9, 1))
    _suspect(second, police, date(2025, 6, 2), name_index="same", gender="female", age=31,
             citizenships=["RO"], prosecuted_on=date(2025, 7, 1), outcome="convicted",
             outcome_on=date(2025, 11, 1))
    # Two persons without a blind index are two persons, whatever they have in common.
    _suspect(first, police, date(2025, 2, 3), gender="male", age=40)
    _suspect(second, police, date(2025, 6, 2), gender="male", age=40)
    result = {r.key: r for r in engine.compute_all(["eurostat", "glotip"], *YEAR)}
    suspected = grid(table(result["eurostat"], "suspected_by_sex_and_age"))
    assert suspected["female"] == {"0-11": 0, "12-17": 0, "0-17": 0, "18+": 1, "unknown": 0,
                                   "total": 1}
    assert suspected["male"]["total"] == 2 and suspected["total"]["total"] == 3
    # Described by the earliest record: under the first case's form of exploitation.
    forms = grid(table(result["eurostat"], "convicted_by_form_and_sex"))
    assert forms["sexual"]["female"] == 1 and forms["labour"]["female"] == 0
    assert grid(table(result["eurostat"], "prosecuted_by_citizenship_and_sex"))[
        "other_eu"]["female"] == 1
    contact = grid(table(result["glotip"], "persons_convicted_by_sex_and_age"))
    assert contact["total"]["total"] == 1
    assert table(result["glotip"], "offences_by_form").total.value == 2


def test_related_offences_are_not_counted(police):
    for qualification in ("forced_labour", "slavery", "pimping", "migrant_smuggling"):
        related = _criminal_case(police, qualification, date(2025, 3, 1))
        _suspect(related, police, date(2025, 3, 2), prosecuted_on=date(2025, 4, 1),
                 outcome="convicted", outcome_on=date(2025, 8, 1))
    organs = _criminal_case(police, "organ_trafficking", date(2025, 3, 1),
                            form="organ_removal")
    _suspect(organs, police, date(2025, 3, 2), gender="female", age=50, citizenships=["UA"])
    result = {r.key: r for r in engine.compute_all(["eurostat", "glotip"], *YEAR)}
    assert table(result["eurostat"], "suspected_by_sex_and_age").total.value == 1
    assert grid(table(result["eurostat"], "suspected_by_citizenship_and_sex"))[
        "non_eu"]["female"] == 1
    assert table(result["eurostat"], "convicted_by_sex_and_age").total.value == 0
    assert table(result["glotip"], "persons_prosecuted_by_sex_and_age").total.value == 0
    offences = grid(table(result["glotip"], "offences_by_form"))
    assert offences["total"]["total"] == 1 and offences["organ_removal"]["total"] == 1


def test_each_stage_counts_in_the_period_it_happened(police):
    criminal_case = _criminal_case(police, "thb", date(2024, 11, 1))
    # Suspected in 2024, indicted in 2025, convicted in 2026.
    _suspect(criminal_case, police, date(2024, 11, 2), prosecuted_on=date(2025, 3, 1),
             outcome="convicted", outcome_on=date(2026, 1, 10))
    # Indicted and acquitted in 2025: prosecuted, never convicted.
    _suspect(criminal_case, police, date(2025, 1, 5), prosecuted_on=date(2025, 2, 1),
             outcome="acquitted", outcome_on=date(2025, 6, 1))
    result = engine.compute("eurostat", *YEAR)
    assert table(result, "suspected_by_sex_and_age").total.value == 1
    assert table(result, "prosecuted_by_sex_and_age").total.value == 2
    assert table(result, "convicted_by_sex_and_age").total.value == 0
    next_year = engine.compute("eurostat", date(2026, 1, 1), date(2026, 12, 31))
    assert table(next_year, "convicted_by_sex_and_age").total.value == 1
    glotip = engine.compute("glotip", *YEAR)
    assert table(glotip, "offences_by_form").total.value == 0  # opened in 2024


def test_small_cells_are_suppressed_by_the_node_s_policy(police):
    criminal_case = _criminal_case(police, "thb", date(2025, 1, 10))
    for n in range(7):
        _suspect(criminal_case, police, date(2025, 1, 11), gender="male", age=30 + n)
    for n in range(2):
        _suspect(criminal_case, police, date(2025, 1, 11), gender="female", age=30 + n)
    exact = engine.compute_all(["eurostat", "glotip"], *YEAR)
    controls = releases.policy_controls()  # the node's policy: threshold 5
    eurostat, glotip = releases.controlled_together(exact, controls)
    suspected = table(eurostat, "suspected_by_sex_and_age")
    female = suspected.rows.index("female")
    adults = suspected.columns.index("18+")
    assert suspected.cells[female][adults].value is None
    assert suspected.cells[female][adults].flag == SUPPRESSED
    assert suspected.row_totals[female].value is None
    # The total cannot give the women back: another count is hidden with them.
    assert any(cell.flag == SECONDARY for cell in
               [*suspected.row_totals, *(row[adults] for row in suspected.cells)])
    contact = table(glotip, "persons_in_formal_contact_by_sex_and_age")
    cell = contact.cells[contact.rows.index("female")][contact.columns.index("18+")]
    assert cell.value is None and cell.display(glotip.small_cell_label) == "<5"
    # A known zero stays published.
    assert suspected.cells[suspected.rows.index("unknown")][adults].value == 0


def test_access_to_justice_indicators_for_identified_victims(police):
    ngo = make_user(Role.CASEWORKER, make_agency("ngo-indicators", "ngo"))
    victims = [services.register_case(ngo, person_data(
        birth_date=date(1990, 1, 1), first_contact_on=date(2025, 1, 5), identity_documents=[],
        phone="")) for _ in range(6)]
    for victim in victims:
        _identify(victim, police, date(2025, 2, 1))
    tried = _criminal_case(police, "thb", date(2025, 1, 10), stages=[
        ("indictment", date(2025, 4, 1)), ("first_instance_judgement", date(2025, 5, 3))])
    # Pimping is not trafficking for Eurostat, but the victims' case still led to a trial.
    other = _criminal_case(police, "pimping", date(2025, 1, 10), stages=[
        ("indictment", date(2025, 6, 1)), ("first_instance_judgement", date(2025, 8, 31))])
    closed = _criminal_case(police, "thb", date(2025, 1, 10), stages=[
        ("closed_without_prosecution", date(2025, 3, 1))])
    for criminal_case, victim in ((tried, 0), (tried, 1), (other, 2), (closed, 3)):
        _link(criminal_case, victims[victim], police)
    _suspect(tried, police, date(2025, 1, 11), name_index="a", outcome="convicted",
             outcome_on=date(2025, 5, 3))
    _suspect(other, police, date(2025, 1, 11), name_index="a", outcome="convicted",
             outcome_on=date(2025, 8, 31))  # the same person: one convicted person
    _suspect(other, police, date(2025, 1, 11), outcome="convicted",
             outcome_on=date(2025, 8, 31))
    _suspect(closed, police, date(2025, 1, 11))
    result = engine.compute("nrm", *YEAR)
    share = table(result, "share_identified_indictment")
    assert share.total.value == 6 and share.column_totals[0].value == 50.0
    days = table(result, "days_identification_to_judgement")
    # 2025-02-01 to 2025-05-03 (two victims) and to 2025-08-31 (one).
    assert days.total.value == 3 and days.column_totals[0].value == 91.0
    assert days.column_totals[1].value == 211.0
    ratio = table(result, "convictions_per_identified_victim")
    assert ratio.column_totals[0].value == round(2 / 6, 2)
    # The indicator rests on 6 persons: published under the node's policy.
    published = releases.controlled(result, releases.policy_controls())
    assert table(published, "share_identified_indictment").column_totals[0].value == 50.0
    assert table(published, "days_identification_to_judgement").column_totals[0].value is None


def test_the_set_notes_no_longer_say_offenders_are_not_recorded(db):
    for key in ("eurostat", "glotip"):
        notes = " ".join(engine.load_definition(key)["notes"])
        assert "not recorded" not in notes
        assert "ICCS 0204" in notes


def test_the_justice_frames_hold_no_identity(justice_year):
    from opennrm.statistics import frames as sql_frames

    for name in ("offences", "suspects", "prosecutions", "convictions", "identifications"):
        columns = set(sql_frames.FRAMES[name](*YEAR).columns)
        assert not columns & {"given_name", "family_name", "birth_date", "name_index",
                              "national_reference", "case_number"}, name
    assert "CC-TEST" not in str(sql_frames.suspects_frame(*YEAR).rows())
