"""Demo protection steps and support plans for a share of the open demo cases.

Synthetic data only, written through `protection.services` like a caseworker's entries.
Dates are drawn around today so that the worklists have something due: reflection periods
ending within a week, permits expiring within a month, support plan reviews due soon.
One police case gets the whole path, from identification to closure, for a newcomer to
follow.
"""

import random
from datetime import date, timedelta

from django.conf import settings
from django.utils import timezone

from opennrm.accounts.models import Role, User
from opennrm.cases import access
from opennrm.cases import services as case_services
from opennrm.cases.models import Case, CaseStatus
from opennrm.protection import services
from opennrm.protection.models import ReflectionPeriod, SupportPlan
from opennrm.screening import services as screening_services

PROTECTED_SHARE = 0.5
FULL_PATH_AGENCY = "police"
MIGRATION_OFFICE = "General Inspectorate for Migration"
PROSECUTOR = "Prosecution Office for Organised Crime"
COURT = "Chișinău District Court"
ASSESSOR = "International Migration Organisation, Country Office"
OBJECTIVES = (
    "Safe accommodation until the end of the reflection period; medical check-up; "
    "counselling twice a week; decide with a lawyer whether to take part in the proceedings.",
    "Stable housing; vocational training in catering; a job with a written contract.",
    "Return to school; family mediation; regular contact with the social worker.",
)
ACTIONS = (
    "Place in the shelter", "Medical check-up", "Psychological counselling",
    "Meeting with a lawyer", "Enrol in a vocational course", "Help with documents",
)


def _day(rng: random.Random, start: date, end: date) -> date:
    """A day from `start` to `end` (both included); `start` when the range is empty."""
    return start + timedelta(days=rng.randint(0, max((end - start).days, 0)))


def _reflection_period(rng, actor, case: Case, today: date) -> ReflectionPeriod | None:
    minimum = services.minimum_reflection_days()
    if rng.random() < 0.3:
        # Ending within the next week: started about a minimum period ago.
        starts, extra = today - timedelta(days=minimum - rng.randint(0, 6)), 0
    else:
        starts = _day(rng, case.first_contact_on, case.first_contact_on + timedelta(days=7))
        extra = rng.choice((0, 0, 0, 15))
    starts = min(max(starts, case.first_contact_on), today)
    ends = starts + timedelta(days=minimum + extra)
    period = services.grant_reflection_period(
        actor, case, starts, ends, starts, deciding_agency_code=case.owner_agency.code,
        channel="cli")
    if ends < today and rng.random() < 0.3:
        period = services.extend_reflection_period(
            actor, period, ends + timedelta(days=30), rng.choice(
                ("recovery_needed", "medical_treatment", "decision_pending")),
            ends - timedelta(days=1), deciding_authority=MIGRATION_OFFICE, channel="cli")
    return period


def _residence_permit(rng, actor, case: Case, starts: date, today: date) -> None:
    applied = starts + timedelta(days=20)
    if applied > today:
        return
    permit = services.record_residence_permit(
        actor, case, rng.choice(("personal_situation", "cooperation", "personal_and_cooperation",
                                 "child_best_interests" if case.is_child else "other")),
        applied, channel="cli")
    decided = applied + timedelta(days=rng.randint(5, 20))
    if decided > today:
        return
    if rng.random() < 0.15:
        services.decide_residence_permit(actor, permit, "refused", decided,
                                         deciding_authority=MIGRATION_OFFICE, channel="cli")
        return
    # Some expire within a month, for the reminders.
    expires = (today + timedelta(days=rng.randint(1, 30)) if rng.random() < 0.4
               else decided + timedelta(days=rng.choice((180, 365))))
    expires = max(expires, decided + timedelta(days=1))
    services.decide_residence_permit(actor, permit, "granted", decided, expires,
                                     deciding_authority=MIGRATION_OFFICE, channel="cli")


def _proceedings(rng, actor, case: Case, today: date) -> None:
    opened = _day(rng, case.first_contact_on, min(today, case.first_contact_on
                                                   + timedelta(days=30)))
    proceeding = services.record_proceeding(
        actor, case, "investigation", rng.choice(("victim", "witness", "injured_party")),
        opened, deciding_authority=PROSECUTOR,
        case_reference=f"{rng.randint(2020, 2026)}{rng.randint(10000, 99999):05d}",
        protection_measures=rng.choice(("", "Testimony by video link; address withheld.")),
        non_punishment_considered=rng.random() < 0.3, channel="cli")
    indicted = opened + timedelta(days=rng.randint(60, 200))
    if indicted <= today:
        services.update_proceeding_stage(actor, proceeding, "prosecution", indicted,
                                         deciding_authority=PROSECUTOR, channel="cli")
        if rng.random() < 0.5:
            services.record_compensation_claim(
                actor, case, rng.choice(("offender", "state_fund", "civil")),
                indicted, "MDL", rng.choice((20000, 50000, 120000)), channel="cli")


def _return(rng, actor, case: Case, today: date) -> bool:
    """Plan (and, if its day has come, record) the return of a foreign person; False for a
    national, who has no country to return to."""
    citizenships = [code for code in case.person.citizenships
                    if code != settings.OPENNRM_COUNTRY]
    if not citizenships:
        return False
    decided = _day(rng, case.first_contact_on, today)
    assessed = case.is_child or rng.random() < 0.7
    plan = services.plan_return(
        actor, case, citizenships[0], rng.random() < 0.85, decided,
        deciding_agency_code=case.owner_agency.code,
        planned_return_on=decided + timedelta(days=14),
        **({"risk_assessed_on": decided, "risk_assessed_by": ASSESSOR,
            "risk_level": rng.choice(("low", "medium")),
            "risk_summary": "Family ready to receive the person; no contact with the "
                            "recruiters since exploitation ended."} if assessed
           else {"no_assessment_reason": "The person asked to travel at once to care for a "
                                         "sick parent; declined the assessment."}),
        channel="cli")
    returned = decided + timedelta(days=14)
    if returned <= today:
        services.record_return(actor, plan, returned,
                               "Partner NGO in the country of return follows up monthly.",
                               returned + timedelta(days=30), channel="cli")
    return True


