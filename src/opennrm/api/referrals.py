"""Referrals and the assistance delivered under them.

/api/cases/{case_number}/referrals (refer, or record a referral outside OpenNRM; the case's
referrals, for its owning agency), /api/referrals (the inbox and outbox),
/api/referrals/{referral_id} (one referral: the recipient gets only the fields it shares,
while it is open and its consent in force), the changes of state, the outcome of a referral
outside OpenNRM, and /api/referrals/{referral_id}/assistance. Handlers translate HTTP to
calls of `referrals.services` and back; the rules live there. The schemas are in
`referrals_schemas.py`.
"""


from django.core.exceptions import ValidationError
from django.db.models import F
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Path, Query, Router
from ninja.responses import Status

from opennrm.api.cases import CHANNEL, CaseNumber
from opennrm.api.pagination import paginate
from opennrm.api.problems import problems
from opennrm.api.referrals_schemas import (
    AssistanceOut,
    AssistanceRequest,
    OutcomeRequest,
    ReasonRequest,
    ReferralDetail,
    ReferralFilters,
    ReferralPage,
    ReferralRequest,
    ReferralSummary,
)
from opennrm.cases import access
from opennrm.referrals import services
from opennrm.referrals.models import Referral
from opennrm.services.models import Service

ReferralId = Path[int, {"ge": 1, "le": 2**63 - 1}]

NOT_FOUND = "There is no referral with this id that you may see."

router = Router(tags=["referrals"])


# --- helpers -------------------------------------------------------------------------------

SUMMARY_VALUES = {
    "case_number": F("case__case_number"), "service_name": F("service__name"),
    "referring_agency_code": F("referring_agency__code"),
    "recipient_agency_code": F("recipient_agency__code"),
}


def _summaries(referrals) -> list[dict]:
    """The summary columns in one query: nothing encrypted is loaded or decrypted."""
    return [{**row, "service": row["service__hsds_id"],
             "referring_agency": row["referring_agency_code"],
             "recipient_agency": row["recipient_agency_code"]}
            for row in referrals.values("id", "state", "outcome", "external", "sent_at",
                                        "respond_by", "service__hsds_id", **SUMMARY_VALUES)]


def _summary(referral: Referral) -> dict:
    return {"id": referral.pk, "case_number": referral.case.case_number,
            "service": referral.service.hsds_id, "service_name": referral.service.name,
            "referring_agency": referral.referring_agency.code,
            "recipient_agency": (referral.recipient_agency.code if referral.recipient_agency_id
                                 else None),
            "external": referral.external, "state": referral.state,
            "outcome": referral.outcome, "sent_at": referral.sent_at,
            "respond_by": referral.respond_by}


def _referral(request: HttpRequest, referral_id: int) -> Referral:
    try:
        return services.get_referral(request.auth, referral_id)
    except access.CaseNotFound:
        raise Http404(NOT_FOUND) from None


def _assistance_out(record) -> dict:
    return {"id": record.pk, "service_type": record.service_type,
            "description": record.description, "delivered_on": record.delivered_on,
            "delivered_by": record.delivered_by.username,
            "agency": record.delivering_agency.code, "recorded_at": record.recorded_at}


# --- referring -----------------------------------------------------------------------------

@router.post("/cases/{case_number}/referrals",
             response={201: ReferralSummary, **problems(400, 401, 403, 404, 422)},
             operation_id="referCase", summary="Refer a case to a service")
def refer_case(request: HttpRequest, case_number: CaseNumber, referral: ReferralRequest):
    """Needs a referral consent in force for the receiving agency (or no named agency); a
    missing or withdrawn consent is a 422 on `consent`. The receiving agency is told. With
    `external`, the referral to a service outside OpenNRM is recorded (its consent must name
    no agency) and you contact the provider."""
    case = access.get_visible_case(request.auth, case_number)
    service = Service.objects.select_related("provider__agency").filter(
        hsds_id=referral.service).first()
    if service is None:
        raise ValidationError({"service": [_("There is no such service.")]})
    if referral.external:
        sent = services.record_external_referral(
            request.auth, case, service, referral.shared_fields, referral.needs,
            follow_up_on=referral.follow_up_on, override_reason=referral.override_reason,
            channel=CHANNEL)
    elif referral.follow_up_on is not None:
        raise ValidationError({"follow_up_on": [_(
            "Only a referral outside OpenNRM has a follow-up date: the receiving agency "
            "answers in the service's answer time.")]})
    else:
        sent = services.refer_case(request.auth, case, service, referral.shared_fields,
                                   referral.needs, override_reason=referral.override_reason,
                                   channel=CHANNEL)
    return Status(201, _summary(sent))


@router.get("/cases/{case_number}/referrals",
            response={200: list[ReferralSummary], **problems(401, 404, 422)},
            operation_id="listCaseReferrals", summary="List the referrals of a case")
def list_case_referrals(request: HttpRequest, case_number: CaseNumber):
    """For the agency that owns the case; newest first."""
    case = access.get_visible_case(request.auth, case_number)
    return _summaries(services.case_referrals(request.auth, case))


# --- the inbox and one referral ------------------------------------------------------------

@router.get("/referrals", response={200: ReferralPage, **problems(401, 422)},
            operation_id="listReferrals",
            summary="List the referrals addressed to or sent by your agency")
