"""Statistics pages: disclosure-controlled tables, their downloads, and releases.

Every figure shown or downloaded here comes out of `releases.preview` (disclosure control
applied) or out of a published release: no page reaches a case or a person. The reports
(CSV, XLSX, PDF, charts) are drawn by `opennrm.reports`.
"""

from __future__ import annotations

import json
import logging
from functools import lru_cache
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Sum
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, gettext_noop
from django.utils.translation import gettext as _

from opennrm.core import codelists
from opennrm.reports.formats import CONTENT_TYPES
from opennrm.statistics import dp, policy, releases
from opennrm.statistics.access import (
    ensure_can_publish_releases,
    ensure_can_set_disclosure_policy,
    ensure_can_view_statistics,
)
from opennrm.statistics.engine import table_set_choices, table_set_keys
from opennrm.statistics.forms import (
    ALL_TABLE_SETS,
    DownloadForm,
    PolicyForm,
    PublishForm,
    StatisticsForm,
)
from opennrm.statistics.models import DisclosurePolicy, PrivacyBudgetSpend, Release
from opennrm.statistics.periods import format_period
from opennrm.statistics.tables import Table, TableSetResult

logger = logging.getLogger(__name__)

CHANNEL = "web"
PER_PAGE = 25
FORMATS = CONTENT_TYPES  # the formats a table set downloads as

# The messages `releases` gives in a ReleaseError, marked here so that they are translated
# (the page shows them through gettext), with the field each one is about.
RELEASE_ERROR_FIELDS = {
    gettext_noop("The threshold must be at least 1."): "threshold",
    gettext_noop("The rounding base cannot be negative."): "rounding",
    gettext_noop("ε must be greater than 0."): "epsilon",
    gettext_noop("No table of this set can take differential privacy."): "epsilon",
    gettext_noop("The period ends before it starts."): "period",
    gettext_noop("A period may be at most ten years long."): "period",
}


def _frame_label(name: str) -> str:
    """What a statistical frame (the de-identified input of a release) holds."""
    labels = {"cases": _("Cases"), "referrals": _("Referrals"), "assistance": _("Assistance"),
              "closures": _("Case closures"), "returns": _("Returns"),
              "decisions": _("Identification decisions"),
              "transnational": _("Transnational referrals"),
              "offences": _("Criminal cases"), "suspects": _("Suspected persons"),
              "prosecutions": _("Prosecuted persons"), "convictions": _("Convicted persons"),
              "identifications": _("Formal identifications")}
    return labels.get(name, name)


# --- presenting tables -------------------------------------------------------------------

