"""Pages of assignment and transfer: the case page's "Caseworker and agency" part, the case
list's bulk assignment, and the transfers page (waiting for your answer, sent, handed on)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from opennrm.accounts.models import User
from opennrm.cases import access, assignment, transfer
from opennrm.cases.assignment_forms import AssignForm, DeclineTransferForm, TransferForm
from opennrm.cases.views import CHANNEL, case_view
from opennrm.core.forms import add_service_errors


def case_section_context(user, case, present) -> dict:
    """The case page's "Caseworker and agency" part (registered in `CasesConfig.ready`)."""
    may_assign = access.can_assign_cases(user, case)
    may_transfer = may_assign and not case.is_closed
    pending = transfer.open_transfer(case) if may_assign else None
    return {
        "may_assign": may_assign,
        "assign_form": AssignForm(case.owner_agency_id, initial={
            "assigned_to": case.assigned_to_id}, prefix="assign") if may_assign else None,
        "may_transfer": may_transfer and pending is None,
        "transfer_form": TransferForm(case, prefix="transfer") if may_transfer else None,
        "pending_transfer": pending,
    }


def _section(case_number: str) -> str:
    return reverse("case-detail", args=[case_number]) + "#assignment"


def _show_errors(request, error: ValidationError) -> None:
    for message in error.messages:
        messages.error(request, message)


def _caseworker(form: AssignForm) -> User | None:
    user_id = form.cleaned_data["assigned_to"]
    return User.objects.filter(pk=user_id).first() if user_id else None


@require_POST
@case_view
def case_assign(request, case_number):
    """Assign (or reassign, or unassign) the case's caseworker."""
    case = access.get_visible_case(request.user, case_number)
    access.ensure_can_assign(request.user, case)
    form = AssignForm(case.owner_agency_id, request.POST, prefix="assign")
    if not form.is_valid():
        messages.error(request, _("Choose a caseworker of the agency that owns the case."))
        return redirect(_section(case_number))
    caseworker = _caseworker(form)
    try:
        assignment.assign_case(request.user, case, caseworker, channel=CHANNEL)
    except ValidationError as error:
        _show_errors(request, error)
    else:
        messages.success(request, _("Case assigned to %(name)s.") % {
            "name": caseworker.get_full_name() or caseworker.username} if caseworker
            else _("The case has no caseworker now."))
    return redirect(_section(case_number))


@require_POST
@case_view
def case_bulk_assign(request):
    """Assign the cases ticked on the case list to one caseworker."""
    user = request.user
    if not access.can_assign_cases(user):
        raise access.CaseAccessDenied(_("Only a supervisor assigns cases."))
    back = request.POST.get("next", "")
    back = back if back.startswith("/cases/") and "//" not in back else reverse("case-list")
    form = AssignForm(user.agency_id, request.POST, prefix="assign")
    numbers = request.POST.getlist("case")
    cases = list(access.cases_visible_to(user).filter(case_number__in=numbers))
    if len(cases) != len(set(numbers)):
        raise access.CaseNotFound(_("No such case."))
    if not form.is_valid():
        messages.error(request, _("Choose a caseworker of the agency that owns the case."))
        return redirect(back)
    caseworker = _caseworker(form)
    try:
        assignment.assign_cases(user, cases, caseworker, channel=CHANNEL)
    except ValidationError as error:
        _show_errors(request, error)
    else:
        name = (caseworker.get_full_name() or caseworker.username) if caseworker else ""
        messages.success(request, (_("%(count)d cases assigned to %(name)s.") if caseworker
                                   else _("%(count)d cases have no caseworker now."))
                         % {"count": len(cases), "name": name})
    return redirect(back)


@require_POST
@case_view
def case_transfer(request, case_number):
    """Ask another agency to take the case over."""
    case = access.get_visible_case(request.user, case_number)
    access.ensure_can_transfer(request.user, case)
    form = TransferForm(case, request.POST, prefix="transfer")
    form.is_valid()
    try:
        requested = transfer.request_transfer(request.user, case,
                                              form.cleaned_data.get("to_agency") or "",
                                              channel=CHANNEL)
    except ValidationError as error:
        _show_errors(request, error)
    else:
        messages.success(request, _("Transfer requested: %(agency)s will answer.") % {
            "agency": requested.to_agency.name})
    return redirect(_section(case_number))


@case_view
def transfer_list(request):
    """Transfers waiting for the user's answer, those their agency sent, and the cases it
    handed on (its closed records of them)."""
    user = request.user
    if not access.handles_cases(user):
        raise access.CaseAccessDenied(_("Your role does not give access to individual cases."))
    return render(request, "cases/transfers.html", {
        "to_answer": access.transfers_to_answer(user).select_related(
            "case", "from_agency", "requested_by").order_by("requested_at", "id"),
        "sent": transfer.transfers_requested_by(user),
        "handed_on": transfer.transferred_away(user),
    })


@case_view
def transfer_answer(request, pk):
    """The receiving supervisor accepts the case, or declines it with a reason."""
    pending = transfer.get_transfer_to_answer(request.user, pk)
    form = DeclineTransferForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        try:
            if "accept" in request.POST:
                transfer.accept_transfer(request.user, pending, channel=CHANNEL)
                messages.success(request, _("Case %(number)s is now your agency's. Assign it "
                                            "a caseworker.") % {
                    "number": pending.case.case_number})
                return redirect(_section(pending.case.case_number))
            form.is_valid()
            transfer.decline_transfer(request.user, pending,
                                      form.cleaned_data.get("reason", ""), channel=CHANNEL)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Transfer declined."))
            return redirect("case-transfers")
    return render(request, "cases/transfer_answer.html", {"transfer": pending, "form": form})


@case_view
def former_case_record(request, pk):
    """What the former owner keeps of a case it handed on: the transfer, read-only."""
    record = transfer.get_former_case_record(request.user, pk, channel=CHANNEL)
    return render(request, "cases/former_case.html", {"transfer": record})
