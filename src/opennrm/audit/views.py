from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import render

from opennrm.audit.access import AuditAccessDenied
from opennrm.audit.models import Action
from opennrm.audit.services import audit_entries_for, verify_chain


@login_required
def audit_trail(request):
    filters = {
        "case_number": request.GET.get("case_number", ""),
        "username": request.GET.get("username", ""),
        "action": request.GET.get("action", ""),
    }
    try:
        entries = audit_entries_for(request.user, **filters)
    except AuditAccessDenied as error:
        raise PermissionDenied(str(error)) from None
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    chain = verify_chain() if request.GET.get("verify") else None
    return render(request, "audit/audit_trail.html", {
        "page": page, "filters": filters, "actions": Action.choices, "chain": chain,
    })