def _number(value) -> str:
    """A number in the reader's language: "1" for 1.0, "0,5" in Romanian."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return number_format(value, use_l10n=True, force_grouping=True)


def _unit_text(table: Table) -> str:
    if table.kind == "count":
        units = {"persons": _("Counts persons"), "cases": _("Counts cases"),
                 "referrals": _("Counts referrals"), "decisions": _("Counts decisions")}
    else:
        units = {"persons": _("Indicator computed over persons"),
                 "cases": _("Indicator computed over cases"),
                 "referrals": _("Indicator computed over referrals"),
                 "decisions": _("Indicator computed over decisions")}
    return units.get(table.unit, table.unit)


@lru_cache(maxsize=256)
def _drawn_chart(language: str, table_json: str) -> tuple[str, str] | None:
    """The chart of a published table as (SVG, text alternative), or None.

    Drawing takes about half a second; the same published table in the same language
    always gives the same chart, so it is kept (published figures only, no person).
    """
    try:
        import vl_convert

        from opennrm.reports.charts import chart_spec
    except ImportError:
        return None
    try:
        spec = chart_spec(Table.from_dict(json.loads(table_json)))
        if spec is None:
            return None
        svg = vl_convert.vegalite_to_svg(spec, allowed_base_urls=[])
    except Exception:  # noqa: BLE001 - a chart that cannot be drawn must not hide the table
        logger.exception("statistics: the chart of a table could not be drawn")
        return None
    # The text alternative is on the figure: the drawing itself is hidden from assistive
    # technologies (its marks would be read one by one).
    svg = svg.replace("<svg ", '<svg aria-hidden="true" focusable="false" ', 1)
    return svg, str(spec.get("description") or "")


def _chart(table: Table) -> dict | None:
    drawn = _drawn_chart(get_language() or "en",
                         json.dumps(table.to_dict(), sort_keys=True, default=str))
    if drawn is None:
        return None
    svg, description = drawn
    return {"svg": mark_safe(svg),  # noqa: S308 - drawn by vl-convert from published labels
            "description": description or table.title}


def table_context(table: Table, result: TableSetResult, *, charts: bool = True) -> dict:
    """A published table laid out for the template: header, lines with totals, symbols."""
    from opennrm.reports.published import (
        localized_text,
        small_cell_label,
        table_footnotes,
        table_grid,
        table_symbols,
    )

    label = small_cell_label(table, result)
    grid = table_grid(table)
    rows = []
    for grid_row in grid.rows:
        rows.append({
            "label": grid_row.label,
            "is_total": grid_row.is_total,
            "cells": [{"text": localized_text(cell, label), "withheld": cell.value is None,
                       "is_total": grid_row.is_total or grid.is_total_column(index)}
                      for index, cell in enumerate(grid_row.cells)],
        })
    columns = [{"label": column_label, "is_total": grid.is_total_column(index)}
               for index, (_code, column_label) in enumerate(grid.columns)]
    return {
        "key": table.key,
        "title": table.title,
        "description": table.description,
        "unit": _unit_text(table),
        "additive": table.additive or table.kind != "count",
        "row_dimension": table.row_dimension,
        "column_dimension": table.column_dimension if len(table.columns) > 1 else "",
        "category_columns": len(table.columns),
        "extra_columns": len(grid.columns) - len(table.columns),
        "columns": columns,
        "rows": rows,
        "symbols": table_symbols(table, result),
        "notes": [*table_footnotes(table, result), *table.notes],
        "chart": _chart(table) if charts else None,
    }


def result_context(result: TableSetResult) -> dict:
    from opennrm.reports.published import controls_explanations

    return {
        "result": result,
        "tables": [table_context(table, result) for table in result.tables],
        "controls": controls_explanations(result),
    }


# --- the statistics page -----------------------------------------------------------------

def _current_year() -> str:
    return str(timezone.localdate().year)


def _statistics_query(request) -> dict:
    """The page's GET parameters, with the current year and the first table set by default."""
    return {"period": request.GET.get("period", _current_year()),
            "table_set": request.GET.get("table_set", table_set_keys()[0])}


def _add_release_error(form, error: releases.ReleaseError) -> None:
    """A refused release or preview: the message next to the field it is about."""
    cause = error.__cause__
    if isinstance(cause, dp.BudgetExceeded):
        form.add_error("epsilon" if "epsilon" in form.fields else None, _(
            "The privacy budget would be exceeded: ε = %(spent)s is already spent on this "
            "table set for overlapping periods, and %(asked)s more would make %(total)s, "
            "more than the budget of %(cap)s. Choose a smaller ε, or publish without "
            "noise.") % {"spent": _number(cause.spent), "asked": _number(cause.asked),
                         "total": _number(round(cause.spent + cause.asked, 6)),
                         "cap": _number(cause.cap)})
        return
    if isinstance(cause, policy.PolicyError):
        form.add_error(cause.field if cause.field in form.fields else None, str(error))
        return
    message = str(error)
    field = RELEASE_ERROR_FIELDS.get(message)
    form.add_error(field if field in form.fields else None, _(message))


@login_required
def statistics_page(request):
    """The tables of one table set for one period, as they may be published."""
    ensure_can_view_statistics(request.user)
    form = StatisticsForm(_statistics_query(request))
    context = {"form": form, "result": None}
    if form.is_valid():
        start, end = form.cleaned_data["period"]
        key = form.cleaned_data["table_set"]
        try:
            result = releases.preview(request.user, key, start, end)
        except releases.ReleaseError as error:
            _add_release_error(form, error)
        else:
            query = urlencode({"period": format_period(start, end), "table_set": key})
            annual = urlencode({"period": format_period(start, end),
                                "table_set": ALL_TABLE_SETS})
            context.update(result_context(result))
            context.update(query=query, annual_query=annual)
    if request.htmx and request.htmx.target == "statistics-view":
        return render(request, "statistics/statistics_view.html", context)
    return render(request, "statistics/statistics.html", context)


