"""Who may manage users, agencies and their credentials: the administrators (who see no
case for it). The operator on the server (CLI, demo) acts without a user and may do
anything."""

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext

from opennrm.accounts.models import User
from opennrm.core.access import has_role
from opennrm.core.roles import Role


def can_manage_accounts(user: User | None) -> bool:
    """Only administrators manage users and agencies (and see no cases for it)."""
    return has_role(user, Role.ADMINISTRATOR)


def ensure_can_manage_accounts(actor: User | None) -> None:
    # No actor means the operator on the server (CLI, demo), who may do anything.
    if actor is not None and not can_manage_accounts(actor):
        raise PermissionDenied(gettext("Only administrators manage users and agencies."))
