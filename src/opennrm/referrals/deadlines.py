"""The referrals' rule of reminders, registered with `reminders` in `ReferralsConfig.ready`:
a referral still unanswered after its answer-by date."""

from collections.abc import Iterator
from datetime import date

from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_noop

from opennrm.referrals.models import Referral
from opennrm.reminders.deadlines import (
    AGENCY_RESPONSIBLE_ROLES,
    ENCRYPTED_CASE_FIELDS,
    OPEN_CASE,
    Deadline,
    Responsible,
)


def unanswered_referrals(today: date, user, responsible: Responsible) -> Iterator[Deadline]:
    """Referrals sent and not answered by their `respond_by` date: the receiving agency's
    supervisors and coordinators, and the person who referred, are told."""
    referrals = Referral.objects.filter(state="sent", respond_by__lt=today,
                                        case__status__in=OPEN_CASE)
    if user is not None:
        # A supervisor (coordinator) sees their agency's referrals both ways: those it must
        # answer and those its caseworkers sent; anyone else, the ones they sent.
        if user.role in AGENCY_RESPONSIBLE_ROLES:
            concerned = (Q(recipient_agency_id=user.agency_id)
                         | Q(referring_agency_id=user.agency_id))
        else:
            concerned = Q(referred_by=user)
        referrals = referrals.filter(concerned)
    for referral in referrals.select_related("case", "service", "referred_by").defer(
            *ENCRYPTED_CASE_FIELDS, "needs", "consent_override_reason"):
        people = responsible.of_agency(referral.recipient_agency_id)
        if referral.referred_by and referral.referred_by.is_active:
            people = [*people, referral.referred_by]
        yield Deadline(
            "referral_unanswered", f"referral-unanswered:{referral.pk}:{referral.respond_by}",
            referral.case.case_number, referral.respond_by,
            gettext_noop("The referral of case %(case_number)s to %(service)s was not "
                         "answered by %(due_on)s."),
            {"case_number": referral.case.case_number, "service": referral.service.name,
             "due_on": referral.respond_by.isoformat()},
            reverse("referral-detail", args=[referral.pk]), people)
