"""The linkage pages: the review queue (with the coordinator's policy, "Run now" and the
recent runs) and a pair side by side with its decisions. Thin: every rule, check and audit
entry is in `linkage.access`, `linkage.node` and `linkage.review`."""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from opennrm.core.forms import add_service_errors
from opennrm.linkage import access, forms, node, review
from opennrm.linkage.models import (
    LINKED,
    UNDECIDED,
    LinkagePolicy,
    PairState,
    RunStatus,
    Trigger,
)

CHANNEL = "web"


def linkage_view(view):
    """Sign-in required; a pair the user may not review is a 404, a forbidden action a 403."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except access.PairNotFound as missing:
            raise Http404(_("No such pair.")) from missing
        except access.LinkageAccessDenied as denied:
            raise PermissionDenied(str(denied)) from denied

    return wrapper


def _policy_form(data=None) -> forms.PolicyForm:
    policy = LinkagePolicy.current()
    return forms.PolicyForm(data, initial={"automatic_link_from": policy.automatic_link_from,
                                           "review_from": policy.review_from,
                                           "nightly": policy.nightly})


def _queue_page(request, policy_form=None):
    user = request.user
    coordinator = access.is_coordinator(user)
    return render(request, "linkage/review_queue.html", {
        "pairs": review.review_queue(user, request.GET.get("page")),
        "coordinator": coordinator,
        "policy": LinkagePolicy.current() if coordinator else None,
        "policy_form": (policy_form or _policy_form()) if coordinator else None,
        "runs": node.recent_runs(user) if coordinator else [],
    })


@require_GET
@linkage_view
def review_queue(request):
    return _queue_page(request)


@require_POST
@linkage_view
def policy_update(request):
    access.ensure_coordinator(request.user)
    form = _policy_form(request.POST)
    if form.is_valid():
        try:
            node.set_policy(request.user, channel=CHANNEL, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Linkage policy saved."))
            return redirect("linkage:queue")
    return _queue_page(request, policy_form=form)


@require_POST
@linkage_view
def run_now(request):
    try:
        run = node.run_linkage(request.user, Trigger.ON_DEMAND, channel=CHANNEL)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("linkage:queue")
    if run.status == RunStatus.FAILED:
        messages.error(request, _("The linkage run failed: %(reason)s") % {
            "reason": run.failure_reason})
    else:
        messages.success(request, _(
            "Linkage run finished: %(persons)d persons compared, %(linked)d pairs linked "
            "automatically, %(review)d sent to review.") % {
            "persons": run.persons_compared, "linked": run.linked_automatically,
            "review": run.sent_to_review})
    return redirect("linkage:queue")


DECISIONS = {
    "confirm": (review.confirm_pair, _("The two persons are now counted as one.")),
    "reject": (review.reject_pair, _("Pair rejected: it will not be proposed again.")),
    "defer": (review.defer_pair, _("Pair deferred.")),
    "reopen": (lambda user, pair, note, channel: review.reopen_pair(user, pair, channel),
               _("Pair reopened: it waits for review again.")),
    "split": (review.split_pair, _("Link removed: the two persons are counted apart again.")),
}


@require_http_methods(["GET", "POST"])
@linkage_view
def candidate_pair(request, pk):
    """The pair side by side (its reading is audited) and the decisions on it."""
    pair = access.get_reviewable_pair(request.user, pk)
    form = forms.DecisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        decide, done = DECISIONS[form.cleaned_data["decision"]]
        try:
            decide(request.user, pair, form.cleaned_data["decision_note"], channel=CHANNEL)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, done)
            return redirect("linkage:queue")
        pair = access.get_reviewable_pair(request.user, pk)
    return render(request, "linkage/pair.html", {
        "review": review.pair_for_review(request.user, pair, channel=CHANNEL),
        "form": form, "undecided": pair.current_state in UNDECIDED,
        "may_reopen": pair.current_state == PairState.REJECTED,
        "may_split": pair.current_state in LINKED})
