"""The support plan: objectives, actions, responsible agency, reviews."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from opennrm.audit.models import AuditEntry
from opennrm.cases import access
from opennrm.protection import services
from opennrm.protection.models import SupportPlanStatus


def test_the_responsible_agency_defaults_to_the_caseworkers(support_plan, ngo):
    assert support_plan.responsible_agency == ngo and support_plan.is_active
    assert support_plan.next_review_on == date(2026, 4, 5)


def test_a_case_has_one_plan(caseworker, case, support_plan):
    with pytest.raises(ValidationError, match="already has a support plan"):
        services.create_support_plan(caseworker, case, "Other", date(2026, 3, 6))


def test_a_plan_needs_objectives(caseworker, case):
    with pytest.raises(ValidationError) as error:
        services.create_support_plan(caseworker, case, "  ", date(2026, 3, 6))
    assert "objectives" in error.value.message_dict


def test_actions_are_added_and_completed(caseworker, support_plan, police):
    action = services.add_support_action(caseworker, support_plan, "Meeting with a lawyer",
                                         "police-chisinau", date(2026, 3, 20))
    assert action.responsible_agency == police
    done = services.complete_support_action(caseworker, action, date(2026, 3, 19))
    assert done.is_done
    with pytest.raises(ValidationError, match="already done"):
        services.complete_support_action(caseworker, action, date(2026, 3, 21))


def test_a_review_sets_the_next_review(caseworker, support_plan):
    services.record_support_review(caseworker, support_plan, date(2026, 4, 5), "Going well.",
                                   date(2026, 5, 5))
    support_plan.refresh_from_db()
    assert support_plan.next_review_on == date(2026, 5, 5)


def test_the_next_review_is_after_the_review(caseworker, support_plan):
    with pytest.raises(ValidationError) as error:
        services.record_support_review(caseworker, support_plan, date(2026, 4, 5), "",
                                       date(2026, 4, 5))
    assert "next_review_on" in error.value.message_dict


def test_a_closed_plan_takes_no_actions(caseworker, support_plan):
    closed = services.update_support_plan(caseworker, support_plan,
                                          status=SupportPlanStatus.CLOSED)
    assert not closed.is_active and closed.closed_on
    with pytest.raises(ValidationError, match="closed"):
        services.add_support_action(caseworker, closed, "Anything")


def test_only_changes_are_audited(caseworker, case, support_plan):
    services.update_support_plan(caseworker, support_plan, objectives="Safe housing; a job.",
                                 next_review_on=date(2026, 4, 20))
    update = AuditEntry.objects.filter(object_type="support_plan", action="update").get()
    assert update.fields == ["next_review_on"] and update.object_ref == case.case_number


def test_it_validates_ownership(police_officer, support_plan):
    with pytest.raises(access.CaseNotFound):
        services.add_support_action(police_officer, support_plan, "Anything")
