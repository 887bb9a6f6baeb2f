"""Criminal proceedings the person takes part in, and their stages (CETS 197 art. 26-28).

Proceedings are recorded by the victim's caseworker, or kept by a criminal case of the
police or prosecution (`kept_by_criminal_case`, see `justice.victims`): the three `*_kept_*`
functions are the write path of the latter, called by `justice` after its own access check.
Their audit entries, in the victim's case, carry nothing of the investigation.
"""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from opennrm.accounts.models import Agency, User
from opennrm.audit.models import Action
from opennrm.cases import access
from opennrm.cases.models import Case
from opennrm.core.dates import short_date
from opennrm.core.validation import TextLimit
from opennrm.protection.models import CriminalProceeding, ProceedingStageChange
from opennrm.protection.services.common import (
    _audit,
    _code,
    _date,
    _decider,
    _open_case,
    _raise,
    _text,
)

# The channel of the audit entries written in a victim's case by a criminal case.
KEPT_CHANNEL = "justice"
KEPT_STAGE_MESSAGE = gettext_lazy(
    "The stage of these proceedings is kept by the police or prosecution in charge.")


def record_proceeding(actor: User, case: Case, stage: str, role: str, opened_on,
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
    reference = _text(case_reference, "case_reference", errors, TextLimit.NAME)
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


def update_proceeding_stage(actor: User, proceeding: CriminalProceeding, stage: str, decided_on,
                            deciding_agency_code: str = "", deciding_authority: str = "",
                            non_punishment_considered: bool | None = None,
                            non_punishment_note: str | None = None,
                            channel: str = "") -> CriminalProceeding:
    """Record the stage the proceedings reached (and, if given, the non-punishment
    consideration); every stage stays in the history."""
    access.ensure_can_edit(actor, proceeding.case)
    if proceeding.kept_by_criminal_case:
        raise ValidationError({"stage": [KEPT_STAGE_MESSAGE]})
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
        if proceeding.kept_by_criminal_case:
            raise ValidationError({"stage": [KEPT_STAGE_MESSAGE]})
        latest = proceeding.stage_changes.order_by("-decided_on", "-id").first()
        if stage == proceeding.stage:
            errors["stage"] = [_("The proceedings are already at this stage.")]
        if latest and decided < latest.decided_on:
            errors["decided_on"] = [_("The date is before the previous stage (%(date)s).") % {
                "date": short_date(latest.decided_on)}]
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


# --- proceedings kept by a criminal case (`justice.victims`) ---------------------------------
# The caller has checked that `actor` may record in the criminal case; the victim's case may
# belong to any agency and may be closed (the trial goes on after the assistance ends).

def open_kept_proceeding(actor: User, case: Case, stage: str, role: str,
                         opened_on: datetime.date, stage_on: datetime.date,
                         agency: Agency) -> CriminalProceeding:
    """Open proceedings in `case` kept by a criminal case led by `agency`, at `stage` since
    `stage_on`. Call inside the caller's transaction."""
    case = Case.objects.select_for_update().get(pk=case.pk)
    proceeding = CriminalProceeding.objects.create(
        case=case, opened_on=opened_on, stage=stage, role=role, deciding_agency=agency,
        recorded_by=actor, kept_by_criminal_case=True)
    ProceedingStageChange.objects.create(proceeding=proceeding, stage=stage,
                                         decided_on=stage_on, deciding_agency=agency,
                                         recorded_by=actor)
    _audit(actor, Action.CREATE, "criminal_proceeding", case, ("stage", "role"), KEPT_CHANNEL)
    return proceeding


def follow_kept_stage(actor: User, proceeding: CriminalProceeding, stage: str,
                      decided_on: datetime.date, agency: Agency) -> bool:
    """The criminal case keeping `proceeding` moved on: record `stage` (when it differs)
    and the agency now leading. Return whether anything changed."""
    proceeding = CriminalProceeding.objects.select_for_update().select_related("case").get(
        pk=proceeding.pk)
    fields = []
    if stage != proceeding.stage:
        latest = proceeding.stage_changes.order_by("-decided_on", "-id").first()
        # A stage the police record late stays after the one the victim joined at.
        if latest and decided_on < latest.decided_on:
            decided_on = latest.decided_on
        ProceedingStageChange.objects.create(proceeding=proceeding, stage=stage,
                                             decided_on=decided_on, deciding_agency=agency,
                                             recorded_by=actor)
        proceeding.stage = stage
        fields.append("stage")
    if proceeding.deciding_agency_id != agency.pk:
        proceeding.deciding_agency = agency
        fields.append("deciding_agency")
    if fields:
        proceeding.save(update_fields=fields)
        _audit(actor, Action.UPDATE, "criminal_proceeding", proceeding.case, fields,
               KEPT_CHANNEL)
    return bool(fields)


def release_kept_proceeding(actor: User, proceeding: CriminalProceeding) -> CriminalProceeding:
    """The criminal case no longer keeps `proceeding`: it stays in the victim's case, at its
    last stage, and the caseworker records its next stages by hand."""
    proceeding = CriminalProceeding.objects.select_for_update().select_related("case").get(
        pk=proceeding.pk)
    proceeding.kept_by_criminal_case = False
    proceeding.save(update_fields=["kept_by_criminal_case"])
    _audit(actor, Action.UPDATE, "criminal_proceeding", proceeding.case,
           ("kept_by_criminal_case",), KEPT_CHANNEL)
    return proceeding
