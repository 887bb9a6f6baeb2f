"""The node-to-node endpoints (POST /trm/v1/messages, one message; POST /trm/v1/batch, several
from one sender), this node's card and message schemas (public, for partners), and the
administrator's message log and partner list."""

import json
import threading
import time
from collections import deque
from contextlib import contextmanager

from django import forms
from django.conf import settings
from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from opennrm.accounts.models import Agency
from opennrm.cases import access as case_access
from opennrm.cases.views import case_view
from opennrm.core.forms import add_service_errors
from opennrm.transnational import access, schemas, services, workflows
from opennrm.transnational.identity import (
    IdentityError,
    card_fingerprint,
    format_fingerprint,
    node_card,
)
from opennrm.transnational.models import OutboxMessage, Partner
from opennrm.transnational.receiving import receive
from opennrm.transnational.receiving import receive_batch as receive_batch_of


def _refusal(status: int, code: str, text: str) -> JsonResponse:
    return JsonResponse({"status": "rejected", "code": code, "text": text}, status=status)


class _RateLimit:
    """Messages per partner in the last minute, in this process (each server process counts
    its own: with N processes a partner gets at most N × the limit)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.seen: dict[str, deque] = {}

    def allow(self, key: str, limit: int, count: int = 1) -> bool:
        """Whether `count` more messages from `key` stay within `limit` a minute (counted if
        so)."""
        now = time.monotonic()
        with self.lock:
            times = self.seen.setdefault(key, deque())
            while times and times[0] < now - 60:
                times.popleft()
            if len(times) + count > limit:
                return False
            times.extend([now] * count)
            return True


rate_limit = _RateLimit()


@csrf_exempt
@require_POST
def receive_message(request):
    limit = settings.OPENNRM_TRM_MAX_MESSAGE_BYTES
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > limit:
        return _refusal(413, "too_large", f"A message is at most {limit} bytes.")
    sender = request.headers.get("TRM-Sender", "").strip()[:64]
    if not rate_limit.allow(sender, settings.OPENNRM_TRM_RATE_PER_MINUTE):
        return _rate_limited()
    body = request.read(limit + 1)
    if len(body) > limit:
        return _refusal(413, "too_large", f"A message is at most {limit} bytes.")
    try:
        answer = receive(body, sender)
    except IdentityError as error:
        # A node without an identity (no `opennrm node init`) has no endpoint to offer.
        return _refusal(404, "not_a_node", str(error))
    return JsonResponse(answer.body, status=answer.http_status)


def _rate_limited() -> JsonResponse:
    response = _refusal(429, "rate_limited", "Too many messages this minute; try later.")
    response["Retry-After"] = "10"
    return response


@csrf_exempt
@require_POST
def receive_batch(request):
    """{"messages": [sealed, ...]} → {"results": [{"http_status": ..., answer}, ...]}, in the
    same order. Each message is held to the size limit of one message, a batch to
    OPENNRM_TRM_BATCH_SIZE messages; the rate limit counts messages, not requests."""
    limit = settings.OPENNRM_TRM_MAX_MESSAGE_BYTES
    most = settings.OPENNRM_TRM_BATCH_SIZE
    batch_limit = limit * most + 1024
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > batch_limit:
        return _refusal(413, "too_large", f"A batch is at most {batch_limit} bytes.")
    body = request.read(batch_limit + 1)
    if len(body) > batch_limit:
        return _refusal(413, "too_large", f"A batch is at most {batch_limit} bytes.")
    try:
        sealed = json.loads(body)["messages"]
    except (ValueError, KeyError, TypeError):
        return _refusal(400, "malformed", 'A batch is a JSON object {"messages": [...]}.')
    if (not isinstance(sealed, list) or not sealed
            or not all(isinstance(item, str) for item in sealed)):
        return _refusal(400, "malformed", "The batch's messages are a list of JWE strings.")
    if len(sealed) > most:
        return _refusal(413, "too_many", f"A batch holds at most {most} messages.")
    sender = request.headers.get("TRM-Sender", "").strip()[:64]
    if not rate_limit.allow(sender, settings.OPENNRM_TRM_RATE_PER_MINUTE, len(sealed)):
        return _rate_limited()
    bodies = [item.encode("utf-8") for item in sealed]
    results = []
    too_large = [len(item) > limit for item in bodies]
    try:
        answers = iter(receive_batch_of(
            [item for item, large in zip(bodies, too_large, strict=True) if not large], sender))
    except IdentityError as error:
        return _refusal(404, "not_a_node", str(error))
    for large in too_large:
        if large:
            results.append({"http_status": 413, "status": "rejected", "code": "too_large",
                            "text": f"A message is at most {limit} bytes."})
        else:
            answer = next(answers)
            results.append({"http_status": answer.http_status, **answer.body})
    return JsonResponse({"results": results})


@require_GET
def card(request):
    try:
        return JsonResponse(node_card())
    except IdentityError:
        raise Http404 from None


@require_GET
def schema(request, name: str, version: int):
    found = schemas.schema(name, version)
    if found is None:
        raise Http404
    return JsonResponse(found)


@require_GET
def schema_index(request):
    return JsonResponse({"types": {
        name: {"version": schemas.current_version(name),
               "url": request.build_absolute_uri(
                   f"/trm/v1/schemas/{name}/{int(schemas.current_version(name).split('.')[0])}")}
        for name in schemas.message_types()}})


# --- the administrator's pages -------------------------------------------------------------

@login_required
def message_log(request):
    direction = request.GET.get("direction", "")
    status = request.GET.get("status", "")
    outbox, inbox = services.message_log(request.user, direction, status)
    return render(request, "transnational/messages.html", {
        "outbox": Paginator(outbox, 50).get_page(request.GET.get("page")),
        "inbox": Paginator(inbox, 50).get_page(request.GET.get("inpage")),
        "direction": direction, "status": status,
        "statuses": OutboxMessage.Status.choices,
    })


@login_required
def message_evidence(request, message_id):
    try:
        evidence = services.evidence(request.user, message_id)
    except OutboxMessage.DoesNotExist:
        raise Http404 from None
    response = HttpResponse(json.dumps(evidence, indent=2), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="trm-evidence-{message_id}.json"'
    return response


@login_required
@require_POST
def message_retry(request, message_id):
    access.ensure_can_manage_partners(request.user)
    message = get_object_or_404(OutboxMessage, message_id=message_id)
    try:
        if request.POST.get("action") == "abandon":
            services.abandon(request.user, message, request.POST.get("reason", ""))
            flash.success(request, _("The delivery was abandoned."))
        else:
            services.retry(request.user, message)
            flash.success(request, _("The message is queued again."))
    except services.ChannelError as error:
        flash.error(request, str(error))
    return redirect("trm-messages")


@login_required
def partner_list(request):
    access.ensure_can_manage_partners(request.user)
    try:
        own = node_card()
        own_fingerprint = format_fingerprint(card_fingerprint(own))
    except IdentityError:
        own, own_fingerprint = None, ""
    return render(request, "transnational/partners.html", {
        "partners": Partner.objects.order_by("country", "name"), "card": own,
        "fingerprint": own_fingerprint,
    })


# --- transnational referrals (workflows.py) ---------------------------------------------------

def _code_choices(name: str) -> list[tuple[str, str]]:
    from opennrm.core import codelists

    return codelists.choices(name)


class OfferForm(forms.Form):
    partner = forms.ChoiceField(label=gettext_lazy("Partner country"))
    stage = forms.ChoiceField(label=gettext_lazy("TRM stage"))
    mode = forms.ChoiceField(label=gettext_lazy("Handover or shared"), choices=[
        ("handover", gettext_lazy("Handover: the partner country becomes responsible")),
        ("shared", gettext_lazy("Shared: both countries keep working"))])
    services_asked = forms.MultipleChoiceField(label=gettext_lazy("Services asked"),
                                               widget=forms.CheckboxSelectMultiple)
    urgency = forms.ChoiceField(label=gettext_lazy("Urgency"))
    shared_fields = forms.MultipleChoiceField(
        label=gettext_lazy("Fields shared once the partner accepts"), required=False,
        widget=forms.CheckboxSelectMultiple)
    risk_assessment = forms.CharField(label=gettext_lazy("Joint risk assessment (for a return)"),
                                      required=False, max_length=20000,
                                      widget=forms.Textarea(attrs={"rows": 5}))

    FIELD_LABELS = {
        "given_name": gettext_lazy("Given name"), "family_name": gettext_lazy("Family name"),
        "aliases": gettext_lazy("Other names"), "birth_date": gettext_lazy("Birth date"),
        "birth_year": gettext_lazy("Birth year"),
        "identity_documents": gettext_lazy("Identity documents"),
        "phone": gettext_lazy("Telephone"), "address": gettext_lazy("Address"),
        "citizenships": gettext_lazy("Citizenships"), "languages": gettext_lazy("Languages"),
        "recruitment_countries": gettext_lazy("Countries of recruitment"),
        "exploitation_countries": gettext_lazy("Countries of exploitation"),
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["partner"].choices = [
            (str(p.node_id), f"{p.country} — {p.name}")
            for p in Partner.objects.filter(status=Partner.Status.ACTIVE).order_by("country")]
        self.fields["stage"].choices = _code_choices("trm_stages")
        self.fields["urgency"].choices = _code_choices("trm_urgency")
        self.fields["services_asked"].choices = _code_choices("service_types")
        self.fields["shared_fields"].choices = [
            (name, self.FIELD_LABELS.get(name, name)) for name in workflows.SHAREABLE_FIELDS]


class DecisionForm(forms.Form):
    agency = forms.ModelChoiceField(label=gettext_lazy("Agency that takes the case"),
                                    required=False, queryset=Agency.objects.filter(is_active=True))
    reason = forms.CharField(label=gettext_lazy("Note or reason for declining"), required=False,
                             max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=gettext_lazy("Step"))
    note = forms.CharField(label=gettext_lazy("Note"), required=False, max_length=2000,
                           widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = _code_choices("trm_status_updates")


class CorrectionForm(forms.Form):
    field = forms.ChoiceField(label=gettext_lazy("Shared field"))
    value = forms.CharField(
        label=gettext_lazy("Corrected value"), required=False, max_length=2000,
        help_text=gettext_lazy("A list comma-separated (country or language codes); identity "
                               "documents as JSON."))

    def __init__(self, *args, shared_fields=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["field"].choices = [(name, OfferForm.FIELD_LABELS.get(name, name))
                                        for name in shared_fields]


def case_section_context(user, case, present) -> dict:
    """The case page's transnational section (registered in TransnationalConfig.ready)."""
    from opennrm.cases.access import can_edit_case

    referrals = (workflows.case_referrals(user, case)
                 if "transnational_referrals" in present else [])
    # No query for partners here: the case page keeps to its query budget, and the offer page
    # says when no partner is connected.
    return {"transnational_referrals": referrals,
            "may_refer_abroad": can_edit_case(user, case) and not case.is_closed}


