"""/api/cases/{case_number}/…: the protection timeline and the support plan.

The timeline; the recovery and reflection period and its extensions; residence permits,
their decisions and renewals; criminal proceedings and their stages; compensation claims
and their outcome; returns; the support plan with its actions and reviews. Handlers
translate HTTP to calls of `protection.services` and back; the rules live there, and its
read functions record in the audit trail the reads of encrypted text (file numbers, risk
summaries, objectives …). The schemas are in `protection_schemas.py`.
"""

from django.http import Http404, HttpRequest
from ninja import Path, Router
from ninja.responses import Status

from opennrm.api.cases import CHANNEL, CaseNumber
from opennrm.api.problems import problems
from opennrm.api.protection_schemas import (
    ClaimOut,
    ClaimOutcome,
    ClaimRecord,
    PermitApplication,
    PermitDecision,
    PermitRenewal,
    ProceedingOut,
    ProceedingRecord,
    ProceedingStage,
    ProtectionOut,
    ReflectionPeriodExtension,
    ReflectionPeriodGrant,
    ReflectionPeriodOut,
    ResidencePermitOut,
    ReturnPlanOut,
    ReturnPlanRecord,
    ReturnRecord,
    SupportActionDone,
    SupportActionOut,
    SupportActionRecord,
    SupportPlanFields,
    SupportPlanOut,
    SupportReviewOut,
    SupportReviewRecord,
    TimelineEntryOut,
)
from opennrm.cases import access
from opennrm.cases.models import Case
from opennrm.protection import services
from opennrm.protection.models import (
    CompensationClaim,
    CriminalProceeding,
    ReflectionPeriod,
    ResidencePermit,
    ReturnPlan,
    SupportPlan,
    SupportPlanStatus,
)
from opennrm.workspace.timeline import timeline

RecordId = Path[int, {"ge": 1, "le": 2**63 - 1}]

router = Router(tags=["protection"])


def _code(agency) -> str | None:
    return agency.code if agency else None


def _username(user) -> str | None:
    return user.username if user else None


# --- rendering -------------------------------------------------------------------------------

def _period_out(period: ReflectionPeriod) -> dict:
    return {
        "id": period.pk, "starts_on": period.starts_on, "ends_on": period.ends_on,
        "original_ends_on": period.original_ends_on, "decided_on": period.decided_on,
        "deciding_agency": _code(period.deciding_agency),
        "deciding_authority": period.deciding_authority,
        "recorded_by": _username(period.recorded_by), "recorded_at": period.recorded_at,
        "extensions": [{
            "previous_ends_on": extension.previous_ends_on, "new_ends_on": extension.new_ends_on,
            "reason": extension.reason, "decided_on": extension.decided_on,
            "deciding_agency": _code(extension.deciding_agency),
            "deciding_authority": extension.deciding_authority,
        } for extension in period.extensions.select_related("deciding_agency")],
    }


def _permit_out(permit: ResidencePermit) -> dict:
    return {
        "id": permit.pk, "permit_type": permit.permit_type, "status": permit.status,
        "applied_on": permit.applied_on, "decided_on": permit.decided_on,
        "expires_on": permit.expires_on, "deciding_agency": _code(permit.deciding_agency),
        "deciding_authority": permit.deciding_authority, "renews": permit.renews_id,
        "recorded_by": _username(permit.recorded_by), "recorded_at": permit.recorded_at,
    }


def _proceeding_out(proceeding: CriminalProceeding) -> dict:
    return {
        "id": proceeding.pk, "opened_on": proceeding.opened_on, "stage": proceeding.stage,
        "role": proceeding.role, "case_reference": proceeding.case_reference,
        "protection_measures": proceeding.protection_measures,
        "non_punishment_considered": proceeding.non_punishment_considered,
        "non_punishment_note": proceeding.non_punishment_note,
        "deciding_agency": _code(proceeding.deciding_agency),
        "deciding_authority": proceeding.deciding_authority,
        "stages": [{"stage": change.stage, "decided_on": change.decided_on,
                    "deciding_agency": _code(change.deciding_agency),
                    "deciding_authority": change.deciding_authority}
                   for change in proceeding.stage_changes.select_related("deciding_agency")],
        "recorded_by": _username(proceeding.recorded_by), "recorded_at": proceeding.recorded_at,
    }


