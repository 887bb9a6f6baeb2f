"""/api/indicator-sets, screenings, identification decisions and the identification queue,
with the real ILO/EC adult labour list."""

import json
from datetime import date, timedelta

import pytest
from django.utils import timezone

from opennrm.accounts.models import Role
from opennrm.audit.models import AuditEntry
from opennrm.cases.models import Case
from opennrm.screening import engine, indicator_sets
from opennrm.screening.models import IdentificationDecision, Screening
from tests.factories import make_user, person_data
from tests.helpers import ApiClient, assert_problem

LIST_FILE = indicator_sets.BUILT_IN / "ilo-ec-adult-labour.json"


@pytest.fixture(scope="module")
def adult_labour() -> dict:
    return json.loads(LIST_FILE.read_text(encoding="utf-8"))


def enough(dimension: dict) -> list[str]:
    """Indicator codes that make `dimension` present (2 strong, 1 strong + 1 other, or
    3 medium), in the order of the list."""
    codes = {strength: [indicator["code"] for indicator in dimension["indicators"]
                        if indicator["strength"] == strength] for strength in engine.STRENGTHS}
    if len(codes["strong"]) >= 2:
        return codes["strong"][:2]
    if codes["strong"] and codes["medium"] + codes["weak"]:
        return [codes["strong"][0], (codes["medium"] + codes["weak"])[0]]
    return codes["medium"][:3]


@pytest.fixture(scope="module")
def probable(adult_labour) -> list[str]:
    """Indicators meeting every group of the adult rule: a probable victim."""
    dimensions = {dimension["code"]: dimension for dimension in adult_labour["dimensions"]}
    observed = []
    for group in adult_labour["rule"]["probable_victim"]:
        # Coercive recruitment first, as in the ILO/EC example.
        group = sorted(group, key=lambda code: code != "coercive_recruitment")
        observed += enough(dimensions[group[0]])
    result = engine.score(engine.IndicatorSet(adult_labour), observed)
    assert result.outcome == engine.PROBABLE
    return observed


@pytest.fixture
def weak_only(adult_labour) -> list[str]:
    """One weak indicator: not met."""
    return [indicator["code"] for dimension in adult_labour["dimensions"]
            for indicator in dimension["indicators"] if indicator["strength"] == "weak"][:1]


@pytest.fixture
def coordinator(ngo):
    return make_user(Role.NATIONAL_COORDINATOR, ngo, "coordinator")


@pytest.fixture
def coordinator_api(coordinator):
    return ApiClient(coordinator)


def screenings(case) -> str:
    return f"/api/cases/{case.case_number}/screenings"


def decisions(case) -> str:
    return f"/api/cases/{case.case_number}/identification-decisions"


def screening_body(adult_labour, observed, **extra) -> dict:
    return {"indicator_set": adult_labour["id"], "version": adult_labour["version"],
            "observed": observed, **extra}


def record(api, case, adult_labour, codes, on="2026-03-05", notes=None):
    body = screening_body(adult_labour, {code: "" for code in codes} | (notes or {}),
                          screened_on=on)
    response = api.post(screenings(case), body)
    assert response.status_code == 201, response.content
    return response.json()


def queue(client, **params) -> dict:
    response = client.get("/api/identification-queue", params)
    assert response.status_code == 200, response.content
    return response.json()


# --- indicator lists ---------------------------------------------------------------------

def test_it_lists_the_current_indicator_sets(api, adult_labour):
    response = api.get("/api/indicator-sets")
    assert response.status_code == 200
    listed = {item["id"]: item for item in response.json()}
    item = listed[adult_labour["id"]]
    assert item["version"] == adult_labour["version"]
    assert (item["population"], item["exploitation"]) == ("adult", "labour")
    assert item["labels"] == adult_labour["labels"]
    assert (item["source"], item["uncertain"]) == (adult_labour["source"],
                                                   adult_labour["uncertain"])
    assert "dimensions" not in item and "rule" not in item
    assert response.json()[0]["id"] == adult_labour["id"]  # adults first, labour first
    assert {item["id"] for item in response.json()} >= {
        "ilo-ec-adult-labour", "ilo-ec-adult-sexual", "ilo-ec-child-labour",
        "ilo-ec-child-sexual"}


