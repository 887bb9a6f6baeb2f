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


def test_a_child_is_screened_with_the_child_rule(caseworker):
    child = services.case_services.register_case(caseworker, person_data(
        birth_date=date(2011, 5, 5), first_contact_on=date(2026, 3, 2)))
    screening = make_screening(caseworker, child, RECRUITED | EXPLOITED)
    assert screening.treated_as_child and screening.outcome == "probable"


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
