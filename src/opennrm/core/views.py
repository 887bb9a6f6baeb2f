"""Pages that belong to no single capability: the home page and the session keep-alive."""

import time

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST

from opennrm.cases import worklist
from opennrm.core.middleware import SlidingSessionMiddleware


@login_required
def home(request):
    """What needs the signed-in user today."""
    from opennrm.reminders.views import home_context

    return render(request, "core/home.html", {"worklists": worklist.worklists_for(request.user),
                                              **home_context(request.user)})


@require_POST
@login_required
def keep_alive(request):
    """"Stay signed in" in the inactivity warning: renews the session now."""
    request.session[SlidingSessionMiddleware.KEY] = int(time.time())
    return HttpResponse(status=204)
