"""The protection measures' rules of reminders, registered with `reminders` in
`ProtectionConfig.ready`: a reflection period ending, a residence permit expiring, a support
plan due for review. Each tells whoever answers for the case (`Responsible.of_case`)."""

from collections.abc import Iterator
from datetime import date, timedelta

from django.utils.translation import gettext_noop

from opennrm.protection.models import ReflectionPeriod, ResidencePermit, SupportPlan
from opennrm.reminders.deadlines import (
    ENCRYPTED_CASE_FIELDS,
    OPEN_CASE,
    Deadline,
    Responsible,
    case_link,
    case_scope,
)

# How far ahead a coming deadline is announced.
REFLECTION_PERIOD_WARNING = timedelta(days=7)
PERMIT_EXPIRY_WARNING = timedelta(days=30)
SUPPORT_PLAN_REVIEW_WARNING = timedelta(days=7)


def reflection_periods_ending(today: date, user, responsible: Responsible) -> Iterator[Deadline]:
    periods = ReflectionPeriod.objects.filter(
        ends_on__gte=today, ends_on__lte=today + REFLECTION_PERIOD_WARNING,
        case__status__in=OPEN_CASE)
    if user is not None:
        periods = periods.filter(case_scope(user, "case__"))
    for period in periods.select_related("case", "case__assigned_to").defer(
            *ENCRYPTED_CASE_FIELDS):
        case = period.case
        yield Deadline(
            "reflection_period_ending", f"reflection-ending:{period.pk}:{period.ends_on}",
            case.case_number, period.ends_on,
            gettext_noop("The recovery and reflection period of case %(case_number)s ends on "
                         "%(due_on)s."),
            {"case_number": case.case_number, "due_on": period.ends_on.isoformat()},
            case_link(case.case_number, "#stage-protection"), responsible.of_case(case))


def residence_permits_expiring(today: date, user, responsible: Responsible) -> Iterator[Deadline]:
    permits = ResidencePermit.objects.filter(
        status="granted", expires_on__gte=today, expires_on__lte=today + PERMIT_EXPIRY_WARNING,
        case__status__in=OPEN_CASE)
    if user is not None:
        permits = permits.filter(case_scope(user, "case__"))
    for permit in permits.select_related("case", "case__assigned_to").defer(
            *ENCRYPTED_CASE_FIELDS):
        case = permit.case
        yield Deadline(
            "residence_permit_expiring", f"permit-expiring:{permit.pk}:{permit.expires_on}",
            case.case_number, permit.expires_on,
            gettext_noop("The residence permit of case %(case_number)s expires on %(due_on)s."),
            {"case_number": case.case_number, "due_on": permit.expires_on.isoformat()},
            case_link(case.case_number, "#stage-protection"), responsible.of_case(case))


def support_plan_reviews_due(today: date, user, responsible: Responsible) -> Iterator[Deadline]:
    plans = SupportPlan.objects.filter(
        next_review_on__isnull=False, next_review_on__lte=today + SUPPORT_PLAN_REVIEW_WARNING,
        case__status__in=OPEN_CASE, status="active")
    if user is not None:
        plans = plans.filter(case_scope(user, "case__"))
    for plan in plans.select_related("case", "case__assigned_to").defer(
            *ENCRYPTED_CASE_FIELDS, "objectives"):
        case = plan.case
        yield Deadline(
            "support_plan_review", f"plan-review:{plan.pk}:{plan.next_review_on}",
            case.case_number, plan.next_review_on,
            gettext_noop("The support plan of case %(case_number)s is due for review on "
                         "%(due_on)s."),
            {"case_number": case.case_number, "due_on": plan.next_review_on.isoformat()},
            case_link(case.case_number, "#stage-protection"), responsible.of_case(case))