def _claim_out(claim: CompensationClaim) -> dict:
    return {
        "id": claim.pk, "source": claim.source, "filed_on": claim.filed_on,
        "amount_claimed": claim.amount_claimed, "currency": claim.currency,
        "outcome": claim.outcome, "amount_awarded": claim.amount_awarded,
        "decided_on": claim.decided_on, "paid_on": claim.paid_on,
        "deciding_agency": _code(claim.deciding_agency),
        "deciding_authority": claim.deciding_authority,
        "recorded_by": _username(claim.recorded_by), "recorded_at": claim.recorded_at,
    }


def _return_out(plan: ReturnPlan) -> dict:
    return {
        "id": plan.pk, "destination_country": plan.destination_country,
        "voluntary": plan.voluntary, "decided_on": plan.decided_on,
        "deciding_agency": _code(plan.deciding_agency),
        "deciding_authority": plan.deciding_authority,
        "planned_return_on": plan.planned_return_on, "risk_assessed_on": plan.risk_assessed_on,
        "risk_assessed_by": plan.risk_assessed_by, "risk_level": plan.risk_level,
        "risk_summary": plan.risk_summary, "no_assessment_reason": plan.no_assessment_reason,
        "returned_on": plan.returned_on,
        "reintegration_follow_up": plan.reintegration_follow_up,
        "follow_up_on": plan.follow_up_on, "recorded_by": _username(plan.recorded_by),
        "recorded_at": plan.recorded_at,
    }


def _plan_out(plan: SupportPlan) -> dict:
    return {
        "objectives": plan.objectives, "agreed_on": plan.agreed_on,
        "responsible_agency": plan.responsible_agency.code, "status": plan.status,
        "next_review_on": plan.next_review_on, "closed_on": plan.closed_on,
        "actions": [{"id": action.pk, "description": action.description,
                     "responsible_agency": action.responsible_agency.code,
                     "due_on": action.due_on, "done_on": action.done_on}
                    for action in plan.actions.select_related("responsible_agency")],
        "reviews": [{"id": review.pk, "reviewed_on": review.reviewed_on, "note": review.note,
                     "next_review_on": review.next_review_on,
                     "reviewed_by": review.reviewed_by.username}
                    for review in plan.reviews.select_related("reviewed_by")],
        "created_by": plan.created_by.username, "created_at": plan.created_at,
    }


def _one(queryset, pk: int, message: str):
    record = queryset.filter(pk=pk).first()
    if record is None:
        raise Http404(message)
    return record


def _support_plan(case: Case) -> SupportPlan:
    """The support plan to change (nothing of it is shown yet)."""
    plan = SupportPlan.objects.filter(case=case).select_related(
        "responsible_agency", "created_by").first()
    if plan is None:
        raise Http404("This case has no support plan yet.")
    return plan


def _read_support_plan(request: HttpRequest, case: Case) -> SupportPlan:
    """The support plan to show: reading its objectives, actions and notes is audited."""
    plan = services.read_support_plan(request.auth, case, channel=CHANNEL)
    if plan is None:
        raise Http404("This case has no support plan yet.")
    return plan


# --- the timeline and the whole record --------------------------------------------------------

@router.get("/cases/{case_number}/timeline",
            response={200: list[TimelineEntryOut], **problems(401, 404, 422)},
            operation_id="readCaseTimeline",
            summary="Read the timeline of a case: every step, who decided it and when")
def read_timeline(request: HttpRequest, case_number: CaseNumber):
    """From first contact through screening, identification, reflection period, permits,
    proceedings, compensation, return and the support plan to closure; oldest first.
    Labels carry no encrypted data."""
    case = access.get_visible_case(request.auth, case_number)
    return [entry.__dict__ for entry in timeline(case)]


@router.get("/cases/{case_number}/protection",
            response={200: ProtectionOut, **problems(401, 404, 422)},
            operation_id="readProtection",
            summary="Read the protection record of a case, encrypted details included")
def read_protection(request: HttpRequest, case_number: CaseNumber):
    """Reflection periods, residence permits, proceedings, compensation claims and
    returns. Reading file numbers, risk summaries and notes is audited."""
    case = access.get_visible_case(request.auth, case_number)
    record = services.read_protection_record(request.auth, case, channel=CHANNEL)
    return {
        "reflection_periods": [_period_out(period) for period in record.reflection_periods],
        "residence_permits": [_permit_out(permit) for permit in record.residence_permits],
        "proceedings": [_proceeding_out(proceeding) for proceeding in record.proceedings],
        "compensation_claims": [_claim_out(claim) for claim in record.compensation_claims],
        "return_plans": [_return_out(plan) for plan in record.return_plans],
    }


