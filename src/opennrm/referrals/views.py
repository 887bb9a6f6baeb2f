"""Referral pages: the case's referrals, referring (in OpenNRM or outside it), one referral
(sender's and recipient's view), answering it, recording assistance, the outcome and letter
of a referral outside OpenNRM, and the agency's inbox. Every write goes through
`referrals.services`; who sees what is decided in `referrals.access` and `cases.access`."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from opennrm.cases import access
from opennrm.cases.views import case_view
from opennrm.core.forms import add_service_errors
from opennrm.referrals import access as referral_access
from opennrm.referrals import services
from opennrm.referrals.forms import (
    AssistanceForm,
    OutcomeForm,
    ReasonForm,
    ReferralForm,
    ServiceTypeForm,
)
from opennrm.referrals.models import Referral, ReferralState
from opennrm.services.matching import matching_services, takes_referrals_in_opennrm

CHANNEL = "web"
INBOX_PER_PAGE = 25
# The columns an inbox row shows: nothing encrypted is loaded or decrypted.
ROW_COLUMNS = ("id", "state", "sent_at", "respond_by", "case__case_number", "service__name",
               "referring_agency__name", "recipient_agency__name", "external", "outcome",
               "service__provider__name")

# The actions on a referral's page: the state each leads to and the service function.
ACTIONS = {
    "accept": (ReferralState.ACCEPTED, services.accept_referral),
    "decline": (ReferralState.DECLINED, services.decline_referral),
    "cancel": (ReferralState.CANCELLED, services.cancel_referral),
    "withdraw": (ReferralState.WITHDRAWN, services.withdraw_referral),
    "complete": (ReferralState.COMPLETED, services.complete_referral),
}
DONE_MESSAGES = {
    ReferralState.ACCEPTED: lambda: _("Referral accepted."),
    ReferralState.DECLINED: lambda: _("Referral declined."),
    ReferralState.CANCELLED: lambda: _("Referral cancelled."),
    ReferralState.WITHDRAWN: lambda: _("Referral withdrawn."),
    ReferralState.COMPLETED: lambda: _("Referral closed as completed."),
}
ACTION_OF_STATE = {state: action for action, (state, _function) in ACTIONS.items()}


def referral_context(user, case, present) -> dict:
    """What the case page's referral list shows to `user` (no encrypted field is read);
    `present` names the case's lists that hold rows (`relations_with_rows`)."""
    referrals = (services.case_referrals(user, case)
                 .only("id", "state", "sent_at", "respond_by", "external", "outcome",
                       "service__name", "service__provider__name", "recipient_agency__name"))
    return {
        "referrals": list(referrals) if "referrals" in present else [],
        "may_refer": access.can_edit_case(user, case) and not case.is_closed,
    }


def _referable_services(case, service_type: str) -> list:
    """Matching services of other providers than the case's own agency: in OpenNRM, or
    outside it (the referral is recorded and the caseworker contacts them)."""
    return [service for service in matching_services(case, service_type)
            if service.provider.agency_id != case.owner_agency_id]


def _refer(request, case, form):
    """Send the referral, or record it for a service outside OpenNRM; the success message."""
    data = form.cleaned_data
    service = form.services[data["service"]]
    common = {"override_reason": data.get("override_reason", ""), "channel": CHANNEL}
    if takes_referrals_in_opennrm(service):
        referral = services.refer_case(request.user, case, service, data["shared_fields"],
                                       data["needs"], **common)
        return referral, _("Referral sent.")
    referral = services.record_external_referral(
        request.user, case, service, data["shared_fields"], data["needs"],
        follow_up_on=data.get("follow_up_on"), **common)
    return referral, _("Referral recorded. Contact %(provider)s and give them the referral "
                       "letter; record the outcome when you know it.") % {
                           "provider": service.provider.name}


@case_view
def referral_new(request, case_number):
    """Kind of service → matching services → what to share → what the person needs → send
    (in OpenNRM) or record (outside it)."""
    case = access.get_visible_case(request.user, case_number)
    access.ensure_can_edit(request.user, case)
    type_form = ServiceTypeForm(request.GET if "service_type" in request.GET else None)
    form = None
    if type_form.is_valid() and not case.is_closed:
        service_type = type_form.cleaned_data["service_type"]
        candidates = _referable_services(case, service_type)
        form = ReferralForm(request.POST or None, services=candidates,
                            may_override=referral_access.can_override_referral_consent(
                                request.user, case),
                            initial={"shared_fields": list(services.DEFAULT_SHARED_FIELDS)})
        if request.method == "POST" and form.is_valid():
            try:
                referral, done = _refer(request, case, form)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, done)
                return redirect("referral-detail", pk=referral.pk)
    return render(request, "referrals/referral_form.html", {
        "case": case, "type_form": type_form, "form": form})


@case_view
def referral_detail(request, pk):
    """One referral: the sender sees its state and history; the recipient also sees the
    shared fields, while the referral is open and its consent in force."""
    shown = services.read_referral(request.user, pk, channel=CHANNEL)
    referral = shown.referral
    actions = [(ACTION_OF_STATE[state], referral_state_label(state))
               for state in _changes_allowed(request.user, referral)]
    return render(request, "referrals/referral_detail.html", {
        "referral": referral,
        "view": shown,
        "is_recipient": shown.side == services.RECIPIENT,
        "shared_rows": [(services.SHARED_FIELDS[name], services.shared_value_text(name, value))
                        for name, value in (shown.shared or {}).items()],
        "shared_labels": [services.SHARED_FIELDS[name] for name in referral.shared_fields
                          if name in services.SHARED_FIELDS],
        "actions": actions,
        "may_record_assistance": (shown.side == services.RECIPIENT
                                  and referral.state == ReferralState.ACCEPTED),
        "may_record_outcome": bool(services.outcome_choices(request.user, referral)),
        "may_print_letter": referral_access.can_print_referral_letter(request.user, referral),
    })


