"""Who may manage this node's identity and partners and read the message log: the
administrators. The operator on the server (CLI) acts without a user and may do anything.
Workflows that send personal data add their own rules (consent, the case's agency)."""

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext

from opennrm.core.access import has_role, is_active_staff
from opennrm.core.roles import Role


def can_manage_partners(user) -> bool:
    return has_role(user, Role.ADMINISTRATOR)


def ensure_can_manage_partners(actor) -> None:
    if actor is not None and not can_manage_partners(actor):
        raise PermissionDenied(gettext("Only administrators manage partner nodes."))


def can_read_message_log(user) -> bool:
    return has_role(user, Role.ADMINISTRATOR)


def ensure_can_read_message_log(actor) -> None:
    if actor is not None and not can_read_message_log(actor):
        raise PermissionDenied(gettext("Only administrators read the message log."))


def ensure_can_send(actor) -> None:
    """A message is sent by the node itself (None: a handler, the CLI) or by active staff;
    what each workflow allows is checked by the workflow before it calls send_message."""
    if actor is not None and not is_active_staff(actor):
        raise PermissionDenied(gettext("Only signed-in staff send messages to partner nodes."))
