"""The node-to-node endpoint (POST /trm/v1/messages), this node's card and message schemas
(public, for partners), and the administrator's message log and partner list."""

import json
import threading
import time
from collections import deque

from django.conf import settings
from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from opennrm.transnational import access, schemas, services
from opennrm.transnational.identity import (
    IdentityError,
    card_fingerprint,
    format_fingerprint,
    node_card,
)
from opennrm.transnational.models import OutboxMessage, Partner
from opennrm.transnational.receiving import receive


def _refusal(status: int, code: str, text: str) -> JsonResponse:
    return JsonResponse({"status": "rejected", "code": code, "text": text}, status=status)


class _RateLimit:
    """Messages per partner in the last minute, in this process (each server process counts
    its own: with N processes a partner gets at most N × the limit)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.seen: dict[str, deque] = {}

    def allow(self, key: str, limit: int) -> bool:
        now = time.monotonic()
        with self.lock:
            times = self.seen.setdefault(key, deque())
            while times and times[0] < now - 60:
                times.popleft()
            if len(times) >= limit:
                return False
            times.append(now)
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
        response = _refusal(429, "rate_limited", "Too many messages this minute; try later.")
        response["Retry-After"] = "10"
        return response
    body = request.read(limit + 1)
    if len(body) > limit:
        return _refusal(413, "too_large", f"A message is at most {limit} bytes.")
    try:
        answer = receive(body, sender)
    except IdentityError as error:
        return _refusal(503, "not_ready", str(error))
    return JsonResponse(answer.body, status=answer.http_status)


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
