"""What the criminal-justice services share: validation helpers, the row lock on the
criminal case and the audit entry."""

import datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from opennrm.accounts.models import User
from opennrm.audit.services import AuditEvent, record_events
from opennrm.core.validation import clean_code, clean_date
from opennrm.justice.models import CriminalCase


def audit_ref(criminal_case: CriminalCase) -> str:
    """How the audit trail names a criminal case (never its national reference)."""
    return criminal_case.audit_ref


def _audit(actor: User, action: str, object_type: str, criminal_case: CriminalCase, fields,
           channel: str, reason: str = "") -> None:
    record_events(actor, [AuditEvent(action, object_type, audit_ref(criminal_case),
                                     tuple(fields), reason)], channel)


def _date(value, field: str, errors: dict, *, required: str = "") -> datetime.date | None:
    """`value` as a date that is not in the future."""
    return clean_date(value, field, errors, required=required, not_in_future=True)


def _code(value, codelist: str, field: str, errors: dict, required: str = "") -> str:
    return clean_code(value, codelist, field, errors, required=required)


def _not_before(later: datetime.date | None, earlier: datetime.date | None, field: str,
                errors: dict, message: str) -> None:
    """A message on `field` when `later` is before `earlier` (both known, both valid)."""
    if later and earlier and field not in errors and later < earlier:
        errors.setdefault(field, []).append(message)


def _whole_number(value, field: str, errors: dict, *, low: int, high: int,
                  message: str) -> int | None:
    """`value` as a whole number from `low` to `high`; None when absent."""
    if value in (None, ""):
        return None
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int):
        number = value
    else:
        try:
            number = int(str(value).strip())
        except ValueError:
            number = None
    if number is None or not low <= number <= high:
        errors.setdefault(field, []).append(message)
        return None
    return number


def _amount(value, field: str, errors: dict) -> Decimal | None:
    """An amount in euro, at least 0, with cents; None when absent."""
    if value in (None, ""):
        return None
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite() or amount < 0 or amount >= Decimal(10) ** 12:
        errors.setdefault(field, []).append(_("Enter an amount in euro, such as 1500.00."))
        return None
    return amount.quantize(Decimal("0.01"))


def _raise(errors: dict) -> None:
    if errors:
        raise ValidationError(errors)


def _locked(criminal_case: CriminalCase) -> CriminalCase:
    """The criminal case re-read under a row lock: concurrent changes queue."""
    return CriminalCase.objects.select_for_update().get(pk=criminal_case.pk)
