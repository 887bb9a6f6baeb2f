"""Return and reintegration (CETS 197 art. 16): a child's return needs a risk assessment."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from opennrm.audit.models import AuditEntry
from opennrm.cases import access
from opennrm.protection import services
from opennrm.protection.models import ReturnPlan

ASSESSMENT = {"risk_assessed_on": date(2026, 3, 30), "risk_assessed_by": "IOM",
              "risk_level": "low", "risk_summary": "Family supportive."}


def test_a_childs_return_is_blocked_without_a_risk_assessment(caseworker, child_case):
    with pytest.raises(ValidationError) as error:
        services.plan_return(caseworker, child_case, "UA", True, date(2026, 4, 1),
                             deciding_authority="Guardianship authority",
                             no_assessment_reason="The family insists.")
    assert "risk and security assessment" in error.value.message_dict["risk_assessed_on"][0]
    assert not ReturnPlan.objects.exists()


def test_a_childs_return_is_blocked_by_a_high_risk(caseworker, child_case):
    with pytest.raises(ValidationError) as error:
        services.plan_return(caseworker, child_case, "UA", True, date(2026, 4, 1),
                             deciding_authority="Guardianship authority",
                             **{**ASSESSMENT, "risk_level": "high"})
    assert "risk_level" in error.value.message_dict


def test_a_childs_return_goes_ahead_with_an_assessment(caseworker, child_case):
    plan = services.plan_return(caseworker, child_case, "UA", True, date(2026, 4, 1),
                                deciding_authority="Guardianship authority", **ASSESSMENT)
    returned = services.record_return(caseworker, plan, date(2026, 4, 10), "NGO follows up.",
                                      date(2026, 5, 10))
    assert returned.returned_on == date(2026, 4, 10)


def test_a_documented_assessment_has_every_part(caseworker, case):
    with pytest.raises(ValidationError) as error:
        services.plan_return(caseworker, case, "UA", True, date(2026, 4, 1),
                             deciding_authority="Police", risk_level="low")
    assert {"risk_assessed_on", "risk_assessed_by", "risk_summary"} <= set(
        error.value.message_dict)


def test_an_adults_return_without_assessment_needs_a_reason(caseworker, case):
    with pytest.raises(ValidationError) as error:
        services.plan_return(caseworker, case, "UA", True, date(2026, 4, 1),
                             deciding_authority="Police")
    assert "no_assessment_reason" in error.value.message_dict
    plan = services.plan_return(caseworker, case, "UA", True, date(2026, 4, 1),
                                deciding_authority="Police",
                                no_assessment_reason="Asked to leave at once.")
    assert not plan.has_risk_assessment and plan.no_assessment_reason


def test_a_return_is_recorded_once(caseworker, return_plan):
    services.record_return(caseworker, return_plan, date(2026, 4, 10))
    with pytest.raises(ValidationError, match="already recorded"):
        services.record_return(caseworker, return_plan, date(2026, 4, 11))


def test_the_return_is_not_before_the_decision(caseworker, return_plan):
    with pytest.raises(ValidationError) as error:
        services.record_return(caseworker, return_plan, date(2026, 3, 20))
    assert "returned_on" in error.value.message_dict


def test_plan_and_return_are_audited(caseworker, case, return_plan):
    services.record_return(caseworker, return_plan, date(2026, 4, 10))
    entries = AuditEntry.objects.filter(object_type="return_plan", object_ref=case.case_number)
    assert [entry.action for entry in entries] == ["create", "update"]


def test_it_validates_ownership(police_officer, case, return_plan):
    with pytest.raises(access.CaseNotFound):
        services.record_return(police_officer, return_plan, date(2026, 4, 10))
