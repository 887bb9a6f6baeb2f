"""Web forms for the protection steps and the support plan.

They only shape input for `protection.services`, which holds the rules (and whose
messages appear next to the fields they name).
"""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from opennrm.accounts.models import Agency
from opennrm.core import codelists
from opennrm.core.validation import TextLimit
from opennrm.protection.models import PermitStatus, RiskLevel, SupportPlanStatus

MISSING_DATE = _("Enter a date as YYYY-MM-DD.")


def _date_field(label, required: bool = True, help_text: str = "") -> forms.DateField:
    return forms.DateField(
        label=label, required=required, help_text=help_text,
        widget=forms.DateInput(attrs={"type": "date", "required": required} if required
                               else {"type": "date"}, format="%Y-%m-%d"),
        error_messages={"required": MISSING_DATE, "invalid": MISSING_DATE})


def _agency_choices() -> list[tuple[str, str]]:
    return [("", "—"), *Agency.objects.filter(is_active=True).values_list("code", "name")]


def _codelist_field(name: str, label, message) -> forms.ChoiceField:
    return forms.ChoiceField(label=label, choices=[("", "—"), *codelists.choices(name)],
                             widget=forms.Select(attrs={"required": True}),
                             error_messages={"required": message})


def _text_area(label, help_text: str = "", rows: int = 3, required: bool = False):
    attrs = {"rows": rows, "required": True} if required else {"rows": rows}
    return forms.CharField(label=label, required=required, max_length=TextLimit.LONG,
                           help_text=help_text, widget=forms.Textarea(attrs=attrs))


class StepForm(forms.Form):
    """A step decided by an agency on the platform and/or another named authority."""

    decided_on = _date_field(_("Decided on"))
    deciding_agency = forms.ChoiceField(label=_("Deciding agency"), required=False)
    deciding_authority = forms.CharField(
        label=_("Deciding authority"), required=False, max_length=TextLimit.NAME,
        help_text=_("If the authority has no account here, its name (a court, a migration "
                    "office). Give the agency, the authority or both."))

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {"decided_on": timezone.localdate()})
        super().__init__(*args, **kwargs)
        self.fields["deciding_agency"].choices = _agency_choices()

    def decider(self) -> dict:
        return {"deciding_agency_code": self.cleaned_data["deciding_agency"],
                "deciding_authority": self.cleaned_data["deciding_authority"]}


class ReflectionPeriodForm(StepForm):
    starts_on = _date_field(_("First day"))
    ends_on = _date_field(_("Last day"))
    field_order = ["starts_on", "ends_on", "decided_on", "deciding_agency", "deciding_authority"]


class ReflectionExtensionForm(StepForm):
    ends_on = _date_field(_("New last day"))
    reason = _codelist_field("reflection_extension_reasons", _("Reason"),
                             _("Choose the reason for the extension."))
    field_order = ["ends_on", "reason", "decided_on", "deciding_agency", "deciding_authority"]


class PermitApplicationForm(forms.Form):
    permit_type = _codelist_field("permit_types", _("Type of permit"),
                                  _("Choose the type of permit."))
    applied_on = _date_field(_("Applied on"))

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {"applied_on": timezone.localdate()})
        super().__init__(*args, **kwargs)


class PermitDecisionForm(StepForm):
    decision = forms.ChoiceField(
        label=_("Decision"), widget=forms.Select(attrs={"required": True}),
        choices=[("", "—"), (PermitStatus.GRANTED, PermitStatus.GRANTED.label),
                 (PermitStatus.REFUSED, PermitStatus.REFUSED.label)],
        error_messages={"required": _("Choose granted or refused.")})
    expires_on = _date_field(_("Expires on"), required=False,
                             help_text=_("Required when the permit is granted."))
    field_order = ["decision", "decided_on", "expires_on", "deciding_agency",
                   "deciding_authority"]


class PermitRenewalForm(StepForm):
    expires_on = _date_field(_("Expires on"))
    field_order = ["decided_on", "expires_on", "deciding_agency", "deciding_authority"]


class ProceedingForm(StepForm):
    decided_on = _date_field(_("Began on"))
    stage = _codelist_field("proceeding_stages", _("Stage"),
                            _("Choose the stage of the proceedings."))
    role = _codelist_field("proceeding_roles", _("The person's role"),
                           _("Choose the person's role in the proceedings."))
    case_reference = forms.CharField(label=_("File number at the prosecutor's office or court"),
                                     required=False, max_length=TextLimit.NAME)
    protection_measures = _text_area(_("Protection measures"),
                                     _("Measures protecting the person as a victim or witness."))
    non_punishment_considered = forms.BooleanField(
        label=_("Non-punishment for offences the person was compelled to commit was "
                "considered"), required=False)
    non_punishment_note = _text_area(_("Non-punishment: note"))
    field_order = ["stage", "role", "decided_on", "deciding_agency", "deciding_authority",
                   "case_reference", "protection_measures", "non_punishment_considered",
                   "non_punishment_note"]