@contextmanager
def _refusals_shown(request):
    """A workflow step the services refuse (a field error, or a message the channel will not
    take) is shown on the referral page as a message; the step changes nothing."""
    try:
        yield
    except ValidationError as error:
        flash.error(request, " ".join(error.messages))
    except services.ChannelError as error:
        flash.error(request, str(error))


def _referral_or_404(user, pk: int):
    try:
        return workflows.get_referral(user, pk)
    except workflows.Referral.DoesNotExist:
        raise Http404 from None


@case_view
def referral_offer(request, case_number):
    case = case_access.get_visible_case(request.user, case_number)
    case_access.ensure_can_edit(request.user, case)
    form = OfferForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            referral = workflows.offer_transnational_referral(
                request.user, case, Partner.objects.get(node_id=data["partner"]), data["stage"],
                data["mode"], data["shared_fields"], data["services_asked"], data["urgency"],
                data["risk_assessment"])
        except ValidationError as error:
            add_service_errors(form, error)
        except services.ChannelError as error:
            form.add_error(None, str(error))
        else:
            flash.success(request, _("The offer was sent to the partner (preview only)."))
            return redirect("trm-referral", referral.pk)
    return render(request, "transnational/offer.html", {"case": case, "form": form})


@login_required
def referral_list(request):
    referrals = workflows.visible_referrals(request.user)
    return render(request, "transnational/referrals.html", {
        "incoming": referrals.filter(direction="in"),
        "outgoing": referrals.filter(direction="out"),
        "focal_point": access.is_focal_point(request.user)})


