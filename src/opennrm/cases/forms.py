"""Web forms for cases. They only shape input for `cases.services`, which holds the rules."""

from datetime import date

from django import forms
from django.core.exceptions import ValidationError
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from opennrm.accounts.models import Agency
from opennrm.cases import listing, services
from opennrm.cases.age import AgeUncertainty
from opennrm.cases.models import Case, CaseStatus, VictimStatus
from opennrm.core import codelists
from opennrm.core.forms import QuickSelect
from opennrm.core.validation import TextLimit

DOCUMENT_ROWS = 3


def _with_blank(choices: list[tuple[str, str]], blank: str = "—") -> list[tuple[str, str]]:
    return [("", blank), *choices]


def _language_choices(selected=()) -> list[tuple[str, str]]:
    """Languages with a two-letter code (about 180), plus any already chosen, sorted by
    their names in the user's language.

    The full ISO 639-3 list has thousands of entries: too many for a select box.
    """
    return [(code, label) for code, label in codelists.sorted_choices("languages")
            if len(code) == 2 or code in selected]


def _countries() -> list[tuple[str, str]]:
    """Countries sorted by their names in the user's language (read when the form renders)."""
    return codelists.sorted_choices("countries")


def _countries_with_blank() -> list[tuple[str, str]]:
    return _with_blank(_countries())


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _multi_select(size: int = 6) -> forms.SelectMultiple:
    """A multiple choice that `combobox.js` turns into a type-ahead list with the chosen
    entries shown and removable; without JavaScript it stays a plain list box."""
    return forms.SelectMultiple(attrs={
        "size": size, "data-combobox": "",
        "data-combobox-placeholder": _("Type to find"),
        "data-combobox-chosen": _("Chosen for %(name)s"),
        "data-combobox-remove": _("Remove %(name)s"),
        "data-combobox-added": _("%(name)s added."),
        "data-combobox-removed": _("%(name)s removed."),
        "data-combobox-count": _("%(name)s entries found; use the arrow keys."),
        "data-combobox-empty": _("No entry matches."),
    })


class AliasesField(forms.CharField):
    """Other names the person uses, one per line."""

    widget = forms.Textarea(attrs={"rows": 2})

    def prepare_value(self, value):
        if isinstance(value, (list, tuple)):
            return "\n".join(value)
        return value

    def to_python(self, value):
        text = super().to_python(value)
        return [line.strip() for line in text.splitlines() if line.strip()]


class IdentityDocumentsWidget(forms.MultiWidget):
    template_name = "cases/widgets/identity_documents.html"

    def __init__(self, rows: int = DOCUMENT_ROWS):
        self.rows = rows
        widgets = []
        for _row in range(rows):
            widgets += [
                forms.Select(choices=_with_blank(codelists.choices("identity_document_types"))),
                forms.TextInput(attrs={"autocomplete": "off"}),
                forms.Select(choices=_countries_with_blank),
            ]
        super().__init__(widgets)

    def decompress(self, value):
        flat = []
        for document in value or []:
            flat += [document.get("document_type", ""), document.get("number", ""),
                     document.get("country", "")]
        return flat + [""] * (3 * self.rows - len(flat))

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        subwidgets = context["widget"]["subwidgets"]
        context["widget"]["rows"] = [subwidgets[i:i + 3] for i in range(0, len(subwidgets), 3)]
        return context


class IdentityDocumentsField(forms.MultiValueField):
    """A few rows of type, number and issuing country; empty rows are left out."""

    def __init__(self, rows: int = DOCUMENT_ROWS, **kwargs):
        fields = []
        for _row in range(rows):
            fields += [
                forms.ChoiceField(choices=codelists.choices("identity_document_types"),
                                  required=False),
                forms.CharField(max_length=TextLimit.DOCUMENT_NUMBER, required=False),
                forms.ChoiceField(choices=_countries, required=False),
            ]
        super().__init__(fields, require_all_fields=False, required=False,
                         widget=IdentityDocumentsWidget(rows), **kwargs)

    def prepare_value(self, value):
        if value and isinstance(value[0], dict):
            return self.widget.decompress(value)
        return value

    def has_changed(self, initial, data):
        return super().has_changed(self.widget.decompress(initial), data)

    def compress(self, data_list):
        documents = []
        for i in range(0, len(data_list), 3):
            kind, number, country = data_list[i:i + 3]
            if kind or number or country:
                documents.append({"document_type": kind or "other", "number": number,
                                  "country": country})
        return documents


