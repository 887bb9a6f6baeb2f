"""The home page's deadlines and notifications."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from opennrm.reminders import deadlines, services

# The newest unread notifications and the most urgent deadlines on the home page; the
# counts say how many there are, and the deadline page lists them all.
NOTIFICATIONS_SHOWN = 5
DEADLINES_SHOWN = 10
DEADLINES_PER_PAGE = 50


def home_context(user) -> dict:
    """What the home page shows of deadlines and notifications for `user`."""
    unread = services.unread_notifications(user)
    due = deadlines.deadlines_for(user, timezone.localdate())
    return {
        "deadlines": due[:DEADLINES_SHOWN],
        "deadline_count": len(due),
        "notifications": list(unread[:NOTIFICATIONS_SHOWN]),
        "unread_count": unread.count(),
    }


@login_required
def deadline_list(request):
    """Every open deadline the user is responsible for, the most urgent first."""
    due = deadlines.deadlines_for(request.user, timezone.localdate())
    page = Paginator(due, DEADLINES_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "reminders/deadlines.html", {"page": page,
                                                        "deadline_count": len(due)})


@require_POST
@login_required
def notification_read(request, notification_id: int):
    """"Mark as read": the notification leaves the home page (it stays stored)."""
    services.mark_read(request.user, notification_id)
    return redirect("home")


@require_POST
@login_required
def notifications_read(request):
    """"Mark all as read"."""
    services.mark_all_read(request.user)
    return redirect("home")
