"""Web forms for referrals. They only shape input for `referrals.services`, which holds the
rules."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from opennrm.core import codelists
from opennrm.core.validation import TextLimit
from opennrm.referrals.models import EXTERNAL_OUTCOMES
from opennrm.referrals.services import DEFAULT_SHARED_FIELDS, SHARED_FIELDS
from opennrm.services.matching import takes_referrals_in_opennrm


class ServiceTypeForm(forms.Form):
    """Step one of referring: the kind of service (sent by GET: no personal data in it)."""

    service_type = forms.ChoiceField(
        label=_("Kind of service"), choices=[("", "—"), *codelists.choices("service_types")],
        error_messages={"required": _("Choose the kind of service.")})


class ReferralForm(forms.Form):
    """Step two: a matching service (those outside OpenNRM labelled so), what to share, what
    the person needs, when to follow up a referral outside OpenNRM; the override fields only
    for those allowed to override a missing consent."""

    service = forms.TypedChoiceField(
        label=_("Service"), coerce=int, widget=forms.RadioSelect,
        error_messages={"required": _("Choose a service."),
                        "invalid_choice": _("Choose one of the services listed.")})
    shared_fields = forms.MultipleChoiceField(
        label=_("Share with the receiving agency"), required=False,
        choices=list(SHARED_FIELDS.items()), widget=forms.CheckboxSelectMultiple,
        help_text=_("Share only what the service needs to help the person. Identity is shared "
                    "only when you tick it."))
    needs = forms.CharField(
        label=_("What the person needs"), required=False, max_length=TextLimit.REASON,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Shared only when “The note on what the person needs” is ticked above."))
    follow_up_on = forms.DateField(
        label=_("Follow up by"), required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Only for a service outside OpenNRM: the day you will ask them what became "
                    "of the referral. Empty: in the service's usual answer time."))
    override_reason = forms.CharField(
        label=_("Reason for referring without consent"), required=False,
        max_length=TextLimit.REASON, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Only when the person's consent is missing and the referral cannot wait. "
                    "The override is recorded in the audit trail."))

    def __init__(self, data=None, *, services, may_override: bool, **kwargs):
        kwargs.setdefault("initial", {"shared_fields": list(DEFAULT_SHARED_FIELDS)})
        super().__init__(data, **kwargs)
        self.services = {service.pk: service for service in services}
        self.external_ids = {service.pk for service in services
                             if not takes_referrals_in_opennrm(service)}
        self.fields["service"].choices = [(service.pk, self._label(service))
                                          for service in services]
        if not self.external_ids:
            del self.fields["follow_up_on"]
        if not may_override:
            del self.fields["override_reason"]

    def _label(self, service) -> str:
        label = f"{service.name} — {service.provider.name}"
        if service.pk in self.external_ids:
            return _("%(service)s (outside OpenNRM: the referral is recorded, you contact "
                     "them)") % {"service": label}
        return label

    @property
    def submit_label(self) -> str:
        """What the button does: send (in OpenNRM), record (outside it), or either."""
        if not self.external_ids:
            return _("Send the referral")
        if self.external_ids == set(self.services):
            return _("Record the referral")
        return _("Send or record the referral")


class ReasonForm(forms.Form):
    """The reason for accepting, declining, cancelling, withdrawing or completing."""

    reason = forms.CharField(label=_("Reason"), required=False, max_length=TextLimit.REASON,
                             widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, reason_required: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if reason_required:
            self.fields["reason"].required = True
            self.fields["reason"].widget.attrs["required"] = True
            self.fields["reason"].error_messages["required"] = _("Give the reason.")
        else:
            self.fields["reason"].label = _("Note (optional)")


class AssistanceForm(forms.Form):
    service_type = forms.ChoiceField(
        label=_("Kind of assistance"),
        choices=[("", "—"), *codelists.choices("service_types")],
        widget=forms.Select(attrs={"required": True}),
        error_messages={"required": _("Choose the kind of assistance.")})
    delivered_on = forms.DateField(
        label=_("Delivered on"),
        widget=forms.DateInput(attrs={"type": "date", "required": True}, format="%Y-%m-%d"),
        error_messages={"required": _("Give the date the assistance was delivered.")})
    description = forms.CharField(
        label=_("What was delivered"), max_length=TextLimit.REASON,
        widget=forms.Textarea(attrs={"rows": 4, "required": True}),
        error_messages={"required": _("Describe the assistance delivered.")})

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {"delivered_on": timezone.localdate()})
        super().__init__(*args, **kwargs)


class OutcomeForm(forms.Form):
    """What became of a referral outside OpenNRM, and a note."""

    outcome = forms.ChoiceField(
        label=_("What became of the referral"), widget=forms.RadioSelect,
        error_messages={"required": _("Choose what became of the referral."),
                        "invalid_choice": _("Choose one of the outcomes listed.")})
    note = forms.CharField(label=_("Note (optional)"), required=False,
                           max_length=TextLimit.REASON, widget=forms.Textarea(attrs={"rows": 3}),
                           help_text=_("For example who you spoke to, or the appointment "
                                       "they gave."))

    def __init__(self, *args, outcomes: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["outcome"].choices = [(code, codelists.lazy_label(EXTERNAL_OUTCOMES, code))
                                          for code in outcomes]
