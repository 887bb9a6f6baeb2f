"""The home page's deadlines and notifications."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.http import require_POST

from opennrm.reminders import deadlines, services


def home_context(user) -> dict:
    """What the home page shows of deadlines and notifications for `user`."""
    return {
        "deadlines": deadlines.deadlines_for(user, timezone.localdate()),
        "notifications": services.notifications_for(user),
    }


@require_POST
@login_required
def notification_read(request, notification_id: int):
    """"Mark as read": the notification leaves the home page (it stays stored)."""
    services.mark_read(request.user, notification_id)
    return redirect("home")
