"""The one write path for the protection timeline and the support plan.

Every function checks that the actor may change the case (`access.ensure_can_edit`),
validates, writes and records the audit trail in one transaction: bad input changes
nothing. Audit entries name the case number; free text that may describe the person is
encrypted, and reading it is audited by the pages and routes that show it.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import pycountry
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from opennrm.accounts.models import Agency
from opennrm.audit.models import Action
from opennrm.audit.services import AuditEvent, record_events
from opennrm.cases import access
from opennrm.cases.models import Case
from opennrm.core import codelists
from opennrm.core.validation import clean_date, clean_text
from opennrm.protection.models import (
    CompensationClaim,
    CompensationOutcome,
    CriminalProceeding,
    PermitStatus,
    ProceedingStageChange,
    ReflectionPeriod,
    ReflectionPeriodExtension,
    ResidencePermit,
    ReturnPlan,
    RiskLevel,
    SupportAction,
    SupportPlan,
    SupportPlanStatus,
    SupportReview,
)
from opennrm.screening.models import Outcome

TEXT_LIMIT = 10000
AUTHORITY_LIMIT = 200
# CETS 197 art. 13(1): a recovery and reflection period of at least 30 days.
CONVENTION_MINIMUM_DAYS = 30
UNCHANGED = object()


def minimum_reflection_days() -> int:
    """The country's minimum length of a reflection period; never below the Convention's."""
    days = getattr(settings, "OPENNRM_REFLECTION_PERIOD_MIN_DAYS", CONVENTION_MINIMUM_DAYS)
    return max(int(days), CONVENTION_MINIMUM_DAYS)


# --- validation helpers ----------------------------------------------------------------------

def _date(value, field: str, errors: dict, *, required: str = "",
          past: bool = True) -> datetime.date | None:
    """`value` as a date. `required` is the message when it is missing; `past` refuses a
    date after today."""
    return clean_date(value, field, errors, required=required, not_in_future=past)


def _text(value, field: str, errors: dict, limit: int = TEXT_LIMIT) -> str:
    return clean_text(value, field, errors, limit=limit)


def _code(value, codelist: str, field: str, errors: dict, message: str) -> str:
    if value not in codelists.entries(codelist):
        errors.setdefault(field, []).append(message)
    return value


def _agency(code: str, field: str, errors: dict) -> Agency | None:
    code = (code or "").replace("\x00", "")
    if not code:
        return None
    agency = Agency.objects.filter(code=code, is_active=True).first()
    if agency is None:
        errors.setdefault(field, []).append(_("No agency with code %(code)r.") % {"code": code})
    return agency


def _decider(agency_code: str, authority: str, errors: dict) -> tuple[Agency | None, str]:
    """Who decided: an agency on the platform and/or the name of another authority."""
    agency = _agency(agency_code, "deciding_agency", errors)
    authority = _text(authority, "deciding_authority", errors, AUTHORITY_LIMIT)
    if not agency_code and not authority:
        errors.setdefault("deciding_authority", []).append(
            _("Name the agency or authority that decided."))
    return agency, authority


def _amount(value, field: str, errors: dict) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite() or amount < 0 or amount >= Decimal(10) ** 12:
        errors.setdefault(field, []).append(_("Enter an amount such as 1500.00."))
        return None
    return amount.quantize(Decimal("0.01"))


def _raise(errors: dict) -> None:
    if errors:
        raise ValidationError(errors)


def _open_case(case: Case) -> Case:
    """The case re-read under a row lock; a closed case takes no new protection steps."""
    case = Case.objects.select_for_update().get(pk=case.pk)
    if case.is_closed:
        raise ValidationError({"case": [
            _("This case is closed. Reopen it to record protection steps.")]})
    return case


def _audit(actor, action: str, object_type: str, case: Case, fields, channel: str) -> None:
    record_events(actor, [AuditEvent(action, object_type, case.case_number, tuple(fields))],
                  channel)


# --- the recovery and reflection period ------------------------------------------------------

def grant_reflection_period(actor, case: Case, starts_on, ends_on, decided_on,
                            deciding_agency_code: str = "", deciding_authority: str = "",
                            channel: str = "") -> ReflectionPeriod:
    """Record the recovery and reflection period granted to the person (one per case).

    It lasts at least the country's minimum (`minimum_reflection_days`, never below 30).
    """
    access.ensure_can_edit(actor, case)
    errors: dict = {}
    starts = _date(starts_on, "starts_on", errors, past=False,
                   required=_("Give the first day of the period."))
    ends = _date(ends_on, "ends_on", errors, past=False,
                 required=_("Give the last day of the period."))
    decided = _date(decided_on, "decided_on", errors, required=_("Give the date of the decision."))
    agency, authority = _decider(deciding_agency_code, deciding_authority, errors)
    minimum = minimum_reflection_days()
    if starts and case.first_contact_on and starts < case.first_contact_on:
        errors.setdefault("starts_on", []).append(
            _("The period cannot start before the first contact."))
    if starts and ends and ends < starts + datetime.timedelta(days=minimum):
        errors.setdefault("ends_on", []).append(
            _("The period must last at least %(days)d days: end it on %(date)s or later.") % {
                "days": minimum,
                "date": (starts + datetime.timedelta(days=minimum)).isoformat()})
    _raise(errors)
    with transaction.atomic():
        case = _open_case(case)
        if case.reflection_periods.exists():
            raise ValidationError({"starts_on": [
                _("This case already has a recovery and reflection period: extend it "
                  "instead.")]})
        period = ReflectionPeriod.objects.create(
            case=case, starts_on=starts, ends_on=ends, original_ends_on=ends,
            decided_on=decided, deciding_agency=agency, deciding_authority=authority,
            recorded_by=actor)
        _audit(actor, Action.CREATE, "reflection_period", case,
               ("starts_on", "ends_on", "decided_on", "deciding_agency"), channel)
    return period


def extend_reflection_period(actor, period: ReflectionPeriod, ends_on, reason: str, decided_on,
                             deciding_agency_code: str = "", deciding_authority: str = "",
                             channel: str = "") -> ReflectionPeriod:
    """Move the end of a reflection period later; the earlier ends stay in its history."""
    access.ensure_can_edit(actor, period.case)
    errors: dict = {}
    ends = _date(ends_on, "ends_on", errors, past=False,
                 required=_("Give the new last day of the period."))
    _code(reason, "reflection_extension_reasons", "reason", errors,
          _("Choose the reason for the extension."))
    decided = _date(decided_on, "decided_on", errors, required=_("Give the date of the decision."))
    agency, authority = _decider(deciding_agency_code, deciding_authority, errors)
    if decided and decided < period.decided_on:
        errors.setdefault("decided_on", []).append(
            _("The extension cannot be decided before the period was granted."))
    _raise(errors)
    with transaction.atomic():
        _open_case(period.case)
        period = ReflectionPeriod.objects.select_for_update().get(pk=period.pk)
        if ends <= period.ends_on:
            raise ValidationError({"ends_on": [
                _("The new end must be after the current end (%(date)s).") % {
                    "date": period.ends_on.isoformat()}]})
        ReflectionPeriodExtension.objects.create(
            period=period, previous_ends_on=period.ends_on, new_ends_on=ends, reason=reason,
            decided_on=decided, deciding_agency=agency, deciding_authority=authority,
            recorded_by=actor)
        period.ends_on = ends
        period.extended_on = decided
        period.extension_reason = reason
        period.save(update_fields=["ends_on", "extended_on", "extension_reason"])
        _audit(actor, Action.UPDATE, "reflection_period", period.case,
               ("ends_on", "extension_reason", "extended_on"), channel)
    return period


# --- residence permits -----------------------------------------------------------------------

def record_residence_permit(actor, case: Case, permit_type: str, applied_on,
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


def decide_residence_permit(actor, permit: ResidencePermit, decision: str, decided_on,
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


def renew_residence_permit(actor, permit: ResidencePermit, decided_on, expires_on,
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
                "date": permit.expires_on.isoformat()})
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


# --- criminal proceedings --------------------------------------------------------------------

def record_proceeding(actor, case: Case, stage: str, role: str, opened_on,
                      deciding_agency_code: str = "", deciding_authority: str = "",
                      case_reference: str = "", protection_measures: str = "",
                      non_punishment_considered: bool = False, non_punishment_note: str = "",
                      channel: str = "") -> CriminalProceeding:
    """Record criminal proceedings the person takes part in, with the person's role and
    whether non-punishment (CETS 197 art. 26) was considered."""
    access.ensure_can_edit(actor, case)
    errors: dict = {}
    _code(stage, "proceeding_stages", "stage", errors, _("Choose the stage of the proceedings."))
    _code(role, "proceeding_roles", "role", errors,
          _("Choose the person's role in the proceedings."))
    opened = _date(opened_on, "opened_on", errors,
                   required=_("Give the date the proceedings began."))
    agency, authority = _decider(deciding_agency_code, deciding_authority, errors)
    reference = _text(case_reference, "case_reference", errors, AUTHORITY_LIMIT)
    measures = _text(protection_measures, "protection_measures", errors)
    note = _text(non_punishment_note, "non_punishment_note", errors)
    if note and not non_punishment_considered:
        errors.setdefault("non_punishment_considered", []).append(
            _("Tick that non-punishment was considered, or leave the note empty."))
    _raise(errors)
    with transaction.atomic():
        case = _open_case(case)
        proceeding = CriminalProceeding.objects.create(
            case=case, opened_on=opened, stage=stage, role=role, case_reference=reference,
            protection_measures=measures, non_punishment_considered=bool(non_punishment_considered),
            non_punishment_note=note, deciding_agency=agency, deciding_authority=authority,
            recorded_by=actor)
        ProceedingStageChange.objects.create(
            proceeding=proceeding, stage=stage, decided_on=opened, deciding_agency=agency,
            deciding_authority=authority, recorded_by=actor)
        _audit(actor, Action.CREATE, "criminal_proceeding", case,
               ("stage", "role", "case_reference", "protection_measures",
                "non_punishment_considered", "non_punishment_note"), channel)
    return proceeding


def update_proceeding_stage(actor, proceeding: CriminalProceeding, stage: str, decided_on,
                            deciding_agency_code: str = "", deciding_authority: str = "",
                            non_punishment_considered: bool | None = None,
                            non_punishment_note: str | None = None,
                            channel: str = "") -> CriminalProceeding:
    """Record the stage the proceedings reached (and, if given, the non-punishment
    consideration); every stage stays in the history."""
    access.ensure_can_edit(actor, proceeding.case)
    errors: dict = {}
    _code(stage, "proceeding_stages", "stage", errors, _("Choose the stage of the proceedings."))
    decided = _date(decided_on, "decided_on", errors, required=_("Give the date of the decision."))
    agency, authority = _decider(deciding_agency_code, deciding_authority, errors)
    note = None if non_punishment_note is None else _text(non_punishment_note,
                                                          "non_punishment_note", errors)
    _raise(errors)
    with transaction.atomic():
        _open_case(proceeding.case)
        proceeding = CriminalProceeding.objects.select_for_update().get(pk=proceeding.pk)
        latest = proceeding.stage_changes.order_by("-decided_on", "-id").first()
        if stage == proceeding.stage:
            errors["stage"] = [_("The proceedings are already at this stage.")]
        if latest and decided < latest.decided_on:
            errors["decided_on"] = [_("The date is before the previous stage (%(date)s).") % {
                "date": latest.decided_on.isoformat()}]
        considered = (proceeding.non_punishment_considered if non_punishment_considered is None
                      else bool(non_punishment_considered))
        if note and not considered:
            errors["non_punishment_considered"] = [
                _("Tick that non-punishment was considered, or leave the note empty.")]
        _raise(errors)
        ProceedingStageChange.objects.create(
            proceeding=proceeding, stage=stage, decided_on=decided, deciding_agency=agency,
            deciding_authority=authority, recorded_by=actor)
        fields = ["stage"]
        proceeding.stage = stage
        if considered != proceeding.non_punishment_considered:
            proceeding.non_punishment_considered = considered
            fields.append("non_punishment_considered")
        if note is not None and note != proceeding.non_punishment_note:
            proceeding.non_punishment_note = note
            fields.append("non_punishment_note")
        proceeding.save(update_fields=fields)
        _audit(actor, Action.UPDATE, "criminal_proceeding", proceeding.case, fields, channel)
    return proceeding


# --- compensation ----------------------------------------------------------------------------

def _currency(code: str, errors: dict) -> str:
    code = (code or "").upper()
    if len(code) != 3 or pycountry.currencies.get(alpha_3=code) is None:
        errors.setdefault("currency", []).append(
            _("Enter a currency code such as MDL, EUR or UAH."))
    return code


def record_compensation_claim(actor, case: Case, source: str, filed_on, currency: str,
                              amount_claimed=None, channel: str = "") -> CompensationClaim:
    """Record a claim for compensation (CETS 197 art. 15); its outcome starts pending."""
    access.ensure_can_edit(actor, case)
    errors: dict = {}
    _code(source, "compensation_sources", "source", errors,
          _("Choose from whom compensation is claimed."))
    filed = _date(filed_on, "filed_on", errors, required=_("Give the date the claim was filed."))
    currency = _currency(currency, errors)
    amount = _amount(amount_claimed, "amount_claimed", errors)
    _raise(errors)
    with transaction.atomic():
        case = _open_case(case)
        claim = CompensationClaim.objects.create(
            case=case, source=source, filed_on=filed, currency=currency, amount_claimed=amount,
            recorded_by=actor)
        _audit(actor, Action.CREATE, "compensation_claim", case,
               ("source", "filed_on", "amount_claimed"), channel)
    return claim


def record_compensation_outcome(actor, claim: CompensationClaim, outcome: str, decided_on,
                                amount_awarded=None, deciding_agency_code: str = "",
                                deciding_authority: str = "",
                                channel: str = "") -> CompensationClaim:
    """Record what became of a claim: awarded, refused, or paid (`decided_on` is then the
    day of payment)."""
    access.ensure_can_edit(actor, claim.case)
    errors: dict = {}
    if outcome not in (CompensationOutcome.AWARDED, CompensationOutcome.REFUSED,
                       CompensationOutcome.PAID):
        errors["outcome"] = [_("Choose awarded, refused or paid.")]
    decided = _date(decided_on, "decided_on", errors, required=_("Give the date of the decision."))
    amount = _amount(amount_awarded, "amount_awarded", errors)
    agency, authority = _decider(deciding_agency_code, deciding_authority, errors)
    if decided and decided < claim.filed_on:
        errors.setdefault("decided_on", []).append(
            _("The date cannot be before the claim was filed."))
    _raise(errors)
    with transaction.atomic():
        _open_case(claim.case)
        claim = CompensationClaim.objects.select_for_update().get(pk=claim.pk)
        allowed = {CompensationOutcome.PENDING: {"awarded", "refused", "paid"},
                   CompensationOutcome.AWARDED: {"paid"}}.get(claim.outcome, set())
        if outcome not in allowed:
            raise ValidationError({"outcome": [
                _("Compensation was already awarded: only its payment can be recorded now.")
                if claim.outcome == CompensationOutcome.AWARDED
                else _("This claim already has a final outcome.")]})
        if outcome in (CompensationOutcome.AWARDED, CompensationOutcome.PAID):
            amount = amount if amount is not None else claim.amount_awarded
            if amount is None:
                raise ValidationError({"amount_awarded": [_("Give the amount awarded.")]})
            claim.amount_awarded = amount
        if outcome == CompensationOutcome.PAID:
            if claim.decided_on and decided < claim.decided_on:
                raise ValidationError({"decided_on": [
                    _("The payment cannot be before the award (%(date)s).") % {
                        "date": claim.decided_on.isoformat()}]})
            claim.paid_on = decided
            claim.decided_on = claim.decided_on or decided
        else:
            claim.decided_on = decided
        claim.outcome = outcome
        claim.deciding_agency = agency
        claim.deciding_authority = authority
        claim.outcome_recorded_by = actor
        claim.save()
        _audit(actor, Action.UPDATE, "compensation_claim", claim.case,
               ("outcome", "amount_awarded", "decided_on"), channel)
    return claim


# --- return and reintegration ----------------------------------------------------------------

CHILD_RETURN_NEEDS_ASSESSMENT = gettext_noop(
    "A child's return cannot be planned or recorded without a documented risk and security "
    "assessment (CETS 197 art. 16(7)).")


def plan_return(actor, case: Case, destination_country: str, voluntary: bool, decided_on,
                deciding_agency_code: str = "", deciding_authority: str = "",
                planned_return_on=None, risk_assessed_on=None, risk_assessed_by: str = "",
                risk_level: str = "", risk_summary: str = "", no_assessment_reason: str = "",
                channel: str = "") -> ReturnPlan:
    """Plan a return to the country of origin or residence (CETS 197 art. 16).

    A child's return needs a documented risk assessment (date, assessor, level, summary)
    that does not find a high risk; an adult's return without one needs a stated reason.
    """
    access.ensure_can_edit(actor, case)
    errors: dict = {}
    country = (destination_country or "").upper()
    if not country or codelists.unknown_codes("countries", [country]):
        errors["destination_country"] = [_("Choose the country of return.")]
    decided = _date(decided_on, "decided_on", errors, required=_("Give the date of the decision."))
    agency, authority = _decider(deciding_agency_code, deciding_authority, errors)
    planned = _date(planned_return_on, "planned_return_on", errors, past=False)
    assessed = _date(risk_assessed_on, "risk_assessed_on", errors)
    assessor = _text(risk_assessed_by, "risk_assessed_by", errors, AUTHORITY_LIMIT)
    summary = _text(risk_summary, "risk_summary", errors)
    reason = _text(no_assessment_reason, "no_assessment_reason", errors)
    if risk_level and risk_level not in RiskLevel.values:
        errors["risk_level"] = [_("Choose the level of risk.")]
    assessment_given = bool(assessed or assessor or risk_level or summary)
    if assessment_given:
        # A documented assessment: when, by whom, what it found and why.
        for field, value, message in (
                ("risk_assessed_on", assessed, _("Give the date of the risk assessment.")),
                ("risk_assessed_by", assessor, _("Name who assessed the risk.")),
                ("risk_level", risk_level, _("Choose the level of risk.")),
                ("risk_summary", summary, _("Summarise what the risk assessment found."))):
            if not value and field not in errors:
                errors[field] = [message]
    if planned and decided and planned < decided:
        errors.setdefault("planned_return_on", []).append(
            _("The return cannot be planned for before the decision."))
    case = Case.objects.get(pk=case.pk)
    if case.is_child:
        if not assessment_given:
            errors.setdefault("risk_assessed_on", []).append(_(CHILD_RETURN_NEEDS_ASSESSMENT))
        elif risk_level == RiskLevel.HIGH:
            errors.setdefault("risk_level", []).append(
                _("The risk assessment finds a high risk: a child may not be returned against "
                  "it (CETS 197 art. 16(7))."))
    elif not assessment_given and not reason:
        errors["no_assessment_reason"] = [
            _("Without a risk assessment, give the reason why the return goes ahead without "
              "one.")]
    _raise(errors)
    with transaction.atomic():
        case = _open_case(case)
        plan = ReturnPlan.objects.create(
            case=case, destination_country=country, voluntary=bool(voluntary),
            decided_on=decided, deciding_agency=agency, deciding_authority=authority,
            planned_return_on=planned, risk_assessed_on=assessed, risk_assessed_by=assessor,
            risk_level=risk_level, risk_summary=summary,
            no_assessment_reason="" if assessment_given else reason, recorded_by=actor)
        _audit(actor, Action.CREATE, "return_plan", case,
               ("destination_country", "voluntary", "risk_assessed_on", "risk_level",
                "risk_summary", "no_assessment_reason"), channel)
    return plan


def record_return(actor, plan: ReturnPlan, returned_on, reintegration_follow_up: str = "",
                  follow_up_on=None, channel: str = "") -> ReturnPlan:
    """Record that the person returned, and who follows up their reintegration and when."""
    access.ensure_can_edit(actor, plan.case)
    errors: dict = {}
    returned = _date(returned_on, "returned_on", errors,
                     required=_("Give the date of the return."))
    follow_up = _text(reintegration_follow_up, "reintegration_follow_up", errors)
    follow_up_date = _date(follow_up_on, "follow_up_on", errors, past=False)
    if returned and returned < plan.decided_on:
        errors.setdefault("returned_on", []).append(
            _("The return cannot be before it was decided."))
    if follow_up_date and returned and follow_up_date < returned:
        errors.setdefault("follow_up_on", []).append(
            _("The follow-up cannot be before the return."))
    _raise(errors)
    with transaction.atomic():
        case = _open_case(plan.case)
        plan = ReturnPlan.objects.select_for_update().get(pk=plan.pk)
        if plan.returned_on:
            raise ValidationError({"returned_on": [_("This return was already recorded.")]})
        # The person's age may have been corrected since the plan was made.
        if case.is_child and not plan.has_risk_assessment:
            raise ValidationError({"returned_on": [_(CHILD_RETURN_NEEDS_ASSESSMENT)]})
        plan.returned_on = returned
        plan.reintegration_follow_up = follow_up
        plan.follow_up_on = follow_up_date
        plan.return_recorded_by = actor
        plan.save(update_fields=["returned_on", "reintegration_follow_up", "follow_up_on",
                                 "return_recorded_by"])
        _audit(actor, Action.UPDATE, "return_plan", case,
               ("returned_on", "reintegration_follow_up", "follow_up_on"), channel)
    return plan


# --- the support plan ------------------------------------------------------------------------

def _review_date(value, field: str, after: datetime.date | None, errors: dict):
    day = _date(value, field, errors, past=False)
    if day and after and day <= after:
        errors.setdefault(field, []).append(
            _("The next review must be after %(date)s.") % {"date": after.isoformat()})
    return day


def _active_plan(plan: SupportPlan) -> SupportPlan:
    _open_case(plan.case)
    plan = SupportPlan.objects.select_for_update().get(pk=plan.pk)
    if not plan.is_active:
        raise ValidationError({"plan": [_("This support plan is closed. Reopen it first.")]})
    return plan


def create_support_plan(actor, case: Case, objectives: str, agreed_on,
                        responsible_agency_code: str = "", next_review_on=None,
                        channel: str = "") -> SupportPlan:
    """Record the person's support plan with this agency (one per case); the responsible
    agency is the actor's own unless named."""
    access.ensure_can_edit(actor, case)
    errors: dict = {}
    objectives = _text(objectives, "objectives", errors)
    if not objectives and "objectives" not in errors:
        errors["objectives"] = [_("Write the objectives agreed with the person.")]
    agreed = _date(agreed_on, "agreed_on", errors,
                   required=_("Give the date the plan was agreed."))
    agency = _agency(responsible_agency_code, "responsible_agency", errors) or actor.agency
    review = _review_date(next_review_on, "next_review_on", agreed, errors)
    _raise(errors)
    with transaction.atomic():
        case = _open_case(case)
        if SupportPlan.objects.filter(case=case).exists():
            raise ValidationError({"plan": [
                _("This case already has a support plan: change it instead.")]})
        plan = SupportPlan.objects.create(
            case=case, objectives=objectives, agreed_on=agreed, responsible_agency=agency,
            next_review_on=review, created_by=actor)
        _audit(actor, Action.CREATE, "support_plan", case,
               ("objectives", "responsible_agency", "next_review_on"), channel)
    return plan


