"""What other apps may read of a case's referrals: their steps, for the case's timeline."""

from django.db.models import Prefetch, QuerySet

from opennrm.cases.models import Case
from opennrm.referrals.models import Assistance, Referral, ReferralEvent


def referral_history(case: Case) -> QuerySet[Referral]:
    """The case's referrals with their events (`history_events`) and the assistance
    delivered (`assistance_delivered`), who acted and for which agency; `recipient_name`
    names the receiving agency, or the provider of a referral outside OpenNRM. Nothing
    encrypted is loaded: reasons and descriptions are deferred."""
    return case.referrals.select_related("service", "service__provider",
                                         "recipient_agency").prefetch_related(
        Prefetch("events", to_attr="history_events",
                 queryset=ReferralEvent.objects.select_related("actor", "agency")
                 .defer("reason")),
        Prefetch("assistance", to_attr="assistance_delivered",
                 queryset=Assistance.objects.select_related("delivering_agency",
                                                            "delivered_by")
                 .defer("description")))