def _may_correct(user, referral) -> bool:
    """The sender corrects shared data of its own open case once the partner holds it."""
    from opennrm.cases.access import can_edit_case

    return (referral.direction == "out" and referral.status == "active"
            and referral.case is not None and not referral.case.is_closed
            and bool(referral.shared_fields) and can_edit_case(user, referral.case))


@login_required
def referral_detail(request, pk):
    referral = _referral_or_404(request.user, pk)
    return render(request, "transnational/referral.html", {
        "referral": referral, "events": workflows.events_with_state(referral),
        "may_decide": (referral.direction == "in" and referral.status == "offered"
                       and access.is_focal_point(request.user)),
        "may_update": (access.can_work_on(request.user, referral)
                       and referral.status in ("accepted", "active")),
        "decision_form": DecisionForm(), "status_form": StatusForm(),
        "may_correct": _may_correct(request.user, referral),
        "correction_form": CorrectionForm(shared_fields=referral.shared_fields),
        "stage_label": dict(_code_choices("trm_stages")).get(referral.stage, referral.stage),
    })


@login_required
@require_POST
def referral_decide(request, pk):
    referral = _referral_or_404(request.user, pk)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        flash.error(request, _("Check the form."))
        return redirect("trm-referral", pk)
    with _refusals_shown(request):
        if request.POST.get("action") == "accept":
            workflows.accept_referral(request.user, referral, form.cleaned_data["agency"],
                                      form.cleaned_data["reason"])
            flash.success(request, _("Accepted: the partner sends the shared identity."))
        else:
            workflows.decline_referral(request.user, referral, form.cleaned_data["reason"])
            flash.success(request, _("Declined: the partner is told."))
    return redirect("trm-referral", pk)


