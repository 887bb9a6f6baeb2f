"""The inbox's table rows, built in Python: a template per row took most of the page's time.

Every value is escaped with `html.escape` (what Django's `escape` calls, without its
lazy-string wrapper) before it is joined into the rows.
"""

from html import escape

from django import template
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, ngettext

from opennrm.core import codelists
from opennrm.core.dates import short_date
from opennrm.referrals.models import EXTERNAL_OUTCOMES, ReferralState

register = template.Library()


def _deadline(referral: dict, overdue: str) -> str:
    """The answer date, with how long is left (or "Overdue") while it waits for an answer."""
    due = escape(short_date(referral["respond_by"]))
    if referral["state"] != "sent":
        return due
    days_left = referral["days_left"]
    if days_left < 0:
        return f'{due} <span class="tag overdue">{overdue}</span>'
    left = ngettext("%(days)s day left", "%(days)s days left", days_left) % {
        "days": days_left}
    return f"{due} ({escape(left)})"


@register.simple_tag
def referral_table_rows(referrals, outgoing: bool):
    """Case, service, the other agency (or the provider outside OpenNRM), sent on, and the
    state or recorded outcome (sent by us) or the answer deadline (received). `referrals`
    are rows of `views.ROW_COLUMNS` (dicts)."""
    url = reverse("referral-detail", args=[0]).replace("/0/", "/{}/")
    overdue = escape(gettext("Overdue"))
    # Each state's label once per table (`get_state_display` per row cost a tenth of the page).
    state_labels = {state: escape(str(label)) for state, label in ReferralState.choices}
    outside = escape(gettext("outside OpenNRM"))
    rows = []
    for referral in referrals:
        state = referral["state"]
        if outgoing:
            label = (escape(codelists.label(EXTERNAL_OUTCOMES, referral["outcome"]))
                     if referral["outcome"] else state_labels.get(state, escape(state)))
            last = f'<span class="tag referral-{escape(state)}">{label}</span>'
        else:
            last = _deadline(referral, overdue)
        if not outgoing:
            other = escape(referral["referring_agency__name"])
        elif referral["external"]:
            other = (f'{escape(referral["service__provider__name"])} '
                     f'<span class="tag">{outside}</span>')
        else:
            other = escape(referral["recipient_agency__name"])
        rows.append(
            f'<tr><td><a href="{escape(url.format(referral["id"]))}">'
            f'{escape(referral["case__case_number"])}</a></td>'
            f'<td>{escape(referral["service__name"])}</td><td>{other}</td>'
            f'<td>{escape(short_date(referral["sent_at"]))}</td><td>{last}</td></tr>')
    return mark_safe("\n".join(rows))  # noqa: S308 - every value above is escaped
