"""What the protection measures share: validation helpers, the row lock on the case and the
audit entry."""

import datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from opennrm.accounts.models import Agency, User
from opennrm.audit.services import AuditEvent, record_events
from opennrm.cases.models import Case
from opennrm.core import codelists
from opennrm.core.validation import TextLimit, clean_date, clean_text

UNCHANGED = object()


def _date(value, field: str, errors: dict, *, required: str = "",
          past: bool = True) -> datetime.date | None:
    """`value` as a date. `required` is the message when it is missing; `past` refuses a
    date after today."""
    return clean_date(value, field, errors, required=required, not_in_future=past)


def _text(value, field: str, errors: dict, limit: int = TextLimit.LONG) -> str:
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
    authority = _text(authority, "deciding_authority", errors, TextLimit.NAME)
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


def _audit(actor: User, action: str, object_type: str, case: Case, fields, channel: str) -> None:
    record_events(actor, [AuditEvent(action, object_type, case.case_number, tuple(fields))],
                  channel)