def update_support_plan(actor, plan: SupportPlan, *, objectives=UNCHANGED,
                        responsible_agency_code=UNCHANGED, next_review_on=UNCHANGED,
                        status=UNCHANGED, channel: str = "") -> SupportPlan:
    """Change the objectives, the responsible agency or the next review, or close or
    reopen the plan; only what is given changes, and only changes are audited."""
    access.ensure_can_edit(actor, plan.case)
    errors: dict = {}
    changes: dict = {}
    if objectives is not UNCHANGED:
        changes["objectives"] = _text(objectives, "objectives", errors)
        if not changes["objectives"] and "objectives" not in errors:
            errors["objectives"] = [_("Write the objectives agreed with the person.")]
    if responsible_agency_code is not UNCHANGED:
        agency = _agency(responsible_agency_code, "responsible_agency", errors)
        if agency is None and "responsible_agency" not in errors:
            errors["responsible_agency"] = [_("Choose the responsible agency.")]
        changes["responsible_agency"] = agency
    if next_review_on is not UNCHANGED:
        changes["next_review_on"] = _review_date(next_review_on, "next_review_on",
                                                 plan.agreed_on, errors)
    if status is not UNCHANGED:
        if status not in SupportPlanStatus.values:
            errors["status"] = [_("Choose active or closed.")]
        changes["status"] = status
    _raise(errors)
    with transaction.atomic():
        _open_case(plan.case)
        plan = SupportPlan.objects.select_for_update().get(pk=plan.pk)
        changed = [name for name, value in changes.items() if getattr(plan, name) != value]
        for name in changed:
            setattr(plan, name, changes[name])
        if "status" in changed:
            plan.closed_on = (timezone.localdate() if plan.status == SupportPlanStatus.CLOSED
                              else None)
        if changed:
            plan.save()
            _audit(actor, Action.UPDATE, "support_plan", plan.case, changed, channel)
    return plan


