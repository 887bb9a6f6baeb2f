"""Criminal cases: opening one, the stages it reaches, sharing it with another police or
prosecution agency, and reading it."""

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils.translation import gettext as _

from opennrm.accounts.models import Agency, User
from opennrm.audit.models import Action
from opennrm.core.dates import short_date
from opennrm.core.validation import TextLimit, clean_text
from opennrm.justice import access, victims
from opennrm.justice.models import CriminalCase, CriminalCaseShare, CriminalCaseStage
from opennrm.justice.services.common import (
    _audit,
    _code,
    _date,
    _locked,
    _not_before,
    _raise,
)

FIRST_STAGE = "investigation_opened"
CLOSED_WITHOUT_PROSECUTION = "closed_without_prosecution"
# What the criminal case page shows that is encrypted: reading it is audited.
CASE_SECRETS = ("national_reference",)
IDENTITY_FIELDS = ("given_name", "family_name", "birth_date")


def _check_closure(stage: str, closure_reason, errors: dict) -> str:
    """The reason for closing: required exactly when the case is closed without
    prosecution."""
    if stage == CLOSED_WITHOUT_PROSECUTION:
        return _code(closure_reason, "no_prosecution_reasons", "closure_reason", errors,
                     required=_("Give the reason for closing the case without prosecution."))
    if closure_reason:
        errors.setdefault("closure_reason", []).append(
            _("Give a reason only when the case is closed without prosecution."))
    return ""


def open_criminal_case(actor: User, national_reference: str, legal_qualification: str,
                       opened_on, exploitation_form: str = "", offence_from=None,
                       offence_to=None, channel: str = "") -> CriminalCase:
    """Open a criminal case held by the actor's police or prosecution agency; its first
    stage is "investigation opened", on the day it was opened."""
    access.ensure_can_open(actor)
    errors: dict = {}
    reference = clean_text(national_reference, "national_reference", errors,
                           limit=TextLimit.NAME,
                           required=_("Give the national file number of the case."))
    qualification = _code(legal_qualification, "offence_qualifications", "legal_qualification",
                          errors, required=_("Choose the legal qualification of the offence."))
    form = _code(exploitation_form, "exploitation_forms", "exploitation_form", errors)
    opened = _date(opened_on, "opened_on", errors,
                   required=_("Give the date the investigation was opened."))
    start = _date(offence_from, "offence_from", errors)
    end = _date(offence_to, "offence_to", errors)
    _not_before(end, start, "offence_to", errors,
                _("The offence cannot end before it began."))
    _raise(errors)
    with transaction.atomic():
        criminal_case = CriminalCase.objects.create(
            agency_in_charge=actor.agency, national_reference=reference,
            legal_qualification=qualification, exploitation_form=form, offence_from=start,
            offence_to=end, opened_on=opened, stage=FIRST_STAGE, stage_reached_on=opened,
            recorded_by=actor)
        CriminalCaseStage.objects.create(criminal_case=criminal_case, stage=FIRST_STAGE,
                                         reached_on=opened, recorded_by=actor)
        fields = ["national_reference", "legal_qualification", "opened_on", "stage"]
        fields += [name for name, value in (("exploitation_form", form),
                                            ("offence_from", start), ("offence_to", end))
                   if value]
        _audit(actor, Action.CREATE, "criminal_case", criminal_case, fields, channel)
    return criminal_case


def record_stage(actor: User, criminal_case: CriminalCase, stage: str, reached_on,
                 closure_reason: str = "", channel: str = "") -> CriminalCaseStage:
    """Record the stage the criminal case reached; every stage stays in the history, and the
    victims' proceedings follow it."""
    access.ensure_can_record(actor, criminal_case)
    errors: dict = {}
    stage = _code(stage, "criminal_case_stages", "stage", errors,
                  required=_("Choose the stage the case reached."))
    reached = _date(reached_on, "reached_on", errors,
                    required=_("Give the date the case reached this stage."))
    reason = _check_closure(stage, closure_reason, errors)
    _raise(errors)
    with transaction.atomic():
        criminal_case = _locked(criminal_case)
        latest = criminal_case.stages.order_by("-reached_on", "-id").first()
        if stage == criminal_case.stage and reason == criminal_case.closure_reason:
            errors["stage"] = [_("The case is already at this stage.")]
        if latest:
            _not_before(reached, latest.reached_on, "reached_on", errors,
                        _("The date is before the previous stage (%(date)s).") % {
                            "date": short_date(latest.reached_on)})
        _raise(errors)
        recorded = CriminalCaseStage.objects.create(
            criminal_case=criminal_case, stage=stage, reached_on=reached,
            closure_reason=reason, recorded_by=actor)
        criminal_case.stage, criminal_case.stage_reached_on = stage, reached
        criminal_case.closure_reason = reason
        criminal_case.save(update_fields=["stage", "stage_reached_on", "closure_reason",
                                          "updated_at"])
        fields = ["stage", "stage_reached_on"] + (["closure_reason"] if reason else [])
        _audit(actor, Action.UPDATE, "criminal_case", criminal_case, fields, channel)
        victims.follow_stage(criminal_case, actor)
    return recorded


