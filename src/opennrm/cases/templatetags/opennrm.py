"""Presentation helpers for code lists and durations."""

from datetime import timedelta
from html import escape

from django import template
from django.urls import reverse
from django.utils.dateparse import parse_date
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, ngettext, pgettext

from opennrm.accounts.access import can_manage_accounts
from opennrm.audit.access import can_read_audit_trail
from opennrm.cases import access
from opennrm.cases.models import CaseStatus, VictimStatus
from opennrm.core import codelists
from opennrm.core.dates import short_date

register = template.Library()


@register.filter
def codelabel(code: str, codelist: str) -> str:
    """The label of `code` in `codelist` ("forced_labour" → "Forced labour")."""
    return codelists.label(codelist, code) if code else ""


@register.filter
def codelabels(codes, codelist: str) -> str:
    """The labels of several codes, comma-separated."""
    return ", ".join(codelists.label(codelist, code) for code in codes or ())


@register.filter
def in_minutes(duration: timedelta) -> str:
    minutes = max(1, round(duration.total_seconds() / 60))
    return ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes}


@register.inclusion_tag("components/sort_header.html", takes_context=True)
def sort_header(context, label: str, key: str):
    """A column heading that sorts the list by `key`; a second click reverses the order."""
    current = context.get("sort") or ""
    descending = current == f"-{key}"
    ascending = current == key
    query = context["request"].GET.copy()
    query["sort"] = key if descending else f"-{key}"
    if ascending:
        query["sort"] = f"-{key}"
    query.pop("page", None)
    return {
        "label": label,
        "url": f"?{query.urlencode()}",
        "aria_sort": "descending" if descending else "ascending" if ascending else "",
    }


def _tag_labels() -> dict[str, str]:
    """Tag class → label in the active language, escaped (computed once per table, not per
    row)."""
    labels = {f"status-{value}": str(label) for value, label in CaseStatus.choices}
    labels.update({f"victim-{value}": str(label) for value, label in VictimStatus.choices})
    labels["child"] = pgettext("tag on a case", "Child")
    return {name: escape(label) for name, label in labels.items()}


def _status_tags(case, labels: dict[str, str]) -> str:
    """The tags of a case as escaped HTML (`labels` from `_tag_labels`)."""
    classes = [f"status-{case.status}", f"victim-{case.victim_status}"]
    if case.is_child:
        classes.append("child")
    return "\n".join(f'<span class="tag {escape(name)}">{labels.get(name) or escape(name)}'
                     "</span>" for name in classes)


@register.simple_tag
def status_tags(case):
    """Case status, victim status and child flag as labelled tags (text, not colour alone)."""
    return mark_safe(_status_tags(case, _tag_labels()))  # noqa: S308 - escaped


@register.filter
def may_register_cases(user) -> bool:
    return access.can_register_cases(user)


@register.filter
def may_read_audit_trail(user) -> bool:
    return can_read_audit_trail(user)


@register.filter
def may_manage_accounts(user) -> bool:
    return can_manage_accounts(user)


@register.filter
def isodate(value):
    """An ISO date string (as identity fields store it) as a date, for locale formatting."""
    return parse_date(value) if isinstance(value, str) else value


@register.simple_tag
def case_table_rows(cases, name_labels=False):
    """The rows of a case table (case number, tags, age band, forms, first contact, registered;
    with `name_labels`, the name label `labels.attach_name_labels` set after the number).

    One row per case on every list page, joined from strings escaped with `html.escape`
    (what Django's `escape` calls) rather than a template per row or `format_html` per cell,
    which took most of the page's time with 50 rows.
    """
    unknown = escape(gettext("Unknown"))
    labels = _tag_labels()
    # Every case URL has the same shape: reverse once, not per row.
    url = reverse("case-detail", args=["CASE-NUMBER"])
    rows = []
    for case in cases:
        number = escape(case.case_number)
        tags = _status_tags(case, labels)
        age_band = escape(codelists.label("age_bands", case.age_band)) if case.age_band \
            else unknown
        forms = escape(codelabels(case.exploitation_forms, "exploitation_forms") or "—")
        first_contact = escape(short_date(case.first_contact_on))
        registered = escape(short_date(case.registered_at))
        label = (f"<td>{escape(getattr(case, 'name_label', ''))}</td>" if name_labels
                 else "")
        rows.append(
            f'<tr><td><a href="{escape(url.replace("CASE-NUMBER", case.case_number))}">'
            f"{number}</a></td>{label}<td>{tags}</td><td>{age_band}</td><td>{forms}</td>"
            f"<td>{first_contact}</td><td>{registered}</td></tr>")
    return mark_safe("\n".join(rows))  # noqa: S308 - every value above is escaped


@register.filter
def may_decide_identification(user) -> bool:
    """The user may record formal identification decisions (and sees the queue)."""
    return access.can_decide_identification(user)
