"""The demo referrals: made through the service functions, in every state, idempotent."""

from opennrm.audit.models import AuditEntry
from opennrm.cases.demo import generate_demo
from opennrm.referrals.demo import create_demo_referrals
from opennrm.referrals.models import Assistance, Referral, ReferralState
from opennrm.services.demo import create_demo_directory


def test_it_makes_referrals_in_every_state_with_assistance(db):
    generate_demo(120, seed=3)
    create_demo_directory()
    made = create_demo_referrals()
    assert made == Referral.objects.count() > 0
    assert set(Referral.objects.values_list("state", flat=True)) == set(ReferralState.values)
    assert Assistance.objects.filter(referral__state=ReferralState.COMPLETED).exists()
    assert AuditEntry.objects.filter(object_type="referral", channel="cli").exists()
    for referral in Referral.objects.select_related("service__provider"):
        assert referral.recipient_agency_id == referral.service.provider.agency_id
        assert referral.recipient_agency_id != referral.case.owner_agency_id
    assert create_demo_referrals() == 0
    assert Referral.objects.count() == made
