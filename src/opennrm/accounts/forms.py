"""Web forms for accounts. They only shape input for `accounts.services` and
`accounts.provisioning`, which hold the rules."""

from django import forms
from django.conf import settings

from opennrm.accounts import provisioning
from opennrm.accounts.models import Agency, Role, User
from opennrm.core import codelists


class LoginForm(forms.Form):
    username = forms.CharField(max_length=150, widget=forms.TextInput(
        attrs={"autocomplete": "username", "autofocus": True}))
    password = forms.CharField(strip=False, widget=forms.PasswordInput(
        attrs={"autocomplete": "current-password"}))
    code = forms.CharField(
        label="One-time code", required=False, max_length=12,
        help_text="Only if your account has an authenticator app.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


def _with_blank(choices, blank: str = "—") -> list[tuple[str, str]]:
    return [("", blank), *choices]


def _agency_choices(blank: str) -> list[tuple[str, str]]:
    return _with_blank([(agency.code, agency.name) for agency in Agency.objects.all()], blank)


class UserFilterForm(forms.Form):
    agency = forms.ChoiceField(required=False)
    role = forms.ChoiceField(choices=_with_blank(Role.choices, "Any"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agency"].choices = _agency_choices("Any")


class UserCreateForm(forms.Form):
    """A new user; `provisioning.create_user` holds the rules."""

    username = forms.CharField(max_length=150, widget=forms.TextInput(
        attrs={"autocomplete": "off", "required": True}))
    email = forms.EmailField(required=False, widget=forms.TextInput(
        attrs={"autocomplete": "off", "inputmode": "email"}))
    role = forms.ChoiceField(choices=_with_blank(Role.choices), required=False,
                             widget=forms.Select(attrs={"required": True}))
    agency = forms.ChoiceField(required=False, help_text="Analysts, auditors and "
                               "administrators may have none; everyone else needs one.")
    password = forms.CharField(strip=False, required=False, widget=forms.PasswordInput(
        attrs={"autocomplete": "new-password", "required": True}),
        help_text="Give it to the person in a safe way, never by e-mail.")
    password_again = forms.CharField(strip=False, required=False, label="Password again",
                                     widget=forms.PasswordInput(
                                         attrs={"autocomplete": "new-password"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agency"].choices = _agency_choices("No agency")

    def clean(self):
        data = super().clean()
        if data.get("password") != data.get("password_again"):
            self.add_error("password_again", "The two passwords are not the same.")
        return data


class UserEditForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)
    agency = forms.ChoiceField(required=False)
    is_active = forms.BooleanField(required=False, label="May sign in (active)")

    def __init__(self, *args, user: User, **kwargs):
        kwargs.setdefault("initial", {"role": user.role, "is_active": user.is_active,
                                      "agency": user.agency.code if user.agency else ""})
        super().__init__(*args, **kwargs)
        self.fields["agency"].choices = _agency_choices("No agency")


class AgencyCreateForm(forms.Form):
    """A new agency; `provisioning.create_agency` holds the rules."""

    code = forms.SlugField(max_length=40, help_text="Short, lower case, with hyphens: "
                           "la-strada-md. It cannot be changed later.")
    name = forms.CharField(max_length=200)
    agency_type = forms.ChoiceField(choices=_with_blank(codelists.choices("agency_types")),
                                    required=False, label="Type")
    country = forms.ChoiceField(choices=_with_blank(codelists.choices("countries")),
                                required=False)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {"country": settings.OPENNRM_COUNTRY})
        super().__init__(*args, **kwargs)


class AgencyEditForm(forms.Form):
    name = forms.CharField(max_length=200)
    is_active = forms.BooleanField(required=False, label="Takes part in the NRM (active)",
                                   help_text="An inactive agency gets no new users and "
                                   "cannot be chosen to receive data by consent.")

    def __init__(self, *args, agency: Agency, **kwargs):
        kwargs.setdefault("initial", {"name": agency.name, "is_active": agency.is_active})
        super().__init__(*args, **kwargs)


class ApiTokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="Where you use it, such as "
                           "“reporting script on the office laptop”.")
    expires_in_days = forms.IntegerField(
        required=False, min_value=1, max_value=provisioning.MAX_TOKEN_DAYS,
        label="Expires after (days)",
        help_text=f"{provisioning.DEFAULT_TOKEN_DAYS} days if left empty; at most "
                  f"{provisioning.MAX_TOKEN_DAYS}.")

    def expiry_days(self) -> int:
        return self.cleaned_data["expires_in_days"] or provisioning.DEFAULT_TOKEN_DAYS
