"""Recording screenings and formal identification decisions (with a database)."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from opennrm.accounts.models import Role
from opennrm.audit.models import AuditEntry
from opennrm.cases import access
from opennrm.cases.models import Case
from opennrm.screening import services
from opennrm.screening.models import Screening
from tests.factories import (
    COERCED,
    EXPLOITED,
    RECRUITED,
    make_agency,
    make_screening,
    make_user,
    person_data,
)

pytestmark = pytest.mark.usefixtures("test_list")


@pytest.fixture
def coordinator(ngo):
    return make_user(Role.NATIONAL_COORDINATOR, ngo, "coordinator")


def test_a_screening_is_recorded_with_its_list_version_and_outcome(caseworker, case):
    screening = services.record_screening(
        caseworker, case, "test-adult", "1",
        {**{code: "" for code in RECRUITED | EXPLOITED | COERCED},
         next(iter(RECRUITED)): "Beaten when she asked to leave."}, date(2026, 3, 5))
    assert (screening.indicator_set, screening.indicator_set_version) == ("test-adult", "1")
    assert screening.outcome == "probable" and screening.age_at_screening == 27
    assert list(screening.notes.values()) == ["Beaten when she asked to leave."]
    assert AuditEntry.objects.filter(action="create", object_type="screening").exists()


def _register(caseworker, **person):
    return services.case_services.register_case(caseworker, person_data(
        first_contact_on=date(2026, 1, 5), **person))


def _screen(caseworker, case, set_id, observed, on=date(2026, 3, 5), override=""):
    return services.record_screening(caseworker, case, set_id, "1",
                                     {code: "" for code in observed}, on,
                                     age_group_override=override)


def test_a_child_is_screened_with_the_childrens_list_and_its_rule(caseworker):
    child = _register(caseworker, birth_date=date(2011, 5, 5))
    screening = _screen(caseworker, child, "test-child", RECRUITED | EXPLOITED)
    assert screening.treated_as_child and screening.outcome == "probable"
    assert screening.age_group_override == ""


def test_an_adult_screened_with_a_childrens_list_is_refused(caseworker):
    """Issue 15: born in 1980, screened with a list for children, came out 'probable'
    under the child rule, where the adults' rule says 'possible'."""
    adult = _register(caseworker, birth_date=date(1980, 6, 1))
    with pytest.raises(ValidationError) as error:
        _screen(caseworker, adult, "test-child", RECRUITED | EXPLOITED)
    assert "is an adult" in error.value.message_dict["indicator_set"][0]
    assert not Screening.objects.exists()
    assert _screen(caseworker, adult, "test-adult", RECRUITED | EXPLOITED).outcome == "possible"


def test_a_child_screened_with_an_adults_list_is_refused(caseworker):
    child = _register(caseworker, birth_date=date(2011, 5, 5))
    with pytest.raises(ValidationError) as error:
        _screen(caseworker, child, "test-adult", RECRUITED | EXPLOITED)
    assert "may be a child" in error.value.message_dict["indicator_set"][0]


def test_a_list_for_another_age_group_with_a_reason_is_recorded_and_audited(caseworker):
    adult = _register(caseworker, birth_date=date(1980, 6, 1))
    screening = _screen(caseworker, adult, "test-child", RECRUITED | EXPLOITED,
                        override="Looks much younger; age assessment pending.")
    # The list's rule applies, and the reason is kept (encrypted) and audited.
    assert screening.outcome == "probable" and screening.treated_as_child
    screening.refresh_from_db()
    assert screening.age_group_override == "Looks much younger; age assessment pending."
    entry = AuditEntry.objects.get(object_type="screening", fields=["age_group_override"])
    assert "age assessment" not in entry.reason  # the reason itself stays encrypted
    lines = services.explain_recorded(screening, services.indicator_sets.get("test-child", "1"))
    assert services.engine.PHRASES["en"]["override"] in lines


def test_a_reason_is_dropped_when_the_list_fits(caseworker, case):
    screening = _screen(caseworker, case, "test-adult", RECRUITED, override="No need.")
    assert screening.age_group_override == ""
    assert not AuditEntry.objects.filter(fields=["age_group_override"]).exists()


@pytest.mark.parametrize(("person", "child_list", "adult_list"), [
    # Only a birth year: the youngest possible age decides (born in 2008, on 2026-01-05
    # 17 or 18, so possibly 17: presumed a child).
    ({"birth_year": 2008}, True, False),
    ({"birth_year": 2007}, False, True),
    # "Possibly a child": the children's list, whatever the birth year says.
    ({"birth_year": 1990, "age_uncertain": True}, True, False),
    # Nothing recorded: any list.
    ({}, True, True),
])
def test_which_lists_fit_the_person(caseworker, person, child_list, adult_list):
    case = _register(caseworker, **{"birth_date": None, **person})
    on = date(2026, 1, 5)
    child, adult = (services.indicator_sets.get(f"test-{group}", "1")
                    for group in ("child", "adult"))
    assert services.fits(case, child, on) is child_list
    assert services.fits(case, adult, on) is adult_list


