"""/api/cases/{case_number}/consents: what the person agreed to, and withdrawals."""

from django.http import Http404, HttpRequest
from ninja import Path, Router
from ninja.responses import Status

from opennrm.api.cases import CHANNEL, CaseNumber
from opennrm.api.problems import problems
from opennrm.api.schemas import ConsentGiven, ConsentOut, ConsentWithdrawal
from opennrm.cases import access, services

ConsentId = Path[int, {"ge": 1, "le": 2**63 - 1}]

router = Router(tags=["consents"])


@router.get("/{case_number}/consents", response={200: list[ConsentOut], **problems(401, 404, 422)},
            operation_id="listConsents", summary="List the consents recorded on a case")
def list_consents(request: HttpRequest, case_number: CaseNumber):
    """Withdrawn consents stay on the list, with the date of withdrawal."""
    case = access.get_visible_case(request.auth, case_number)
    return [ConsentOut.from_consent(consent)
            for consent in case.consents.select_related("recipient_agency")]


@router.post("/{case_number}/consents",
             response={201: ConsentOut, **problems(400, 401, 403, 404, 422)},
             operation_id="recordConsent", summary="Record a consent the person gave")
def record_consent(request: HttpRequest, case_number: CaseNumber, consent: ConsentGiven):
    """Sharing data needs a named recipient: an agency or a partner country."""
    case = access.get_visible_case(request.auth, case_number)
    recorded = services.record_consent(
        request.auth, case, consent.purpose, consent.given_on,
        recipient_agency_code=consent.recipient_agency, recipient_node=consent.recipient_node,
        channel=CHANNEL,
    )
    return Status(201, ConsentOut.from_consent(recorded))


@router.post("/{case_number}/consents/{consent_id}/withdraw",
             response={200: ConsentOut, **problems(400, 401, 403, 404, 422)},
             operation_id="withdrawConsent", summary="Record that the person withdrew a consent")
def withdraw_consent(request: HttpRequest, case_number: CaseNumber, consent_id: ConsentId,
                     withdrawal: ConsentWithdrawal):
    case = access.get_visible_case(request.auth, case_number)
    consent = case.consents.select_related("recipient_agency").filter(pk=consent_id).first()
    if consent is None:
        raise Http404("This case has no consent with this id.")
    services.withdraw_consent(request.auth, consent, withdrawal.withdrawn_on, channel=CHANNEL)
    return ConsentOut.from_consent(consent)