class CaseForm(forms.Form):
    """Register or edit a case. Without `show_identity` the identity fields are left out."""

    given_name = forms.CharField(required=False, label=_("Given name"),
                                 max_length=TextLimit.IDENTITY,
                                 widget=forms.TextInput(attrs={"autocomplete": "off"}))
    family_name = forms.CharField(required=False, label=_("Family name"),
                                  max_length=TextLimit.IDENTITY,
                                  widget=forms.TextInput(attrs={"autocomplete": "off"}))
    aliases = AliasesField(required=False, label=_("Other names"),
                           help_text=_("Names the person also uses, one per line."))
    birth_date = forms.DateField(required=False, widget=_date_input(), label=_("Birth date"),
                                 help_text=_("If known."))
    # The range is the service's rule (`services.clean_fields`), checked with the rest.
    birth_year = forms.IntegerField(required=False, label=_("Birth year"),
                                    help_text=_("If only the year is known."))
    age_uncertainty = forms.ChoiceField(
        choices=[("", _("Age established, or from the birth date or year")),
                 *AgeUncertainty.choices],
        required=False, label=_("Age not established"),
        help_text=_("\"Possibly a child\": the person is presumed a child until the age is "
                    "established. With only a birth year, a person who may still be 17 is "
                    "presumed a child."))
    gender = forms.ChoiceField(choices=_with_blank(codelists.choices("genders")),
                               required=False, label=_("Gender"),
                               widget=forms.Select(attrs={"required": True}))
    citizenships = forms.MultipleChoiceField(choices=_countries,
                                             required=False, label=_("Citizenship"),
                                             widget=_multi_select())
    languages = forms.MultipleChoiceField(choices=_language_choices, required=False,
                                          label=_("Languages spoken"), widget=_multi_select())
    identity_documents = IdentityDocumentsField(label=_("Identity documents"))
    phone = forms.CharField(required=False, max_length=TextLimit.PERSON_PHONE, label=_("Phone"),
                            widget=forms.TextInput(attrs={"type": "tel",
                                                          "autocomplete": "off"}))
    address = forms.CharField(required=False, max_length=TextLimit.IDENTITY, label=_("Address"),
                              widget=forms.Textarea(attrs={"rows": 2}))

    first_contact_on = forms.DateField(
        required=False, label=_("Date of first contact"),
        widget=forms.DateInput(attrs={"type": "date", "required": True}, format="%Y-%m-%d"))
    first_contact_place = forms.ChoiceField(
        choices=lambda: _with_blank(codelists.sorted_choices("first_contact_places")),
        required=False, label=_("Place of first contact"),
        help_text=_("The region or locality where the person was first met."))
    referral_source = forms.ChoiceField(
        choices=_with_blank(codelists.choices("referral_sources")), required=False,
        label=_("Referred by"), help_text=_("Who brought the person to your agency."))
    exploitation_forms = forms.MultipleChoiceField(
        choices=codelists.choices("exploitation_forms"), required=False,
        label=_("Forms of exploitation"), widget=_multi_select())
    labour_sector = forms.ChoiceField(choices=_with_blank(codelists.choices("labour_sectors")),
                                      required=False, label=_("Labour sector"))
    recruitment_countries = forms.MultipleChoiceField(
        label=_("Recruited in"), choices=_countries, required=False,
        widget=_multi_select())
    transit_countries = forms.MultipleChoiceField(
        label=_("Transit through"), choices=_countries, required=False,
        widget=_multi_select())
    exploitation_countries = forms.MultipleChoiceField(
        label=_("Exploited in"), choices=_countries, required=False,
        widget=_multi_select())
    exploitation_started_on = forms.DateField(required=False, widget=_date_input(),
                                              label=_("Exploitation started on"))
    exploitation_ended_on = forms.DateField(required=False, widget=_date_input(),
                                            label=_("Exploitation ended on"))
    means_of_control = forms.MultipleChoiceField(
        label=_("Means of control"), choices=codelists.choices("means_of_control"),
        required=False, widget=_multi_select())
    recruiter_relation = forms.ChoiceField(
        choices=_with_blank(codelists.choices("recruiter_relations")), required=False,
        label=_("Relation to the recruiter"))
    notes = forms.CharField(required=False, max_length=TextLimit.LONG, label=_("Notes"),
                            widget=forms.Textarea(attrs={"rows": 5}))

    def __init__(self, *args, show_identity: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        documents = self.initial.get("identity_documents") or []
        if len(documents) > DOCUMENT_ROWS:
            self.fields["identity_documents"] = IdentityDocumentsField(
                rows=len(documents), label=_("Identity documents"))
        self.fields["languages"].choices = _language_choices(self.initial.get("languages", ()))
        if not show_identity:
            for name in services.PERSON_IDENTITY_FIELDS + ("notes",):
                del self.fields[name]

    def clean(self):
        """Check every field against the service's rules in the same pass as the form's own
        checks, so that all messages show at once and in the service's words: a value the
        form refused is given to the service as typed, and the service's message for it
        replaces Django's."""
        data = super().clean()
        values = {name: data.get(name) for name in self.fields if name not in self._errors}
        refused = [name for name in self._errors
                   if name in self.fields and name != "identity_documents"]
        values.update({name: self[name].data for name in refused})
        try:
            services.check_case_data(values)
        except ValidationError as error:
            for name, messages in error.message_dict.items():
                if name in refused:
                    del self._errors[name]
                self.add_error(name if name in self.fields else None, messages)
        return data

    @classmethod
    def for_case(cls, case: Case, data=None, show_identity: bool = True) -> "CaseForm":
        """The edit form, filled with the case as it is."""
        person = case.person
        initial = {name: getattr(person, name) for name in
                   services.PERSON_IDENTITY_FIELDS + services.PERSON_DEMOGRAPHIC_FIELDS}
        initial.update({name: getattr(case, name) for name in services.CASE_FIELDS})
        initial["birth_date"] = (date.fromisoformat(person.birth_date)
                                 if person.birth_date else None)
        return cls(data, initial=initial, show_identity=show_identity)

    def service_data(self) -> dict:
        """Every field, for `services.register_case`."""
        return dict(self.cleaned_data)

    def changes(self) -> dict:
        """Only the fields the user changed, for `services.update_case`."""
        return {name: self.cleaned_data[name] for name in self.changed_data}

    def identity_fields(self):
        return [self[name] for name in services.PERSON_IDENTITY_FIELDS if name in self.fields]


class NameSearchForm(forms.Form):
    """Exact search: the whole name and the birth date, as registered (any script)."""

    given_name = forms.CharField(max_length=TextLimit.IDENTITY, label=_("Given name"))
    family_name = forms.CharField(max_length=TextLimit.IDENTITY, label=_("Family name"))
    birth_date = forms.DateField(widget=_date_input(), label=_("Birth date"))


def _month_choices() -> list[tuple[str, str]]:
    return [("", "—"), *((str(number), formats.date_format(date(2000, number, 1), "F"))
                         for number in range(1, 13))]


class PersonSearchForm(forms.Form):
    """Find a person: any part of a name, and a birth date, a year (and month), an age range
    or nothing. Only the types are checked here; `person_search.clean_query` holds the rules
    and gives all its messages at once."""

    name = forms.CharField(
        label=_("Name"), max_length=TextLimit.IDENTITY, required=False,
        help_text=_("Any part of the name, in any script or spelling: Mariia Shevchenko "
                    "finds Марія Шевченко."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false",
                                      "required": True}))
    birth_date = forms.DateField(required=False, widget=_date_input(), label=_("Birth date"),
                                 help_text=_("If known."))
    birth_year = forms.CharField(
        required=False, max_length=4, label=_("or birth year"),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}))
    birth_month = forms.ChoiceField(required=False, choices=_month_choices,
                                    label=_("and month"))
    age_from = forms.CharField(
        required=False, max_length=3, label=_("or age from"),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}))
    age_to = forms.CharField(
        required=False, max_length=3, label=_("to"),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}))


