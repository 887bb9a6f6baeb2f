"""The regional pages' forms: which table set and period to view, what to send to whom."""

from django import forms
from django.utils.translation import gettext_lazy as _

from opennrm.regional.models import Frequency
from opennrm.statistics.forms import PeriodField, PublishForm, TableSetField
from opennrm.transnational.models import Partner


class OverviewForm(forms.Form):
    table_set = TableSetField()
    period = PeriodField()


class PartnersField(forms.ModelMultipleChoiceField):
    def __init__(self, **kwargs):
        super().__init__(queryset=Partner.objects.filter(status=Partner.Status.ACTIVE)
                         .order_by("country", "name"),
                         widget=forms.CheckboxSelectMultiple, label=_("Partners"), **kwargs)

    def label_from_instance(self, partner: Partner) -> str:
        return f"{partner.name} ({partner.country})"


class SendForm(PublishForm):
    """A release and the partners it goes to."""

    partners = PartnersField()


class ScheduleForm(forms.Form):
    table_set = TableSetField()
    frequency = forms.ChoiceField(label=_("How often"), choices=Frequency.choices)
    partners = PartnersField()
    threshold = forms.IntegerField(label=_("Threshold for small counts"), min_value=1,
                                   max_value=100, required=False,
                                   help_text=_("Empty: the node's policy at each sending."))
    rounding = PublishForm.base_fields["rounding"]
    epsilon = PublishForm.base_fields["epsilon"]
    clean_epsilon = PublishForm.clean_epsilon
