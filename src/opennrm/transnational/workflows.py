"""The transnational referral workflows on top of the channel: offer, accept or decline,
identity on acceptance, status updates both ways, correction, consent withdrawal with erasure
confirmed, handover.

One write path: each function checks who acts, validates, writes and queues its message in
one transaction (the outbox is written with the change), audited. Nothing leaves the node
without the person's consent in force to share data with that partner's country (purpose
`data_sharing`, `recipient_node` = the country): not even the preview.

The sender's case is known on both sides by its global id (the messages' `case_id`); the
receiving node's own case, registered through its `cases.services.register_case` for the
agency its focal point assigned, is linked to it by `TransnationalReferral.global_case_id`.
"""

import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from opennrm.accounts.models import Agency
from opennrm.audit.models import Action
from opennrm.audit.services import AuditEvent, record_event
from opennrm.cases import access as case_access
from opennrm.cases import services as case_services
from opennrm.cases.models import Case, Consent
from opennrm.core import codelists
from opennrm.transnational import access, services
from opennrm.transnational.models import (
    OutboxMessage,
    Partner,
    ReferralEvent,
    TransnationalReferral,
)
from opennrm.transnational.receiving import ReceivedMessage, register_handler

log = logging.getLogger(__name__)

Referral = TransnationalReferral
STAGES = "trm_stages"
STATUS_UPDATES = "trm_status_updates"
URGENCY = "trm_urgency"
MODES = tuple(Referral.Mode.values)
# The consent a transnational message rests on: data sharing with a named recipient, the
# recipient being the partner's country.
CONSENT_PURPOSE = "data_sharing"
# What a caseworker may pick, one by one, to share once the partner accepts.
SHAREABLE_FIELDS = (
    "given_name", "family_name", "aliases", "birth_date", "birth_year", "identity_documents",
    "phone", "address", "citizenships", "languages", "recruitment_countries",
    "exploitation_countries",
)
MESSAGE_TYPES = ("referral_offer", "referral_accepted", "referral_declined",
                 "referral_identity", "status_update", "referral_correction",
                 "consent_withdrawn", "erasure_confirmed")
CHANNEL = "web"


class WorkflowError(ValidationError):
    pass


def _channel(actor) -> str:
    return CHANNEL if actor is not None else "trm"


def consent_for(case: Case, country: str) -> Consent | None:
    """The newest consent in force to share this case's data with `country`, or None."""
    return (case.consents.in_force().filter(purpose=CONSENT_PURPOSE,
                                            recipient_node=country.upper())
            .order_by("-recorded_at", "-id").first())


def _event(referral: Referral, direction: str, message_type: str, message_id=None,
           code: str = "", note: str = "") -> ReferralEvent:
    return ReferralEvent.objects.create(referral=referral, direction=direction,
                                        message_type=message_type, message_id=message_id,
                                        code=code, note=note, at=timezone.now())


def _send(actor, referral: Referral, message_type: str, payload: dict, in_reply_to=None,
          code: str = "", note: str = "") -> OutboxMessage:
    message = services.send_message(actor, referral.partner, message_type, payload,
                                    case=referral.global_case_id, consent=referral.consent_id,
                                    in_reply_to=in_reply_to)
    _event(referral, "out", message_type, message.message_id, code, note)
    return message


def _shared_identity(case: Case, fields) -> dict:
    person = case.person
    values = {}
    for name in fields:
        value = getattr(person, name, None) if hasattr(person, name) else getattr(case, name)
        if name == "birth_date":
            value = value or None
        values[name] = value
    return values


# --- the sender ------------------------------------------------------------------------------

