"""The referral letter: what the caseworker gives a provider outside OpenNRM, drawn as a PDF
by WeasyPrint.

It holds the fields the referral shares and nothing else of the person (the caller,
`services.print_referral_letter`, passes them in, checks access and records the print), the
service and its contact details, the referring agency, the case's pseudonymous number as the
reference to answer with, and the date. Every page carries the privacy marking and who
printed it when.

The document fetches nothing: its style sheet is inline, and the URL fetcher refuses every
address, so rendering never reaches the network or the disk.
"""

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from opennrm.core.printing import printed_by
from opennrm.referrals.models import Referral


def privacy_marking() -> str:
    """The node's own marking for printed personal data (OPENNRM_SUMMARY_MARKING), or ours."""
    return settings.OPENNRM_SUMMARY_MARKING or _(
        "Confidential: personal data of a person who may have been trafficked, shared with "
        "their consent for this referral only. Do not copy it or pass it on, and shred it "
        "when it is no longer needed.")


def letter_html(user, referral: Referral, shared_rows: list[tuple[str, str]]) -> str:
    """The letter of `referral` as one self-contained HTML document in the active language;
    `shared_rows` are the shared fields as (label, text), the only data of the person."""
    return render_to_string("referrals/letter.html", {
        "css": mark_safe(render_to_string("referrals/letter.css")),  # our own style sheet
        "referral": referral,
        "service": referral.service,
        "provider": referral.service.provider,
        "shared_rows": shared_rows,
        "marking": privacy_marking(),
        "printed_by": printed_by(user),
        "printed_at": timezone.localtime(),
    })
