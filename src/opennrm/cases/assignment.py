"""Who handles a case: the owning agency's supervisor assigns (and reassigns) its caseworker,
one case from the case page or several at once from the case list.

The one write path for `Case.assigned_to`; the audit trail names each case, and the new
caseworker is told (`signals.case_assigned`, which `reminders` answers: cases sits below it).
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from opennrm.accounts.models import User
from opennrm.audit.models import Action
from opennrm.audit.services import AuditEvent, record_events
from opennrm.cases import access, signals
from opennrm.cases.access import CASE_HANDLING_ROLES
from opennrm.cases.models import Case

# A bulk assignment covers at most one page of the case list.
MAX_CASES = 50


def assignable_caseworkers(agency_id: int) -> QuerySet[User]:
    """The people of an agency who may be given its cases, by name."""
    return User.objects.filter(agency_id=agency_id, is_active=True,
                               role__in=CASE_HANDLING_ROLES).order_by("username")


def assign_case(actor: User, case: Case, caseworker: User | None,
                channel: str = "") -> Case:
    """Give `case` to `caseworker` (None: no caseworker). Only its agency's supervisor."""
    return assign_cases(actor, [case], caseworker, channel)[0]


def assign_cases(actor: User, cases: list[Case], caseworker: User | None,
                 channel: str = "") -> list[Case]:
    """Give every case of `cases` to `caseworker` (None: no caseworker), all or none.

    Each case must be one `actor` supervises; `caseworker` must handle cases at its agency.
    Cases already with `caseworker` are left as they are; the others are audited one entry
    each, and the caseworker is told once.
    """
    if not cases:
        raise ValidationError({"cases": [_("Choose at least one case.")]})
    if len(cases) > MAX_CASES:
        raise ValidationError({"cases": [_("Choose at most %(count)d cases at a time.")
                                         % {"count": MAX_CASES}]})
    for case in cases:
        access.ensure_can_assign(actor, case)
    if caseworker is not None and not all(access.can_be_assigned(caseworker, case)
                                          for case in cases):
        raise ValidationError({"assigned_to": [
            _("Choose a caseworker of the agency that owns the case.")]})
    with transaction.atomic():
        locked = list(Case.objects.select_for_update().filter(pk__in=[c.pk for c in cases])
                      .order_by("pk"))
        changed = [case for case in locked if case.assigned_to_id != getattr(
            caseworker, "pk", None)]
        for case in changed:
            case.assigned_to = caseworker
            case.save(update_fields=["assigned_to", "updated_at"])
        reason = f"assigned to {caseworker.username}" if caseworker else "unassigned"
        record_events(actor, [AuditEvent(Action.UPDATE, "case", case.case_number,
                                         ("assigned_to",), reason) for case in changed],
                      channel)
        if changed and caseworker is not None:
            signals.case_assigned.send(sender=Case, cases=changed, caseworker=caseworker,
                                       actor=actor, channel=channel)
    by_pk = {case.pk: case for case in locked}
    return [by_pk[case.pk] for case in cases]
