"""The user's deadlines and notifications: the full lists behind the home page's, opening
and marking read, and how the user hears of them by e-mail."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from opennrm.reminders import digest, services
from opennrm.reminders.forms import DigestForm
from opennrm.reminders.inbox import by_case, inbox_for
from opennrm.reminders.models import Notification

DEADLINES_PER_PAGE = 50
ENTRIES_PER_PAGE = 50


@login_required
def deadline_list(request):
    """Every open deadline the user (or, for a supervisor, their team) answers for, the
    nearest first."""
    due = inbox_for(request.user, timezone.localdate()).deadlines
    page = Paginator(due, DEADLINES_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "reminders/deadlines.html", {
        "page": page, "deadline_count": len(due),
        "team": any(entry.assignees for entry in due)})


@login_required
def notification_list(request):
    """Everything on the user's list, grouped by case, the case with the nearest deadline
    first: deadlines (read or not) until they are met, other notifications until read."""
    inbox = inbox_for(request.user, timezone.localdate())
    page = Paginator(inbox.entries, ENTRIES_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "reminders/notifications.html", {
        "page": page, "groups": by_case(list(page.object_list)),
        "entry_count": len(inbox.entries), "unread_count": inbox.unread_count})


@require_GET
@login_required
def notification_open(request, notification_id: int):
    """Opening a notification marks it read and goes to what it is about."""
    try:
        notification = services.open_notification(request.user, notification_id)
    except Notification.DoesNotExist:
        raise Http404 from None
    if notification.link and url_has_allowed_host_and_scheme(
            notification.link, allowed_hosts={request.get_host()}):
        return redirect(notification.link)
    return redirect("notification-list")


@require_POST
@login_required
def notification_read(request, notification_id: int):
    """"Mark as read": the notification leaves the lists (it stays stored); a deadline's
    stays listed until it is met, no longer new."""
    services.mark_read(request.user, notification_id)
    return _back(request)


@require_POST
@login_required
def notifications_read(request):
    """"Mark all as read"."""
    services.mark_all_read(request.user)
    return _back(request)


@login_required
def notification_settings(request):
    """Whether the user gets a daily digest e-mail instead of one per notification."""
    # Bound on every POST: an unticked box sends nothing of its own.
    form = DigestForm(request.POST if request.method == "POST" else None,
                      initial={"daily_digest": digest.wants_daily_digest(request.user)})
    if request.method == "POST" and form.is_valid():
        digest.set_daily_digest(request.user, form.cleaned_data["daily_digest"])
        messages.success(request, _("Your e-mail settings are saved."))
        return redirect("notification-settings")
    return render(request, "reminders/settings.html", {"form": form})


def _back(request):
    """To the page the form was on (the home page or the notification list)."""
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("home")
