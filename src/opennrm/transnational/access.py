"""Who may manage this node's identity and partners and read the message log: the
administrators. The operator on the server (CLI) acts without a user and may do anything.
Workflows that send personal data add their own rules (consent, the case's agency)."""

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.utils.translation import gettext

from opennrm.core.access import has_agency, has_role, is_active_staff
from opennrm.core.roles import Role

CASE_HANDLING_ROLES = (Role.CASEWORKER, Role.SUPERVISOR, Role.NATIONAL_COORDINATOR)


def handles_cases(user) -> bool:
    return has_role(user, *CASE_HANDLING_ROLES) and has_agency(user)


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


# --- transnational referrals (workflows.py) ---------------------------------------------------
# A referral sent is seen by the staff of the sending agency; a referral received by the
# node's focal point (the national coordinator's office) and, once assigned, by the staff of
# the agency it was assigned to. Another agency of the same node sees nothing of it.

def is_focal_point(user) -> bool:
    return has_role(user, Role.NATIONAL_COORDINATOR) and handles_cases(user)


def ensure_focal_point(actor) -> None:
    if not is_focal_point(actor):
        raise PermissionDenied(gettext("Only the national focal point decides on referrals "
                                       "from partner nodes."))


def referrals_visible_to(user):
    from opennrm.transnational.models import TransnationalReferral as Referral

    if not handles_cases(user):
        return Referral.objects.none()
    visible = Q(agency_id=user.agency_id)
    if is_focal_point(user):
        visible |= Q(direction=Referral.Direction.IN)
    return Referral.objects.filter(visible)


def can_work_on(user, referral) -> bool:
    """Send status updates: the sending agency's staff (out); the assigned agency's staff or
    the focal point (in)."""
    if not handles_cases(user):
        return False
    if referral.direction == "in" and is_focal_point(user):
        return True
    return referral.agency_id is not None and referral.agency_id == user.agency_id


def ensure_can_work_on(actor, referral) -> None:
    if not can_work_on(actor, referral):
        raise PermissionDenied(gettext("You are not part of this transnational referral."))
