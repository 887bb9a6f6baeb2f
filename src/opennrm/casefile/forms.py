"""Web forms of the case file. They only shape input for `casefile.services`, which holds
the rules (its messages appear next to the fields they name)."""

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from opennrm.casefile import files
from opennrm.casefile.models import AttachmentKind, JournalKind
from opennrm.core.validation import TextLimit

MISSING_DATE = _("Enter a date as YYYY-MM-DD.")


class JournalEntryForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Kind of contact"), choices=[("", "—"), *JournalKind.choices],
        widget=forms.Select(attrs={"required": True}),
        error_messages={"required": _("Choose whether it was a contact, a visit, a call or "
                                      "a meeting.")})
    happened_on = forms.DateField(
        label=_("Date"),
        widget=forms.DateInput(attrs={"type": "date", "required": True}, format="%Y-%m-%d"),
        error_messages={"required": _("Enter the date it happened."), "invalid": MISSING_DATE})
    text = forms.CharField(
        label=_("What happened"), max_length=TextLimit.LONG,
        help_text=_("Stored encrypted. Entries are not changed later: write a new entry to "
                    "correct one."),
        widget=forms.Textarea(attrs={"rows": 5, "required": True}),
        error_messages={"required": _("Write what happened.")})

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {"happened_on": timezone.localdate()})
        kwargs.setdefault("prefix", "journal")
        super().__init__(*args, **kwargs)


class AttachmentForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Kind of document"), choices=[("", "—"), *AttachmentKind.choices],
        widget=forms.Select(attrs={"required": True}),
        error_messages={"required": _("Choose what kind of document it is.")})
    file = forms.FileField(
        label=_("File"), allow_empty_file=True,  # the service says why an empty file is refused
        error_messages={"required": _("Choose the file to attach."),
                        "invalid": _("Choose the file to attach.")})
    description = forms.CharField(
        label=_("Description"), required=False, max_length=TextLimit.NOTE,
        help_text=_("For example: passport, pages 1 and 2."))

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "attachment")
        super().__init__(*args, **kwargs)
        self.fields["file"].widget.attrs.update(
            {"required": True, "accept": ",".join(files.accepted_types())})
        self.fields["file"].help_text = _(
            "%(types)s, at most %(limit)s. The type is checked from the content. Photos are "
            "stored without their location, time and camera details.") % {
            "types": files.accepted_type_names(),
            "limit": files.megabytes(settings.OPENNRM_ATTACHMENT_MAX_BYTES)}


class SummaryForm(forms.Form):
    with_identity = forms.BooleanField(
        label=_("Include the identity: name, birth date, documents, contact details and "
                "notes"), required=False)
    with_journal = forms.BooleanField(label=_("Include the journal's entries"), required=False)
