"""Pages that compose several apps: the home page, the case's timeline, and the session
keep-alive of every signed-in page."""

import time

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_POST

from opennrm.cases import access
from opennrm.cases.labels import attach_name_labels
from opennrm.cases.views import case_view
from opennrm.core.middleware import SlidingSessionMiddleware
from opennrm.reminders.inbox import inbox_for
from opennrm.workspace import worklists
from opennrm.workspace.timeline import timeline
from opennrm.workspace.waiting import claim_notifications, waiting_for

# The most urgent deadlines and the newest notifications on the home page; the counts say how
# many there are, and the deadline and notification pages list them all.
DEADLINES_SHOWN = 10
NOTIFICATIONS_SHOWN = 5


@login_required
def home(request):
    """What needs the signed-in user today, one entry per thing: what waits for their
    agency's answer, their deadlines (their team's, for a supervisor), the other things they
    were told, and their worklists, each the nearest deadline first."""
    user, today = request.user, timezone.localdate()
    inbox = inbox_for(user, today)
    waiting = waiting_for(user, today)
    claim_notifications(waiting, inbox)
    nearest: dict = {}
    for entry in inbox.deadlines:
        nearest.setdefault(entry.case_number, entry.due_on)
    lists = worklists.worklists_for(user, nearest)
    # A name label for the user's own agency's cases (as the node's policy says; audited).
    attach_name_labels(user, [case for worklist in lists for case in worklist.cases],
                       channel="web")
    return render(request, "workspace/home.html", {
        "worklists": lists,
        "waiting": waiting,
        "deadlines": inbox.deadlines[:DEADLINES_SHOWN],
        "deadline_count": len(inbox.deadlines),
        "team": any(entry.assignees for entry in inbox.deadlines),
        "notifications": inbox.news[:NOTIFICATIONS_SHOWN],
        "notification_count": len(inbox.news),
        "unread_count": inbox.unread_count + sum(entry.unread for entry in waiting.entries),
    })


@require_POST
@login_required
def keep_alive(request):
    """"Stay signed in" in the inactivity warning: renews the session now."""
    request.session[SlidingSessionMiddleware.KEY] = int(time.time())
    return HttpResponse(status=204)


@case_view
def case_timeline(request, case_number):
    """Every step of the case, oldest first, with who decided and who recorded it."""
    case = access.get_visible_case(request.user, case_number)
    return render(request, "workspace/timeline.html", {
        "case": case, "entries": timeline(case), "today": timezone.localdate()})
