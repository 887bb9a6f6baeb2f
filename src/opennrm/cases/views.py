from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from opennrm.cases.access import cases_visible_to


@login_required
def case_list(request):
    cases = cases_visible_to(request.user)[:50]
    return render(request, "cases/case_list.html", {"cases": cases})
