"""Regional statistics pages: the regional view and its PDF, sending a release to partners,
the schedules. Each view reads its form, calls `overview`, `report` or `services` (which
check access and hold the rules), and renders."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from opennrm.regional import services
from opennrm.regional.access import ensure_can_send_releases, ensure_can_view_regional
from opennrm.regional.forms import OverviewForm, ScheduleForm, SendForm
from opennrm.regional.models import ReleaseSchedule, SentRelease
from opennrm.regional.overview import regional_overview
from opennrm.regional.report import regional_report_pdf, report_filename
from opennrm.reports.formats import content_disposition
from opennrm.statistics import policy, releases
from opennrm.statistics.engine import table_set_keys
from opennrm.statistics.periods import format_period
from opennrm.statistics.views import table_context

LANGUAGES = ("en", "ro", "ru", "uk")


def _query(request) -> dict:
    return {"table_set": request.GET.get("table_set", table_set_keys()[0]),
            "period": request.GET.get("period", str(timezone.localdate().year - 1))}


@login_required
def overview_page(request):
    ensure_can_view_regional(request.user)
    form = OverviewForm(_query(request))
    context = {"form": form, "overview": None}
    if form.is_valid():
        start, end = form.cleaned_data["period"]
        key = form.cleaned_data["table_set"]
        overview = regional_overview(request.user, key, start, end)
        result = overview.result
        context.update(
            overview=overview, result=result,
            tables=[table_context(table, result) for table in result.tables],
            extra=[table_context(table, result) for table in overview.extra],
            period=format_period(start, end), languages=LANGUAGES)
    return render(request, "regional/overview.html", context)


@login_required
def report_pdf(request):
    ensure_can_view_regional(request.user)
    form = OverviewForm(_query(request))
    if not form.is_valid():
        return HttpResponse(_("Choose a table set and a period."), status=400,
                            content_type="text/plain; charset=utf-8")
    start, end = form.cleaned_data["period"]
    key = form.cleaned_data["table_set"]
    language = request.GET.get("language") or get_language() or "en"
    if language not in LANGUAGES:
        language = "en"
    body = regional_report_pdf(request.user, key, start, end, language=language)
    response = HttpResponse(body, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition(report_filename(key, start, end))
    response["Cache-Control"] = "no-store"
    return response


@login_required
def send_page(request):
    ensure_can_send_releases(request.user)
    node_policy = policy.current_policy()
    form = SendForm(request.POST or None, initial={"threshold": node_policy.threshold,
                                                   "rounding": node_policy.rounding})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if not data["confirm"]:
            form.add_error("confirm", _("Tick the box: a release sent cannot be taken back."))
        else:
            start, end = data["period"]
            try:
                controls = releases.policy_controls(data["threshold"], data["rounding"],
                                                    data["epsilon"])
                sending = services.send_release(request.user, list(data["partners"]),
                                                data["table_set"], start, end, controls)
            except releases.ReleaseError as error:
                form.add_error("threshold", str(error))
            except services.RegionalError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, _("Release %(id)s queued for %(partners)s.") % {
                    "id": sending.release.pk,
                    "partners": ", ".join(s.partner.country for s in sending.sent)})
                return redirect("regional:send")
    sent = SentRelease.objects.select_related("release", "partner")[:50]
    return render(request, "regional/send.html", {"form": form, "sent": sent,
                                                  "policy": node_policy})


@login_required
def schedules_page(request):
    ensure_can_send_releases(request.user)
    form = ScheduleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.create_schedule(request.user, data["table_set"], data["frequency"],
                                     list(data["partners"]), data["threshold"],
                                     data["rounding"] or None, data["epsilon"])
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                for message in errors:
                    form.add_error(field if field in form.fields else None, message)
        else:
            messages.success(request, _("Schedule saved."))
            return redirect("regional:schedules")
    schedules = ReleaseSchedule.objects.prefetch_related("partners")
    return render(request, "regional/schedules.html", {"form": form, "schedules": schedules})
