"""Open deadlines: what is due, for which case, and who is responsible for it.

One place for the rules of every reminder. The sweep (`services.reminder_sweep`) notifies
the responsible people; the home page lists the deadlines of the signed-in user. Both read
`open_deadlines`, so what a person is e-mailed and what their home page shows never differ.
"""

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext, gettext_noop

from opennrm.accounts.models import Role, User
from opennrm.cases.models import CaseStatus

OPEN_CASE = (CaseStatus.ACTIVE, CaseStatus.FOLLOW_UP)
# How far ahead a coming deadline is announced.
REFLECTION_PERIOD_WARNING = timedelta(days=7)
PERMIT_EXPIRY_WARNING = timedelta(days=30)
SUPPORT_PLAN_REVIEW_WARNING = timedelta(days=7)
# Encrypted fields never needed for a deadline: not loaded, so never decrypted.
ENCRYPTED_CASE_FIELDS = ("case__notes",)
# Who answers for an agency when no caseworker is assigned.
AGENCY_RESPONSIBLE_ROLES = (Role.SUPERVISOR, Role.NATIONAL_COORDINATOR)


@dataclass
class Deadline:
    kind: str
    key: str
    case_number: str
    due_on: date
    message: str  # English, marked with gettext_noop; %(name)s filled from params
    params: dict
    link: str
    responsible: list = field(default_factory=list)
    overdue: bool = False

    def text(self) -> str:
        """The message in the active language."""
        return gettext(self.message) % self.params


class _Responsible:
    """Who answers for a case or an agency, loaded once per sweep."""

    def __init__(self):
        self._by_agency: dict[int, list[User]] | None = None

    def of_agency(self, agency_id: int) -> list[User]:
        if self._by_agency is None:
            self._by_agency = defaultdict(list)
            for user in User.objects.filter(is_active=True, role__in=AGENCY_RESPONSIBLE_ROLES,
                                            agency__isnull=False):
                self._by_agency[user.agency_id].append(user)
        return self._by_agency.get(agency_id, [])

    def of_case(self, case) -> list[User]:
        if case.assigned_to_id and case.assigned_to.is_active:
            return [case.assigned_to]
        return self.of_agency(case.owner_agency_id)


def _case_scope(user, prefix: str) -> Q:
    """The cases whose deadlines may concern `user`, narrowed in SQL as `of_case` decides:
    assigned to them, or (for those who answer for the agency) to nobody active."""
    mine = Q(**{f"{prefix}owner_agency_id": user.agency_id})
    assigned = Q(**{f"{prefix}assigned_to": user})
    if user.role in AGENCY_RESPONSIBLE_ROLES:
        return mine & (assigned | Q(**{f"{prefix}assigned_to__isnull": True})
                       | Q(**{f"{prefix}assigned_to__is_active": False}))
    return mine & assigned


def _case_link(case_number: str, anchor: str) -> str:
    return reverse("case-detail", args=[case_number]) + anchor


def _unanswered_referrals(today: date, user, responsible: _Responsible) -> Iterator[Deadline]:
    from opennrm.referrals.models import Referral

    referrals = Referral.objects.filter(state="sent", respond_by__lt=today,
                                        case__status__in=OPEN_CASE)
    if user is not None:
        answering = (Q(recipient_agency_id=user.agency_id)
                     if user.role in AGENCY_RESPONSIBLE_ROLES else Q(pk__in=[]))
        referrals = referrals.filter(answering | Q(referred_by=user))
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


def _reflection_periods_ending(today: date, user, responsible: _Responsible
                               ) -> Iterator[Deadline]:
    from opennrm.protection.models import ReflectionPeriod

    periods = ReflectionPeriod.objects.filter(
        ends_on__gte=today, ends_on__lte=today + REFLECTION_PERIOD_WARNING,
        case__status__in=OPEN_CASE)
    if user is not None:
        periods = periods.filter(_case_scope(user, "case__"))
    for period in periods.select_related("case", "case__assigned_to").defer(
            *ENCRYPTED_CASE_FIELDS):
        case = period.case
        yield Deadline(
            "reflection_period_ending", f"reflection-ending:{period.pk}:{period.ends_on}",
            case.case_number, period.ends_on,
            gettext_noop("The recovery and reflection period of case %(case_number)s ends on "
                         "%(due_on)s."),
            {"case_number": case.case_number, "due_on": period.ends_on.isoformat()},
            _case_link(case.case_number, "#stage-protection"), responsible.of_case(case))


def _residence_permits_expiring(today: date, user, responsible: _Responsible
                                ) -> Iterator[Deadline]:
    from opennrm.protection.models import ResidencePermit

    permits = ResidencePermit.objects.filter(
        status="granted", expires_on__gte=today, expires_on__lte=today + PERMIT_EXPIRY_WARNING,
        case__status__in=OPEN_CASE)
    if user is not None:
        permits = permits.filter(_case_scope(user, "case__"))
    for permit in permits.select_related("case", "case__assigned_to").defer(
            *ENCRYPTED_CASE_FIELDS):
        case = permit.case
        yield Deadline(
            "residence_permit_expiring", f"permit-expiring:{permit.pk}:{permit.expires_on}",
            case.case_number, permit.expires_on,
            gettext_noop("The residence permit of case %(case_number)s expires on %(due_on)s."),
            {"case_number": case.case_number, "due_on": permit.expires_on.isoformat()},
            _case_link(case.case_number, "#stage-protection"), responsible.of_case(case))


def _support_plan_reviews_due(today: date, user, responsible: _Responsible
                              ) -> Iterator[Deadline]:
    from opennrm.protection.models import SupportPlan

    plans = SupportPlan.objects.filter(
        next_review_on__isnull=False, next_review_on__lte=today + SUPPORT_PLAN_REVIEW_WARNING,
        case__status__in=OPEN_CASE, status="active")
    if user is not None:
        plans = plans.filter(_case_scope(user, "case__"))
    for plan in plans.select_related("case", "case__assigned_to").defer(
            *ENCRYPTED_CASE_FIELDS, "objectives"):
        case = plan.case
        yield Deadline(
            "support_plan_review", f"plan-review:{plan.pk}:{plan.next_review_on}",
            case.case_number, plan.next_review_on,
            gettext_noop("The support plan of case %(case_number)s is due for review on "
                         "%(due_on)s."),
            {"case_number": case.case_number, "due_on": plan.next_review_on.isoformat()},
            _case_link(case.case_number, "#stage-protection"), responsible.of_case(case))


SOURCES = (_unanswered_referrals, _reflection_periods_ending, _residence_permits_expiring,
           _support_plan_reviews_due)


def open_deadlines(today: date, user=None) -> Iterator[Deadline]:
    """Every open deadline on `today`; with `user`, only those `user` is responsible for."""
    responsible = _Responsible()
    for source in SOURCES:
        for deadline in source(today, user, responsible):
            deadline.overdue = deadline.due_on < today
            if user is None or user in deadline.responsible:
                yield deadline


def deadlines_for(user, today: date) -> list[Deadline]:
    """The home page list: `user`'s open deadlines, soonest (or most overdue) first."""
    if not (user.is_authenticated and user.agency_id):
        return []
    return sorted(open_deadlines(today, user), key=lambda d: (d.due_on, d.case_number))