def test_it_reads_a_whole_indicator_set(api, adult_labour):
    response = api.get(f"/api/indicator-sets/{adult_labour['id']}/{adult_labour['version']}")
    assert response.status_code == 200
    read = response.json()
    assert read == {key: value for key, value in adult_labour.items() if key != "$schema"}
    assert read["dimensions"][0]["indicators"][0]["labels"]["uk"]


def test_an_unknown_indicator_set_is_not_found(api, adult_labour):
    assert_problem(api.get(f"/api/indicator-sets/{adult_labour['id']}/999"), 404)
    assert_problem(api.get("/api/indicator-sets/nothing/1"), 404)


# --- preview -----------------------------------------------------------------------------

def test_a_preview_scores_and_stores_nothing(api, case, adult_labour, probable):
    audited = AuditEntry.objects.count()
    response = api.post(f"{screenings(case)}/preview", screening_body(adult_labour, probable))
    assert response.status_code == 200, response.content
    preview = response.json()
    assert preview["outcome"] == "probable"
    assert preview["treated_as_child"] is False
    counts = {dimension["code"]: dimension for dimension in preview["dimensions"]}
    assert set(preview["present_dimensions"]) <= set(counts)
    assert counts["coercive_recruitment"]["present"] is True
    assert sum(d["strong"] + d["medium"] + d["weak"] for d in counts.values()) == len(probable)
    assert preview["explanation"][0] == engine.PHRASES["en"]["probable"]
    assert not Screening.objects.exists()
    assert AuditEntry.objects.count() == audited
    case.refresh_from_db()
    assert case.victim_status == "presumed"


def test_a_preview_refuses_unknown_indicators_and_lists(api, case, adult_labour, probable):
    problem = assert_problem(api.post(f"{screenings(case)}/preview", screening_body(
        adult_labour, [*probable, "no_such_indicator"])), 422)
    assert [error["field"] for error in problem["errors"]] == ["observed"]
    assert "no_such_indicator" in problem["errors"][0]["message"]
    problem = assert_problem(api.post(f"{screenings(case)}/preview", {
        "indicator_set": adult_labour["id"], "version": "999", "observed": []}), 422)
    assert [error["field"] for error in problem["errors"]] == ["indicator_set"]


def test_the_explanation_is_in_the_language_of_the_request(api, case, adult_labour,
                                                           probable):
    api.headers["Accept-Language"] = "uk"
    preview = api.post(f"{screenings(case)}/preview",
                       screening_body(adult_labour, probable)).json()
    indicator_set = engine.IndicatorSet(adult_labour)
    expected = engine.explain(engine.score(indicator_set, probable), indicator_set,
                              "uk")
    assert preview["explanation"] == expected
    assert preview["explanation"][0] == engine.PHRASES["uk"]["probable"]
    recorded = record(api, case, adult_labour, probable)
    assert recorded["explanation"] == expected
    assert api.get(screenings(case)).json()[0]["explanation"] == expected


# --- recording and listing screenings ----------------------------------------------------

def test_it_records_a_screening(api, caseworker, coordinator_api, case, adult_labour,
                                probable):
    assert queue(coordinator_api)["count"] == 0
    note = {probable[0]: "Beaten when she asked to leave."}
    screening = record(api, case, adult_labour, probable, notes=note)
    assert screening["outcome"] == "probable"
    assert (screening["indicator_set"], screening["version"]) == (adult_labour["id"],
                                                                  adult_labour["version"])
    assert screening["screened_on"] == "2026-03-05"
    assert screening["observed"] == sorted(probable)
    assert screening["notes"] == note
    assert "coercive_recruitment" in screening["present_dimensions"]
    assert screening["treated_as_child"] is False
    assert (screening["screened_by"], screening["agency"]) == ("caseworker", "la-strada")
    assert screening["explanation"][0] == engine.PHRASES["en"]["probable"]
    entry = AuditEntry.objects.get(action="create", object_type="screening")
    assert (entry.object_ref, entry.channel) == (case.case_number, "api")
    assert "notes" in entry.fields

    waiting = queue(coordinator_api)
    assert waiting["count"] == 1
    assert waiting["items"] == [{
        "case_number": case.case_number, "first_screened_on": "2026-03-05",
        "days_waiting": (timezone.localdate() - date(2026, 3, 5)).days,
        "age_band": case.age_band, "is_child": False,
        "exploitation_forms": ["forced_labour"], "owner_agency": "la-strada"}]