# --- the recovery and reflection period --------------------------------------------------------

@router.post("/cases/{case_number}/reflection-periods",
             response={201: ReflectionPeriodOut, **problems(400, 401, 403, 404, 422)},
             operation_id="grantReflectionPeriod",
             summary="Record the recovery and reflection period granted")
def grant_reflection_period(request: HttpRequest, case_number: CaseNumber,
                            period: ReflectionPeriodGrant):
    """One per case; at least the country's minimum (never below 30 days, CETS 197
    art. 13)."""
    case = access.get_visible_case(request.auth, case_number)
    granted = services.grant_reflection_period(
        request.auth, case, period.starts_on, period.ends_on, period.decided_on,
        **period.decider(), channel=CHANNEL)
    return Status(201, _period_out(granted))


@router.post("/cases/{case_number}/reflection-periods/{period_id}/extensions",
             response={200: ReflectionPeriodOut, **problems(400, 401, 403, 404, 422)},
             operation_id="extendReflectionPeriod",
             summary="Record an extension of the reflection period")
def extend_reflection_period(request: HttpRequest, case_number: CaseNumber,
                             period_id: RecordId, extension: ReflectionPeriodExtension):
    case = access.get_visible_case(request.auth, case_number)
    period = _one(case.reflection_periods, period_id, "This case has no such reflection period.")
    extended = services.extend_reflection_period(
        request.auth, period, extension.ends_on, extension.reason, extension.decided_on,
        **extension.decider(), channel=CHANNEL)
    return _period_out(extended)


# --- residence permits -------------------------------------------------------------------------

@router.post("/cases/{case_number}/residence-permits",
             response={201: ResidencePermitOut, **problems(400, 401, 403, 404, 422)},
             operation_id="recordResidencePermit",
             summary="Record an application for a residence permit")
def record_residence_permit(request: HttpRequest, case_number: CaseNumber,
                            application: PermitApplication):
    case = access.get_visible_case(request.auth, case_number)
    permit = services.record_residence_permit(request.auth, case, application.permit_type,
                                              application.applied_on, channel=CHANNEL)
    return Status(201, _permit_out(permit))


@router.post("/cases/{case_number}/residence-permits/{permit_id}/decision",
             response={200: ResidencePermitOut, **problems(400, 401, 403, 404, 422)},
             operation_id="decideResidencePermit",
             summary="Record the decision on a residence permit application")
def decide_residence_permit(request: HttpRequest, case_number: CaseNumber,
                            permit_id: RecordId, decision: PermitDecision):
    case = access.get_visible_case(request.auth, case_number)
    permit = _one(case.residence_permits, permit_id, "This case has no such residence permit.")
    decided = services.decide_residence_permit(
        request.auth, permit, decision.decision, decision.decided_on, decision.expires_on,
        **decision.decider(), channel=CHANNEL)
    return _permit_out(decided)


@router.post("/cases/{case_number}/residence-permits/{permit_id}/renewal",
             response={201: ResidencePermitOut, **problems(400, 401, 403, 404, 422)},
             operation_id="renewResidencePermit",
             summary="Record the renewal of a residence permit")
def renew_residence_permit(request: HttpRequest, case_number: CaseNumber,
                           permit_id: RecordId, renewal: PermitRenewal):
    """The renewal is a new permit linked to the one it renews, which becomes "renewed"."""
    case = access.get_visible_case(request.auth, case_number)
    permit = _one(case.residence_permits, permit_id, "This case has no such residence permit.")
    renewed = services.renew_residence_permit(
        request.auth, permit, renewal.decided_on, renewal.expires_on, **renewal.decider(),
        applied_on=renewal.applied_on, channel=CHANNEL)
    return Status(201, _permit_out(renewed))


# --- criminal proceedings and compensation -----------------------------------------------------

@router.post("/cases/{case_number}/proceedings",
             response={201: ProceedingOut, **problems(400, 401, 403, 404, 422)},
             operation_id="recordProceeding", summary="Record criminal proceedings")