def add_support_action(actor, plan: SupportPlan, description: str,
                       responsible_agency_code: str = "", due_on=None,
                       channel: str = "") -> SupportAction:
    """Add an action to an active plan: what is to be done, by which agency, by when."""
    access.ensure_can_edit(actor, plan.case)
    errors: dict = {}
    description = _text(description, "description", errors, 1000)
    if not description and "description" not in errors:
        errors["description"] = [_("Describe the action.")]
    agency = _agency(responsible_agency_code, "responsible_agency", errors) or actor.agency
    due = _date(due_on, "due_on", errors, past=False)
    _raise(errors)
    with transaction.atomic():
        plan = _active_plan(plan)
        action = SupportAction.objects.create(plan=plan, description=description,
                                              responsible_agency=agency, due_on=due,
                                              recorded_by=actor)
        _audit(actor, Action.UPDATE, "support_plan", plan.case,
               ("actions.description", "actions.responsible_agency", "actions.due_on"),
               channel)
    return action


def complete_support_action(actor, action: SupportAction, done_on,
                            channel: str = "") -> SupportAction:
    """Mark an action of the plan as done."""
    access.ensure_can_edit(actor, action.plan.case)
    errors: dict = {}
    done = _date(done_on, "done_on", errors, required=_("Give the date the action was done."))
    _raise(errors)
    with transaction.atomic():
        plan = _active_plan(action.plan)
        action = SupportAction.objects.select_for_update().get(pk=action.pk)
        if action.done_on:
            raise ValidationError({"done_on": [_("This action is already done.")]})
        action.done_on = done
        action.save(update_fields=["done_on"])
        _audit(actor, Action.UPDATE, "support_plan", plan.case, ("actions.done_on",), channel)
    return action


