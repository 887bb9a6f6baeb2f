"""Forms of assignment and transfer (`cases.assignment`, `cases.transfer`)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from opennrm.cases.assignment import assignable_caseworkers
from opennrm.cases.transfer import receiving_agencies
from opennrm.core.validation import TextLimit


class AssignForm(forms.Form):
    """Choose the caseworker of one case, or of the cases ticked on the list."""

    assigned_to = forms.TypedChoiceField(required=False, coerce=int, empty_value=None,
                                         label=_("Assign to"))

    def __init__(self, agency_id: int, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assigned_to"].choices = [("", _("No caseworker"))] + [
            (user.pk, user.get_full_name() or user.username)
            for user in assignable_caseworkers(agency_id)]


class TransferForm(forms.Form):
    to_agency = forms.ChoiceField(required=False, label=_("Transfer to"),
                                  help_text=_("The person must have consented to the transfer "
                                              "to this agency."))

    def __init__(self, case, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_agency"].choices = [("", "—")] + [
            (agency.code, agency.name) for agency in receiving_agencies(case)]


class DeclineTransferForm(forms.Form):
    reason = forms.CharField(required=False, max_length=TextLimit.LONG,
                             widget=forms.Textarea(attrs={"rows": 3}),
                             label=_("Why your agency declines the case"))
