"""Agencies, users and their credentials: the one write path for the web pages, the CLI,
the demo and imports. Each change is audited in the same transaction as the change."""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django_otp.plugins.otp_totp.models import TOTPDevice

from opennrm.accounts.access import ensure_can_manage_accounts
from opennrm.accounts.models import Agency, ApiToken, Role, User
from opennrm.audit.models import Action
from opennrm.audit.services import AuditEvent, record_event, record_events
from opennrm.core.validation import clean_code

ROLES_WITHOUT_AGENCY = {Role.AUDITOR, Role.ADMINISTRATOR, Role.ANALYST, Role.REGIONAL_ANALYST}
MAX_TOKEN_DAYS = 365


def default_token_days() -> int:
    """How many days a new API token works unless told otherwise (a setting, 90 by default)."""
    return settings.OPENNRM_API_TOKEN_DAYS


def token_needs_second_factor(user: User) -> bool:
    """Whether `user` may create an API token only in a session verified with a TOTP code:
    the privileged roles (settings.OPENNRM_TOKEN_MFA_ROLES) and those that sign in with one
    (settings.OPENNRM_MFA_ROLES). Otherwise a stolen password would give a token that works
    without the second factor."""
    return (user.role in settings.OPENNRM_TOKEN_MFA_ROLES
            or user.role in settings.OPENNRM_MFA_ROLES)


def _check_agency_type_and_country(agency_type: str, country: str, errors: dict) -> None:
    # Both are required: a missing one gets the same message as an unknown one.
    missing = gettext("Choose a value from the list.")
    clean_code(agency_type, "agency_types", "agency_type", errors, required=missing)
    clean_code(country, "countries", "country", errors, required=missing)


@transaction.atomic
def create_agency(code: str, name: str, agency_type: str, country: str,
                  actor: User | None = None, channel: str = "") -> Agency:
    """Create an agency of the NRM with a type from the agency-type list."""
    ensure_can_manage_accounts(actor)
    errors: dict[str, list[str]] = {}
    country = country.upper()
    _check_agency_type_and_country(agency_type, country, errors)
    if not code:
        errors["code"] = [gettext("Give the agency a short code.")]
    elif Agency.objects.filter(code=code).exists():
        errors["code"] = [gettext("An agency with code %(code)r exists already.") % {"code": code}]
    if not name.strip():
        errors["name"] = [gettext("Give the agency's name.")]
    if errors:
        raise ValidationError(errors)
    agency = Agency.objects.create(code=code, name=name.strip(), agency_type=agency_type,
                                   country=country)
    record_event(actor, AuditEvent(Action.CREATE, "agency", agency.code), channel=channel)
    return agency


@transaction.atomic
def update_agency(actor: User | None, agency: Agency, name: str | None = None,
                  is_active: bool | None = None, channel: str = "") -> Agency:
    """Rename an agency or (de)activate it; `None` leaves a value as it is."""
    ensure_can_manage_accounts(actor)
    changed = []
    if name is not None and name.strip() != agency.name:
        if not name.strip():
            raise ValidationError({"name": [gettext("Give the agency's name.")]})
        agency.name = name.strip()
        changed.append("name")
    if is_active is not None and is_active != agency.is_active:
        agency.is_active = is_active
        changed.append("is_active")
    if changed:
        agency.save(update_fields=changed)
        record_event(actor, AuditEvent(Action.UPDATE, "agency", agency.code, tuple(changed)),
                     channel=channel)
    return agency


def _check_role_and_agency(role: str, agency_code: str, errors: dict,
                           current: Agency | None = None) -> Agency | None:
    """The agency named by `agency_code`, noting in `errors` what is wrong.

    A user may stay in their `current` agency after it was deactivated.
    """
    if role not in Role.values:
        errors["role"] = [gettext("Unknown role %(role)r; one of %(roles)s.") % {
            "role": role, "roles": ", ".join(Role.values)}]
    agency = Agency.objects.filter(code=agency_code).first() if agency_code else None
    if agency_code and agency is None:
        errors["agency"] = [gettext("No agency with code %(code)r.") % {"code": agency_code}]
    elif agency is not None and not agency.is_active and agency != current:
        errors["agency"] = [gettext("The agency %(name)s is no longer active.") % {
            "name": agency.name}]
    if not agency_code and role in Role.values and role not in ROLES_WITHOUT_AGENCY:
        errors.setdefault("agency", []).append(
            gettext("This role works for an agency: choose one."))
    return agency


@transaction.atomic
def create_user(username: str, password: str, role: str, agency_code: str = "",
                email: str = "", validate: bool = True, actor: User | None = None,
                channel: str = "") -> User:
    """Create a user with a role; case-handling roles must belong to an agency."""
    ensure_can_manage_accounts(actor)
    errors: dict[str, list[str]] = {}
    agency = _check_role_and_agency(role, agency_code, errors)
    if not username:
        errors["username"] = [gettext("Give a username.")]
    elif User.objects.filter(username=username).exists():
        errors["username"] = [gettext("The username %(username)r is taken.") % {
            "username": username}]
    if validate:
        try:
            validate_password(password, User(username=username, email=email))
        except ValidationError as error:
            errors["password"] = list(error.messages)
    if errors:
        raise ValidationError(errors)
    user = User.objects.create_user(username=username, password=password, email=email,
                                    role=role, agency=agency)
    record_event(actor, AuditEvent(Action.CREATE, "user", user.username,
                                   ("username", "role", "agency", "email")), channel=channel)
    return user