def _share_target(code: str, criminal_case: CriminalCase, errors: dict) -> Agency | None:
    """The active police or prosecution agency `code`, other than the one in charge."""
    code = (code or "").replace("\x00", "").strip()
    if not code:
        errors["agency"] = [_("Choose the agency to share the case with.")]
        return None
    agency = Agency.objects.filter(code=code, is_active=True).first()
    if agency is None:
        errors["agency"] = [_("No agency with code %(code)r.") % {"code": code}]
    elif not access.is_justice_agency(agency):
        errors["agency"] = [_("Share a criminal case only with a police or prosecution "
                              "agency.")]
    elif agency.pk == criminal_case.agency_in_charge_id:
        errors["agency"] = [_("This agency is in charge of the case.")]
    return agency


def share_criminal_case(actor: User, criminal_case: CriminalCase, agency_code: str,
                        channel: str = "") -> CriminalCaseShare:
    """Share the criminal case with another police or prosecution agency, which then sees
    and records as the agency in charge does (but cannot share it further)."""
    access.ensure_in_charge(actor, criminal_case)
    errors: dict = {}
    agency = _share_target(agency_code, criminal_case, errors)
    _raise(errors)
    already = _("The case is already shared with this agency.")
    if criminal_case.shares.filter(agency=agency).exists():
        _raise({"agency": [already]})
    try:
        with transaction.atomic():
            share = CriminalCaseShare.objects.create(criminal_case=criminal_case,
                                                     agency=agency, shared_by=actor)
            _audit(actor, Action.CREATE, "criminal_case_share", criminal_case, ("agency",),
                   channel, reason=f"shared with {agency.code}")
    except IntegrityError:  # shared by someone else at the same moment
        _raise({"agency": [already]})
    return share


def withdraw_share(actor: User, share: CriminalCaseShare, channel: str = "") -> None:
    """Withdraw a share: the agency no longer sees the criminal case."""
    criminal_case = share.criminal_case
    access.ensure_in_charge(actor, criminal_case)
    with transaction.atomic():
        code = share.agency.code
        deleted, _rows = CriminalCaseShare.objects.filter(pk=share.pk).delete()
        if deleted:
            _audit(actor, Action.UPDATE, "criminal_case_share", criminal_case, ("agency",),
                   channel, reason=f"share with {code} withdrawn")


# --- reading -------------------------------------------------------------------------------

def criminal_cases_for(actor: User) -> QuerySet[CriminalCase]:
    """The criminal cases `actor`'s agency holds or was shared, newest first, without their
    encrypted reference (the list shows nothing encrypted, so nothing is read)."""
    held = access.criminal_cases_visible_to(actor)
    if not access.works_on_criminal_cases(actor):
        return held
    mine = CriminalCaseShare.objects.filter(criminal_case=OuterRef("pk"),
                                            agency_id=actor.agency_id)
    return (held.defer("national_reference").select_related("agency_in_charge")
            .annotate(shared_with_me=Exists(mine)))


def read_criminal_case(actor: User, pk, channel: str = "") -> CriminalCase:
    """Open a criminal case for `actor`, recording that its page showed the national
    reference and, if it has persons, their names and birth dates (CriminalCaseNotFound if the actor
    may not see it)."""
    criminal_case = access.get_visible_criminal_case(actor, pk)
    fields = list(CASE_SECRETS)
    if criminal_case.persons.exists():
        fields += IDENTITY_FIELDS
    _audit(actor, Action.READ, "criminal_case", criminal_case, fields, channel)
    return criminal_case