@login_required
@require_POST
def referral_status(request, pk):
    referral = _referral_or_404(request.user, pk)
    form = StatusForm(request.POST)
    if not form.is_valid():
        flash.error(request, _("Choose a step."))
        return redirect("trm-referral", pk)
    with _refusals_shown(request):
        workflows.send_status_update(request.user, referral, form.cleaned_data["status"],
                                     form.cleaned_data["note"])
        flash.success(request, _("The status update was sent."))
    return redirect("trm-referral", pk)


@login_required
@require_POST
def referral_correct(request, pk):
    """Correct one shared field of the case: the case is updated and the correction goes to
    every node that received it (`workflows.correct_shared_data`)."""
    referral = _referral_or_404(request.user, pk)
    if not _may_correct(request.user, referral):
        flash.error(request, _("Shared data is corrected by the sending agency, once the "
                               "partner holds the case and while the case is open."))
        return redirect("trm-referral", pk)
    form = CorrectionForm(request.POST, shared_fields=referral.shared_fields)
    if not form.is_valid():
        flash.error(request, _("Choose a shared field."))
        return redirect("trm-referral", pk)
    with _refusals_shown(request):
        changes = workflows.correction_changes(
            {form.cleaned_data["field"]: form.cleaned_data["value"]})
        if workflows.correct_shared_data(request.user, referral.case, changes):
            flash.success(request, _("The correction was sent to the partner."))
        else:
            flash.warning(request, _("Nothing was sent: no partner holds that field under a "
                                     "consent in force."))
    return redirect("trm-referral", pk)