def offer_transnational_referral(actor, case: Case, partner: Partner, stage: str, mode: str,
                                 shared_fields, services_asked, urgency: str,
                                 risk_assessment: str | None = None) -> Referral:
    """Offer `case` to a partner node: only a pseudonymised preview travels (sex, age band,
    exploitation forms, services asked, urgency, stage, mode); the shared fields follow once
    the partner accepts."""
    case_access.ensure_can_edit(actor, case)
    errors: dict = {}
    if stage not in codelists.entries(STAGES):
        errors["stage"] = [_("Choose a stage of the transnational referral.")]
    if mode not in MODES:
        errors["mode"] = [_("Choose handover or shared.")]
    shared_fields = list(dict.fromkeys(shared_fields or []))
    unknown = [name for name in shared_fields if name not in SHAREABLE_FIELDS]
    if unknown:
        errors["shared_fields"] = [_("These fields cannot be shared: %(fields)s.") % {
            "fields": ", ".join(unknown)}]
    services_asked = list(dict.fromkeys(services_asked or []))
    if not services_asked or codelists.unknown_codes("service_types", services_asked):
        errors["services_asked"] = [_("Choose the services asked of the partner.")]
    if urgency not in codelists.entries(URGENCY):
        errors["urgency"] = [_("Choose how urgent the referral is.")]
    risk_assessment = (risk_assessment or "").strip()
    if stage == "return" and case.is_child and not risk_assessment:
        errors["risk_assessment"] = [_("A child's return needs the joint risk assessment.")]
    if case.is_closed:
        errors["case"] = [_("This case is closed.")]
    if partner.status != Partner.Status.ACTIVE:
        errors["partner"] = [_("Exchange with this partner is suspended.")]
    consent = consent_for(case, partner.country)
    if consent is None:
        errors["consent"] = [_("The person has not consented to sharing data with %(country)s "
                               "(record a consent to data sharing naming that country).") % {
            "country": partner.country}]
    earlier = Referral.objects.filter(direction=Referral.Direction.OUT, partner=partner,
                                      global_case_id=case.global_id).first()
    if earlier is not None and earlier.status != Referral.Status.DECLINED:
        errors["partner"] = [_("This case was already referred to that partner.")]
    if errors:
        raise WorkflowError(errors)
    preview = {
        "stage": stage, "mode": mode, "sex": case.person.gender, "age_band": case.age_band,
        "is_child": case.is_child, "exploitation_forms": list(case.exploitation_forms or []),
        "services_asked": services_asked, "urgency": urgency, "shared_fields": shared_fields,
        "risk_assessment_attached": bool(risk_assessment),
    }
    with transaction.atomic():
        # A declined offer may be made again (another stage, other services, more details):
        # the same referral, offered anew; its history keeps the decline.
        referral = earlier or Referral(direction=Referral.Direction.OUT, partner=partner,
                                       global_case_id=case.global_id, case=case)
        for name, value in {
                "consent": consent, "agency": case.owner_agency, "stage": stage, "mode": mode,
                "shared_fields": shared_fields, "preview": preview,
                "risk_assessment": risk_assessment, "status": Referral.Status.OFFERED,
                "created_by": actor, "created_at": timezone.now(), "decided_at": None,
                "decision_reason": ""}.items():
            setattr(referral, name, value)
        referral.save()
        message = _send(actor, referral, "referral_offer", preview)
        referral.offer_message_id = message.message_id
        referral.save(update_fields=["offer_message_id"])
    return referral


def send_identity(referral: Referral, in_reply_to=None) -> OutboxMessage | None:
    """The chosen identity fields to the partner that accepted (the node sends, in the
    transaction that applies the acceptance); None when the consent is no longer in force.
    A handover closes the sender's case."""
    case = referral.case
    if consent_for(case, referral.partner.country) is None:
        _event(referral, "out", "referral_identity", code="blocked",
               note="consent no longer in force: identity not sent")
        return None
    fields = _shared_identity(case, referral.shared_fields)
    if referral.risk_assessment:
        fields["risk_assessment"] = referral.risk_assessment
    message = _send(None, referral, "referral_identity", {"fields": fields},
                    in_reply_to=in_reply_to)
    record_event(None, AuditEvent(
        Action.EXPORT, "case", case.case_number, tuple(referral.shared_fields),
        f"transnational referral to {referral.partner.country} node "
        f"{referral.partner.node_id}"), channel="trm")
    referral.status = Referral.Status.ACTIVE
    referral.save(update_fields=["status"])
    if referral.mode == Referral.Mode.HANDOVER and not case.is_closed:
        _close_handed_over(referral, case)
    return message


def _close_handed_over(referral: Referral, case: Case) -> None:
    """The partner took the case over: the case is closed as "referred elsewhere", through
    this node's `close_case`, in the name of the caseworker who made the handover (their
    decision). If they may no longer change the case, it stays open and the referral says so:
    the partner's acceptance is applied all the same."""
    try:
        case_services.close_case(referral.created_by, case, "referred_elsewhere",
                                 channel="trm")
    except (case_access.CaseAccessDenied, case_access.CaseNotFound, ValidationError):
        _event(referral, "out", "referral_identity", code="not_closed",
               note="the case could not be closed in the name of the caseworker who handed "
                    "it over: close it by hand")


