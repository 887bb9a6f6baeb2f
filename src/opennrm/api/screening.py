"""Screening against the ILO/EC indicators and the formal identification decision.

/api/indicator-sets (the lists), /api/cases/{case_number}/screenings (preview, record,
history), /api/cases/{case_number}/identification-decisions and /api/identification-queue.
Handlers translate HTTP to calls of `screening.services` and back; the rules live there.
Reading screening notes or decision grounds is recorded in the audit trail. The schemas
are in `screening_schemas.py`.
"""


from django.core.exceptions import ValidationError
from django.db.models import F
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from ninja import Path, Query, Router
from ninja.responses import Status

from opennrm.api.cases import CHANNEL, CaseNumber
from opennrm.api.pagination import paginate
from opennrm.api.problems import problems
from opennrm.api.screening_schemas import (
    IdentificationDecisionOut,
    IdentificationDecisionRecorded,
    IdentificationRequest,
    IndicatorSetOut,
    IndicatorSetSummary,
    QueueFilters,
    QueuePage,
    ScreeningOut,
    ScreeningPreview,
    ScreeningPreviewRequest,
    ScreeningRequest,
)
from opennrm.cases import access
from opennrm.cases.models import Case
from opennrm.screening import access as screening_access
from opennrm.screening import engine, indicator_sets, services
from opennrm.screening.models import IdentificationDecision, Screening

SetId = Path[str, {"max_length": 60, "pattern": r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
                   "examples": ["ilo-ec-adult-labour"]}]
SetVersion = Path[str, {"max_length": 20, "pattern": r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
                        "examples": ["2009.1"]}]

router = Router(tags=["identification"])


# --- helpers -------------------------------------------------------------------------------

def _language() -> str:
    return (get_language() or "en").split("-")[0]


def _indicator_set(set_id: str, version: str) -> engine.IndicatorSet:
    """The list for a new screening; a 422 on `indicator_set` if there is none."""
    try:
        return indicator_sets.get(set_id, version)
    except indicator_sets.UnknownIndicatorSet:
        raise ValidationError({"indicator_set": [
            _("Unknown indicator list %(id)s version %(version)s.") % {
                "id": set_id, "version": version}]}) from None


def _explanation(screening: Screening, language: str) -> list[str]:
    """The reasons of a recorded screening, from the list version it was made with."""
    try:
        indicator_set = indicator_sets.get(screening.indicator_set,
                                           screening.indicator_set_version)
        return services.explain_recorded(screening, indicator_set, language)
    except (indicator_sets.UnknownIndicatorSet, engine.UnknownIndicator):
        return []  # the list file is no longer installed


def _screening_out(screening: Screening, language: str) -> dict:
    return {
        "id": screening.pk, "indicator_set": screening.indicator_set,
        "version": screening.indicator_set_version, "screened_on": screening.screened_on,
        "outcome": screening.outcome, "present_dimensions": screening.present_dimensions,
        "treated_as_child": screening.treated_as_child,
        "age_group_override": screening.age_group_override or "",
        "observed": screening.observed,
        "notes": screening.notes or {}, "explanation": _explanation(screening, language),
        "screened_by": screening.screened_by.username, "agency": screening.agency.code,
        "recorded_at": screening.recorded_at,
    }


def _decision_out(decision: IdentificationDecision) -> dict:
    return {
        "id": decision.pk, "decision": decision.decision, "decided_on": decision.decided_on,
        "deciding_agency": decision.deciding_agency.code, "grounds": decision.grounds,
        "appeal": decision.appeal, "decided_by": decision.decided_by.username,
        "recorded_at": decision.recorded_at,
    }


# --- indicator lists -----------------------------------------------------------------------

@router.get("/indicator-sets", response={200: list[IndicatorSetSummary], **problems(401)},
            operation_id="listIndicatorSets",
            summary="List the indicator lists for new screenings")
def list_indicator_sets(request: HttpRequest):
    """The newest version of each list: adults first, labour first."""
    return [indicator_set.data for indicator_set in indicator_sets.current()]


@router.get("/indicator-sets/{set_id}/{version}",
            response={200: IndicatorSetOut, **problems(401, 404, 422)},
            operation_id="readIndicatorSet", exclude_none=True,
            summary="Read an indicator list: dimensions, indicators and decision rule")
def read_indicator_set(request: HttpRequest, set_id: SetId, version: SetVersion):
    """Any version, including those superseded: old screenings keep theirs."""
    try:
        return indicator_sets.get(set_id, version).data
    except indicator_sets.UnknownIndicatorSet:
        raise Http404("There is no indicator list with this id and version.") from None


# --- screenings ----------------------------------------------------------------------------

@router.post("/cases/{case_number}/screenings/preview",
             response={200: ScreeningPreview, **problems(400, 401, 403, 404, 422)},
             operation_id="previewScreening",
             summary="Score observed indicators without recording anything")
