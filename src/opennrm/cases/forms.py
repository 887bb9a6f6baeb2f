"""Web forms for cases. They only shape input for `cases.services`, which holds the rules."""

from datetime import date

from django import forms
from django.utils import timezone

from opennrm.accounts.models import Agency
from opennrm.cases import services
from opennrm.cases.models import Case
from opennrm.core import codelists

DOCUMENT_ROWS = 3


def _with_blank(choices: list[tuple[str, str]], blank: str = "—") -> list[tuple[str, str]]:
    return [("", blank), *choices]


def _language_choices(selected=()) -> list[tuple[str, str]]:
    """Languages with a two-letter code (about 180), plus any already chosen.

    The full ISO 639-3 list has thousands of entries: too many for a select box.
    """
    return [(code, label) for code, label in codelists.choices("languages")
            if len(code) == 2 or code in selected]


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _multi_select(size: int = 6) -> forms.SelectMultiple:
    return forms.SelectMultiple(attrs={"size": size})


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
        for _ in range(rows):
            widgets += [
                forms.Select(choices=_with_blank(codelists.choices("identity_document_types"))),
                forms.TextInput(attrs={"autocomplete": "off"}),
                forms.Select(choices=_with_blank(codelists.choices("countries"))),
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
        for _ in range(rows):
            fields += [
                forms.ChoiceField(choices=codelists.choices("identity_document_types"),
                                  required=False),
                forms.CharField(max_length=100, required=False),
                forms.ChoiceField(choices=codelists.choices("countries"), required=False),
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

    given_name = forms.CharField(required=False, max_length=300,
                                 widget=forms.TextInput(attrs={"autocomplete": "off"}))
    family_name = forms.CharField(required=False, max_length=300,
                                  widget=forms.TextInput(attrs={"autocomplete": "off"}))
    aliases = AliasesField(required=False, label="Other names",
                           help_text="Names the person also uses, one per line.")
    birth_date = forms.DateField(required=False, widget=_date_input(),
                                 help_text="If known. Format YYYY-MM-DD.")
    birth_year = forms.IntegerField(required=False, min_value=1900,
                                    help_text="If only the year is known.")
    age_uncertain = forms.BooleanField(
        required=False, label="Age not established (the person is presumed to be a child)")
    gender = forms.ChoiceField(choices=_with_blank(codelists.choices("genders")),
                               required=False, widget=forms.Select(attrs={"required": True}))
    citizenships = forms.MultipleChoiceField(choices=codelists.choices("countries"),
                                             required=False, widget=_multi_select())
    languages = forms.MultipleChoiceField(choices=_language_choices, required=False,
                                          label="Languages spoken", widget=_multi_select())
    identity_documents = IdentityDocumentsField(label="Identity documents")
    phone = forms.CharField(required=False, max_length=300,
                            widget=forms.TextInput(attrs={"type": "tel",
                                                          "autocomplete": "off"}))
    address = forms.CharField(required=False, max_length=300,
                              widget=forms.Textarea(attrs={"rows": 2}))

    first_contact_on = forms.DateField(
        required=False, label="Date of first contact",
        widget=forms.DateInput(attrs={"type": "date", "required": True}, format="%Y-%m-%d"))
    exploitation_forms = forms.MultipleChoiceField(
        choices=codelists.choices("exploitation_forms"), required=False,
        label="Forms of exploitation", widget=_multi_select())
    labour_sector = forms.ChoiceField(choices=_with_blank(codelists.choices("labour_sectors")),
                                      required=False)
    recruitment_countries = forms.MultipleChoiceField(
        choices=codelists.choices("countries"), required=False, widget=_multi_select())
    transit_countries = forms.MultipleChoiceField(
        choices=codelists.choices("countries"), required=False, widget=_multi_select())
    exploitation_countries = forms.MultipleChoiceField(
        choices=codelists.choices("countries"), required=False, widget=_multi_select())
    exploitation_started_on = forms.DateField(required=False, widget=_date_input(),
                                              label="Exploitation started on")
    exploitation_ended_on = forms.DateField(required=False, widget=_date_input(),
                                            label="Exploitation ended on")
    means_of_control = forms.MultipleChoiceField(
        choices=codelists.choices("means_of_control"), required=False, widget=_multi_select())
    recruiter_relation = forms.ChoiceField(
        choices=_with_blank(codelists.choices("recruiter_relations")), required=False,
        label="Relation to the recruiter")
    notes = forms.CharField(required=False, max_length=10000,
                            widget=forms.Textarea(attrs={"rows": 5}))

    def __init__(self, *args, show_identity: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        documents = self.initial.get("identity_documents") or []
        if len(documents) > DOCUMENT_ROWS:
            self.fields["identity_documents"] = IdentityDocumentsField(
                rows=len(documents), label="Identity documents")
        self.fields["languages"].choices = _language_choices(self.initial.get("languages", ()))
        if not show_identity:
            for name in services.PERSON_IDENTITY_FIELDS + ("notes",):
                del self.fields[name]

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


class CaseNumberSearchForm(forms.Form):
    q = forms.CharField(label="Case number", required=False, max_length=32)


class NameSearchForm(forms.Form):
    """Exact search: the whole name and the birth date, as registered (any script)."""

    given_name = forms.CharField(max_length=300)
    family_name = forms.CharField(max_length=300)
    birth_date = forms.DateField(widget=_date_input(), help_text="Format YYYY-MM-DD.")


class ConsentForm(forms.Form):
    purpose = forms.ChoiceField(choices=_with_blank(codelists.choices("consent_purposes")),
                                required=False, label="The person consents to")
    given_on = forms.DateField(required=False, widget=_date_input(), label="Consent given on")
    recipient_agency = forms.ChoiceField(
        required=False, label="Recipient agency",
        help_text="Needed when data is shared: the agency that may receive it.")
    recipient_node = forms.ChoiceField(
        choices=_with_blank(codelists.choices("countries")), required=False,
        label="Recipient partner country",
        help_text="Or, for transnational referral, the partner country's node.")

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {"given_on": timezone.localdate()})
        super().__init__(*args, **kwargs)
        self.fields["recipient_agency"].choices = _with_blank(
            [(agency.code, agency.name) for agency in Agency.objects.filter(is_active=True)])


class WithdrawConsentForm(forms.Form):
    withdrawn_on = forms.DateField(required=False, widget=_date_input(),
                                   label="Withdrawn on")

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {"withdrawn_on": timezone.localdate()})
        super().__init__(*args, **kwargs)


class CloseCaseForm(forms.Form):
    closure_reason = forms.ChoiceField(
        choices=_with_blank(codelists.choices("closure_reasons")), required=False,
        label="Reason for closing")
