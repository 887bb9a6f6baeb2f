"""Web forms of the criminal-justice pages. They only shape input for `justice.services`
(and `justice.victims`), which hold the rules: their messages appear next to the fields
they name, so the fields here are not required by the form itself."""

from functools import partial

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from opennrm.accounts.models import Agency
from opennrm.core import codelists
from opennrm.core.validation import TextLimit
from opennrm.justice.access import JUSTICE_AGENCY_TYPES
from opennrm.justice.models import CooperationRequest

MISSING_DATE = _("Enter a date as YYYY-MM-DD.")
WHOLE_NUMBER = _("Enter a whole number.")


def _marked(attrs: dict, required: bool) -> dict:
    """The widget's attributes; `required` marks the label "(required)" (the service says
    what is missing)."""
    return {**attrs, "required": True} if required else attrs


def _date_field(label, required: bool = False, help_text: str = "") -> forms.DateField:
    return forms.DateField(
        label=label, required=False, help_text=help_text,
        widget=forms.DateInput(attrs=_marked({"type": "date"}, required), format="%Y-%m-%d"),
        error_messages={"invalid": MISSING_DATE})


def _code_field(name: str, label, required: bool = False, sort: bool = False,
                help_text: str = "") -> forms.ChoiceField:
    choices = (partial(_blank_and, partial(codelists.sorted_choices, name)) if sort
               else [("", "—"), *codelists.choices(name)])
    return forms.ChoiceField(label=label, required=False, choices=choices,
                             help_text=help_text,
                             widget=forms.Select(attrs=_marked({}, required)))


def _blank_and(choices) -> list[tuple[str, str]]:
    return [("", "—"), *choices()]


def _text(label, limit: int, required: bool = False, help_text: str = "",
          rows: int = 0) -> forms.CharField:
    widget = (forms.Textarea(attrs=_marked({"rows": rows}, required)) if rows
              else forms.TextInput(attrs=_marked({"autocomplete": "off"}, required)))
    return forms.CharField(label=label, required=False, max_length=limit,
                           help_text=help_text, widget=widget, strip=True)


def _whole_number(label, required: bool = False, help_text: str = "") -> forms.IntegerField:
    return forms.IntegerField(label=label, required=False, help_text=help_text,
                              widget=forms.NumberInput(attrs=_marked({"min": 0}, required)),
                              error_messages={"invalid": WHOLE_NUMBER})


class TodayForm(forms.Form):
    """A form whose date fields `TODAY` start at today."""

    TODAY: tuple[str, ...] = ()

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {name: timezone.localdate() for name in self.TODAY})
        super().__init__(*args, **kwargs)


class CriminalCaseForm(TodayForm):
    TODAY = ("opened_on",)
    national_reference = _text(_("National file number"), TextLimit.NAME, required=True,
                               help_text=_("The number at the police or prosecutor's office. "
                                           "Stored encrypted."))
    legal_qualification = _code_field("offence_qualifications", _("Legal qualification"),
                                      required=True)
    exploitation_form = _code_field("exploitation_forms", _("Form of exploitation"))
    opened_on = _date_field(_("Investigation opened on"), required=True)
    offence_from = _date_field(_("Offence committed from"))
    offence_to = _date_field(_("Offence committed until"))


class StageForm(TodayForm):
    TODAY = ("reached_on",)
    stage = _code_field("criminal_case_stages", _("New stage"), required=True)
    reached_on = _date_field(_("Reached on"), required=True)
    closure_reason = _code_field(
        "no_prosecution_reasons", _("Reason for closing without prosecution"),
        help_text=_("Only when the case is closed without prosecution."))

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "stage")
        super().__init__(*args, **kwargs)


class IdentityForm(forms.Form):
    given_name = _text(_("Given name"), TextLimit.IDENTITY)
    family_name = _text(_("Family name"), TextLimit.IDENTITY)
    birth_date = _date_field(_("Birth date"))
    gender = _code_field("genders", _("Sex"), required=True)
    citizenships = forms.MultipleChoiceField(
        label=_("Citizenship"), required=False,
        choices=partial(codelists.sorted_choices, "countries"),
        widget=forms.SelectMultiple(attrs={"size": 6}))

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "identity")
        super().__init__(*args, **kwargs)