def _country_name() -> str:
    return codelists.label("countries", settings.OPENNRM_COUNTRY)


def _period_in_name(result: TableSetResult) -> str:
    if result.period_label.isdigit():
        return result.period_label
    return f"{result.period_start.isoformat()}_{result.period_end.isoformat()}"


def _download(request, fmt: str, results: list[TableSetResult], *, title: str,
              filename: str, object_type: str, object_ref: str) -> HttpResponse:
    from opennrm.reports.formats import content_disposition

    content = releases.export_tables(
        request.user, results, fmt, title=title, country_name=_country_name(),
        language=get_language() or "en", object_type=object_type, object_ref=object_ref,
        channel=CHANNEL)
    response = HttpResponse(content, content_type=FORMATS[fmt])
    response["Content-Disposition"] = content_disposition(filename)
    response["Cache-Control"] = "no-store"
    return response


@login_required
def statistics_download(request, fmt: str):
    """The page's tables as CSV, XLSX or PDF; the PDF may hold every table set."""
    ensure_can_view_statistics(request.user)
    if fmt not in FORMATS:
        raise Http404(_("No such format."))
    form = DownloadForm(request.GET)
    if not form.is_valid():
        # The statistics page says what is wrong with the period or the table set.
        query = {name: request.GET.get(name, "") for name in ("period", "table_set")}
        if query["table_set"] == ALL_TABLE_SETS:
            query.pop("table_set")
        return redirect(f"{reverse('statistics')}?{urlencode(query)}")
    start, end = form.cleaned_data["period"]
    key = form.cleaned_data["table_set"]
    if key == ALL_TABLE_SETS and fmt != "pdf":
        raise Http404(_("Every table set together is a PDF report only."))
    keys = table_set_keys() if key == ALL_TABLE_SETS else (key,)
    try:
        results = releases.preview_all(request.user, keys, start, end)
    except releases.ReleaseError:
        return redirect(f"{reverse('statistics')}?"
                        f"{urlencode({'period': request.GET.get('period', '')})}")
    period = format_period(start, end)
    if key == ALL_TABLE_SETS:
        title = _("Trafficking in human beings: statistical report")
        filename = f"statistics-{_period_in_name(results[0])}.pdf"
    else:
        title = results[0].title
        filename = f"{key}-{_period_in_name(results[0])}.{fmt}"
    return _download(request, fmt, results, title=title, filename=filename,
                     object_type="statistics", object_ref=f"{key} {period}")


# --- releases ----------------------------------------------------------------------------

def _controls_text(controls: dict) -> str:
    parts = [_("threshold %(threshold)s") % {"threshold": controls.get("threshold", "—")}]
    rounding = controls.get("rounding") or 0
    parts.append(_("rounded to %(base)s") % {"base": rounding} if rounding > 1
                 else _("no rounding"))
    epsilon = controls.get("epsilon")
    parts.append(_("ε = %(epsilon)s") % {"epsilon": _number(epsilon)} if epsilon
                 else _("no noise"))
    return "; ".join(parts)


def _budget_rows() -> list[dict]:
    """The privacy budget spent, by table set and period."""
    titles = dict(table_set_choices())
    cap = releases.privacy_budget_cap()
    rows = []
    spends = (PrivacyBudgetSpend.objects.values("dataset", "period_start", "period_end")
              .annotate(spent=Sum("epsilon"), count=Count("id"))
              .order_by("dataset", "period_start", "period_end"))
    for spend in spends:
        overlapping = releases.epsilon_spent(spend["dataset"], spend["period_start"],
                                             spend["period_end"])
        rows.append({
            "table_set": titles.get(spend["dataset"], spend["dataset"]),
            "period": format_period(spend["period_start"], spend["period_end"]),
            "spent": _number(round(spend["spent"], 6)),
            "overlapping": _number(round(overlapping, 6)),
            "left": _number(round(max(0.0, cap - overlapping), 6)),
            "count": spend["count"],
        })
    return rows


