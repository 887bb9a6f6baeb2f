"""Waiting for your answer: what others asked the user's agency and nobody there has answered.

Referrals addressed to the agency and not yet accepted or declined, the nearest answer-by
date first, transfers of cases to the agency (for its supervisors), and, for the national
focal point, referrals offered by partner nodes. Each is
read through its app's own visibility rule (`referrals.services.inbox`,
`transnational.access.referrals_visible_to`); nothing encrypted is loaded.

An entry here is the one entry of its thing on the home page: the notification that told the
user of it ("a new referral for your agency") and the reminder that it is late are attached
to it (`claim_notifications`) instead of being listed again.
"""

from dataclasses import dataclass, field
from datetime import date

from django.urls import reverse
from django.utils.translation import gettext as _

from opennrm.cases.access import handles_cases, transfers_to_answer
from opennrm.core import codelists
from opennrm.referrals.models import ReferralState
from opennrm.referrals.services import inbox
from opennrm.reminders.inbox import Entry, Inbox
from opennrm.transnational import access as transnational_access
from opennrm.transnational.models import TransnationalReferral

# The entries shown on the home page; the count says how many there are, and the referral
# pages list them all.
SHOWN = 10


@dataclass
class Waiting:
    entries: list[Entry] = field(default_factory=list)
    total: int = 0
    list_url: str = ""


def waiting_for(user, today: date) -> Waiting:
    """What waits for an answer from `user`'s agency (as far as `user` may see it)."""
    if not handles_cases(user):
        return Waiting()
    referrals = (inbox(user).filter(state=ReferralState.SENT)
                 .order_by("respond_by", "id"))
    waiting = Waiting(total=referrals.count(), list_url=reverse("referral-inbox"))
    for row in referrals.values("pk", "respond_by", "case__case_number", "service__name",
                                "referring_agency__name")[:SHOWN]:
        waiting.entries.append(Entry(
            "referral_awaiting_answer", row["case__case_number"],
            _("Referral of case %(case_number)s to %(service)s, from %(agency)s") % {
                "case_number": row["case__case_number"], "service": row["service__name"],
                "agency": row["referring_agency__name"]},
            reverse("referral-detail", args=[row["pk"]]), row["respond_by"],
            row["respond_by"] < today))
    transfers = transfers_to_answer(user).order_by("requested_at", "id")
    waiting.total += transfers.count()
    for row in transfers.values("pk", "case__case_number", "from_agency__name")[:SHOWN]:
        waiting.entries.append(Entry(
            "transfer_awaiting_answer", row["case__case_number"],
            _("Transfer of case %(case_number)s to your agency, from %(agency)s") % {
                "case_number": row["case__case_number"], "agency": row["from_agency__name"]},
            reverse("transfer-answer", args=[row["pk"]])))
    if transnational_access.is_focal_point(user):
        offers = (transnational_access.referrals_visible_to(user)
                  .filter(direction=TransnationalReferral.Direction.IN,
                          status=TransnationalReferral.Status.OFFERED)
                  .order_by("created_at", "id"))
        waiting.total += offers.count()
        for offer in offers.select_related("partner").only(
                "pk", "stage", "created_at", "partner__name", "partner__country")[:SHOWN]:
            waiting.entries.append(Entry(
                "transnational_offer", "",
                _("A partner node offers a referral: %(partner)s, %(stage)s") % {
                    "partner": offer.partner.name,
                    "stage": codelists.label("trm_stages", offer.stage)},
                reverse("trm-referral", args=[offer.pk])))
    return waiting


def claim_notifications(waiting: Waiting, inbox: Inbox) -> None:
    """Attach to each waiting entry the notifications and deadlines of `inbox` that open the
    same page (the referral's), and take them off `inbox`'s lists: one thing, one entry."""
    by_link = {entry.link: entry for entry in waiting.entries}
    for name in ("deadlines", "news"):
        kept = []
        for entry in getattr(inbox, name):
            if entry.link in by_link and entry.notification is not None:
                by_link[entry.link].attach(entry.notification)
            elif entry.link not in by_link:
                kept.append(entry)
        setattr(inbox, name, kept)
