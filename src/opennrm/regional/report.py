"""The regional PDF report: the regional view's tables and charts, drawn by the same
machinery as the national annual report (`reports.pdf`: WeasyPrint, Vega-Lite charts via
vl-convert), in the language asked for, the download recorded in the audit trail."""

from __future__ import annotations

from datetime import date

from django.utils import translation
from django.utils.translation import gettext as _

from opennrm.audit.models import Action
from opennrm.audit.services import AuditEvent, record_event
from opennrm.regional.access import ensure_can_view_regional
from opennrm.regional.overview import build_overview, report_results
from opennrm.reports.pdf import render_pdf


def report_filename(key: str, start: date, end: date) -> str:
    period = str(start.year) if (start.month, start.day, end.month, end.day) == (1, 1, 12, 31) \
        and start.year == end.year else f"{start.isoformat()}_{end.isoformat()}"
    return f"regional-{key}-{period}.pdf"


def regional_report_pdf(user, key: str, start: date, end: date, *, language: str,
                        channel: str = "web") -> bytes:
    """The regional report as a PDF in `language`."""
    if user is not None:
        ensure_can_view_regional(user)
    with translation.override(language):
        overview = build_overview(key, start, end)
        countries = ", ".join(c.country for c in overview.countries) or "—"
        title = _("Regional statistics")
        body = render_pdf(report_results(overview), title=title,
                          country_name=_("Countries: %(list)s") % {"list": countries},
                          language=language)
    record_event(user, AuditEvent(Action.EXPORT, "regional_report", f"{key} {start}–{end}",
                                  reason=f"pdf {language}"), channel=channel)
    return body
