"""The victims of a criminal case: each a victim's case (of whichever agency) in which the
criminal case keeps a `protection.CriminalProceeding`.

The investigator names the victim's case by the agency holding it and its number; a wrong
pair answers one message whatever was wrong, so that the form cannot be used to learn which
cases exist at other agencies. The kept proceedings follow the criminal case's stage
(`follow_stage`); the victim's caseworker sees that stage and who leads the proceedings,
never this file, and cannot change the stage (`protection.services.proceedings`).

A closed victim's case is linked and followed too: the trial often goes on long after the
assistance ended, and refusing would tell the police that another agency closed its case.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from opennrm.accounts.models import User
from opennrm.audit.models import Action
from opennrm.audit.services import AuditEvent, record_events
from opennrm.cases.models import Case
from opennrm.core import codelists
from opennrm.core.validation import clean_date
from opennrm.justice import access
from opennrm.justice.models import CriminalCase, VictimLink
from opennrm.protection.services.proceedings import (
    follow_kept_stage,
    open_kept_proceeding,
    release_kept_proceeding,
)

# The stage of the victim's proceedings (proceeding_stages) at each stage of the criminal
# case (criminal_case_stages).
PROCEEDING_STAGE = {
    "investigation_opened": "investigation",
    "suspects_identified": "investigation",
    "indictment": "prosecution",
    "first_instance_judgement": "trial",
    "appeal": "appeal",
    "final_judgement": "acquitted",
    "closed_without_prosecution": "discontinued",
}
# Where the proceedings end instead once a person of the criminal case is convicted.
PROCEEDING_STAGE_ON_CONVICTION = {"final_judgement": "convicted"}

NO_SUCH_CASE = gettext_lazy("No case with this number at this agency.")


def proceeding_stage(criminal_case: CriminalCase) -> str:
    """The stage of the victims' proceedings while `criminal_case` is at its stage."""
    stage = criminal_case.stage
    if (stage in PROCEEDING_STAGE_ON_CONVICTION
            and criminal_case.persons.filter(outcome="convicted").exists()):
        return PROCEEDING_STAGE_ON_CONVICTION[stage]
    return PROCEEDING_STAGE[stage]


def _audit_link(actor: User, action: str, criminal_case: CriminalCase, fields: tuple,
                reason: str, channel: str) -> None:
    """The criminal case's side of a link (the victim's case has its own entry)."""
    record_events(actor, [AuditEvent(action, "victim_link", criminal_case.audit_ref,
                                     fields, reason)], channel)


def link_victim(actor: User, criminal_case: CriminalCase, agency_code: str, case_number: str,
                role: str, linked_on, *, channel: str = "") -> VictimLink:
    """Link the victim's case `case_number` of the agency `agency_code` to `criminal_case`:
    proceedings kept by the criminal case open in the victim's case, with the person's
    `role`, at the stage the criminal case has reached, since `linked_on`."""
    access.ensure_can_record(actor, criminal_case)
    errors: dict = {}
    agency_code = (agency_code or "").strip()
    case_number = (case_number or "").strip()
    case = None
    if not agency_code or not case_number:
        errors["case_number"] = [_("Give the agency holding the victim's case and its "
                                   "number.")]
    else:
        case = Case.objects.filter(case_number=case_number,
                                   owner_agency__code=agency_code).first()
        if case is None:
            errors["case_number"] = [NO_SUCH_CASE]
    if role not in codelists.entries("proceeding_roles"):
        errors["role"] = [_("Choose the person's role in the proceedings.")]
    linked = clean_date(linked_on, "linked_on", errors, not_in_future=True,
                        required=_("Give the date the person joined the proceedings."))
    if linked and linked < criminal_case.opened_on:
        errors.setdefault("linked_on", []).append(
            _("The date is before the investigation was opened."))
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        criminal_case = (CriminalCase.objects.select_for_update()
                         .select_related("agency_in_charge").get(pk=criminal_case.pk))
        if VictimLink.objects.filter(criminal_case=criminal_case, case=case).exists():
            raise ValidationError({"case_number": [
                _("This victim's case is already linked to this criminal case.")]})
        proceeding = open_kept_proceeding(
            actor, case, proceeding_stage(criminal_case), role, criminal_case.opened_on,
            linked, criminal_case.agency_in_charge)
        link = VictimLink.objects.create(criminal_case=criminal_case, case=case,
                                         proceeding=proceeding, linked_by=actor)
        _audit_link(actor, Action.CREATE, criminal_case, ("case", "role"), "", channel)
    return link


def unlink_victim(actor: User, link: VictimLink, *, channel: str = "") -> None:
    """Remove a victim from the criminal case (linked by mistake, or no longer a party).

    The proceedings stay in the victim's case at their last stage, no longer kept: its
    caseworker records what follows by hand, and the history of stages stays as it was.
    """
    access.ensure_can_record(actor, link.criminal_case)
    with transaction.atomic():
        link = VictimLink.objects.select_for_update().select_related(
            "criminal_case", "proceeding").get(pk=link.pk)
        release_kept_proceeding(actor, link.proceeding)
        link.delete()
        _audit_link(actor, Action.UPDATE, link.criminal_case, ("case",), "unlinked",
                    channel)


def follow_stage(criminal_case: CriminalCase, actor: User) -> int:
    """After the stage of `criminal_case` (or its agency in charge) changed: each linked
    victim's proceedings take the stage it maps to, as of `stage_reached_on`, led by the
    agency in charge. Called by the justice services after their own access check, in their
    transaction. Return how many proceedings changed."""
    stage = proceeding_stage(criminal_case)
    agency = criminal_case.agency_in_charge
    changed = 0
    with transaction.atomic():
        links = VictimLink.objects.filter(criminal_case=criminal_case).select_related(
            "proceeding")
        for link in links:
            changed += follow_kept_stage(actor, link.proceeding, stage,
                                         criminal_case.stage_reached_on, agency)
    return changed