def correct_shared_data(actor, case: Case, changes: dict, channel: str = CHANNEL) -> list:
    """Correct a case (through `cases.services.update_case`) and send the corrected shared
    fields to every node that received the case."""
    sent = []
    with transaction.atomic():
        case = case_services.update_case(actor, case, changes, channel=channel)
        for referral in Referral.objects.filter(
                direction=Referral.Direction.OUT, case=case,
                status=Referral.Status.ACTIVE).select_related("partner"):
            names = [name for name in changes if name in referral.shared_fields]
            if not names or consent_for(case, referral.partner.country) is None:
                continue
            sent.append(_send(actor, referral, "referral_correction",
                              {"fields": _shared_identity(case, names)},
                              note=", ".join(names)))
    return sent


def correction_changes(values: dict) -> dict:
    """Corrections typed in a form or on the command line, as `correct_shared_data` takes
    them: a list field comma-separated (the case's own rules split it), identity documents as
    JSON; an unknown or non-shareable field is refused."""
    import json

    changes: dict = {}
    errors: dict = {}
    for name, value in values.items():
        if name not in SHAREABLE_FIELDS:
            errors[name] = [_("This field is not shared with partners.")]
        elif name == "identity_documents" and isinstance(value, str):
            try:
                changes[name] = json.loads(value or "[]")
            except ValueError:
                errors[name] = [_("Give the identity documents as JSON.")]
        else:
            changes[name] = value
    if not values:
        errors["fields"] = [_("Give at least one field to correct.")]
    if errors:
        raise WorkflowError(errors)
    return changes


def _referrals_resting_on(consent):
    """The case's referrals sent to the consent's partner country and not yet ended."""
    return Referral.objects.filter(
        direction=Referral.Direction.OUT, case_id=consent.case_id,
        partner__country=consent.recipient_node).exclude(
        status__in=[Referral.Status.DECLINED, Referral.Status.WITHDRAWN,
                    Referral.Status.ERASED])


def recipients_told_by_withdrawal(consent) -> list[str]:
    """What withdrawing `consent` would do here (registered with `cases.consent_effects`):
    the partner nodes that received the case are told to erase what they hold."""
    if consent.purpose != CONSENT_PURPOSE or not consent.recipient_node:
        return []
    partners = sorted(set(_referrals_resting_on(consent)
                          .values_list("partner__name", flat=True)))
    if not partners:
        return []
    return [ngettext(
        "%(count)d partner node that received the case will be told to erase it: "
        "%(partners)s.",
        "%(count)d partner nodes that received the case will be told to erase it: "
        "%(partners)s.", len(partners)) % {
        "count": len(partners), "partners": ", ".join(partners)}]


def on_consent_withdrawn(sender, consent, actor=None, channel="", **kwargs) -> None:
    """cases.signals.consent_withdrawn: tell every node that received the case to erase it."""
    if consent.purpose != CONSENT_PURPOSE or not consent.recipient_node:
        return
    referrals = _referrals_resting_on(consent).select_related("partner")
    for referral in referrals:
        message = _send(actor, referral, "consent_withdrawn",
                        {"withdrawn_on": consent.withdrawn_on.isoformat()
                         if consent.withdrawn_on else ""})
        referral.status = Referral.Status.WITHDRAWN
        referral.withdrawal_message_id = message.message_id
        referral.save(update_fields=["status", "withdrawal_message_id"])


# --- the receiver ----------------------------------------------------------------------------

def accept_referral(actor, referral: Referral, agency: Agency, note: str = "") -> Referral:
    """The focal point accepts an incoming offer and assigns it to a local agency."""
    access.ensure_focal_point(actor)
    if referral.direction != Referral.Direction.IN or referral.status != Referral.Status.OFFERED:
        raise WorkflowError({"status": [_("Only an offer waiting for a decision can be "
                                          "accepted.")]})
    if agency is None or not agency.is_active:
        raise WorkflowError({"agency": [_("Choose the agency that takes the case.")]})
    with transaction.atomic():
        referral.status = Referral.Status.ACCEPTED
        referral.agency = agency
        referral.decided_by = actor
        referral.decided_at = timezone.now()
        referral.decision_reason = note
        referral.save()
        _send(actor, referral, "referral_accepted", {"note": note} if note else {},
              in_reply_to=referral.offer_message_id, code="accepted", note=agency.name)
    return referral


def decline_referral(actor, referral: Referral, reason: str) -> Referral:
    access.ensure_focal_point(actor)
    reason = (reason or "").strip()
    if referral.direction != Referral.Direction.IN or referral.status != Referral.Status.OFFERED:
        raise WorkflowError({"status": [_("Only an offer waiting for a decision can be "
                                          "declined.")]})
    if not reason:
        raise WorkflowError({"reason": [_("Give the reason for declining.")]})
    with transaction.atomic():
        referral.status = Referral.Status.DECLINED
        referral.decided_by = actor
        referral.decided_at = timezone.now()
        referral.decision_reason = reason[:2000]
        referral.save()
        _send(actor, referral, "referral_declined", {"reason": reason[:2000]},
              in_reply_to=referral.offer_message_id, code="declined", note=reason[:2000])
    return referral


