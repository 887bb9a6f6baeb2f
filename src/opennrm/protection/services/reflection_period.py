"""The recovery and reflection period (CETS 197 art. 13) and its extensions."""

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from opennrm.accounts.models import User
from opennrm.audit.models import Action
from opennrm.cases import access
from opennrm.cases.models import Case
from opennrm.core.dates import short_date
from opennrm.protection.models import ReflectionPeriod, ReflectionPeriodExtension
from opennrm.protection.services.common import _audit, _code, _date, _decider, _open_case, _raise

# CETS 197 art. 13(1): a recovery and reflection period of at least 30 days.
CONVENTION_MINIMUM_DAYS = 30


def minimum_reflection_days() -> int:
    """The country's minimum length of a reflection period; never below the Convention's."""
    days = getattr(settings, "OPENNRM_REFLECTION_PERIOD_MIN_DAYS", CONVENTION_MINIMUM_DAYS)
    return max(int(days), CONVENTION_MINIMUM_DAYS)


def grant_reflection_period(actor: User, case: Case, starts_on, ends_on, decided_on,
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
                "date": short_date(starts + datetime.timedelta(days=minimum))})
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


def extend_reflection_period(actor: User, period: ReflectionPeriod, ends_on, reason: str,
                             decided_on, deciding_agency_code: str = "",
                             deciding_authority: str = "",
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
                    "date": short_date(period.ends_on)}]})
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
