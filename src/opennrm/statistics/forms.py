"""Forms of the statistics pages. They read what the user typed; `releases` does the work."""

from __future__ import annotations

import math
import re
from datetime import date

from django import forms
from django.utils.translation import gettext_lazy as _

from opennrm.statistics.engine import table_set_choices
from opennrm.statistics.periods import PeriodError, parse_period

ALL_TABLE_SETS = "all"
PERIOD_HINT = _("2025, 2025-Q3, 2025-03 or 2025-01-01..2025-06-30")
LONGEST_PERIOD_DAYS = 366 * 10  # as releases._check_period
ROUNDING_CHOICES = [(0, _("No rounding")), (5, "5"), (10, "10")]


def period_error(text: str) -> str:
    """Why `text` is not a period, in the reader's language."""
    text = (text or "").strip()
    if not text:
        return str(_("Enter a period."))
    dates = re.fullmatch(r"(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})", text)
    if dates:
        try:
            start, end = date.fromisoformat(dates[1]), date.fromisoformat(dates[2])
        except ValueError:
            pass
        else:
            if end < start:
                return str(_("The period ends before it starts."))
    if dates or re.fullmatch(r"\d{4}-\d{2}", text):
        return str(_("“%(text)s” is not a date that exists.") % {"text": text})
    return str(_("“%(text)s” is not a period: write a year (2025), a quarter (2025-Q3), a "
                 "month (2025-03) or two dates (2025-01-01..2025-06-30).") % {"text": text})


class PeriodField(forms.CharField):
    """A reporting period as users write it; cleans to (first day, last day)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("Period"))
        kwargs.setdefault("help_text", PERIOD_HINT)
        kwargs.setdefault("max_length", 30)
        kwargs.setdefault("widget", forms.TextInput(attrs={
            "required": True, "autocomplete": "off", "spellcheck": "false",
            "class": "period-input"}))
        super().__init__(required=False, **kwargs)

    def clean(self, value):
        text = super().clean(value)
        try:
            start, end = parse_period(text)
        except PeriodError:
            raise forms.ValidationError(period_error(text), code="period") from None
        if (end - start).days > LONGEST_PERIOD_DAYS:
            raise forms.ValidationError(_("A period may be at most ten years long."),
                                        code="period")
        return start, end


class TableSetField(forms.ChoiceField):
    def __init__(self, *, with_all: bool = False, **kwargs):
        kwargs.setdefault("label", _("Table set"))

        def choices():
            found = table_set_choices()
            if with_all:
                found.append((ALL_TABLE_SETS, _("All table sets (annual report)")))
            return found

        super().__init__(choices=choices, widget=forms.Select(attrs={"required": True}),
                         **kwargs)


class StatisticsForm(forms.Form):
    """What to show on the statistics page (GET parameters; no personal data)."""

    period = PeriodField()
    table_set = TableSetField()


class DownloadForm(forms.Form):
    """What to download: a table set, or every table set for the annual report (PDF)."""

    period = PeriodField()
    table_set = TableSetField(with_all=True)


class PublishForm(forms.Form):
    """A release: table set, period and disclosure control."""

    table_set = TableSetField()
    period = PeriodField()
    threshold = forms.IntegerField(
        label=_("Threshold for small counts"), min_value=1, max_value=100, initial=5,
        required=False,
        help_text=_("Counts from 1 to one less than this are suppressed."),
        widget=forms.NumberInput(attrs={"required": True}))
    rounding = forms.TypedChoiceField(
        label=_("Rounding base"), choices=ROUNDING_CHOICES, coerce=int, initial=0,
        help_text=_("Counts are rounded to a multiple of this number."))
    epsilon = forms.CharField(
        label=_("Privacy budget to spend (ε)"), required=False, max_length=12,
        help_text=_("Optional. Adds differential-privacy noise to the tables that count "
                    "persons and spends this much of the privacy budget. Leave empty to "
                    "publish without noise."),
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}))
    confirm = forms.BooleanField(
        label=_("I understand that a published release cannot be changed or deleted."),
        required=False)

    def clean_threshold(self):
        threshold = self.cleaned_data.get("threshold")
        if threshold is None:
            raise forms.ValidationError(_("Enter the threshold, a whole number of 1 or more."))
        return threshold

    def clean_epsilon(self) -> float | None:
        text = (self.cleaned_data.get("epsilon") or "").strip()
        if not text:
            return None
        try:
            value = float(text.replace(",", ".")) if text.count(",") <= 1 else math.nan
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or value <= 0:
            raise forms.ValidationError(
                _("Enter ε as a number greater than 0, such as 0.5, or leave it empty."))
        return value

    def clean_confirm(self):
        if not self.cleaned_data.get("confirm"):
            raise forms.ValidationError(
                _("Tick the box to confirm that the release cannot be changed."))
        return True


class PolicyForm(forms.Form):
    """The node's disclosure policy (national coordinator, administrator)."""

    threshold = forms.IntegerField(
        label=_("Smallest count published"), min_value=1, max_value=100,
        help_text=_("Counts from 1 to one less than this are suppressed in every table, "
                    "export, API answer and release. Analysts may choose more, not less."))
    rounding = forms.TypedChoiceField(
        label=_("Smallest rounding base"), choices=ROUNDING_CHOICES, coerce=int,
        help_text=_("Published counts are rounded to at least this base."))
    minimum_k = forms.IntegerField(
        label=_("Smallest k of the research extract"), min_value=2, max_value=1000,
        help_text=_("Each row of the research extract is alike, on its quasi-identifiers, "
                    "to at least k − 1 others."))
    reason = forms.CharField(label=_("Reason for the change"), max_length=200,
                             required=False)
