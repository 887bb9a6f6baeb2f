"""Handing a case to another agency of the node, with the person's consent.

The owning agency's supervisor requests the transfer; it rests on a consent in force with the
purpose "transfer" naming the receiving agency. The receiving agency's supervisor accepts or
declines with a reason. On acceptance the case changes owner with its whole history (every
record hangs on the case, so screenings, consents, referrals, protection measures and the
audit trail stay with it); it has no caseworker until the new owner's supervisor assigns one;
deadlines follow the owner (`reminders.deadlines` computes them from `owner_agency`), and
`referrals` hands the open referrals the old owner made to the new one (`transfer_changed`).
The former owner keeps the transfer row (case number, to whom, when): a closed record it may
read, not the case, which it no longer sees.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from opennrm.accounts.models import Agency, User
from opennrm.audit.models import Action
from opennrm.audit.services import AuditEvent, record_events
from opennrm.cases import access, signals
from opennrm.cases.models import Case, CaseTransfer, Consent, TransferState
from opennrm.core.validation import TextLimit, check_characters, check_length, is_storable_text

CONSENT_PURPOSE = "transfer"


def receiving_agencies(case: Case) -> list[Agency]:
    """The agencies of the node a case may be transferred to: active, of its country."""
    return list(Agency.objects.filter(is_active=True, country=case.owner_agency.country)
                .exclude(pk=case.owner_agency_id).order_by("name"))


def transfer_consent(case: Case, to_agency: Agency) -> Consent | None:
    """The consent in force to transfer `case` to `to_agency`, if the person gave one."""
    return (case.consents.in_force()
            .filter(purpose=CONSENT_PURPOSE, recipient_agency=to_agency)
            .order_by("-given_on", "-id").first())


def open_transfer(case: Case) -> CaseTransfer | None:
    """The transfer of `case` waiting for an answer, if any."""
    return (case.transfers.filter(state=TransferState.REQUESTED)
            .select_related("to_agency", "from_agency", "requested_by").first())


def request_transfer(actor: User, case: Case, to_agency_code: str,
                     channel: str = "") -> CaseTransfer:
    """Ask another agency to take over `case`: needs the person's consent to transfer to it.
    Only the owning agency's supervisor; one request at a time."""
    access.ensure_can_transfer(actor, case)
    to_agency = Agency.objects.filter(code=to_agency_code.replace("\x00", ""),
                                      is_active=True).first()
    if to_agency is None or to_agency.pk == case.owner_agency_id \
            or to_agency.country != case.owner_agency.country:
        raise ValidationError({"to_agency": [_("Choose another agency of this country.")]})
    with transaction.atomic():
        case = Case.objects.select_for_update().select_related("owner_agency").get(pk=case.pk)
        if case.is_closed:
            raise ValidationError({"to_agency": [
                _("This case is closed. Reopen it to transfer it.")]})
        if open_transfer(case) is not None:
            raise ValidationError({"to_agency": [
                _("A transfer of this case is already waiting for an answer.")]})
        consent = transfer_consent(case, to_agency)
        if consent is None:
            raise ValidationError({"to_agency": [
                _("The person has not consented to a transfer to %(agency)s. Record their "
                  "consent to \"Transfer of the case to a named agency\" first.")
                % {"agency": to_agency.name}]})
        transfer = CaseTransfer.objects.create(
            case=case, from_agency=case.owner_agency, to_agency=to_agency, consent=consent,
            requested_by=actor)
        record_events(actor, [AuditEvent(Action.UPDATE, "case", case.case_number,
                                         ("transfer",), f"transfer requested to "
                                                        f"{to_agency.code}")], channel)
        signals.transfer_changed.send(sender=CaseTransfer, transfer=transfer, actor=actor,
                                      channel=channel)
    return transfer


def get_transfer_to_answer(actor: User, transfer_id: int) -> CaseTransfer:
    """A transfer waiting for `actor`'s agency's answer; CaseNotFound for any other (the
    case is not theirs yet: they learn no more of it than the request)."""
    transfer = (access.transfers_to_answer(actor)
                .select_related("case", "from_agency", "to_agency", "requested_by")
                .filter(pk=transfer_id).first())
    if transfer is None:
        raise access.CaseNotFound(str(transfer_id))
    return transfer


