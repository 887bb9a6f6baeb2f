"""Who may do what with linkage across nodes.

* Agreements (the shared secret, its fingerprint): the node's administrators and national
  coordinators.
* Rounds (start one, join or decline an invitation, read their state): the national
  coordinators. The operator on the server (CLI, actor None) may do anything.
* "Also known in country X" on a case page: the roles named in
  `OPENNRM_CROSS_BORDER_PRESENCE_ROLES` (national coordinators and supervisors by default),
  and only for the cases they may see (the case page checks that first).
"""

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext

from opennrm.core.access import has_role
from opennrm.core.roles import Role

DEFAULT_PRESENCE_ROLES = (Role.NATIONAL_COORDINATOR, Role.SUPERVISOR)


def can_manage_agreements(user) -> bool:
    return has_role(user, Role.ADMINISTRATOR, Role.NATIONAL_COORDINATOR)


def ensure_can_manage_agreements(actor) -> None:
    if actor is not None and not can_manage_agreements(actor):
        raise PermissionDenied(gettext("Only administrators and national coordinators manage "
                                       "linkage agreements."))


def can_run_rounds(user) -> bool:
    return has_role(user, Role.NATIONAL_COORDINATOR)


def ensure_can_run_rounds(actor) -> None:
    if actor is not None and not can_run_rounds(actor):
        raise PermissionDenied(gettext("Only national coordinators run linkage rounds."))


def presence_roles() -> tuple[str, ...]:
    return tuple(getattr(settings, "OPENNRM_CROSS_BORDER_PRESENCE_ROLES",
                         DEFAULT_PRESENCE_ROLES))


def can_see_presence_abroad(user) -> bool:
    """May see that a person is also known in another country (on cases they may see)."""
    return has_role(user, *presence_roles())
