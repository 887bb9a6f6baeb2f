"""Demo protection data: through the services, around today, idempotent."""

from datetime import timedelta

import pytest
from django.utils import timezone

from opennrm.audit.services import verify_chain
from opennrm.cases.demo import generate_demo
from opennrm.cases.models import CaseStatus
from opennrm.protection import services
from opennrm.protection.demo import create_demo_protection
from opennrm.protection.models import (
    CompensationClaim,
    CriminalProceeding,
    PermitStatus,
    ReflectionPeriod,
    ResidencePermit,
    ReturnPlan,
    SupportPlan,
)
from opennrm.workspace.timeline import timeline


@pytest.fixture
def demo(db):
    generate_demo(150, seed=11)
    return create_demo_protection()


def test_it_fills_the_protection_stages_of_a_share_of_cases(demo):
    assert 30 <= demo <= 120
    assert ReflectionPeriod.objects.count() == demo
    for model in (ResidencePermit, CriminalProceeding, CompensationClaim, ReturnPlan,
                  SupportPlan):
        assert model.objects.exists(), model.__name__

    # Some deadlines fall due soon.
    today = timezone.localdate()
    assert ReflectionPeriod.objects.filter(ends_on__range=(today, today + timedelta(7))).exists()
    assert ResidencePermit.objects.filter(status=PermitStatus.GRANTED,
                                          expires_on__range=(today, today + timedelta(30))
                                          ).exists()
    assert SupportPlan.objects.filter(next_review_on__lte=today + timedelta(14)).exists()

    # Periods keep the minimum; children's returns have risk assessments.
    minimum = timedelta(days=services.minimum_reflection_days())
    assert all(p.original_ends_on - p.starts_on >= minimum
               for p in ReflectionPeriod.objects.all())
    assert not ReturnPlan.objects.filter(case__is_child=True,
                                         risk_assessed_on__isnull=True).exists()

    # One case goes from identification to closure.
    case = ReflectionPeriod.objects.filter(case__status=CaseStatus.CLOSED).get().case
    kinds = {entry.kind for entry in timeline(case)}
    assert {"first_contact", "identification_decision", "reflection_period_granted",
            "residence_permit_granted", "proceeding_opened", "support_plan_agreed",
            "case_closed"} <= kinds


def test_running_it_again_adds_nothing_and_the_audit_chain_holds(demo):
    assert create_demo_protection() == 0
    assert verify_chain().ok
