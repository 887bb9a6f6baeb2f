"""Notifications of a case's assignment and transfer: `cases` sends the signals (it sits
below `reminders` and cannot call `notify`), these receivers tell the people concerned.
Connected in `RemindersConfig.ready`."""

from django.urls import reverse
from django.utils.translation import gettext_noop

from opennrm.accounts.models import User
from opennrm.cases.access import SUPERVISING_ROLES
from opennrm.cases.models import TransferState
from opennrm.reminders.services import clear_notifications, notify

_ASSIGNED = gettext_noop("Case %(case_number)s is assigned to you.")
_TRANSFER_NOTICES = {
    TransferState.REQUESTED: gettext_noop(
        "%(agency)s asks your agency to take over case %(case_number)s."),
    TransferState.ACCEPTED: gettext_noop(
        "%(agency)s accepted the transfer of case %(case_number)s."),
    TransferState.DECLINED: gettext_noop(
        "%(agency)s declined the transfer of case %(case_number)s."),
}


def on_case_assigned(sender, cases, caseworker, actor=None, **kwargs) -> None:
    """Tell the new caseworker of each case given to them (not when they assigned it)."""
    if caseworker is None or caseworker == actor:
        return
    for case in cases:
        notify([caseworker], "case_assigned", _ASSIGNED,
               key=f"case-assigned:{case.pk}:{caseworker.pk}", case_number=case.case_number,
               link=reverse("case-detail", args=[case.case_number]),
               params={"case_number": case.case_number})


def _supervisors(agency_id: int):
    return User.objects.filter(agency_id=agency_id, is_active=True,
                               role__in=SUPERVISING_ROLES)


def on_transfer_changed(sender, transfer, actor=None, **kwargs) -> None:
    """A request tells the receiving agency's supervisors; an answer tells whoever asked,
    and ends the request's notification for the receiving side."""
    number = transfer.case.case_number
    if transfer.state == TransferState.REQUESTED:
        people, agency = _supervisors(transfer.to_agency_id), transfer.from_agency
        link = reverse("transfer-answer", args=[transfer.pk])
    else:
        clear_notifications(f"transfer-{TransferState.REQUESTED}:{transfer.pk}")
        people, agency = [transfer.requested_by], transfer.to_agency
        link = reverse("case-transfers")
    notify(people, f"transfer_{transfer.state}", _TRANSFER_NOTICES[transfer.state],
           key=f"transfer-{transfer.state}:{transfer.pk}", case_number=number, link=link,
           params={"case_number": number, "agency": agency.name})