def record_proceeding(request: HttpRequest, case_number: CaseNumber,
                      proceeding: ProceedingRecord):
    """With the person's role and whether non-punishment (CETS 197 art. 26) was
    considered. The file number and notes are encrypted."""
    case = access.get_visible_case(request.auth, case_number)
    recorded = services.record_proceeding(
        request.auth, case, proceeding.stage, proceeding.role, proceeding.opened_on,
        **proceeding.decider(), case_reference=proceeding.case_reference,
        protection_measures=proceeding.protection_measures,
        non_punishment_considered=proceeding.non_punishment_considered,
        non_punishment_note=proceeding.non_punishment_note, channel=CHANNEL)
    return Status(201, _proceeding_out(recorded))


@router.post("/cases/{case_number}/proceedings/{proceeding_id}/stages",
             response={200: ProceedingOut, **problems(400, 401, 403, 404, 422)},
             operation_id="updateProceedingStage",
             summary="Record a new stage of criminal proceedings")
def update_proceeding_stage(request: HttpRequest, case_number: CaseNumber,
                            proceeding_id: RecordId, stage: ProceedingStage):
    case = access.get_visible_case(request.auth, case_number)
    proceeding = _one(case.proceedings, proceeding_id, "This case has no such proceedings.")
    updated = services.update_proceeding_stage(
        request.auth, proceeding, stage.stage, stage.decided_on, **stage.decider(),
        non_punishment_considered=stage.non_punishment_considered,
        non_punishment_note=stage.non_punishment_note, channel=CHANNEL)
    return _proceeding_out(updated)


@router.post("/cases/{case_number}/compensation-claims",
             response={201: ClaimOut, **problems(400, 401, 403, 404, 422)},
             operation_id="recordCompensationClaim", summary="Record a compensation claim")
def record_compensation_claim(request: HttpRequest, case_number: CaseNumber,
                              claim: ClaimRecord):
    case = access.get_visible_case(request.auth, case_number)
    recorded = services.record_compensation_claim(
        request.auth, case, claim.source, claim.filed_on, claim.currency, claim.amount_claimed,
        channel=CHANNEL)
    return Status(201, _claim_out(recorded))


@router.post("/cases/{case_number}/compensation-claims/{claim_id}/outcome",
             response={200: ClaimOut, **problems(400, 401, 403, 404, 422)},
             operation_id="recordCompensationOutcome",
             summary="Record the outcome of a compensation claim")
def record_compensation_outcome(request: HttpRequest, case_number: CaseNumber,
                                claim_id: RecordId, outcome: ClaimOutcome):
    """Pending → awarded, refused or paid; awarded → paid."""
    case = access.get_visible_case(request.auth, case_number)
    claim = _one(case.compensation_claims, claim_id, "This case has no such compensation claim.")
    decided = services.record_compensation_outcome(
        request.auth, claim, outcome.outcome, outcome.decided_on, outcome.amount_awarded,
        **outcome.decider(), channel=CHANNEL)
    return _claim_out(decided)


# --- return ----------------------------------------------------------------------------------

@router.post("/cases/{case_number}/return-plans",
             response={201: ReturnPlanOut, **problems(400, 401, 403, 404, 422)},
             operation_id="planReturn", summary="Plan a return, with its risk assessment")
def plan_return(request: HttpRequest, case_number: CaseNumber, plan: ReturnPlanRecord):
    """A child's return needs a documented risk assessment (date, assessor, level,
    summary) that does not find a high risk; an adult's return without one needs a
    reason (CETS 197 art. 16)."""
    case = access.get_visible_case(request.auth, case_number)
    recorded = services.plan_return(
        request.auth, case, plan.destination_country, plan.voluntary, plan.decided_on,
        **plan.decider(), planned_return_on=plan.planned_return_on,
        risk_assessed_on=plan.risk_assessed_on, risk_assessed_by=plan.risk_assessed_by,
        risk_level=plan.risk_level, risk_summary=plan.risk_summary,
        no_assessment_reason=plan.no_assessment_reason, channel=CHANNEL)
    return Status(201, _return_out(recorded))


@router.post("/cases/{case_number}/return-plans/{plan_id}/return",
             response={200: ReturnPlanOut, **problems(400, 401, 403, 404, 422)},
             operation_id="recordReturn",
             summary="Record that the person returned, and the reintegration follow-up")