def test_bad_input_is_refused_and_changes_nothing(caseworker, case):
    for args, field in [(("nope", "1", {}), "indicator_set"),
                        (("test-adult", "1", {"nonsense": ""}), "observed"),
                        (("test-adult", "1", {}, date(2099, 1, 1)), "screened_on")]:
        with pytest.raises(ValidationError) as error:
            services.record_screening(caseworker, case, *args)
        assert field in error.value.message_dict
    assert not Screening.objects.exists()


def test_another_agency_cannot_screen_the_case(police_officer, case):
    with pytest.raises(access.CaseNotFound):
        make_screening(police_officer, case, RECRUITED)


def test_a_probable_screening_puts_the_case_on_the_queue(caseworker, coordinator, case):
    assert list(services.awaiting_decision(coordinator)) == []
    make_screening(caseworker, case, RECRUITED | EXPLOITED | COERCED)
    assert list(services.awaiting_decision(coordinator)) == [case]


def test_a_screening_without_indicators_met_leaves_the_queue_alone(caseworker, coordinator,
                                                                   case):
    make_screening(caseworker, case, set())
    assert list(services.awaiting_decision(coordinator)) == []


def test_the_queue_is_oldest_first(caseworker, coordinator, case):
    newer = services.case_services.register_case(caseworker, person_data(given_name="Ana"))
    make_screening(caseworker, newer, RECRUITED, on=date(2026, 3, 9))
    make_screening(caseworker, case, RECRUITED, on=date(2026, 3, 4))
    assert list(services.awaiting_decision(coordinator)) == [case, newer]


def test_only_the_designated_authority_decides_identification(caseworker, coordinator, case):
    make_screening(caseworker, case, RECRUITED | EXPLOITED | COERCED)
    with pytest.raises(access.CaseAccessDenied):
        services.decide_identification(caseworker, case, "identified", date(2026, 4, 1),
                                       "Consistent account; documents confiscated.")
    decision = services.decide_identification(coordinator, case, "identified",
                                              date(2026, 4, 1), "Consistent account.")
    case.refresh_from_db()
    assert case.victim_status == "identified" and decision.deciding_agency == coordinator.agency
    assert list(services.awaiting_decision(coordinator)) == []
    assert AuditEntry.objects.filter(object_type="identification_decision").exists()


def test_the_deciders_are_configured_per_country(settings, case):
    police = make_agency("police-md", agency_type="law_enforcement")
    supervisor = make_user(Role.SUPERVISOR, police, "police-supervisor")
    assert access.can_decide_identification(supervisor)
    settings.OPENNRM_IDENTIFICATION_DECIDERS = ["supervisor:prosecution"]
    assert not access.can_decide_identification(supervisor)


def test_a_decision_needs_grounds_and_a_date(coordinator, case):
    with pytest.raises(ValidationError) as error:
        services.decide_identification(coordinator, case, "maybe", "2026-02-30", "")
    assert set(error.value.message_dict) == {"decision", "decided_on", "grounds"}
    assert Case.objects.get(pk=case.pk).victim_status == "presumed"


def test_history_is_kept(caseworker, coordinator, case):
    make_screening(caseworker, case, RECRUITED)
    make_screening(caseworker, case, RECRUITED | EXPLOITED | COERCED)
    services.decide_identification(coordinator, case, "not_identified", date(2026, 4, 1), "x")
    services.decide_identification(coordinator, case, "identified", date(2026, 5, 1), "y")
    assert case.screenings.count() == 2 and case.identification_decisions.count() == 2
    case.refresh_from_db()
    assert case.victim_status == "identified"



def test_the_demo_screens_cases_through_the_service(db, monkeypatch):
    from opennrm.cases.demo import generate_demo
    from opennrm.screening import indicator_sets
    from opennrm.screening.demo import screen_demo_cases

    # The real lists this time (the autouse fixture put the engine's test list in place).
    monkeypatch.setattr(indicator_sets, "all_sets", lambda: indicator_sets._load(()))
    generate_demo(40, seed=7)
    screened = screen_demo_cases(limit=6, seed=7)
    assert 0 < screened <= 6 and Screening.objects.count() == screened
    assert AuditEntry.objects.filter(object_type="screening", channel="cli").count() == screened