def record_support_review(actor, plan: SupportPlan, reviewed_on, note: str = "",
                          next_review_on=None, channel: str = "") -> SupportReview:
    """Record a review of the plan with the person, and when the next one is due."""
    access.ensure_can_edit(actor, plan.case)
    errors: dict = {}
    reviewed = _date(reviewed_on, "reviewed_on", errors,
                     required=_("Give the date of the review."))
    if reviewed and reviewed < plan.agreed_on:
        errors.setdefault("reviewed_on", []).append(
            _("The review cannot be before the plan was agreed."))
    note = _text(note, "note", errors)
    review_date = _review_date(next_review_on, "next_review_on", reviewed, errors)
    _raise(errors)
    with transaction.atomic():
        plan = _active_plan(plan)
        review = SupportReview.objects.create(plan=plan, reviewed_on=reviewed, note=note,
                                              next_review_on=review_date, reviewed_by=actor)
        plan.next_review_on = review_date
        plan.save(update_fields=["next_review_on", "updated_at"])
        _audit(actor, Action.UPDATE, "support_plan", plan.case,
               ("reviews.note", "next_review_on"), channel)
    return review


# --- the timeline ----------------------------------------------------------------------------

@dataclass(frozen=True)
class TimelineEntry:
    """One step of a case's path through the referral mechanism. The label never holds
    encrypted data. `upcoming` steps (an end, an expiry, a review due) lie ahead."""

    date: datetime.date
    kind: str
    label: str
    decided_by: str = ""
    recorded_by: str = ""
    upcoming: bool = False


