"""Web forms of the linkage pages. They only shape input for `linkage.node` and
`linkage.review`, which hold the rules: their messages appear next to the fields they name."""

from django import forms
from django.utils.translation import gettext_lazy as _

from opennrm.core.validation import TextLimit

PROBABILITY = _("Enter a probability between 0 and 1, such as 0.95.")


def _probability(label, help_text, required: bool = False) -> forms.FloatField:
    attrs = {"step": "0.001", "min": "0.5", "max": "1", "inputmode": "decimal"}
    return forms.FloatField(label=label, help_text=help_text, required=False,
                            widget=forms.NumberInput(attrs={**attrs, "required": True}
                                                     if required else attrs),
                            error_messages={"invalid": PROBABILITY})


class PolicyForm(forms.Form):
    automatic_link_from = _probability(
        _("Link automatically from"),
        _("Pairs with this match probability or more are linked without review. Leave it "
          "empty to review every pair."))
    review_from = _probability(
        _("Send to review from"),
        _("Pairs from this match probability up to the automatic threshold wait for "
          "review (0.5 or more)."), required=True)
    nightly = forms.BooleanField(label=_("Run every night at 02:00"), required=False)


class DecisionForm(forms.Form):
    DECISIONS = [("confirm", _("Confirm: the same person")),
                 ("reject", _("Reject: different persons")),
                 ("defer", _("Defer")),
                 ("reopen", _("Reopen")),
                 ("split", _("Split: not the same person"))]

    # Set by the button pressed (each decision is a submit button of the form).
    decision = forms.ChoiceField(choices=DECISIONS,
                                 error_messages={"required": _("Choose a decision.")})
    decision_note = forms.CharField(
        label=_("Note"), required=False, max_length=TextLimit.REASON, strip=True,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Why you decided so. Needed to reject or split a pair; kept encrypted."))
