"""Signing in: password, lockout (django-axes), second factor (django-otp), audit trail.

The web login view calls `log_in`; every rule about who may sign in lives here.
"""

import django_otp
from django.conf import settings
from django.contrib import auth
from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest
from django.utils.translation import gettext

from opennrm.accounts.lockout import recorded_username
from opennrm.accounts.models import User
from opennrm.audit.models import Action
from opennrm.audit.services import AuditEvent, record_event

# Longest username the audit trail keeps as the object of a failed login.
_AUDIT_REF_LENGTH = 64


class LoginRefused(Exception):
    """The sign-in did not succeed; `message` is for the person at the keyboard."""

    def __init__(self, message: str, field: str | None = None, locked_out: bool = False):
        super().__init__(message)
        self.message = message
        self.field = field
        self.locked_out = locked_out


def requires_second_factor(user: User) -> bool:
    """Whether the user's role must present a one-time code (settings.OPENNRM_MFA_ROLES)."""
    return user.role in settings.OPENNRM_MFA_ROLES


def has_second_factor(user: User) -> bool:
    return django_otp.user_has_device(user, confirmed=True)


def _verified_device(user: User, code: str):
    code = "".join(code.split())
    if not code:
        return None
    for device in django_otp.devices_for_user(user, confirmed=True):
        verified = django_otp.verify_token(user, device.persistent_id, code)
        if verified is not None:
            return verified
    return None


def record_login(user: User, channel: str = "web") -> None:
    record_event(user, AuditEvent(Action.LOGIN, "user", user.username), channel=channel)


def record_failed_login(username: str, reason: str, user: User | None = None,
                        channel: str = "web") -> None:
    """Audit a failed sign-in; what was typed as the username is kept only when it names a
    user (`lockout.recorded_username`)."""
    ref = user.username if user is not None else recorded_username(username)
    record_event(user, AuditEvent(Action.LOGIN_FAILED, "user", ref[:_AUDIT_REF_LENGTH],
                                  reason=reason), channel=channel)


def log_in(request: HttpRequest, username: str, password: str, code: str = "") -> User:
    """Sign a user in on `request`, or raise LoginRefused saying why.

    The request goes to `authenticate` so that django-axes counts failures and refuses
    locked-out users; a wrong one-time code counts as a failure too, so codes cannot be
    guessed either.
    """
    user = auth.authenticate(request, username=username, password=password)
    if user is None:
        if getattr(request, "axes_locked_out", False):
            record_failed_login(username, "locked out")
            raise LoginRefused(gettext("Too many failed attempts."), locked_out=True)
        record_failed_login(username, "wrong username or password")
        raise LoginRefused(gettext("The username or password is not correct."))

    device = None
    if has_second_factor(user):
        device = _verified_device(user, code)
        if device is None:
            user_login_failed.send(sender=__name__, credentials={"username": username},
                                   request=request)
            record_failed_login(username, "wrong one-time code", user)
            if getattr(request, "axes_locked_out", False):
                raise LoginRefused(gettext("Too many failed attempts."), locked_out=True)
            message = (gettext("Enter the 6-digit code from your authenticator app.")
                       if not code.strip()
                       else gettext("The one-time code is not correct or has expired."))
            raise LoginRefused(message, field="code")
    elif requires_second_factor(user):
        record_failed_login(username, "role requires a second factor, none set up", user)
        raise LoginRefused(gettext(
            "Your role must sign in with a one-time code, but no authenticator app is set up "
            "for your account. Ask an administrator to set one up."
        ))

    auth.login(request, user)
    if device is not None:
        django_otp.login(request, device)
    record_login(user)
    return user
