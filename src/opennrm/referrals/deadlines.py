"""The referrals' rules of reminders, registered with `reminders` in `ReferralsConfig.ready`:
a referral still unanswered after its answer-by date, and a referral outside OpenNRM to
follow up (its outcome not yet recorded)."""

from collections.abc import Iterator
from datetime import date, timedelta

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
    case_scope,
)

# How far ahead the follow-up of a referral outside OpenNRM is announced.
FOLLOW_UP_WARNING = timedelta(days=7)


def unanswered_referrals(today: date, user, responsible: Responsible) -> Iterator[Deadline]:
    """Referrals sent and not answered by their `respond_by` date: the receiving agency's
    supervisors and coordinators, and the person who referred, are told."""
    referrals = Referral.objects.filter(state="sent", external=False, respond_by__lt=today,
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


def external_referrals_to_follow_up(today: date, user,
                                    responsible: Responsible) -> Iterator[Deadline]:
    """Referrals outside OpenNRM whose outcome is not recorded yet, from a week before their
    follow-up date: the caseworker who recorded the referral (or, if they left, whoever
    answers for the case) asks the provider and records what became of it."""
    referrals = Referral.objects.filter(external=True, state="sent",
                                        respond_by__lte=today + FOLLOW_UP_WARNING,
                                        case__status__in=OPEN_CASE)
    if user is not None:
        referrals = referrals.filter(Q(referred_by=user) | case_scope(user, "case__"),
                                     referring_agency_id=user.agency_id)
    for referral in referrals.select_related("case", "case__assigned_to", "service",
                                             "referred_by").defer(
            *ENCRYPTED_CASE_FIELDS, "needs", "consent_override_reason"):
        if referral.referred_by and referral.referred_by.is_active:
            people = [referral.referred_by]
        else:
            people = responsible.of_case(referral.case)
        yield Deadline(
            "referral_follow_up", f"referral-follow-up:{referral.pk}:{referral.respond_by}",
            referral.case.case_number, referral.respond_by,
            gettext_noop("Follow up the referral of case %(case_number)s to %(service)s, "
                         "outside OpenNRM, by %(due_on)s: ask what became of it and record "
                         "the outcome."),
            {"case_number": referral.case.case_number, "service": referral.service.name,
             "due_on": referral.respond_by.isoformat()},
            reverse("referral-detail", args=[referral.pk]), people)
