"""Web forms for accounts. They only shape input for `accounts.services` and
`accounts.provisioning`, which hold the rules."""

from django import forms
from django.conf import settings
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from opennrm.accounts import provisioning
from opennrm.accounts.models import Agency, Role, User
from opennrm.core import codelists


class LoginForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150, widget=forms.TextInput(
        attrs={"autocomplete": "username", "autofocus": True}))
    password = forms.CharField(label=_("Password"), strip=False, widget=forms.PasswordInput(
        attrs={"autocomplete": "current-password"}))
    code = forms.CharField(
        label=_("One-time code"), required=False, max_length=12,
        help_text=_("Only if your account has an authenticator app."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


def _with_blank(choices, blank: str = "—") -> list[tuple[str, str]]:
    return [("", blank), *choices]


def _agency_choices(blank: str) -> list[tuple[str, str]]:
    return _with_blank([(agency.code, agency.name) for agency in Agency.objects.all()], blank)


class UserFilterForm(forms.Form):
    agency = forms.ChoiceField(label=_("Agency"), required=False)
    role = forms.ChoiceField(
        label=_("Role"),
        # Translators: the filter choice that does not narrow the list (any role).
        choices=_with_blank(Role.choices, _("Any")),
        required=False,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Translators: the filter choice that does not narrow the list (any agency).
        self.fields["agency"].choices = _agency_choices(gettext("Any"))


class UserCreateForm(forms.Form):
    """A new user; `provisioning.create_user` holds the rules."""

    username = forms.CharField(label=_("Username"), max_length=150, widget=forms.TextInput(
        attrs={"autocomplete": "off", "required": True}))
    email = forms.EmailField(label=_("Email"), required=False, widget=forms.TextInput(
        attrs={"autocomplete": "off", "inputmode": "email"}))
    role = forms.ChoiceField(label=_("Role"), choices=_with_blank(Role.choices), required=False,
                             widget=forms.Select(attrs={"required": True}))
    agency = forms.ChoiceField(label=_("Agency"), required=False, help_text=_(
        "Analysts, auditors and administrators may have none; everyone else needs one."))
    password = forms.CharField(label=_("Password"), strip=False, required=False,
                               widget=forms.PasswordInput(
                                   attrs={"autocomplete": "new-password", "required": True}),
                               help_text=_("Give it to the person in a safe way, never by "
                                           "e-mail."))
    password_again = forms.CharField(strip=False, required=False, label=_("Password again"),
                                     widget=forms.PasswordInput(
                                         attrs={"autocomplete": "new-password"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agency"].choices = _agency_choices(gettext("No agency"))

    def clean(self):
        data = super().clean()
        if data.get("password") != data.get("password_again"):
            self.add_error("password_again", gettext("The two passwords are not the same."))
        return data


class UserEditForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
    agency = forms.ChoiceField(label=_("Agency"), required=False)
    is_active = forms.BooleanField(required=False, label=_("May sign in (active)"))

    def __init__(self, *args, user: User, **kwargs):
        kwargs.setdefault("initial", {"role": user.role, "is_active": user.is_active,
                                      "agency": user.agency.code if user.agency else ""})
        super().__init__(*args, **kwargs)
        self.fields["agency"].choices = _agency_choices(gettext("No agency"))


class AgencyCreateForm(forms.Form):
    """A new agency; `provisioning.create_agency` holds the rules."""

    code = forms.SlugField(
        # Translators: the short identifier of an agency, such as "la-strada-md".
        label=_("Code"),
        max_length=40,
        help_text=_("Short, lower case, with hyphens: la-strada-md. It cannot be changed "
                    "later."),
    )
    name = forms.CharField(label=_("Name"), max_length=200)
    agency_type = forms.ChoiceField(
        choices=_with_blank(codelists.choices("agency_types")),
        required=False,
        # Translators: the kind of agency (NGO, police unit, …).
        label=_("Type"),
    )
    country = forms.ChoiceField(label=_("Country"),
                                choices=_with_blank(codelists.choices("countries")),
                                required=False)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {"country": settings.OPENNRM_COUNTRY})
        super().__init__(*args, **kwargs)


class AgencyEditForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    # Translators: NRM = National Referral Mechanism for trafficked persons.
    is_active = forms.BooleanField(required=False, label=_("Takes part in the NRM (active)"),
                                   help_text=_("An inactive agency gets no new users and "
                                               "cannot be chosen to receive data by consent."))

    def __init__(self, *args, agency: Agency, **kwargs):
        kwargs.setdefault("initial", {"name": agency.name, "is_active": agency.is_active})
        super().__init__(*args, **kwargs)


class ApiTokenForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100, help_text=_(
        "Where you use it, such as “reporting script on the office laptop”."))
    expires_in_days = forms.IntegerField(
        required=False, min_value=1, max_value=provisioning.MAX_TOKEN_DAYS,
        label=_("Expires after (days)"))
    read_only = forms.BooleanField(
        required=False, label=_("Read only"),
        help_text=_("It can read and search, but not register or change anything."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Built here, not at import, so the numbers go into the language of the request.
        default = provisioning.default_token_days()
        self.fields["expires_in_days"].help_text = ngettext(
            "%(default)s day if left empty; at most %(max)s.",
            "%(default)s days if left empty; at most %(max)s.",
            default,
        ) % {"default": default, "max": provisioning.MAX_TOKEN_DAYS}

    def expiry_days(self) -> int:
        return self.cleaned_data["expires_in_days"] or provisioning.default_token_days()