class ConsentForm(forms.Form):
    purpose = forms.ChoiceField(choices=_with_blank(codelists.choices("consent_purposes")),
                                required=False, label=_("The person consents to"))
    given_on = forms.DateField(required=False, widget=_date_input(), label=_("Consent given on"))
    recipient_agency = forms.ChoiceField(
        required=False, label=_("Recipient agency"),
        help_text=_("Needed when data is shared: the agency that may receive it."))
    recipient_node = forms.ChoiceField(
        choices=_countries_with_blank, required=False,
        label=_("Recipient partner country"),
        help_text=_("Or, for transnational referral, the partner country's node."))

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {"given_on": timezone.localdate()})
        super().__init__(*args, **kwargs)
        self.fields["recipient_agency"].choices = _with_blank(
            [(agency.code, agency.name) for agency in Agency.objects.filter(is_active=True)])


class WithdrawConsentForm(forms.Form):
    withdrawn_on = forms.DateField(required=False, widget=_date_input(),
                                   label=_("Withdraw: date of withdrawal"))

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {"withdrawn_on": timezone.localdate()})
        super().__init__(*args, **kwargs)


class SamePersonForm(forms.Form):
    """Link the case to another case of the same person (`same_person.link_same_person`)."""

    same_as_case = forms.CharField(
        required=False, max_length=32, label=_("Case number of the other case"),
        help_text=_("A case of the same person registered separately, for example by "
                    "another agency."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}))
    reason = forms.CharField(
        required=False, max_length=TextLimit.REASON,
        label=_("Why they are the same person (optional)"),
        widget=forms.Textarea(attrs={"rows": 2}))


