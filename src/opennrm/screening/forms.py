"""Web forms for screening and the identification decision.

They only shape input for `screening.services`, which holds the rules.
"""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext, pgettext
from django.utils.translation import gettext_lazy as _

from opennrm.core.forms import QuickSelect
from opennrm.core.validation import TextLimit
from opennrm.screening.engine import IndicatorSet
from opennrm.screening.models import Decision
from opennrm.screening.services import ADULTS, CHILDREN


def list_key(indicator_set: IndicatorSet) -> str:
    """The value of a list's radio button: its id and version."""
    return f"{indicator_set.data['id']}:{indicator_set.data['version']}"


def note_name(code: str) -> str:
    return f"note-{code}"


def strength_label(strength: str) -> str:
    return {"strong": pgettext("indicator strength", "strong"),
            "medium": pgettext("indicator strength", "medium"),
            "weak": pgettext("indicator strength", "weak")}.get(strength, strength)


def _not_in_future(day):
    if day and day > timezone.localdate():
        raise forms.ValidationError(_("The date is in the future."))
    return day


class ScreeningForm(forms.Form):
    """The list, the date, and a checkbox and a note for each indicator of one list.

    `shown` is the list whose indicators are on the page (and in the submitted data); the
    radio button may name another one when the user has just changed the list.
    """

    indicator_set = forms.ChoiceField(
        label=_("Indicator list"), widget=forms.RadioSelect,
        error_messages={"required": _("Choose an indicator list.")})
    shown_set = forms.CharField(required=False, widget=forms.HiddenInput)
    age_group_override = forms.CharField(
        label=_("Reason for a list of another age group"), required=False,
        max_length=TextLimit.NOTE,
        help_text=_("Only when the list is not for the person's age group (a list for adults "
                    "for a person who may be a child, or the reverse): why it is used. "
                    "The reason is recorded."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}))
    screened_on = forms.DateField(
        label=_("Screened on"),
        widget=forms.DateInput(attrs={"type": "date", "required": True}, format="%Y-%m-%d"),
        error_messages={"required": _("Give the date of the screening.")})
    observed = forms.MultipleChoiceField(required=False, label=_("Observed indicators"))

    def __init__(self, data=None, *, lists: list[IndicatorSet], shown: IndicatorSet,
                 language: str, **kwargs):
        super().__init__(data, **kwargs)
        self.lists = {list_key(indicator_set): indicator_set for indicator_set in lists}
        self.shown = shown
        self.language = language
        self.fields["indicator_set"].choices = [
            (key, indicator_set.label(indicator_set.data, language))
            for key, indicator_set in self.lists.items()]
        self.fields["observed"].choices = [(code, code) for code in shown.indicators]
        for dimension in shown.data["dimensions"]:
            for indicator in dimension["indicators"]:
                self.fields[note_name(indicator["code"])] = forms.CharField(
                    required=False, max_length=TextLimit.NOTE,
                    label=gettext("Note: %(indicator)s") % {
                        "indicator": shown.label(indicator, language)},
                    widget=forms.TextInput(attrs={"autocomplete": "off"}))

    @classmethod
    def blank(cls, *, lists, chosen: IndicatorSet, language: str) -> "ScreeningForm":
        return cls(lists=lists, shown=chosen, language=language, initial={
            "indicator_set": list_key(chosen), "shown_set": list_key(chosen),
            "screened_on": timezone.localdate()})

    def chosen(self) -> IndicatorSet:
        """The list the radio buttons name (the shown one when that is not a known list)."""
        return self.lists.get(self.data.get("indicator_set")) or self.shown

    def ticked(self) -> list[str]:
        """The ticked indicators of the shown list, in the order of the list."""
        if self.is_bound:
            ticked = set(self.data.getlist("observed"))
        else:
            ticked = set(self.initial.get("observed", ()))
        return [code for code in self.shown.indicators if code in ticked]

    def observations(self) -> dict[str, str]:
        """Each ticked indicator with its note, for `services.record_screening` (after
        `is_valid()`); notes beside unticked indicators are left out."""
        return {code: self.cleaned_data.get(note_name(code), "")
                for code in self.cleaned_data["observed"]}

    def dimensions(self) -> list[dict]:
        """The shown list as the template walks it: dimensions, then their indicators."""
        ticked = set(self.ticked())
        return [{
            "code": dimension["code"],
            "label": self.shown.label(dimension, self.language),
            "indicators": [{
                "code": indicator["code"],
                "label": self.shown.label(indicator, self.language),
                "strength": indicator["strength"],
                "strength_label": strength_label(indicator["strength"]),
                "checked": indicator["code"] in ticked,
                "note": self[note_name(indicator["code"])],
            } for indicator in dimension["indicators"]],
        } for dimension in self.shown.data["dimensions"]]

    def clean_screened_on(self):
        return _not_in_future(self.cleaned_data["screened_on"])


class IdentificationDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"), choices=Decision.choices,
        widget=forms.RadioSelect(attrs={"required": True}),
        error_messages={"required": _("Choose identified or not identified.")})
    decided_on = forms.DateField(
        label=_("Decided on"),
        widget=forms.DateInput(attrs={"type": "date", "required": True}, format="%Y-%m-%d"),
        error_messages={"required": _("Give the date of the decision.")})
    grounds = forms.CharField(
        label=_("Grounds"), max_length=TextLimit.LONG,
        help_text=_("The facts and the legal basis the decision rests on."),
        widget=forms.Textarea(attrs={"rows": 6, "required": True}),
        error_messages={"required": _("Give the grounds of the decision.")})
    appeal = forms.CharField(
        label=_("Appeal"), required=False, max_length=TextLimit.LONG,
        help_text=_("If an appeal was lodged: by whom, when, and its outcome."),
        widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {"decided_on": timezone.localdate()})
        super().__init__(*args, **kwargs)

    def clean_decided_on(self):
        return _not_in_future(self.cleaned_data["decided_on"])


class QueueFilterForm(forms.Form):
    """The decision-makers' queue's filters (GET parameters: no personal data in them)."""

    agency = forms.TypedChoiceField(
        label=_("Agency"), required=False, coerce=int, empty_value=None, widget=QuickSelect,
        error_messages={"invalid_choice": _("Choose an agency from the list.")})
    waiting_over = forms.IntegerField(
        label=_("Waiting longer than (days)"), required=False, min_value=0, max_value=3650,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages={"invalid": _("Give a number of days, such as 30."),
                        "min_value": _("Give a number of days, such as 30."),
                        "max_value": _("Give at most 3650 days (ten years).")})
    child = forms.ChoiceField(
        label=_("Age group"), required=False, widget=QuickSelect,
        choices=[("", _("Children and adults")), (CHILDREN, _("Children only")),
                 (ADULTS, _("Adults only"))])

    def __init__(self, data=None, *, agencies: list[tuple[int, str]], **kwargs):
        super().__init__(data, **kwargs)
        self.fields["agency"].choices = [("", _("Any agency")), *agencies]

    def filters(self) -> dict:
        """The valid filters, as `services.awaiting_decision` takes them; a filter that is
        not valid filters nothing (its error is shown)."""
        if not self.is_bound:
            return {}
        self.is_valid()
        names = {"agency": "agency_id", "waiting_over": "waiting_over", "child": "child"}
        return {names[name]: value for name, value in self.cleaned_data.items()
                if value not in (None, "")}
