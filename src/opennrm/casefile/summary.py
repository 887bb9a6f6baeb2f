"""The printable case summary: an HTML document drawn as a PDF by WeasyPrint.

What it shows is what the case page shows its reader: the case's own fields, and the
context each registered section of the case page gives for this reader
(`cases.sections.sections_context`): a section that hides something from a reader hides it
on paper too, and like the case page the sections' contexts hold no encrypted text. The
identity and the journal's text are printed only when asked for, and only to a reader who
may see them (`services.print_case_summary` checks, and records the print).

Every page carries the privacy marking and who printed it when. The document fetches
nothing: its style sheet is inline, and the URL fetcher refuses every address, so rendering
never reaches the network or the disk.
"""

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from opennrm.casefile.models import Attachment, JournalEntry
from opennrm.cases import sections
from opennrm.cases.models import Case
from opennrm.cases.services import relations_with_rows
from opennrm.core.printing import printed_by


def privacy_marking() -> str:
    """The marking every page carries: the node's own (OPENNRM_SUMMARY_MARKING) or ours."""
    return settings.OPENNRM_SUMMARY_MARKING or _(
        "Confidential: personal data of a person who may have been trafficked. Keep it "
        "locked away, do not copy it or pass it on, and shred it when it is no longer needed.")


def summary_html(user, case: Case, *, with_identity: bool,
                 journal: list[JournalEntry] | None,
                 attachments: list[Attachment]) -> str:
    """The summary of `case` for `user` as one self-contained HTML document, in the active
    language. `journal` holds the entries to print with their text (None: not printed)."""
    present = relations_with_rows(case, ("consents", *sections.section_relations()))
    consents = (list(case.consents.select_related("recipient_agency"))
                if "consents" in present else [])
    context = {
        **sections.sections_context(user, case, present),
        "css": mark_safe(render_to_string("casefile/summary.css")),  # our own style sheet
        "case": case,
        "person": case.person,
        "with_identity": with_identity,
        "journal": journal,
        "attachment_list": attachments,
        "consents": consents,
        "marking": privacy_marking(),
        "printed_by": printed_by(user),
        "printed_at": timezone.localtime(),
    }
    return render_to_string("casefile/summary.html", context)
