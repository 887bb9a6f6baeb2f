"""Forms of the directory pages. They check types; the rules live in `services.services`."""

from django import forms
from django.utils.translation import gettext_lazy as _

from opennrm.accounts.models import Agency
from opennrm.core import codelists
from opennrm.core.forms import QuickSelect
from opennrm.core.validation import TextLimit
from opennrm.services.models import ContactChannel
from opennrm.services.services import OLDEST_SERVICE_AGE

ANY = _("Any")


def _with_blank(choices, blank: str = "—") -> list:
    return [("", blank), *choices]


def _languages() -> list[tuple[str, str]]:
    # Two-letter codes only: the full ISO 639-3 list is too long for a select box.
    return [(code, label) for code, label in codelists.choices("languages") if len(code) == 2]


class DirectoryFilterForm(forms.Form):
    """The directory's filters (GET parameters; the directory holds no personal data)."""

    q = forms.CharField(label=_("Name or city"), required=False, max_length=TextLimit.SHORT)
    service_type = forms.ChoiceField(label=_("Type of service"), required=False,
                                     widget=QuickSelect)
    region = forms.ChoiceField(label=_("Region"), required=False, widget=QuickSelect)
    language = forms.ChoiceField(label=_("Speaks"), required=False, widget=QuickSelect)
    gender = forms.ChoiceField(label=_("Takes people of sex"), required=False,
                               widget=QuickSelect)
    age = forms.IntegerField(label=_("Takes people aged"), required=False, min_value=0,
                             max_value=OLDEST_SERVICE_AGE)
    free_places = forms.BooleanField(label=_("Only with free places"), required=False)
    include_inactive = forms.BooleanField(label=_("Include inactive services"),
                                          required=False)

    def __init__(self, *args, regions: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service_type"].choices = _with_blank(codelists.choices("service_types"),
                                                          ANY)
        self.fields["region"].choices = _with_blank([(r, r) for r in regions], ANY)
        self.fields["language"].choices = _with_blank(_languages(), ANY)
        self.fields["gender"].choices = _with_blank(codelists.choices("genders"), ANY)


class ProviderForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=TextLimit.NAME, required=False,
                           widget=forms.TextInput(attrs={"required": True}))
    organisation_type = forms.ChoiceField(label=_("Type of organisation"), required=False,
                                          widget=forms.Select(attrs={"required": True}))
    country = forms.ChoiceField(label=_("Country"), required=False,
                                widget=forms.Select(attrs={"required": True}))
    agency = forms.ChoiceField(
        label=_("Agency in OpenNRM"), required=False,
        help_text=_("If this provider takes part in the NRM as an agency of this system, "
                    "referrals reach it here. Leave empty for a provider contacted by e-mail "
                    "or telephone."))
    description = forms.CharField(label=_("Description"), required=False,
                                  max_length=TextLimit.DESCRIPTION,
                                  widget=forms.Textarea(attrs={"rows": 4}))
    email = forms.CharField(label=_("E-mail"), required=False, max_length=TextLimit.EMAIL,
                            widget=forms.EmailInput)
    phone = forms.CharField(label=_("Telephone"), required=False, max_length=TextLimit.PHONE)
    website = forms.CharField(label=_("Website"), required=False, max_length=TextLimit.NAME,
                              widget=forms.URLInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation_type"].choices = _with_blank(
            codelists.choices("agency_types"))
        self.fields["country"].choices = _with_blank(codelists.choices("countries"))
        self.fields["agency"].choices = _with_blank(
            [(agency.code, agency.name) for agency in Agency.objects.filter(is_active=True)])


class ServiceForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=TextLimit.NAME, required=False,
                           widget=forms.TextInput(attrs={"required": True}))
    service_type = forms.ChoiceField(label=_("Type of service"), required=False,
                                     widget=forms.Select(attrs={"required": True}))
    description = forms.CharField(label=_("Description"), required=False,
                                  max_length=TextLimit.DESCRIPTION,
                                  widget=forms.Textarea(attrs={"rows": 4}))
    address = forms.CharField(label=_("Address"), required=False, max_length=TextLimit.IDENTITY)
    city = forms.CharField(label=_("City or village"), required=False,
                           max_length=TextLimit.SHORT)
    region = forms.CharField(label=_("Region"), required=False, max_length=TextLimit.SHORT,
                             help_text=_("The district or region, as caseworkers search for "
                                         "it (for example Chișinău, Bălți, Cahul)."))
    country = forms.ChoiceField(label=_("Country"), required=False,
                                widget=forms.Select(attrs={"required": True}))
    genders = forms.MultipleChoiceField(
        label=_("Takes people of sex"), required=False, widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: everyone."))
    min_age = forms.IntegerField(label=_("Lowest age"), required=False, min_value=0,
                                 max_value=OLDEST_SERVICE_AGE)
    max_age = forms.IntegerField(label=_("Highest age"), required=False, min_value=0,
                                 max_value=OLDEST_SERVICE_AGE,
                                 help_text=_("Empty: no limit. A children's service: 17."))
    languages = forms.MultipleChoiceField(label=_("Languages spoken"), required=False,
                                          widget=forms.SelectMultiple(attrs={"size": 6}))
    capacity = forms.IntegerField(label=_("Places in all"), required=False, min_value=0,
                                  help_text=_("Empty: not limited."))
    places_available = forms.IntegerField(label=_("Places free today"), required=False,
                                          min_value=0)
    contact_channel = forms.ChoiceField(label=_("Referrals are sent"),
                                        choices=ContactChannel.choices)
    response_days = forms.IntegerField(label=_("Answers a referral within (days)"),
                                       min_value=1, max_value=365, initial=5)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service_type"].choices = _with_blank(codelists.choices("service_types"))
        self.fields["country"].choices = _with_blank(codelists.choices("countries"))
        self.fields["genders"].choices = codelists.choices("genders")
        self.fields["languages"].choices = _languages()


class CapacityForm(forms.Form):
    places_available = forms.IntegerField(
        label=_("Places free today"), required=False, min_value=0,
        help_text=_("Empty if you do not know."))


class HsdsImportForm(forms.Form):
    file = forms.FileField(label=_("HSDS file (zip)"),
                           help_text=_("An HSDS 3.0 zip: datapackage.json and the HSDS CSV "
                                       "files (organizations.csv, services.csv, …)."))
    country = forms.ChoiceField(
        label=_("Country of entries that give none"), required=False,
        help_text=_("Empty: this node's country."))
    organisation_type = forms.ChoiceField(
        label=_("Organisation type of organisations that give none"), required=False,
        help_text=_("Empty: the mapping file's rules and default."))
    service_type = forms.ChoiceField(
        label=_("Service type of services that give none"), required=False,
        help_text=_("Empty: the mapping file's rules; a service still without a type is "
                    "listed as a problem."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = _with_blank(codelists.choices("countries"))
        self.fields["organisation_type"].choices = _with_blank(
            codelists.choices("agency_types"))
        self.fields["service_type"].choices = _with_blank(codelists.choices("service_types"))
