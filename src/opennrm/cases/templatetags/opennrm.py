"""Presentation helpers for code lists and durations."""

from datetime import timedelta

from django import template
from django.utils.dateparse import parse_date
from django.utils.translation import ngettext

from opennrm.accounts import provisioning
from opennrm.audit.services import can_read_audit_trail
from opennrm.cases import access
from opennrm.core import codelists

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


@register.inclusion_tag("components/status_tags.html")
def status_tags(case):
    """Case status, victim status and child flag as labelled tags (text, not colour alone)."""
    return {"case": case}


@register.filter
def may_register_cases(user) -> bool:
    return access.can_register_cases(user)


@register.filter
def may_read_audit_trail(user) -> bool:
    return can_read_audit_trail(user)


@register.filter
def may_manage_accounts(user) -> bool:
    return provisioning.can_manage_accounts(user)


@register.filter
def isodate(value):
    """An ISO date string (as identity fields store it) as a date, for locale formatting."""
    return parse_date(value) if isinstance(value, str) else value