def send_status_update(actor, referral: Referral, status: str, note: str = "") -> OutboxMessage:
    """A step of the referral (assistance started, return date set, arrived…), to the other
    side; either side sends them while the referral is open."""
    access.ensure_can_work_on(actor, referral)
    if status not in codelists.entries(STATUS_UPDATES):
        raise WorkflowError({"status": [_("Choose a step.")]})
    if referral.status not in (Referral.Status.ACCEPTED, Referral.Status.ACTIVE):
        raise WorkflowError({"status": [_("Status updates are sent once the referral is "
                                          "accepted and until it is closed.")]})
    note = (note or "").strip()[:2000]
    with transaction.atomic():
        message = _send(actor, referral, "status_update", {"status": status, "note": note},
                        code=status, note=note)
        if status == "closed":
            referral.status = Referral.Status.CLOSED
            referral.save(update_fields=["status"])
    return message


# --- message handlers (in the transaction that records the message) --------------------------

def _referral_for(message: ReceivedMessage, direction: str | None = None) -> Referral | None:
    found = Referral.objects.select_related("partner", "case", "case__person").filter(
        partner=message.partner, global_case_id=message.case_id)
    if direction:
        found = found.filter(direction=direction)
    return found.first()


def _require(message: ReceivedMessage, direction: str) -> Referral:
    referral = _referral_for(message, direction)
    if referral is None:
        from opennrm.transnational.envelope import Rejection

        raise Rejection("unknown_case", f"This node has no referral of case {message.case_id} "
                                        "with your node.")
    return referral


def handle_offer(message: ReceivedMessage) -> None:
    payload = message.payload
    offer = {"stage": payload["stage"], "mode": payload["mode"],
             "shared_fields": payload.get("shared_fields", []), "preview": payload,
             "offer_message_id": message.message_id, "created_at": timezone.now()}
    referral, created = Referral.objects.get_or_create(
        direction=Referral.Direction.IN, partner=message.partner,
        global_case_id=message.case_id, defaults=offer)
    if not created and referral.status == Referral.Status.DECLINED:
        # Offered again after a decline: a new decision is asked for.
        for name, value in {**offer, "status": Referral.Status.OFFERED, "decided_by": None,
                            "decided_at": None, "decision_reason": "", "agency": None}.items():
            setattr(referral, name, value)
        referral.save()
    _event(referral, "in", message.type, message.message_id, payload["stage"])


def handle_accepted(message: ReceivedMessage) -> None:
    referral = _require(message, Referral.Direction.OUT)
    referral.status = Referral.Status.ACCEPTED
    referral.decided_at = timezone.now()
    referral.decision_reason = message.payload.get("note", "")
    referral.save(update_fields=["status", "decided_at", "decision_reason"])
    _event(referral, "in", message.type, message.message_id, "accepted",
           message.payload.get("note", ""))
    send_identity(referral, in_reply_to=message.message_id)


def handle_declined(message: ReceivedMessage) -> None:
    referral = _require(message, Referral.Direction.OUT)
    referral.status = Referral.Status.DECLINED
    referral.decided_at = timezone.now()
    referral.decision_reason = message.payload["reason"]
    referral.save(update_fields=["status", "decided_at", "decision_reason"])
    _event(referral, "in", message.type, message.message_id, "declined",
           message.payload["reason"])


REGISTRATION_FIELDS = tuple(name for name in SHAREABLE_FIELDS) + ("exploitation_forms",)


def handle_identity(message: ReceivedMessage) -> None:
    """Register the local case for the agency the focal point assigned, through this node's
    own `register_case` (its rules, its audit), as the focal point who accepted."""
    referral = _require(message, Referral.Direction.IN)
    fields = dict(message.payload["fields"])
    referral.risk_assessment = fields.pop("risk_assessment", "") or ""
    preview = referral.preview
    data = {name: value for name, value in fields.items()
            if name in REGISTRATION_FIELDS and value not in (None, "", [])}
    data.update(gender=preview.get("sex") or "unknown",
                first_contact_on=timezone.localdate().isoformat(),
                exploitation_forms=preview.get("exploitation_forms", []))
    if preview.get("is_child") and not (data.get("birth_date") or data.get("birth_year")):
        data["age_uncertainty"] = "possibly_child"
    dropped = []
    try:
        case = case_services.register_case(referral.decided_by, data, channel="trm",
                                           agency=referral.agency)
    except ValidationError as error:
        # What this node's rules refuse is left out (and said), not the whole case.
        dropped = sorted(set(error.message_dict) - {"gender", "first_contact_on"})
        for name in dropped:
            data.pop(name, None)
        case = case_services.register_case(referral.decided_by, data, channel="trm",
                                           agency=referral.agency)
    referral.case = case
    referral.status = Referral.Status.ACTIVE
    referral.save(update_fields=["case", "status", "risk_assessment"])
    _event(referral, "in", message.type, message.message_id, "identity",
           ("not kept (refused by this node's rules): " + ", ".join(dropped)) if dropped else "")


