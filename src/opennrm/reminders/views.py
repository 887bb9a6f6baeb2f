"""The home page's deadlines and notifications."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.http import require_POST

from opennrm.reminders import deadlines, services

# The newest unread notifications on the home page; the count says how many there are.
NOTIFICATIONS_SHOWN = 5


def home_context(user) -> dict:
    """What the home page shows of deadlines and notifications for `user`."""
    unread = services.unread_notifications(user)
    return {
        "deadlines": deadlines.deadlines_for(user, timezone.localdate()),
        "notifications": list(unread[:NOTIFICATIONS_SHOWN]),
        "unread_count": unread.count(),
    }


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
