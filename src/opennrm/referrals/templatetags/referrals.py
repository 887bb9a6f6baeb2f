"""The inbox's table rows, built in Python: a template per row took most of the page's time."""

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, ngettext

register = template.Library()


def _deadline(referral) -> str:
    """The answer date, with how long is left (or "Overdue") while it waits for an answer."""
    due = date_format(referral.respond_by, "SHORT_DATE_FORMAT")
    if referral.state != "sent":
        return due
    if referral.days_left < 0:
        return format_html('{} <span class="tag overdue">{}</span>', due, gettext("Overdue"))
    return format_html("{} ({})", due, ngettext("%(days)s day left", "%(days)s days left",
                                                referral.days_left) % {
                                                    "days": referral.days_left})


@register.simple_tag
def referral_table_rows(referrals, outgoing: bool):
    """Case, service, the other agency, sent on, and the state (sent by us) or the answer
    deadline (received)."""
    url = reverse("referral-detail", args=[0]).replace("/0/", "/{}/")
    rows = []
    for referral in referrals:
        if outgoing:
            last = format_html('<span class="tag referral-{}">{}</span>', referral.state,
                               referral.get_state_display())
        else:
            last = _deadline(referral)
        other = referral.recipient_agency if outgoing else referral.referring_agency
        rows.append((url.format(referral.pk), referral.case.case_number, referral.service.name,
                     other.name,
                     date_format(timezone.localtime(referral.sent_at), "SHORT_DATE_FORMAT"),
                     last))
    return format_html_join(
        "\n", '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>',
        rows)