def _username(user) -> str:
    return user.username if user else ""


def _referral_entries(case: Case) -> list[TimelineEntry]:
    """Referrals, their answers and the assistance delivered (read through the case's
    relations, so protection does not import referrals; reasons and descriptions, which are
    encrypted, are not loaded)."""
    entries = []
    for referral in case.referrals.select_related("service", "recipient_agency"):
        service = referral.service.name
        events = referral.events.select_related("actor", "agency").defer("reason")
        for event in events:
            if not event.from_state:
                label = _("Referred to %(service)s (%(agency)s)") % {
                    "service": service, "agency": referral.recipient_agency.name}
            else:
                label = _("Referral to %(service)s: %(state)s") % {
                    "service": service, "state": event.get_to_state_display()}
            entries.append(TimelineEntry(
                timezone.localtime(event.at).date(), f"referral_{event.to_state}", label,
                event.agency.name if event.agency_id else "", _username(event.actor)))
        assistance = referral.assistance.select_related("delivering_agency", "delivered_by")
        for delivered in assistance.defer("description"):
            entries.append(TimelineEntry(
                delivered.delivered_on, "assistance_delivered",
                _("Assistance delivered: %(kind)s") % {
                    "kind": codelists.label("service_types", delivered.service_type)},
                delivered.delivering_agency.name, _username(delivered.delivered_by)))
    return entries


