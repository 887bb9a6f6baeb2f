"""Presentation helpers for code lists and durations."""

from datetime import timedelta

from django import template

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
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


@register.filter
def may_register_cases(user) -> bool:
    return access.can_register_cases(user)


@register.filter
def may_read_audit_trail(user) -> bool:
    return can_read_audit_trail(user)


@register.filter
def may_manage_accounts(user) -> bool:
    return provisioning.can_manage_accounts(user)