def test_it_lists_screenings_newest_first_and_audits_the_read(api, case, adult_labour,
                                                              probable, weak_only):
    assert api.get(screenings(case)).json() == []
    assert not AuditEntry.objects.filter(action="read", object_type="screening").exists()
    first = record(api, case, adult_labour, probable, on="2026-03-05")
    second = record(api, case, adult_labour, weak_only, on="2026-03-09",
                    notes={weak_only[0]: "Works long hours."})
    assert second["outcome"] == "not_met"
    response = api.get(screenings(case))
    assert response.status_code == 200
    assert [item["id"] for item in response.json()] == [second["id"], first["id"]]
    assert response.json()[0]["notes"] == {weak_only[0]: "Works long hours."}
    entry = AuditEntry.objects.get(action="read", object_type="screening")
    assert (entry.object_ref, entry.channel, entry.fields) == (case.case_number, "api",
                                                               ["age_group_override", "notes"])


def test_a_screening_with_indicators_not_met_leaves_the_queue_alone(
        api, coordinator_api, case, adult_labour, weak_only):
    assert record(api, case, adult_labour, weak_only)["outcome"] == "not_met"
    assert queue(coordinator_api)["items"] == []


def test_a_child_is_screened_with_a_childrens_list_and_its_rule(api, caseworker):
    from opennrm.cases import services as case_services

    child_labour = json.loads((indicator_sets.BUILT_IN / "ilo-ec-child-labour.json")
                              .read_text(encoding="utf-8"))
    child = case_services.register_case(caseworker, person_data(
        given_name="Ana", birth_date=date(2011, 5, 5)))
    dimensions = {dimension["code"]: dimension for dimension in child_labour["dimensions"]}
    observed = (enough(dimensions["coercive_recruitment"])
                + enough(dimensions["exploitative_conditions"]))
    screening = record(api, child, child_labour, observed)
    assert screening["treated_as_child"] is True and screening["outcome"] == "probable"
    assert engine.PHRASES["en"]["child"] in screening["explanation"]
    assert screening["age_group_override"] == ""


def test_a_list_for_another_age_group_needs_a_reason(api, caseworker, case, adult_labour,
                                                      probable):
    """Issue 15: a person born in 1980 screened with a children's list came out 'probable'
    under the child rule. Now it is refused on the list, unless a reason is given, which is
    recorded and audited."""
    from opennrm.cases import services as case_services

    child_labour = json.loads((indicator_sets.BUILT_IN / "ilo-ec-child-labour.json")
                              .read_text(encoding="utf-8"))
    adult = case_services.register_case(caseworker, person_data(
        given_name="Ion", birth_date=date(1980, 6, 1)))
    dimensions = {dimension["code"]: dimension for dimension in child_labour["dimensions"]}
    observed = {code: "" for code in enough(dimensions["coercive_recruitment"])
                + enough(dimensions["exploitative_conditions"])}
    preview = api.post(screenings(adult) + "/preview", screening_body(child_labour,
                                                                     list(observed)))
    assert preview.status_code == 200 and preview.json()["fits_person"] is False
    problem = assert_problem(api.post(screenings(adult), screening_body(
        child_labour, observed, screened_on="2026-03-05")), 422)
    assert [error["field"] for error in problem["errors"]] == ["indicator_set"]
    assert not Screening.objects.filter(case_id=adult.pk).exists()
    response = api.post(screenings(adult), screening_body(
        child_labour, observed, screened_on="2026-03-05",
        age_group_override="Age disputed; assessment pending."))
    assert response.status_code == 201, response.content
    recorded = response.json()
    assert recorded["age_group_override"] == "Age disputed; assessment pending."
    assert engine.PHRASES["en"]["override"] in recorded["explanation"]
    assert AuditEntry.objects.filter(object_type="screening",
                                     fields=["age_group_override"]).exists()