def preview_screening(request: HttpRequest, case_number: CaseNumber,
                      preview: ScreeningPreviewRequest):
    """What the screening form shows while boxes are ticked, with the person's age today."""
    case = access.get_visible_case(request.auth, case_number)
    access.ensure_can_edit(request.auth, case)
    indicator_set = _indicator_set(preview.indicator_set, preview.version)
    unknown = sorted(set(preview.observed) - indicator_set.indicators.keys())
    if unknown:
        raise ValidationError({"observed": [
            _("Not in this list: %(codes)s.") % {"codes": ", ".join(unknown)}]})
    shown = services.preview(case, indicator_set, preview.observed, language=_language())
    result = shown.result
    return {
        "indicator_set": preview.indicator_set, "version": preview.version,
        "outcome": result.outcome, "present_dimensions": result.present,
        "dimensions": [{"code": finding.code, "present": finding.present,
                        **{strength: finding.count(strength) for strength in engine.STRENGTHS}}
                       for finding in result.dimensions],
        "treated_as_child": result.treated_as_child,
        "fits_person": services.fits(case, indicator_set, timezone.localdate()),
        "explanation": shown.explanation,
    }


@router.post("/cases/{case_number}/screenings",
             response={201: ScreeningOut, **problems(400, 401, 403, 404, 422)},
             operation_id="recordScreening", summary="Record a screening")
def record_screening(request: HttpRequest, case_number: CaseNumber,
                     screening: ScreeningRequest):
    """A probable or possible outcome puts the case on the identification queue. A
    screening never records formal identification."""
    case = access.get_visible_case(request.auth, case_number)
    recorded = services.record_screening(
        request.auth, case, screening.indicator_set, screening.version, screening.observed,
        screening.screened_on, channel=CHANNEL,
        age_group_override=screening.age_group_override)
    return Status(201, _screening_out(recorded, _language()))


@router.get("/cases/{case_number}/screenings",
            response={200: list[ScreeningOut], **problems(401, 404, 422)},
            operation_id="listScreenings", summary="List the screenings of a case")
def list_screenings(request: HttpRequest, case_number: CaseNumber):
    """Newest first. The notes may describe the person: reading them is audited. The
    decision-makers a case is referred to for formal identification read them too."""
    case = screening_access.get_case_for_screening(request.auth, case_number)
    screenings = services.read_screenings(request.auth, case, channel=CHANNEL)
    language = _language()
    return [_screening_out(screening, language) for screening in screenings]


# --- formal identification -----------------------------------------------------------------

@router.post("/cases/{case_number}/identification-decisions",
             response={201: IdentificationDecisionRecorded,
                       **problems(400, 401, 403, 404, 422)},
             operation_id="decideIdentification",
             summary="Record the formal identification decision")
def decide_identification(request: HttpRequest, case_number: CaseNumber,
                          decision: IdentificationRequest):
    """Only the authority designated in this country (OPENNRM_IDENTIFICATION_DECIDERS)
    may; the case's victim status follows the decision."""
    case = access.get_case_for_identification(request.auth, case_number)
    recorded = services.decide_identification(
        request.auth, case, decision.decision, decision.decided_on, decision.grounds,
        decision.appeal, channel=CHANNEL)
    victim_status = Case.objects.values_list("victim_status", flat=True).get(pk=case.pk)
    return Status(201, {**_decision_out(recorded), "victim_status": victim_status})


@router.get("/cases/{case_number}/identification-decisions",
            response={200: list[IdentificationDecisionOut], **problems(401, 404, 422)},
            operation_id="listIdentificationDecisions",
            summary="List the formal identification decisions of a case")
def list_identification_decisions(request: HttpRequest, case_number: CaseNumber):
    """Newest first. Reading grounds and appeals is audited."""
    case = access.get_visible_case(request.auth, case_number)
    decisions = services.read_identification_decisions(request.auth, case, channel=CHANNEL)
    return [_decision_out(decision) for decision in decisions]


@router.get("/identification-queue", response={200: QueuePage, **problems(401, 422)},
            operation_id="identificationQueue",
            summary="List the cases awaiting a formal identification decision")
def identification_queue(request: HttpRequest, filters: Query[QueueFilters]):
    """Presumed victims with a probable or possible screening and no decision yet, among
    the cases you may see; oldest screening first. No names or other identity data."""
    cases = services.awaiting_decision(request.auth)
    rows = cases.values("case_number", "first_screened_on", "age_band", "is_child",
                        "exploitation_forms", owner_agency_code=F("owner_agency__code"))
    today = timezone.localdate()
    return paginate(rows, filters, count_of=cases, render=lambda page: [
        {**row, "owner_agency": row["owner_agency_code"],
         "days_waiting": (today - row["first_screened_on"]).days} for row in page])