def _period_entries(case: Case, today) -> list[TimelineEntry]:
    entries = []
    periods = case.reflection_periods.select_related("deciding_agency", "recorded_by")
    for period in periods.prefetch_related("extensions__deciding_agency",
                                           "extensions__recorded_by"):
        entries.append(TimelineEntry(
            period.decided_on, "reflection_period_granted",
            _("Recovery and reflection period granted: %(start)s to %(end)s") % {
                "start": period.starts_on.isoformat(),
                "end": period.original_ends_on.isoformat()},
            period.decided_by, _username(period.recorded_by)))
        for extension in period.extensions.all():
            entries.append(TimelineEntry(
                extension.decided_on, "reflection_period_extended",
                _("Reflection period extended to %(end)s (%(reason)s)") % {
                    "end": extension.new_ends_on.isoformat(),
                    "reason": codelists.label("reflection_extension_reasons", extension.reason)},
                extension.decided_by, _username(extension.recorded_by)))
        entries.append(TimelineEntry(period.ends_on, "reflection_period_end",
                                     _("Reflection period ends"),
                                     upcoming=period.ends_on >= today))
    return entries


def _permit_entries(case: Case, today) -> list[TimelineEntry]:
    entries = []
    permits = case.residence_permits.select_related("deciding_agency", "recorded_by",
                                                    "decision_recorded_by", "renews")
    for permit in permits:
        kind_label = codelists.label("permit_types", permit.permit_type)
        if permit.renews_id is None:
            entries.append(TimelineEntry(
                permit.applied_on, "residence_permit_applied",
                _("Residence permit applied for: %(type)s") % {"type": kind_label},
                "", _username(permit.recorded_by)))
        if permit.decided_on:
            if permit.renews_id:
                kind, label = "residence_permit_renewed", _(
                    "Residence permit renewed until %(date)s") % {
                    "date": permit.expires_on.isoformat()}
            elif permit.status == PermitStatus.REFUSED:
                kind, label = "residence_permit_refused", _("Residence permit refused")
            else:
                kind, label = "residence_permit_granted", _(
                    "Residence permit granted until %(date)s") % {
                    "date": permit.expires_on.isoformat()}
            entries.append(TimelineEntry(permit.decided_on, kind, label, permit.decided_by,
                                         _username(permit.decision_recorded_by)))
        if permit.expires_on and permit.status in (PermitStatus.GRANTED, PermitStatus.EXPIRED):
            entries.append(TimelineEntry(permit.expires_on, "residence_permit_expiry",
                                         _("Residence permit expires"),
                                         upcoming=permit.expires_on >= today))
    return entries


