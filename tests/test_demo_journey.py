"""The demo's end-to-end person: every step of the NRM on one case, each in the audit trail."""

from opennrm.audit.models import AuditEntry
from opennrm.cases.demo import ensure_demo_accounts
from opennrm.demo_journey import follow_one_person
from opennrm.services.demo import create_demo_directory
from opennrm.workspace.timeline import timeline


def test_one_person_is_followed_from_identification_to_closure(db):
    ensure_demo_accounts()
    create_demo_directory()

    case = follow_one_person()

    assert case.status == "closed" and case.closure_reason == "assistance_completed"
    assert case.victim_status == "identified"
    assert case.victim_status_decided_by_agency.code == "police"
    assert case.screenings.get().outcome == "probable"
    assert sorted(r.service.service_type for r in case.referrals.all()) == [
        "formal_identification", "shelter"]
    assert {r.state for r in case.referrals.all()} == {"completed"}
    assert case.reflection_periods.get().ends_on >= case.reflection_periods.get().starts_on
    assert case.residence_permits.get().status == "granted"
    steps = set(AuditEntry.objects.filter(object_ref=case.case_number)
                .values_list("object_type", flat=True))
    assert {"case", "screening", "consent", "referral", "identification_decision",
            "reflection_period", "residence_permit", "support_plan"} <= steps
    kinds = [entry.kind for entry in timeline(case)]
    assert {"referral_sent", "referral_accepted", "referral_completed", "assistance_delivered",
            "reflection_period_granted", "residence_permit_granted", "case_closed"} <= set(kinds)
    labels = " ".join(entry.label for entry in timeline(case))
    assert "Referred to Women's shelter (Casa Luminii Shelter for Survivors)" in labels
    assert "Room in the shelter" not in labels  # assistance descriptions are not shown there
    assert follow_one_person() == case  # a second demo load adds no second journey
