"""Pages that compose several apps: the home page, the case's timeline, and the session
keep-alive of every signed-in page."""

import time

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_POST

from opennrm.cases import access
from opennrm.cases.views import case_view
from opennrm.core.middleware import SlidingSessionMiddleware
from opennrm.reminders.views import home_context
from opennrm.workspace import worklists
from opennrm.workspace.timeline import timeline


@login_required
def home(request):
    """What needs the signed-in user today."""
    return render(request, "workspace/home.html", {
        "worklists": worklists.worklists_for(request.user), **home_context(request.user)})


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