def _support_plan(rng, actor, case: Case, agreed: date, today: date) -> SupportPlan:
    # Reviews due soon (some a few days overdue) so that the worklists have content.
    next_review = max(today + timedelta(days=rng.randint(-3, 14)), agreed + timedelta(days=1))
    plan = services.create_support_plan(actor, case, rng.choice(OBJECTIVES), agreed,
                                         next_review_on=next_review, channel="cli")
    for what in rng.sample(ACTIONS, rng.randint(2, 4)):
        due = _day(rng, agreed, agreed + timedelta(days=60))
        action = services.add_support_action(actor, plan, what, due_on=due, channel="cli")
        if due <= today and rng.random() < 0.6:
            services.complete_support_action(actor, action, due, channel="cli")
    reviewed = agreed + timedelta(days=30)
    if reviewed < today - timedelta(days=3):
        services.record_support_review(
            actor, plan, reviewed, "Counselling helps; the person wants to start training.",
            max(next_review, reviewed + timedelta(days=1)), channel="cli")
    return plan


def _full_path(actor, case: Case, today: date) -> None:
    """From formal identification to closure: the story a newcomer can follow."""
    decider = next((user for user in User.objects.filter(agency=case.owner_agency,
                                                         role=Role.SUPERVISOR)
                    if access.can_decide_identification(user, case)), None)
    start = case.first_contact_on
    period = services.grant_reflection_period(
        actor, case, start, start + timedelta(days=services.minimum_reflection_days()),
        start, deciding_agency_code=case.owner_agency.code, channel="cli")
    if decider and not case.identification_decisions.exists():
        screening_services.decide_identification(
            decider, case, "identified", min(period.ends_on, today),
            "Indicators of forced labour confirmed by the labour inspection and the "
            "person's account.", channel="cli")
    plan = _support_plan(random.Random(0), actor, case, start + timedelta(days=2), today)
    permit = services.record_residence_permit(actor, case, "personal_situation",
                                              start + timedelta(days=20), channel="cli")
    services.decide_residence_permit(actor, permit, "granted", start + timedelta(days=35),
                                     start + timedelta(days=215),
                                     deciding_authority=MIGRATION_OFFICE, channel="cli")
    proceeding = services.record_proceeding(
        actor, case, "investigation", "injured_party", start + timedelta(days=10),
        deciding_authority=PROSECUTOR, case_reference="2026-0417",
        non_punishment_considered=True, channel="cli")
    services.update_proceeding_stage(actor, proceeding, "trial", start + timedelta(days=40),
                                     deciding_authority=COURT, channel="cli")
    services.record_compensation_claim(actor, case, "offender", start + timedelta(days=40),
                                       "MDL", 60000, channel="cli")
    services.update_support_plan(actor, plan, status="closed", channel="cli")
    case_services.close_case(actor, case, "assistance_completed", channel="cli")


def create_demo_protection(seed: int = 2026) -> int:
    """Give a share of the open demo cases protection steps and a support plan; returns
    how many cases got them. Cases that already have a period or plan are left alone, so
    running it twice adds nothing."""
    today = timezone.localdate()
    caseworkers = {user.agency_id: user for user in User.objects.filter(
        role=Role.CASEWORKER, username__endswith="-caseworker")}
    cases = list(Case.objects.filter(owner_agency_id__in=caseworkers, status=CaseStatus.ACTIVE,
                                     reflection_periods__isnull=True,
                                     support_plan__isnull=True)
                 .select_related("person", "owner_agency").order_by("id"))
    full_path_done = Case.objects.filter(owner_agency__code=FULL_PATH_AGENCY,
                                         reflection_periods__isnull=False,
                                         status=CaseStatus.CLOSED).exists()
    protected, returns, foreigners = 0, 0, []
    for case in cases:
        # A draw of its own per case: a second run skips the same cases again.
        rng = random.Random(f"{seed}:{case.global_id}")
        actor = caseworkers[case.owner_agency_id]
        # Dates must stay in the past: the path needs a first contact 40 or more days ago.
        if (not full_path_done and case.owner_agency.code == FULL_PATH_AGENCY
                and case.first_contact_on <= today - timedelta(days=45)):
            _full_path(actor, case, today)
            full_path_done = True
            protected += 1
            continue
        if rng.random() > PROTECTED_SHARE:
            continue
        period = _reflection_period(rng, actor, case, today)
        if rng.random() < 0.5:
            _residence_permit(rng, actor, case, period.starts_on, today)
        if rng.random() < 0.3:
            _proceedings(rng, actor, case, today)
        if rng.random() < 0.15:
            returns += _return(rng, actor, case, today)
        else:
            foreigners.append((rng, actor, case))
        if rng.random() < 0.7:
            _support_plan(rng, actor, case, min(period.starts_on + timedelta(days=2), today),
                          today)
        protected += 1
    # The draws are per case (random case ids): make sure the demo shows one return.
    while not returns and foreigners:
        returns += _return(*foreigners.pop(0), today)
    return protected