def _proceeding_entries(case: Case) -> list[TimelineEntry]:
    entries = []
    opened: set[int] = set()
    changes = (ProceedingStageChange.objects.filter(proceeding__case=case)
               .select_related("deciding_agency", "recorded_by", "proceeding")
               .order_by("proceeding_id", "decided_on", "id"))
    for change in changes:
        stage = codelists.label("proceeding_stages", change.stage)
        if change.proceeding_id in opened:
            kind, label = "proceeding_stage", _(
                "Proceedings reached a new stage: %(stage)s") % {"stage": stage}
        else:
            opened.add(change.proceeding_id)
            kind, label = "proceeding_opened", _(
                "Criminal proceedings: %(stage)s (role: %(role)s)") % {
                "stage": stage,
                "role": codelists.label("proceeding_roles", change.proceeding.role)}
        entries.append(TimelineEntry(change.decided_on, kind, label, change.decided_by,
                                     _username(change.recorded_by)))
    return entries


def _claim_entries(case: Case) -> list[TimelineEntry]:
    entries = []
    for claim in case.compensation_claims.select_related("deciding_agency", "recorded_by",
                                                         "outcome_recorded_by"):
        source = codelists.label("compensation_sources", claim.source)
        entries.append(TimelineEntry(claim.filed_on, "compensation_claim_filed",
                                     _("Compensation claimed: %(source)s") % {"source": source},
                                     "", _username(claim.recorded_by)))
        if claim.decided_on and claim.outcome != CompensationOutcome.PENDING:
            awarded = claim.outcome != CompensationOutcome.REFUSED
            label = (_("Compensation awarded: %(amount)s %(currency)s") % {
                "amount": claim.amount_awarded, "currency": claim.currency} if awarded
                else _("Compensation refused"))
            entries.append(TimelineEntry(claim.decided_on, "compensation_decided", label,
                                         claim.decided_by,
                                         _username(claim.outcome_recorded_by)))
        if claim.paid_on:
            entries.append(TimelineEntry(claim.paid_on, "compensation_paid",
                                         _("Compensation paid"), claim.decided_by,
                                         _username(claim.outcome_recorded_by)))
    return entries


