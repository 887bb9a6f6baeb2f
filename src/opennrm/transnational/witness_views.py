"""The administrator's page of the audit checkpoints this node keeps as its partners'
witness (witness.py): each partner's newest, and every conflict, which is a sign that
partner's audit trail was rewritten or cut."""

import uuid

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render

from opennrm.transnational import witness


@login_required
def witnessed_checkpoints(request):
    partners = witness.witnesses_by_partner(request.user)
    kept = witness.witnessed(request.user)
    chosen = None
    try:
        chosen = partners.filter(node_id=uuid.UUID(request.GET.get("partner", ""))).first()
    except ValueError:
        pass
    if chosen is not None:
        kept = kept.filter(partner=chosen)
    return render(request, "transnational/witnessed.html", {
        "partners": partners, "chosen": chosen,
        "conflicts": kept.exclude(conflict=""),
        "page": Paginator(kept, 50).get_page(request.GET.get("page")),
    })