class ProceedingStageForm(StepForm):
    stage = _codelist_field("proceeding_stages", _("New stage"),
                            _("Choose the stage of the proceedings."))
    non_punishment_considered = forms.BooleanField(
        label=_("Non-punishment for offences the person was compelled to commit was "
                "considered"), required=False)
    non_punishment_note = _text_area(_("Non-punishment: note"))
    field_order = ["stage", "decided_on", "deciding_agency", "deciding_authority",
                   "non_punishment_considered", "non_punishment_note"]


class CompensationClaimForm(forms.Form):
    source = _codelist_field("compensation_sources", _("Claimed from"),
                             _("Choose from whom compensation is claimed."))
    filed_on = _date_field(_("Filed on"))
    amount_claimed = forms.DecimalField(label=_("Amount claimed"), required=False,
                                        min_value=0, max_digits=14, decimal_places=2)
    currency = forms.CharField(label=_("Currency"), max_length=3, initial="MDL",
                               help_text=_("Code such as MDL, EUR or UAH."),
                               widget=forms.TextInput(attrs={"required": True, "size": 3}))

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {"filed_on": timezone.localdate(), "currency": "MDL"})
        super().__init__(*args, **kwargs)


class CompensationOutcomeForm(StepForm):
    outcome = forms.ChoiceField(
        label=_("Outcome"), widget=forms.Select(attrs={"required": True}),
        choices=[("", "—"), ("awarded", _("Awarded")), ("refused", _("Refused")),
                 ("paid", _("Paid"))],
        error_messages={"required": _("Choose awarded, refused or paid.")})
    amount_awarded = forms.DecimalField(label=_("Amount awarded"), required=False,
                                        min_value=0, max_digits=14, decimal_places=2)
    field_order = ["outcome", "decided_on", "amount_awarded", "deciding_agency",
                   "deciding_authority"]


class ReturnPlanForm(StepForm):
    destination_country = forms.ChoiceField(
        label=_("Country of return"), widget=forms.Select(attrs={"required": True}),
        error_messages={"required": _("Choose the country of return.")})
    voluntary = forms.BooleanField(label=_("The person returns voluntarily"), required=False)
    planned_return_on = _date_field(_("Planned date of return"), required=False)
    risk_assessed_on = _date_field(_("Risk assessed on"), required=False)
    risk_assessed_by = forms.CharField(label=_("Risk assessed by"), required=False,
                                       max_length=TextLimit.NAME)
    risk_level = forms.ChoiceField(label=_("Level of risk"), required=False,
                                   choices=[("", "—"), *RiskLevel.choices])
    risk_summary = _text_area(_("What the risk assessment found"), rows=4)
    no_assessment_reason = _text_area(
        _("Reason for returning without a risk assessment"),
        _("Only for an adult, and only when no risk assessment was made."))
    field_order = ["destination_country", "voluntary", "decided_on", "deciding_agency",
                   "deciding_authority", "planned_return_on", "risk_assessed_on",
                   "risk_assessed_by", "risk_level", "risk_summary", "no_assessment_reason"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["destination_country"].choices = [("", "—"), *codelists.choices("countries")]


class ReturnForm(forms.Form):
    returned_on = _date_field(_("Returned on"))
    reintegration_follow_up = _text_area(
        _("Reintegration follow-up"),
        _("Who follows up the person's reintegration in the country of return, and how."))
    follow_up_on = _date_field(_("Next follow-up on"), required=False)


class SupportPlanForm(forms.Form):
    objectives = _text_area(_("Objectives"), _("What the person wants to achieve, in their "
                                               "words, agreed with them."), 6, required=True)
    agreed_on = _date_field(_("Agreed on"))
    responsible_agency = forms.ChoiceField(label=_("Responsible agency"))
    next_review_on = _date_field(_("Next review on"), required=False)
    status = forms.ChoiceField(label=_("Status"), choices=SupportPlanStatus.choices,
                               initial=SupportPlanStatus.ACTIVE)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["responsible_agency"].choices = _agency_choices()[1:]
        self.fields["objectives"].error_messages["required"] = _(
            "Write the objectives agreed with the person.")


class SupportActionForm(forms.Form):
    description = forms.CharField(label=_("Action"), max_length=TextLimit.NOTE,
                                  widget=forms.TextInput(attrs={"required": True}),
                                  error_messages={"required": _("Describe the action.")})
    responsible_agency = forms.ChoiceField(label=_("Responsible agency"))
    due_on = _date_field(_("Due on"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["responsible_agency"].choices = _agency_choices()[1:]


class SupportReviewForm(forms.Form):
    reviewed_on = _date_field(_("Reviewed on"))
    note = _text_area(_("What was reviewed and agreed"), rows=4)
    next_review_on = _date_field(_("Next review on"), required=False)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {"reviewed_on": timezone.localdate()})
        super().__init__(*args, **kwargs)


class CompleteActionForm(forms.Form):
    done_on = _date_field(_("Done on"))
