"""Residence permits (CETS 197 art. 14): application, decision, renewal, expiry."""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from opennrm.accounts.models import User
from opennrm.audit.models import Action
from opennrm.audit.services import AuditEvent, record_events
from opennrm.cases import access
from opennrm.cases.models import Case
from opennrm.core.dates import short_date
from opennrm.protection.models import PermitStatus, ResidencePermit
from opennrm.protection.services.common import _audit, _code, _date, _decider, _open_case, _raise


def record_residence_permit(actor: User, case: Case, permit_type: str, applied_on,
                            channel: str = "") -> ResidencePermit:
    """Record an application for a residence permit (CETS 197 art. 14)."""
    access.ensure_can_edit(actor, case)
    errors: dict = {}
    _code(permit_type, "permit_types", "permit_type", errors, _("Choose the type of permit."))
    applied = _date(applied_on, "applied_on", errors,
                    required=_("Give the date of the application."))
    _raise(errors)
    with transaction.atomic():
        case = _open_case(case)
        permit = ResidencePermit.objects.create(case=case, permit_type=permit_type,
                                                applied_on=applied, recorded_by=actor)
        _audit(actor, Action.CREATE, "residence_permit", case, ("permit_type", "applied_on"),
               channel)
    return permit


def _check_expiry(expires, decided, errors: dict) -> None:
    if expires is None and "expires_on" not in errors:
        errors["expires_on"] = [_("Give the date the permit expires.")]
    elif expires and decided and expires <= decided:
        errors.setdefault("expires_on", []).append(
            _("The permit must expire after the date of the decision."))


def decide_residence_permit(actor: User, permit: ResidencePermit, decision: str, decided_on,
                            expires_on=None, deciding_agency_code: str = "",
                            deciding_authority: str = "", channel: str = "") -> ResidencePermit:
    """Record the decision on a pending application: granted (until `expires_on`) or
    refused."""
    access.ensure_can_edit(actor, permit.case)
    errors: dict = {}
    if decision not in (PermitStatus.GRANTED, PermitStatus.REFUSED):
        errors["decision"] = [_("Choose granted or refused.")]
    decided = _date(decided_on, "decided_on", errors, required=_("Give the date of the decision."))
    expires = _date(expires_on, "expires_on", errors, past=False)
    agency, authority = _decider(deciding_agency_code, deciding_authority, errors)
    if decision == PermitStatus.GRANTED:
        _check_expiry(expires, decided, errors)
    if decided and decided < permit.applied_on:
        errors.setdefault("decided_on", []).append(
            _("The decision cannot be before the application."))
    _raise(errors)
    with transaction.atomic():
        _open_case(permit.case)
        permit = ResidencePermit.objects.select_for_update().get(pk=permit.pk)
        if permit.status != PermitStatus.APPLIED:
            raise ValidationError({"decision": [
                _("This application was already decided.")]})
        permit.status = decision
        permit.decided_on = decided
        permit.expires_on = expires if decision == PermitStatus.GRANTED else None
        permit.deciding_agency = agency
        permit.deciding_authority = authority
        permit.decision_recorded_by = actor
        permit.save()
        _audit(actor, Action.UPDATE, "residence_permit", permit.case,
               ("status", "decided_on", "expires_on", "deciding_agency"), channel)
    return permit


def renew_residence_permit(actor: User, permit: ResidencePermit, decided_on, expires_on,
                           deciding_agency_code: str = "", deciding_authority: str = "",
                           applied_on=None, channel: str = "") -> ResidencePermit:
    """Record the renewal of a granted (or expired) permit: a new permit linked to it,
    and the old one becomes "renewed"."""
    access.ensure_can_edit(actor, permit.case)
    errors: dict = {}
    decided = _date(decided_on, "decided_on", errors, required=_("Give the date of the decision."))
    expires = _date(expires_on, "expires_on", errors, past=False)
    applied = _date(applied_on, "applied_on", errors) or decided
    agency, authority = _decider(deciding_agency_code, deciding_authority, errors)
    _check_expiry(expires, decided, errors)
    if expires and permit.expires_on and expires <= permit.expires_on:
        errors.setdefault("expires_on", []).append(
            _("The renewed permit must expire after the current one (%(date)s).") % {
                "date": short_date(permit.expires_on)})
    if decided and permit.decided_on and decided < permit.decided_on:
        errors.setdefault("decided_on", []).append(
            _("The renewal cannot be decided before the permit it renews."))
    if applied and decided and applied > decided:
        errors.setdefault("applied_on", []).append(
            _("The application cannot be after the decision."))
    _raise(errors)
    with transaction.atomic():
        case = _open_case(permit.case)
        permit = ResidencePermit.objects.select_for_update().get(pk=permit.pk)
        if permit.status not in (PermitStatus.GRANTED, PermitStatus.EXPIRED):
            raise ValidationError({"permit": [
                _("Only a granted or expired permit can be renewed.")]})
        renewal = ResidencePermit.objects.create(
            case=case, permit_type=permit.permit_type, status=PermitStatus.GRANTED,
            applied_on=applied, decided_on=decided, expires_on=expires, renews=permit,
            deciding_agency=agency, deciding_authority=authority, recorded_by=actor,
            decision_recorded_by=actor)
        permit.status = PermitStatus.RENEWED
        permit.save(update_fields=["status"])
        _audit(actor, Action.UPDATE, "residence_permit", case,
               ("status", "renewal", "expires_on", "deciding_agency"), channel)
    return renewal


def expire_residence_permits(today: datetime.date | None = None) -> int:
    """Mark granted permits whose expiry date has passed as expired; returns how many.

    A daily job: the system is the actor in the audit trail.
    """
    today = today or timezone.localdate()
    with transaction.atomic():
        permits = list(ResidencePermit.objects.select_for_update()
                       .filter(status=PermitStatus.GRANTED, expires_on__lt=today)
                       .select_related("case"))
        for permit in permits:
            permit.status = PermitStatus.EXPIRED
            permit.save(update_fields=["status"])
        record_events(None, [AuditEvent(Action.UPDATE, "residence_permit",
                                        permit.case.case_number, ("status",), "expired")
                             for permit in permits], "cli")
    return len(permits)