@pytest.mark.parametrize(("change", "field"), [
    ({"version": "999"}, "indicator_set"),
    ({"indicator_set": "nothing"}, "indicator_set"),
    ({"observed": {"no_such_indicator": ""}}, "observed"),
    ({"observed": {"x": "a" * 1001}}, "observed"),
    ({"screened_on": "2099-01-01"}, "screened_on"),
    ({"screened_on": "2026-02-30"}, "screened_on"),
    ({"unexpected": 1}, "unexpected"),
])
def test_a_wrong_screening_names_the_field_and_stores_nothing(api, case, adult_labour,
                                                              probable, change, field):
    body = {**screening_body(adult_labour, {code: "" for code in probable}), **change}
    problem = assert_problem(api.post(screenings(case), body), 422)
    assert field in [error["field"] for error in problem["errors"]]
    assert not Screening.objects.exists()
    assert not AuditEntry.objects.filter(object_type="screening").exists()


def test_a_closed_case_is_not_screened(api, caseworker, case, adult_labour, probable):
    from opennrm.cases import services as case_services

    case_services.close_case(caseworker, case, "lost_contact")
    body = screening_body(adult_labour, {code: "" for code in probable})
    assert_problem(api.post(screenings(case), body), 422)
    assert not Screening.objects.exists()


# --- formal identification ---------------------------------------------------------------

def decision_body(**changes) -> dict:
    return {"decision": "identified", "decided_on": "2026-04-01",
            "grounds": "Recruited by force, passport taken, unpaid work.", **changes}


def test_a_coordinator_decides_identification(api, coordinator_api, case, adult_labour,
                                              probable):
    record(api, case, adult_labour, probable)
    assert queue(coordinator_api)["count"] == 1
    response = coordinator_api.post(decisions(case), decision_body(appeal="None lodged."))
    assert response.status_code == 201, response.content
    decided = response.json()
    assert decided["decision"] == "identified"
    assert decided["victim_status"] == "identified"
    assert decided["decided_on"] == "2026-04-01"
    assert (decided["deciding_agency"], decided["decided_by"]) == ("la-strada", "coordinator")
    assert decided["appeal"] == "None lodged."
    case.refresh_from_db()
    assert case.victim_status == "identified"
    assert queue(coordinator_api) == {"items": [], "count": 0, "page": 1, "page_size": 50}
    assert AuditEntry.objects.filter(action="create",
                                     object_type="identification_decision").exists()

    listed = coordinator_api.get(decisions(case))
    assert listed.status_code == 200
    assert listed.json() == [{key: value for key, value in decided.items()
                              if key != "victim_status"}]
    entry = AuditEntry.objects.get(action="read", object_type="identification_decision")
    assert (entry.object_ref, entry.channel, entry.fields) == (case.case_number, "api",
                                                               ["appeal", "grounds"])


def test_a_decision_of_not_identified(coordinator_api, case):
    response = coordinator_api.post(decisions(case), decision_body(decision="not_identified"))
    assert response.status_code == 201
    assert response.json()["victim_status"] == "not_a_victim"


@pytest.mark.parametrize(("change", "field"), [
    ({"decided_on": "2099-01-01"}, "decided_on"),
    ({"grounds": "   "}, "grounds"),
    ({"decision": "maybe"}, "decision"),
])
def test_a_wrong_decision_names_the_field(coordinator_api, case, change, field):
    problem = assert_problem(coordinator_api.post(decisions(case), decision_body(**change)),
                             422)
    assert [error["field"] for error in problem["errors"]] == [field]
    assert not IdentificationDecision.objects.exists()


