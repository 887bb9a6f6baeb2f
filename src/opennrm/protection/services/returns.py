"""Return and reintegration, with the risk assessment a child's return needs (CETS 197
art. 16)."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from opennrm.accounts.models import User
from opennrm.audit.models import Action
from opennrm.cases import access
from opennrm.cases.models import Case
from opennrm.core import codelists
from opennrm.core.validation import TextLimit
from opennrm.protection.models import ReturnPlan, RiskLevel
from opennrm.protection.services.common import (
    _audit,
    _date,
    _decider,
    _open_case,
    _raise,
    _text,
)

CHILD_RETURN_NEEDS_ASSESSMENT = gettext_noop(
    "A child's return cannot be planned or recorded without a documented risk and security "
    "assessment (CETS 197 art. 16(7)).")


def plan_return(actor: User, case: Case, destination_country: str, voluntary: bool, decided_on,
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
    assessor = _text(risk_assessed_by, "risk_assessed_by", errors, TextLimit.NAME)
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


def record_return(actor: User, plan: ReturnPlan, returned_on, reintegration_follow_up: str = "",
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