@transaction.atomic
def update_user(actor: User | None, user: User, role: str | None = None,
                agency_code: str | None = None, is_active: bool | None = None,
                channel: str = "") -> User:
    """Change a user's role, agency or whether they may sign in; `None` leaves it as it is.

    Deactivating a user revokes their API tokens; their browser sessions end by
    themselves, because Django signs inactive users out on their next request.
    """
    ensure_can_manage_accounts(actor)
    role = user.role if role is None else role
    if agency_code is None:
        agency_code = user.agency.code if user.agency else ""
    is_active = user.is_active if is_active is None else is_active
    errors: dict[str, list[str]] = {}
    agency = _check_role_and_agency(role, agency_code, errors, current=user.agency)
    if actor is not None and actor.pk == user.pk:
        if role != user.role:
            errors["role"] = [
                gettext("You cannot change your own role; ask another administrator.")]
        if not is_active:
            errors["is_active"] = [
                gettext("You cannot deactivate yourself; ask another administrator.")]
    if errors:
        raise ValidationError(errors)

    changed = [name for name, old, new in (("role", user.role, role),
                                           ("agency", user.agency, agency),
                                           ("is_active", user.is_active, is_active))
               if old != new]
    if not changed:
        return user
    user.role, user.agency, user.is_active = role, agency, is_active
    user.save(update_fields=changed)
    events = [AuditEvent(Action.UPDATE, "user", user.username, tuple(changed))]
    if not is_active:
        events += _revoke_tokens(user.api_tokens.filter(revoked_at__isnull=True),
                                 reason="user deactivated")
    record_events(actor, events, channel=channel)
    return user


@transaction.atomic
def enrol_totp(user: User, actor: User | None = None, channel: str = "") -> str:
    """Give the user a new confirmed TOTP device; returns the otpauth:// URI to show once.

    Any earlier device stops working.
    """
    ensure_can_manage_accounts(actor)
    TOTPDevice.objects.filter(user=user).delete()
    device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
    record_event(actor, AuditEvent(Action.UPDATE, "user", user.username, ("totp_device",),
                                   reason="authenticator app set up"), channel=channel)
    return device.config_url


@transaction.atomic
def remove_totp(actor: User | None, user: User, channel: str = "") -> None:
    """Remove the user's authenticator app (lost phone); they sign in with a password only."""
    ensure_can_manage_accounts(actor)
    if TOTPDevice.objects.filter(user=user).delete()[0]:
        record_event(actor, AuditEvent(Action.UPDATE, "user", user.username, ("totp_device",),
                                       reason="authenticator app removed"), channel=channel)


@transaction.atomic
def issue_api_token(user: User, name: str, expires_in_days: int | None = None,
                    channel: str = "", *, read_only: bool = False,
                    second_factor_verified: bool = False,
                    by_operator: bool = False) -> tuple[ApiToken, str]:
    """Issue a personal API token for `user`; returns it with the secret to show once.

    It expires after `expires_in_days` (by default `default_token_days()`, at most
    MAX_TOKEN_DAYS): no token works for ever. A privileged user
    (`token_needs_second_factor`) gets one only when their session was verified with a
    one-time code (`second_factor_verified`), or from the operator on the server
    (`by_operator`, the CLI), who can do anything there already.
    """
    if token_needs_second_factor(user) and not (second_factor_verified or by_operator):
        raise PermissionDenied(gettext(
            "Your role may create API tokens only after signing in with a one-time code "
            "from your authenticator app. Sign out, then sign in again with the code."))
    if expires_in_days is None:
        expires_in_days = default_token_days()
    errors: dict[str, list[str]] = {}
    if not name.strip():
        errors["name"] = [
            gettext("Give the token a name, such as the computer or script using it.")]
    if not 1 <= expires_in_days <= MAX_TOKEN_DAYS:
        errors["expires_in_days"] = [ngettext(
            "Between 1 and %(max)s day.", "Between 1 and %(max)s days.", MAX_TOKEN_DAYS,
        ) % {"max": MAX_TOKEN_DAYS}]
    if errors:
        raise ValidationError(errors)
    expires_at = timezone.now() + timedelta(days=expires_in_days)
    token, secret = ApiToken.issue(user, name.strip(), expires_at, read_only=read_only)
    record_event(user, AuditEvent(Action.CREATE, "api_token", str(token.pk)), channel=channel)
    return token, secret


def _revoke_tokens(tokens, reason: str = "") -> list[AuditEvent]:
    revoked = list(tokens.values_list("pk", flat=True))
    tokens.update(revoked_at=timezone.now())
    return [AuditEvent(Action.UPDATE, "api_token", str(pk), ("revoked_at",), reason=reason)
            for pk in revoked]


@transaction.atomic
def revoke_api_token(user: User, token: ApiToken, channel: str = "") -> ApiToken:
    """Revoke one of the user's own tokens; it stops working at once."""
    if token.user_id != user.pk:
        raise PermissionDenied(gettext("This is not your token."))
    if token.revoked_at is None:
        record_events(user, _revoke_tokens(ApiToken.objects.filter(pk=token.pk)),
                      channel=channel)
        token.refresh_from_db()
    return token