def test_a_caseworker_may_not_decide_identification(api, coordinator_api, case,
                                                    adult_labour, probable):
    record(api, case, adult_labour, probable)
    assert_problem(api.post(decisions(case), decision_body()), 403)
    assert not IdentificationDecision.objects.exists()
    case.refresh_from_db()
    assert case.victim_status == "presumed"
    assert queue(coordinator_api)["count"] == 1


# --- the queue ---------------------------------------------------------------------------

def test_the_queue_is_oldest_first_and_paginated(api, caseworker, coordinator_api, case,
                                                 adult_labour, probable):
    from opennrm.cases import services as case_services

    other = case_services.register_case(caseworker, person_data(given_name="Ana"))
    record(api, other, adult_labour, probable, on="2026-02-01")
    record(api, case, adult_labour, probable, on="2026-03-05")
    record(api, other, adult_labour, probable, on="2026-04-01")
    waiting = queue(coordinator_api)
    assert [item["case_number"] for item in waiting["items"]] == [other.case_number,
                                                                  case.case_number]
    assert waiting["items"][0]["first_screened_on"] == "2026-02-01"
    page = queue(coordinator_api, page=2, page_size=1)
    assert ([item["case_number"] for item in page["items"]], page["count"]) == (
        [case.case_number], 2)
    assert queue(coordinator_api, page=3, page_size=1)["items"] == []
    assert_problem(coordinator_api.get("/api/identification-queue", {"page_size": 201}), 422)
    assert_problem(coordinator_api.get("/api/identification-queue", {"page": 0}), 422)
    # No identity: nothing in an entry names the person.
    assert set(waiting["items"][0]) == {"case_number", "first_screened_on", "days_waiting",
                                        "age_band", "is_child", "exploitation_forms",
                                        "owner_agency"}


# --- who may ------------------------------------------------------------------------------

def test_it_validates_ownership(api, caseworker, case, adult_labour, probable, officer_api,
                                roles_without_cases, police):
    record(api, case, adult_labour, probable)
    police_coordinator = ApiClient(make_user(Role.NATIONAL_COORDINATOR, police))
    for client in [officer_api, police_coordinator, *roles_without_cases]:
        assert_problem(client.post(f"{screenings(case)}/preview",
                                   screening_body(adult_labour, probable)), 404)
        assert_problem(client.post(screenings(case), screening_body(
            adult_labour, {code: "" for code in probable})), 404)
        assert_problem(client.get(screenings(case)), 404)
        assert_problem(client.post(decisions(case), decision_body()), 404)
        assert_problem(client.get(decisions(case)), 404)
        assert queue(client)["items"] == []
    assert Screening.objects.count() == 1
    assert not IdentificationDecision.objects.exists()
    assert Case.objects.get(pk=case.pk).victim_status == "presumed"
    assert not AuditEntry.objects.filter(action="read").exists()


def test_it_needs_authentication(case, adult_labour):
    anonymous = ApiClient()
    for path in ["/api/indicator-sets", "/api/identification-queue", screenings(case),
                 decisions(case)]:
        assert_problem(anonymous.get(path), 401)
    assert_problem(anonymous.post(decisions(case), decision_body()), 401)


def test_an_unknown_case_is_not_found(api, adult_labour, probable):
    assert_problem(api.get("/api/cases/MD-26-NOSUCH00/screenings"), 404)
    assert_problem(api.post("/api/cases/MD-26-NOSUCH00/screenings/preview",
                            screening_body(adult_labour, probable)), 404)


def test_a_screening_dated_before_birth_is_refused(api, case, adult_labour, probable):
    """A screening before the person was born is a wrong date, not a server error."""
    born = date(1998, 4, 12)
    body = screening_body(adult_labour, {code: "" for code in probable},
                          screened_on=(born - timedelta(days=1)).isoformat())
    problem = assert_problem(api.post(screenings(case), body), 422)
    assert "screened_on" in [error["field"] for error in problem["errors"]]
