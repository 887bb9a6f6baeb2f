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
from weasyprint import HTML
from weasyprint.urls import URLFetcher

from opennrm.referrals.models import Referral


class NothingFetcher(URLFetcher):
    """Refuses every URL: the letter is self-contained and must not leak anywhere."""

    def __init__(self):
        super().__init__(allowed_protocols=[], fail_on_errors=False)

    def fetch(self, url, headers=None):
        raise ValueError(f"the referral letter may not fetch {url!r}")


def privacy_marking() -> str:
    """The node's own marking for printed personal data (OPENNRM_SUMMARY_MARKING), or ours."""
    return settings.OPENNRM_SUMMARY_MARKING or _(
        "Confidential: personal data of a person who may have been trafficked, shared with "
        "their consent for this referral only. Do not copy it or pass it on, and shred it "
        "when it is no longer needed.")


def printed_by(user) -> str:
    name = user.get_full_name() or user.username
    return f"{name} ({user.agency.name})" if user.agency_id else name


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


def render_pdf(html: str) -> bytes:
    document = HTML(string=html, base_url="data:,", url_fetcher=NothingFetcher())
    # Tagged, so that screen readers can follow headings and tables.
    return document.write_pdf(pdf_tags=True)