def record_return(request: HttpRequest, case_number: CaseNumber, plan_id: RecordId,
                  returned: ReturnRecord):
    case = access.get_visible_case(request.auth, case_number)
    plan = _one(case.return_plans, plan_id, "This case has no such return plan.")
    recorded = services.record_return(
        request.auth, plan, returned.returned_on, returned.reintegration_follow_up,
        returned.follow_up_on, channel=CHANNEL)
    return _return_out(recorded)


# --- the support plan --------------------------------------------------------------------------

@router.get("/cases/{case_number}/support-plan",
            response={200: SupportPlanOut, **problems(401, 404, 422)},
            operation_id="readSupportPlan",
            summary="Read the support plan with its actions and reviews")
def read_support_plan(request: HttpRequest, case_number: CaseNumber):
    """Objectives, actions and review notes are encrypted: reading them is audited."""
    case = access.get_visible_case(request.auth, case_number)
    return _plan_out(_read_support_plan(request, case))


@router.put("/cases/{case_number}/support-plan",
            response={200: SupportPlanOut, **problems(400, 401, 403, 404, 422)},
            operation_id="putSupportPlan",
            summary="Agree the support plan, or change it")
def put_support_plan(request: HttpRequest, case_number: CaseNumber, fields: SupportPlanFields):
    """Creates the plan when the case has none; otherwise changes its objectives,
    responsible agency, next review and status (closing or reopening it)."""
    case = access.get_visible_case(request.auth, case_number)
    plan = SupportPlan.objects.filter(case=case).first()
    if plan is None:
        plan = services.create_support_plan(
            request.auth, case, fields.objectives, fields.agreed_on, fields.responsible_agency,
            fields.next_review_on, channel=CHANNEL)
        if fields.status != SupportPlanStatus.ACTIVE:
            plan = services.update_support_plan(request.auth, plan, status=fields.status,
                                                channel=CHANNEL)
    else:
        plan = services.update_support_plan(
            request.auth, plan, objectives=fields.objectives,
            responsible_agency_code=fields.responsible_agency or plan.responsible_agency.code,
            next_review_on=fields.next_review_on, status=fields.status, channel=CHANNEL)
    # The answer shows the plan's actions and reviews too: a read of encrypted text.
    return _plan_out(_read_support_plan(request, case))


@router.post("/cases/{case_number}/support-plan/actions",
             response={201: SupportActionOut, **problems(400, 401, 403, 404, 422)},
             operation_id="addSupportAction", summary="Add an action to the support plan")
def add_support_action(request: HttpRequest, case_number: CaseNumber,
                       action: SupportActionRecord):
    case = access.get_visible_case(request.auth, case_number)
    added = services.add_support_action(request.auth, _support_plan(case), action.description,
                                        action.responsible_agency, action.due_on,
                                        channel=CHANNEL)
    return Status(201, {"id": added.pk, "description": added.description,
                        "responsible_agency": added.responsible_agency.code,
                        "due_on": added.due_on, "done_on": added.done_on})


@router.post("/cases/{case_number}/support-plan/actions/{action_id}/done",
             response={200: SupportActionOut, **problems(400, 401, 403, 404, 422)},
             operation_id="completeSupportAction",
             summary="Record that an action of the support plan was done")
def complete_support_action(request: HttpRequest, case_number: CaseNumber,
                            action_id: RecordId, done: SupportActionDone):
    case = access.get_visible_case(request.auth, case_number)
    action = _one(_support_plan(case).actions.select_related("plan__case", "responsible_agency"),
                  action_id, "The support plan has no such action.")
    completed = services.complete_support_action(request.auth, action, done.done_on,
                                                 channel=CHANNEL)
    return {"id": completed.pk, "description": completed.description,
            "responsible_agency": completed.responsible_agency.code,
            "due_on": completed.due_on, "done_on": completed.done_on}


@router.post("/cases/{case_number}/support-plan/reviews",
             response={201: SupportReviewOut, **problems(400, 401, 403, 404, 422)},
             operation_id="recordSupportReview", summary="Record a review of the support plan")
def record_support_review(request: HttpRequest, case_number: CaseNumber,
                          review: SupportReviewRecord):
    case = access.get_visible_case(request.auth, case_number)
    recorded = services.record_support_review(
        request.auth, _support_plan(case), review.reviewed_on, review.note,
        review.next_review_on, channel=CHANNEL)
    return Status(201, {"id": recorded.pk, "reviewed_on": recorded.reviewed_on,
                        "note": recorded.note, "next_review_on": recorded.next_review_on,
                        "reviewed_by": recorded.reviewed_by.username})