def handle_status(message: ReceivedMessage) -> None:
    referral = _referral_for(message)
    if referral is None:
        return  # a status update of no referral here: recorded by the channel, nothing more
    code = message.payload["status"]
    _event(referral, "in", message.type, message.message_id, code,
           message.payload.get("note", ""))
    if code == "closed" and referral.status in (Referral.Status.ACCEPTED,
                                                Referral.Status.ACTIVE):
        referral.status = Referral.Status.CLOSED
        referral.save(update_fields=["status"])


def handle_correction(message: ReceivedMessage) -> None:
    referral = _require(message, Referral.Direction.IN)
    fields = {name: value for name, value in message.payload["fields"].items()
              if name in referral.shared_fields}
    changed = []
    if referral.case is not None and fields:
        changed = case_services.apply_partner_correction(
            referral.case, fields, f"correction from {referral.partner.country} node "
                                   f"{referral.partner.node_id}")
    _event(referral, "in", message.type, message.message_id, "correction", ", ".join(changed))


def handle_consent_withdrawn(message: ReceivedMessage) -> None:
    """Erase the shared identity (audited) and confirm back."""
    referral = _require(message, Referral.Direction.IN)
    erased = []
    if referral.case is not None:
        erased = case_services.erase_identity(
            referral.case, f"consent withdrawn ({referral.partner.country} node "
                           f"{referral.partner.node_id})")
    now = timezone.now()
    referral.risk_assessment = ""
    referral.status = Referral.Status.ERASED
    referral.erased_at = now
    referral.save(update_fields=["risk_assessment", "status", "erased_at"])
    _event(referral, "in", message.type, message.message_id, "withdrawn")
    _send(None, referral, "erasure_confirmed",
          {"erased_fields": erased, "erased_at": now.isoformat()},
          in_reply_to=message.message_id, code="erased", note=", ".join(erased))


def handle_erasure_confirmed(message: ReceivedMessage) -> None:
    referral = _require(message, Referral.Direction.OUT)
    referral.erasure_confirmed_at = timezone.now()
    referral.status = Referral.Status.ERASED
    referral.save(update_fields=["erasure_confirmed_at", "status"])
    _event(referral, "in", message.type, message.message_id, "erased",
           ", ".join(message.payload.get("erased_fields", [])))


def register() -> None:
    """In TransnationalConfig.ready: the handlers of the workflow's message types."""
    register_handler("referral_offer", handle_offer)
    register_handler("referral_accepted", handle_accepted)
    register_handler("referral_declined", handle_declined)
    register_handler("referral_identity", handle_identity)
    register_handler("status_update", handle_status)
    register_handler("referral_correction", handle_correction)
    register_handler("consent_withdrawn", handle_consent_withdrawn)
    register_handler("erasure_confirmed", handle_erasure_confirmed)


# --- reads -----------------------------------------------------------------------------------

def visible_referrals(actor):
    return access.referrals_visible_to(actor).select_related("partner", "case", "agency")


def get_referral(actor, pk: int) -> Referral:
    referral = visible_referrals(actor).filter(pk=pk).first()
    if referral is None:
        raise Referral.DoesNotExist
    return referral


def events_with_state(referral: Referral) -> list[dict]:
    """Each message of the referral, with where it stands (the outbox's state for those sent:
    queued, sent, receipt received, answered, failed with its reason)."""
    events = list(referral.events.all())
    sent = {m.message_id: m for m in OutboxMessage.objects.filter(
        message_id__in=[e.message_id for e in events if e.direction == "out" and e.message_id]
    ).defer("signed", "sealed")}
    rows = []
    for event in events:
        outbox = sent.get(event.message_id)
        rows.append({"event": event, "state": outbox.status if outbox else "applied",
                     "state_label": (outbox.get_status_display() if outbox else "Received"),
                     "reason": f"{outbox.reason_code} {outbox.reason_text}".strip()
                     if outbox else ""})
    return rows


def case_referrals(actor, case: Case) -> list[Referral]:
    return list(visible_referrals(actor).filter(case=case))