def list_referrals(request: HttpRequest, filters: Query[ReferralFilters]):
    """Incoming: the nearest answer deadline first; otherwise the newest first."""
    if filters.box == "incoming":
        referrals = services.inbox(request.auth).order_by("respond_by", "id")
    elif filters.box == "outgoing":
        referrals = services.outbox(request.auth).order_by("-sent_at", "-id")
    else:
        referrals = services.referrals_visible_to(request.auth).order_by("-sent_at", "-id")
    if filters.state:
        referrals = referrals.filter(state=filters.state)
    return paginate(referrals, filters, render=_summaries)


@router.get("/referrals/{referral_id}", response={200: ReferralDetail, **problems(401, 404, 422)},
            operation_id="readReferral", summary="Read a referral")
def read_referral(request: HttpRequest, referral_id: ReferralId):
    """The receiving agency gets the shared fields (the read is audited), and nothing once
    the referral has ended or its consent was withdrawn; it never gets the case itself."""
    try:
        shown = services.read_referral(request.auth, referral_id, channel=CHANNEL)
    except access.CaseNotFound:
        raise Http404(NOT_FOUND) from None
    referral = shown.referral
    sender = shown.side == services.SENDER
    return {
        **_summary(referral), "shared_fields": referral.shared_fields, "shared": shown.shared,
        "needs": referral.needs if sender else None,
        "consent_overridden": referral.consent_id is None,
        "consent_override_reason": referral.consent_override_reason if sender else None,
        "history": [{"from_state": event.from_state or None, "to_state": event.to_state,
                     "at": event.at, "by": event.actor.username if event.actor else None,
                     "agency": event.agency.code if event.agency else None,
                     "reason": event.reason} for event in shown.events],
    }


# --- changes of state ----------------------------------------------------------------------

def _change(request: HttpRequest, referral_id: int, change, reason: str) -> dict:
    referral = _referral(request, referral_id)
    return _summary(change(request.auth, referral, reason, channel=CHANNEL))


CHANGE_RESPONSES = {200: ReferralSummary, **problems(400, 401, 403, 404, 422)}


@router.post("/referrals/{referral_id}/accept", response=CHANGE_RESPONSES,
             operation_id="acceptReferral", summary="Accept a referral (receiving agency)")
def accept_referral(request: HttpRequest, referral_id: ReferralId, body: ReasonRequest):
    """Of two concurrent answers, exactly one wins; the other is a 422 on `state`."""
    return _change(request, referral_id, services.accept_referral, body.reason)


@router.post("/referrals/{referral_id}/decline", response=CHANGE_RESPONSES,
             operation_id="declineReferral", summary="Decline a referral (receiving agency)")
def decline_referral(request: HttpRequest, referral_id: ReferralId, body: ReasonRequest):
    """The reason is required."""
    return _change(request, referral_id, services.decline_referral, body.reason)


@router.post("/referrals/{referral_id}/cancel", response=CHANGE_RESPONSES,
             operation_id="cancelReferral", summary="Cancel a referral (referring agency)")
def cancel_referral(request: HttpRequest, referral_id: ReferralId, body: ReasonRequest):
    """The reason is required."""
    return _change(request, referral_id, services.cancel_referral, body.reason)


@router.post("/referrals/{referral_id}/withdraw", response=CHANGE_RESPONSES,
             operation_id="withdrawReferral",
             summary="Withdraw from an accepted referral (receiving agency)")
def withdraw_referral(request: HttpRequest, referral_id: ReferralId, body: ReasonRequest):
    """The reason is required."""
    return _change(request, referral_id, services.withdraw_referral, body.reason)


@router.post("/referrals/{referral_id}/complete", response=CHANGE_RESPONSES,
             operation_id="completeReferral",
             summary="Close an accepted referral as completed (receiving agency)")
def complete_referral(request: HttpRequest, referral_id: ReferralId, body: ReasonRequest):
    """Record the assistance delivered first."""
    return _change(request, referral_id, services.complete_referral, body.reason)


@router.post("/referrals/{referral_id}/outcome", response=CHANGE_RESPONSES,
             operation_id="recordReferralOutcome",
             summary="Record what became of a referral outside OpenNRM (referring agency)")
def record_referral_outcome(request: HttpRequest, referral_id: ReferralId,
                            body: OutcomeRequest):
    """Its follow-up reminder ends. A referral in OpenNRM is a 422: its receiving agency
    answers it."""
    referral = _referral(request, referral_id)
    return _summary(services.record_referral_outcome(request.auth, referral, body.outcome,
                                                     body.note, channel=CHANNEL))


# --- assistance ----------------------------------------------------------------------------

@router.post("/referrals/{referral_id}/assistance",
             response={201: AssistanceOut, **problems(400, 401, 403, 404, 422)},
             operation_id="recordAssistance",
             summary="Record assistance delivered under a referral (receiving agency)")
def record_assistance(request: HttpRequest, referral_id: ReferralId, body: AssistanceRequest):
    """Only while the referral is accepted."""
    referral = _referral(request, referral_id)
    record = services.record_assistance(request.auth, referral, body.service_type,
                                        body.description, body.delivered_on, channel=CHANNEL)
    return Status(201, _assistance_out(record))


@router.get("/referrals/{referral_id}/assistance",
            response={200: list[AssistanceOut], **problems(401, 404, 422)},
            operation_id="listAssistance",
            summary="List the assistance delivered under a referral")
def list_assistance(request: HttpRequest, referral_id: ReferralId):
    """For both agencies; reading the descriptions is audited."""
    referral = _referral(request, referral_id)
    return [_assistance_out(record)
            for record in services.assistance_records(request.auth, referral, CHANNEL)]