def _release_rows(page) -> list[dict]:
    titles = dict(table_set_choices())
    return [{
        "release": release,
        "title": releases.release_title(release),
        "table_set": titles.get(release.table_set, release.table_set),
        "period": format_period(release.period_start, release.period_end),
        "controls": _controls_text(release.controls),
        "epsilon": _number(release.epsilon_spent) if release.epsilon_spent else "",
    } for release in page.object_list]


@login_required
def release_list(request):
    """Published releases, the privacy budget they spent, and the form to publish one."""
    ensure_can_view_statistics(request.user)
    node = policy.current_policy()
    initial = {"period": request.GET.get("period", _current_year()),
               "table_set": request.GET.get("table_set", table_set_keys()[0]),
               "threshold": node.threshold, "rounding": node.rounding}
    form = PublishForm(request.POST or None, initial=initial)
    if request.method == "POST":
        ensure_can_publish_releases(request.user)
        if form.is_valid():
            data = form.cleaned_data
            start, end = data["period"]
            try:
                controls = releases.Controls(threshold=data["threshold"],
                                             rounding=data["rounding"],
                                             epsilon=data["epsilon"])
                release = releases.publish_release(request.user, data["table_set"], start,
                                                   end, controls, channel=CHANNEL)
            except releases.ReleaseError as error:
                _add_release_error(form, error)
            else:
                messages.success(request, _("Release published."))
                return redirect("statistics-release", release_id=release.pk)
    page = Paginator(Release.objects.select_related("published_by").defer("input_snapshot"),
                     PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "statistics/releases.html", {
        "form": form, "page": page, "rows": _release_rows(page), "policy": node,
        "budget": _budget_rows(), "cap": _number(releases.privacy_budget_cap())})


def _release(user, release_id: int) -> Release:
    ensure_can_view_statistics(user)
    return get_object_or_404(Release.objects.select_related("published_by"), pk=release_id)


@login_required
def release_detail(request, release_id: int):
    """A release as published, with what it was computed from and a check of both."""
    release = _release(request.user, release_id)
    verification = releases.verify_release(release) if request.GET.get("check") else None
    if request.htmx and request.htmx.target == "release-check":
        return render(request, "statistics/release_check.html",
                      {"release": release, "verification": verification})
    from opennrm.reports.published import controls_summary

    result = releases.release_result(release)
    titles = dict(table_set_choices())
    inputs = release.inputs or {}
    return render(request, "statistics/release_detail.html", {
        "release": release, "title": releases.release_title(release),
        "verification": verification,
        "table_set": titles.get(release.table_set, release.table_set),
        "period": format_period(release.period_start, release.period_end),
        "controls_summary": controls_summary(result),
        "inputs": inputs,
        "input_rows": [(_frame_label(name), count)
                       for name, count in sorted((inputs.get("rows") or {}).items())],
        **result_context(result),
    })


@login_required
def release_download(request, release_id: int, fmt: str):
    """A release's tables, exactly as published, as CSV, XLSX or PDF."""
    release = _release(request.user, release_id)
    if fmt not in FORMATS:
        raise Http404(_("No such format."))
    result = releases.release_result(release)
    return _download(request, fmt, [result], title=releases.release_title(release),
                     filename=f"release-{release.pk}-{result.key}-{_period_in_name(result)}"
                              f".{fmt}",
                     object_type="statistics_release", object_ref=str(release.pk))


# --- the node's disclosure policy --------------------------------------------------------

@login_required
def disclosure_policy(request):
    """The node's disclosure rules, for the national coordinator and the administrator."""
    ensure_can_set_disclosure_policy(request.user)
    current = policy.current_policy()
    form = PolicyForm(request.POST or None, initial=current.to_dict())
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            policy.set_policy(request.user, threshold=data["threshold"],
                              rounding=data["rounding"], minimum_k=data["minimum_k"],
                              reason=data["reason"], channel=CHANNEL)
        except policy.PolicyError as error:
            form.add_error(error.field if error.field in form.fields else None, str(error))
        else:
            messages.success(request, _("Disclosure policy saved."))
            return redirect("statistics-policy")
    saved = DisclosurePolicy.objects.select_related("updated_by").filter(pk=1).first()
    return render(request, "statistics/policy.html",
                  {"form": form, "policy": current, "saved": saved})