def _return_entries(case: Case) -> list[TimelineEntry]:
    entries = []
    for plan in case.return_plans.select_related("deciding_agency", "recorded_by",
                                                 "return_recorded_by"):
        country = codelists.label("countries", plan.destination_country)
        if plan.risk_assessed_on:
            entries.append(TimelineEntry(
                plan.risk_assessed_on, "risk_assessment",
                _("Risk assessment for the return (risk: %(level)s)") % {
                    "level": plan.get_risk_level_display()},
                plan.risk_assessed_by, _username(plan.recorded_by)))
        entries.append(TimelineEntry(
            plan.decided_on, "return_planned",
            (_("Voluntary return planned to %(country)s") if plan.voluntary
             else _("Return (not voluntary) planned to %(country)s")) % {"country": country},
            plan.decided_by, _username(plan.recorded_by)))
        if plan.returned_on:
            entries.append(TimelineEntry(plan.returned_on, "returned",
                                         _("Returned to %(country)s") % {"country": country},
                                         "", _username(plan.return_recorded_by)))
    return entries


def _support_entries(case: Case, today) -> list[TimelineEntry]:
    plan = SupportPlan.objects.filter(case=case).select_related(
        "responsible_agency", "created_by").first()
    if plan is None:
        return []
    entries = [TimelineEntry(plan.agreed_on, "support_plan_agreed", _("Support plan agreed"),
                             plan.responsible_agency.name, _username(plan.created_by))]
    for review in plan.reviews.select_related("reviewed_by"):
        entries.append(TimelineEntry(review.reviewed_on, "support_review",
                                     _("Support plan reviewed"), "",
                                     _username(review.reviewed_by)))
    if plan.is_active and plan.next_review_on:
        entries.append(TimelineEntry(plan.next_review_on, "support_review_due",
                                     _("Support plan review due"), plan.responsible_agency.name,
                                     upcoming=plan.next_review_on >= today))
    if plan.closed_on:
        entries.append(TimelineEntry(plan.closed_on, "support_plan_closed",
                                     _("Support plan closed")))
    return entries


def _identification_entries(case: Case) -> list[TimelineEntry]:
    entries = [TimelineEntry(case.first_contact_on, "first_contact",
                             _("First contact: registered as a presumed victim"),
                             case.owner_agency.name)]
    presumed = (case.screenings.filter(outcome__in=[Outcome.PROBABLE, Outcome.POSSIBLE])
                .select_related("agency", "screened_by").order_by("screened_on", "id")
                .defer("notes").first())
    if presumed is not None:
        entries.append(TimelineEntry(
            presumed.screened_on, "presumed_victim",
            _("Screening: %(outcome)s") % {"outcome": presumed.get_outcome_display()},
            presumed.agency.name, _username(presumed.screened_by)))
    for decision in case.identification_decisions.select_related(
            "deciding_agency", "decided_by").defer("grounds", "appeal"):
        entries.append(TimelineEntry(
            decision.decided_on, "identification_decision",
            _("Formal identification: %(decision)s") % {
                "decision": decision.get_decision_display()},
            decision.deciding_agency.name, _username(decision.decided_by)))
    return entries


def timeline(case: Case) -> list[TimelineEntry]:
    """Every step of the case in date order: first contact, the presumed-victim screening,
    identification decisions, reflection period, permits, proceedings, compensation, return,
    support plan and closure. Nothing encrypted is read."""
    today = timezone.localdate()
    case = Case.objects.select_related("owner_agency").get(pk=case.pk)
    entries = (_identification_entries(case) + _referral_entries(case)
               + _period_entries(case, today)
               + _permit_entries(case, today) + _proceeding_entries(case)
               + _claim_entries(case) + _return_entries(case) + _support_entries(case, today))
    if case.closed_at:
        entries.append(TimelineEntry(
            timezone.localtime(case.closed_at).date(), "case_closed",
            _("Case closed: %(reason)s") % {
                "reason": codelists.label("closure_reasons", case.closure_reason)},
            case.owner_agency.name))
    # A stable order within a day: the order in which the steps were listed above.
    return sorted(entries, key=lambda entry: entry.date)