class RemoveSamePersonLinkForm(forms.Form):
    removal_reason = forms.CharField(required=False, max_length=TextLimit.REASON,
                                     label=_("Reason for removing the link"))


class CloseCaseForm(forms.Form):
    closure_reason = forms.ChoiceField(
        choices=_with_blank(codelists.choices("closure_reasons")), required=False,
        label=_("Reason for closing"))


ANY = _("Any")


def _filter_choices(choices) -> list:
    return [("", ANY), *choices]


class CaseFilterForm(forms.Form):
    """The case list's filters (GET parameters: no personal data ever goes in them)."""

    q = forms.CharField(label=_("Case number"), required=False, max_length=32)
    status = forms.ChoiceField(
        label=_("Status"), required=False, widget=QuickSelect, choices=_filter_choices(
            [("open", _("Open (active or follow-up)")), *CaseStatus.choices]))
    victim_status = forms.ChoiceField(
        label=_("Victim status"), required=False, widget=QuickSelect,
        choices=_filter_choices(VictimStatus.choices))
    age_band = forms.ChoiceField(
        label=_("Age band"), required=False, widget=QuickSelect, choices=_filter_choices(
            [("child", _("Children (under 18)")), *codelists.choices("age_bands")]))
    exploitation_form = forms.ChoiceField(
        label=_("Form of exploitation"), required=False, widget=QuickSelect,
        choices=_filter_choices(codelists.choices("exploitation_forms")))
    first_contact_from = forms.DateField(required=False, widget=_date_input(),
                                         label=_("First contact from"))
    first_contact_to = forms.DateField(required=False, widget=_date_input(),
                                       label=_("First contact to"))
    assigned = forms.ChoiceField(
        label=_("Assigned to"), required=False, widget=QuickSelect,
        choices=[("", _("Anyone")), ("me", _("Me")), ("nobody", _("Nobody"))])
    consent = forms.ChoiceField(
        label=_("Consent"), required=False, widget=QuickSelect,
        choices=[("", ANY), ("missing", _("No consent in force"))])
    registered = forms.ChoiceField(
        label=_("Registered"), required=False, widget=QuickSelect,
        choices=[("", _("Any time")), ("recent", _("In the last 14 days"))])
    sort = forms.ChoiceField(required=False, choices=[
        (f"{direction}{key}", key) for key in listing.SORTS for direction in ("", "-")])

    def clean(self):
        data = super().clean()
        start, end = data.get("first_contact_from"), data.get("first_contact_to")
        if start and end and start > end:
            self.add_error("first_contact_to", _("The end date is before the start date."))
        return data

    def filters(self) -> dict:
        """The valid filters; an invalid form filters nothing it could not understand."""
        data = getattr(self, "cleaned_data", {})
        return {name: value for name, value in data.items() if value}

    def active_filters(self) -> list:
        """(label, shown value) of each filter in use, for the "filtered by" line."""
        shown = []
        for name, value in self.filters().items():
            if name == "sort":
                continue
            field = self.fields[name]
            if hasattr(field, "choices"):
                value = dict(field.choices).get(value, value)
            shown.append((field.label, value))
        return shown
