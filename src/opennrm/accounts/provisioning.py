"""Creating agencies and users: the one path the CLI, the demo and imports use."""

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from opennrm.accounts.models import Agency, Role, User
from opennrm.core import codelists

ROLES_WITHOUT_AGENCY = {Role.AUDITOR, Role.ADMINISTRATOR, Role.ANALYST}


def create_agency(code: str, name: str, agency_type: str, country: str) -> Agency:
    """Create an agency of the NRM with a type from the agency-type list."""
    errors: dict[str, list[str]] = {}
    country = country.upper()
    if agency_type not in codelists.entries("agency_types"):
        errors["agency_type"] = [f"Unknown agency type {agency_type!r}."]
    if codelists.unknown_codes("countries", [country]):
        errors["country"] = [f"Unknown country code {country!r}."]
    if Agency.objects.filter(code=code).exists():
        errors["code"] = [f"An agency with code {code!r} exists already."]
    if not name.strip():
        errors["name"] = ["Give the agency's name."]
    if errors:
        raise ValidationError(errors)
    return Agency.objects.create(code=code, name=name.strip(), agency_type=agency_type,
                                 country=country)


@transaction.atomic
def create_user(username: str, password: str, role: str, agency_code: str = "",
                email: str = "", validate: bool = True) -> User:
    """Create a user with a role; case-handling roles must belong to an agency."""
    errors: dict[str, list[str]] = {}
    if role not in Role.values:
        errors["role"] = [f"Unknown role {role!r}; one of {', '.join(Role.values)}."]
    agency = Agency.objects.filter(code=agency_code).first() if agency_code else None
    if agency_code and agency is None:
        errors["agency"] = [f"No agency with code {agency_code!r}."]
    if (not agency_code and role in Role.values and role not in ROLES_WITHOUT_AGENCY):
        errors.setdefault("agency", []).append("This role works for an agency: give --agency.")
    if User.objects.filter(username=username).exists():
        errors["username"] = [f"The username {username!r} is taken."]
    if validate:
        try:
            validate_password(password, User(username=username, email=email))
        except ValidationError as error:
            errors["password"] = list(error.messages)
    if errors:
        raise ValidationError(errors)
    return User.objects.create_user(username=username, password=password, email=email,
                                    role=role, agency=agency)


def enrol_totp(user: User) -> str:
    """Give the user a confirmed TOTP device; returns the otpauth:// URI to show once."""
    TOTPDevice.objects.filter(user=user).delete()
    device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
    return device.config_url