def _changes_allowed(user, referral) -> list[str]:
    """The states `user` may move the referral to on its change page. Outside OpenNRM the
    others are the outcomes the caseworker records (`referral_outcome`)."""
    allowed = [state for state in services.allowed_transitions(user, referral)
               if state in ACTION_OF_STATE]
    if referral.external:
        return [state for state in allowed if state == ReferralState.CANCELLED]
    return allowed


def referral_state_label(state: str) -> str:
    return {
        ReferralState.ACCEPTED: _("Accept"),
        ReferralState.DECLINED: _("Decline"),
        ReferralState.CANCELLED: _("Cancel the referral"),
        ReferralState.WITHDRAWN: _("Withdraw"),
        ReferralState.COMPLETED: _("Close as completed"),
    }[state]


@case_view
def referral_change(request, pk, action):
    """Accept, decline, cancel, withdraw or complete a referral, with a reason."""
    if action not in ACTIONS:
        raise Http404(_("No such action."))
    to_state, change = ACTIONS[action]
    referral = services.get_referral(request.user, pk)
    posted = request.method == "POST"
    form = ReasonForm(request.POST if posted else None,
                      reason_required=services.reason_required(to_state))
    if posted and form.is_valid():
        try:
            change(request.user, referral, form.cleaned_data["reason"], channel=CHANNEL)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, DONE_MESSAGES[to_state]())
            return redirect("referral-detail", pk=referral.pk)
    elif not posted and to_state not in _changes_allowed(request.user, referral):
        messages.error(request, _("This cannot be done to the referral in its current state."))
        return redirect("referral-detail", pk=referral.pk)
    return render(request, "referrals/referral_change.html", {
        "referral": referral, "form": form, "action": action,
        "heading": referral_state_label(to_state)})


@case_view
def referral_outcome(request, pk):
    """Outside OpenNRM: the referring caseworker records what became of the referral."""
    referral = services.get_referral(request.user, pk)
    referral_access.ensure_referral_sender(request.user, referral)
    choices = services.outcome_choices(request.user, referral)
    if not choices:
        messages.error(request, _("No outcome can be recorded for this referral now."))
        return redirect("referral-detail", pk=referral.pk)
    form = OutcomeForm(request.POST or None, outcomes=choices)
    if request.method == "POST" and form.is_valid():
        try:
            services.record_referral_outcome(request.user, referral,
                                             form.cleaned_data["outcome"],
                                             form.cleaned_data["note"], channel=CHANNEL)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Outcome recorded."))
            return redirect("referral-detail", pk=referral.pk)
    return render(request, "referrals/referral_outcome.html", {"referral": referral,
                                                               "form": form})


@require_POST
@case_view
def referral_letter(request, pk):
    """Outside OpenNRM: the referral letter (PDF) for the provider, recorded as an export."""
    try:
        pdf = services.print_referral_letter(request.user, pk, channel=CHANNEL)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("referral-detail", pk=pk)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="referral-{pk}-letter.pdf"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    return response


@case_view
def assistance_new(request, pk):
    """The receiving agency records assistance it delivered under an accepted referral."""
    referral = services.get_referral(request.user, pk)
    referral_access.ensure_referral_recipient(request.user, referral)
    form = AssistanceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.record_assistance(request.user, referral, data["service_type"],
                                       data["description"], data["delivered_on"],
                                       channel=CHANNEL)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Assistance recorded."))
            return redirect("referral-detail", pk=referral.pk)
    return render(request, "referrals/assistance_form.html", {"referral": referral,
                                                              "form": form})


def _page(referrals, request, name: str):
    """One page of an inbox table (`referrals` ordered), as plain rows (a dict per referral:
    no model instances for the referral, its case, service and agencies, which cost a fifth
    of the page)."""
    # The page is found on the ids alone (an index-only scan however deep the page), then its
    # rows are read with their joins: joined first, PostgreSQL walked a page 40 row by row.
    page = Paginator(referrals.values_list("pk", flat=True), INBOX_PER_PAGE).get_page(
        request.GET.get(name))
    page.object_list = list(Referral.objects.filter(pk__in=page.object_list)
                            .order_by(*referrals.query.order_by).values(*ROW_COLUMNS))
    today = timezone.localdate()
    for referral in page.object_list:
        referral["days_left"] = (referral["respond_by"] - today).days
    for link, number in (("previous_url", page.has_previous() and page.number - 1),
                         ("next_url", page.has_next() and page.number + 1)):
        query = request.GET.copy()
        query[name] = number
        setattr(page, link, f"?{query.urlencode()}" if number else "")
    return page


@login_required
def referral_inbox(request):
    """Incoming referrals awaiting an answer (nearest deadline first), those in progress,
    and those the agency sent."""
    user = request.user
    if not access.can_register_cases(user):
        raise PermissionDenied(_("Your role does not handle referrals."))
    incoming = services.inbox(user)
    return render(request, "referrals/inbox.html", {
        "awaiting": _page(incoming.filter(state=ReferralState.SENT)
                          .order_by("respond_by", "id"), request, "awaiting_page"),
        "in_progress": _page(incoming.filter(state=ReferralState.ACCEPTED)
                             .order_by("respond_by", "id"), request, "progress_page"),
        "sent": _page(services.outbox(user).order_by("-sent_at", "-id"), request, "sent_page"),
    })