class SuspectForm(IdentityForm):
    age = _whole_number(_("Age when first suspected"),
                        help_text=_("Only when the birth date is not known."))
    role = _code_field("perpetrator_roles", _("Role in the offence"), required=True)
    suspected_on = _date_field(_("First suspected on"), required=True)
    field_order = ["given_name", "family_name", "birth_date", "age", "gender", "citizenships",
                   "role", "suspected_on"]

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {"suspected_on": timezone.localdate()})
        kwargs.setdefault("prefix", "suspect")
        super().__init__(*args, **kwargs)


class IndictmentForm(TodayForm):
    TODAY = ("prosecuted_on",)
    prosecuted_on = _date_field(_("Indicted on"), required=True)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "indictment")
        super().__init__(*args, **kwargs)


class OutcomeForm(TodayForm):
    TODAY = ("outcome_on",)
    outcome = _code_field("prosecution_outcomes", _("Outcome"), required=True)
    outcome_on = _date_field(_("Outcome on"), required=True)
    sentence_type = _code_field("sentence_types", _("Sentence"),
                                help_text=_("Only for a conviction."))
    sentence_months = _whole_number(_("Length of the sentence in months"),
                                    help_text=_("Required for imprisonment."))
    assets_confiscated_eur = forms.DecimalField(
        label=_("Assets confiscated (EUR)"), required=False, min_value=0, max_digits=14,
        decimal_places=2)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "outcome")
        super().__init__(*args, **kwargs)


def _agency_choices(agencies) -> list[tuple[str, str]]:
    return [("", "—"), *agencies.values_list("code", "name")]


class VictimLinkForm(TodayForm):
    TODAY = ("linked_on",)
    agency = forms.ChoiceField(label=_("Agency holding the victim's case"), required=False,
                               widget=forms.Select(attrs={"required": True}))
    case_number = _text(_("Victim's case number"), TextLimit.SHORT, required=True)
    role = _code_field("proceeding_roles", _("Role in the proceedings"), required=True)
    linked_on = _date_field(_("Party to the proceedings since"), required=True)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "victim")
        super().__init__(*args, **kwargs)
        self.fields["agency"].choices = _agency_choices(
            Agency.objects.filter(is_active=True))


class ShareForm(forms.Form):
    agency = forms.ChoiceField(label=_("Police or prosecution agency"), required=False,
                               widget=forms.Select(attrs={"required": True}))

    def __init__(self, *args, criminal_case=None, **kwargs):
        kwargs.setdefault("prefix", "share")
        super().__init__(*args, **kwargs)
        agencies = Agency.objects.filter(is_active=True, agency_type__in=JUSTICE_AGENCY_TYPES)
        if criminal_case is not None:
            agencies = agencies.exclude(pk=criminal_case.agency_in_charge_id).exclude(
                pk__in=criminal_case.shares.values("agency_id"))
        self.fields["agency"].choices = _agency_choices(agencies)


class CooperationStateForm(forms.Form):
    state = _code_field("cooperation_request_states", _("State"), required=True)
    answered_on = _date_field(_("Answered on"),
                              help_text=_("Required once the request is executed or refused."))
    note = _text(_("Note"), TextLimit.REASON, rows=3, help_text=_("Stored encrypted."))


class CooperationRequestForm(CooperationStateForm):
    kind = _code_field("cooperation_request_types", _("Kind of request"), required=True)
    direction = forms.ChoiceField(
        label=_("Direction"), required=False,
        choices=[("", "—"), (CooperationRequest.Direction.SENT, _("Sent")),
                 (CooperationRequest.Direction.RECEIVED, _("Received"))],
        widget=forms.Select(attrs={"required": True}))
    partner_country = _code_field("countries", _("Partner country"), required=True,
                                  sort=True)
    requested_on = _date_field(_("Sent or received on"), required=True)
    field_order = ["kind", "direction", "partner_country", "requested_on", "state",
                   "answered_on", "note"]

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {"requested_on": timezone.localdate(),
                                      "state": "pending"})
        super().__init__(*args, **kwargs)