def accept_transfer(actor: User, transfer: CaseTransfer, channel: str = "") -> CaseTransfer:
    """The receiving agency's supervisor takes the case over: it changes owner, has no
    caseworker until one is assigned, and keeps its history."""
    transfer = get_transfer_to_answer(actor, transfer.pk)
    with transaction.atomic():
        transfer = CaseTransfer.objects.select_for_update().get(pk=transfer.pk)
        if transfer.state != TransferState.REQUESTED:
            raise ValidationError({"transfer": [_("This transfer was already answered.")]})
        if not transfer.consent.is_active:
            raise ValidationError({"transfer": [
                _("The person withdrew their consent to this transfer.")]})
        case = Case.objects.select_for_update().get(pk=transfer.case_id)
        case.owner_agency_id = transfer.to_agency_id
        case.assigned_to = None
        case.save(update_fields=["owner_agency", "assigned_to", "updated_at"])
        _answer(actor, transfer, TransferState.ACCEPTED, "", channel)
    return transfer


def decline_transfer(actor: User, transfer: CaseTransfer, reason: str,
                     channel: str = "") -> CaseTransfer:
    """The receiving agency's supervisor declines, saying why; the case stays where it is."""
    transfer = get_transfer_to_answer(actor, transfer.pk)
    errors: dict = {}
    reason = reason.strip() if isinstance(reason, str) and is_storable_text(reason) else ""
    if not reason:
        errors["reason"] = [_("Say why your agency declines the case.")]
    elif check_characters(reason, "reason", errors, free_text=True):
        check_length(reason, "reason", errors, limit=TextLimit.LONG)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        transfer = CaseTransfer.objects.select_for_update().get(pk=transfer.pk)
        if transfer.state != TransferState.REQUESTED:
            raise ValidationError({"transfer": [_("This transfer was already answered.")]})
        _answer(actor, transfer, TransferState.DECLINED, reason, channel)
    return transfer


def _answer(actor: User, transfer: CaseTransfer, state: str, reason: str,
            channel: str) -> None:
    transfer.state = state
    transfer.decided_by = actor
    transfer.decided_at = timezone.now()
    transfer.reason = reason
    transfer.save(update_fields=["state", "decided_by", "decided_at", "reason"])
    fields = ("transfer", "owner_agency", "assigned_to") if state == TransferState.ACCEPTED \
        else ("transfer",)
    record_events(actor, [AuditEvent(Action.UPDATE, "case", transfer.case.case_number, fields,
                                     f"transfer {state} from {transfer.from_agency.code}")],
                  channel)
    signals.transfer_changed.send(sender=CaseTransfer, transfer=transfer, actor=actor,
                                  channel=channel)


def transferred_away(user: User):
    """The cases `user`'s agency handed to another agency: its closed records of them."""
    return (access.transfers_visible_to(user)
            .filter(from_agency_id=user.agency_id, state=TransferState.ACCEPTED)
            .select_related("case", "to_agency", "decided_by", "requested_by")
            .order_by("-decided_at", "-id"))


def transfers_requested_by(user: User):
    """The requests `user`'s agency sent that wait for an answer or were declined."""
    return (access.transfers_visible_to(user)
            .filter(from_agency_id=user.agency_id)
            .exclude(state=TransferState.ACCEPTED)
            .select_related("case", "to_agency")
            .order_by("-requested_at", "-id"))


def get_former_case_record(user: User, transfer_id: int, channel: str = "") -> CaseTransfer:
    """The former owner's closed record of a case it transferred (the accepted transfer),
    read-only; audited as a read of the transfer only. CaseNotFound for anyone else."""
    record = transferred_away(user).filter(pk=transfer_id).first()
    if record is None:
        raise access.CaseNotFound(str(transfer_id))
    record_events(user, [AuditEvent(Action.READ, "case", record.case.case_number,
                                    ("transfer",), "former owner's record")], channel)
    return record
