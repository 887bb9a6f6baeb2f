"""Compensation claims and their outcomes (CETS 197 art. 15)."""

import pycountry
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from opennrm.accounts.models import User
from opennrm.audit.models import Action
from opennrm.cases import access
from opennrm.cases.models import Case
from opennrm.core.dates import short_date
from opennrm.protection.models import CompensationClaim, CompensationOutcome
from opennrm.protection.services.common import (
    _amount,
    _audit,
    _code,
    _date,
    _decider,
    _open_case,
    _raise,
)


def _currency(code: str, errors: dict) -> str:
    code = (code or "").upper()
    if len(code) != 3 or pycountry.currencies.get(alpha_3=code) is None:
        errors.setdefault("currency", []).append(
            _("Enter a currency code such as MDL, EUR or UAH."))
    return code


def record_compensation_claim(actor: User, case: Case, source: str, filed_on, currency: str,
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


def record_compensation_outcome(actor: User, claim: CompensationClaim, outcome: str, decided_on,
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
                        "date": short_date(claim.decided_on)}]})
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
