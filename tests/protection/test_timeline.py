"""The timeline merges every step of the case, in date order, with who decided it."""

from datetime import date

from opennrm.accounts.models import Role
from opennrm.cases import services as case_services
from opennrm.protection import services
from opennrm.screening import services as screening_services
from opennrm.screening.models import Screening
from opennrm.workspace.timeline import timeline
from tests.factories import make_user


def test_it_merges_every_step_in_date_order(caseworker, case, period, granted_permit,
                                            proceeding, claim, return_plan, support_plan):
    services.extend_reflection_period(caseworker, period, date(2026, 5, 2), "recovery_needed",
                                      date(2026, 4, 1), deciding_authority="Coordinator")
    entries = timeline(case)
    kinds = [entry.kind for entry in entries]
    for kind in ("first_contact", "reflection_period_granted", "reflection_period_extended",
                 "reflection_period_end", "residence_permit_applied",
                 "residence_permit_granted", "residence_permit_expiry", "proceeding_opened",
                 "compensation_claim_filed", "risk_assessment", "return_planned",
                 "support_plan_agreed", "support_review_due"):
        assert kind in kinds, kind
    assert [entry.date for entry in entries] == sorted(entry.date for entry in entries)
    granted = next(entry for entry in entries if entry.kind == "reflection_period_granted")
    assert granted.decided_by == "National coordinator"
    assert granted.recorded_by == "caseworker"


def test_it_shows_the_presumed_victim_screening_and_the_identification(caseworker, case, ngo):
    Screening.objects.create(
        case=case, indicator_set="test", indicator_set_version="1",
        screened_on=date(2026, 3, 4), outcome="probable", agency=ngo, screened_by=caseworker)
    coordinator = make_user(Role.NATIONAL_COORDINATOR, ngo, "coordinator")
    screening_services.decide_identification(coordinator, case, "identified",
                                             date(2026, 4, 3), "Indicators confirmed.")
    entries = {entry.kind: entry for entry in timeline(case)}
    assert entries["presumed_victim"].date == date(2026, 3, 4)
    assert entries["identification_decision"].decided_by == "La Strada"
    assert "grounds" not in entries["identification_decision"].label


def test_it_ends_with_the_closure(caseworker, case, period):
    case_services.close_case(caseworker, case, "assistance_completed")
    assert timeline(case)[-1].kind in ("case_closed", "reflection_period_end")
    assert "case_closed" in [entry.kind for entry in timeline(case)]


def test_a_renewal_shows_on_the_timeline(caseworker, case, granted_permit):
    services.renew_residence_permit(caseworker, granted_permit, date(2026, 9, 20),
                                    date(2027, 9, 30), deciding_authority="Migration")
    kinds = [entry.kind for entry in timeline(case)]
    assert kinds.count("residence_permit_applied") == 1
    assert "residence_permit_renewed" in kinds
