"""The recovery and reflection period (CETS 197 art. 13)."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from opennrm.audit.models import AuditEntry
from opennrm.cases import access
from opennrm.cases import services as case_services
from opennrm.protection import services
from opennrm.protection.models import ReflectionPeriod


def test_it_grants_a_period_of_thirty_days(caseworker, case):
    period = services.grant_reflection_period(
        caseworker, case, date(2026, 3, 3), date(2026, 4, 2), date(2026, 3, 3),
        deciding_agency_code="la-strada")
    assert period.ends_on == period.original_ends_on == date(2026, 4, 2)
    assert period.decided_by == "La Strada"
    assert period.recorded_by == caseworker


def test_it_refuses_a_period_shorter_than_thirty_days(caseworker, case):
    with pytest.raises(ValidationError) as error:
        services.grant_reflection_period(caseworker, case, date(2026, 3, 3), date(2026, 4, 1),
                                         date(2026, 3, 3), deciding_authority="Police")
    assert "at least 30 days" in error.value.message_dict["ends_on"][0]
    assert not ReflectionPeriod.objects.exists()


def test_a_country_may_ask_for_longer_but_never_shorter(settings, caseworker, case):
    settings.OPENNRM_REFLECTION_PERIOD_MIN_DAYS = 45
    with pytest.raises(ValidationError, match="at least 45 days"):
        services.grant_reflection_period(caseworker, case, date(2026, 3, 3), date(2026, 4, 2),
                                         date(2026, 3, 3), deciding_authority="Police")
    settings.OPENNRM_REFLECTION_PERIOD_MIN_DAYS = 10
    assert services.minimum_reflection_days() == 30


def test_it_needs_who_decided(caseworker, case):
    with pytest.raises(ValidationError) as error:
        services.grant_reflection_period(caseworker, case, date(2026, 3, 3), date(2026, 4, 2),
                                         date(2026, 3, 3))
    assert "deciding_authority" in error.value.message_dict


def test_it_refuses_a_start_before_first_contact(caseworker, case):
    with pytest.raises(ValidationError) as error:
        services.grant_reflection_period(caseworker, case, date(2026, 3, 1), date(2026, 4, 2),
                                         date(2026, 3, 3), deciding_authority="Police")
    assert "starts_on" in error.value.message_dict


def test_a_case_has_one_period_which_is_extended(caseworker, case, period):
    with pytest.raises(ValidationError, match="extend it"):
        services.grant_reflection_period(caseworker, case, date(2026, 3, 3), date(2026, 4, 2),
                                         date(2026, 3, 3), deciding_authority="Police")
    extended = services.extend_reflection_period(
        caseworker, period, date(2026, 5, 2), "medical_treatment", date(2026, 4, 1),
        deciding_authority="National coordinator")
    extended.refresh_from_db()
    assert extended.ends_on == date(2026, 5, 2)
    assert extended.original_ends_on == date(2026, 4, 2)
    assert extended.extension_reason == "medical_treatment"
    assert [e.previous_ends_on for e in extended.extensions.all()] == [date(2026, 4, 2)]


def test_an_extension_must_move_the_end_later(caseworker, period):
    with pytest.raises(ValidationError) as error:
        services.extend_reflection_period(caseworker, period, date(2026, 4, 1),
                                          "recovery_needed", date(2026, 4, 1),
                                          deciding_authority="Police")
    assert "ends_on" in error.value.message_dict
    period.refresh_from_db()
    assert period.ends_on == date(2026, 4, 2) and not period.extensions.exists()


def test_grant_and_extension_are_audited(caseworker, case, period):
    services.extend_reflection_period(caseworker, period, date(2026, 5, 2), "recovery_needed",
                                      date(2026, 4, 1), deciding_authority="Police")
    entries = AuditEntry.objects.filter(object_type="reflection_period",
                                        object_ref=case.case_number)
    assert [entry.action for entry in entries] == ["create", "update"]
    assert all(entry.actor_username == "caseworker" for entry in entries)


def test_it_validates_ownership(police_officer, case):
    with pytest.raises(access.CaseNotFound):
        services.grant_reflection_period(police_officer, case, date(2026, 3, 3),
                                         date(2026, 4, 2), date(2026, 3, 3),
                                         deciding_authority="Police")


def test_a_closed_case_takes_no_new_period(caseworker, case):
    case_services.close_case(caseworker, case, "lost_contact")
    with pytest.raises(ValidationError, match="closed"):
        services.grant_reflection_period(caseworker, case, date(2026, 3, 3), date(2026, 4, 2),
                                         date(2026, 3, 3), deciding_authority="Police")


def test_days_left_counts_today():
    period = ReflectionPeriod(starts_on=date(2026, 3, 3), ends_on=date(2026, 4, 2))
    assert period.days_left(date(2026, 4, 2)) == 1
    assert period.days_left(date(2026, 3, 3)) == 31
    assert period.days_left(date(2026, 4, 3)) is None
