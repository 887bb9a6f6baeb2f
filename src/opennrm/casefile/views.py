"""Case file pages: the journal and attachments of a case, the printable summary and "who
viewed this case". Thin: every rule, every check and every audit entry is in
`casefile.services`."""

from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from opennrm.casefile import access, services
from opennrm.casefile.forms import AttachmentForm, JournalEntryForm, SummaryForm
from opennrm.cases import access as case_access
from opennrm.cases.views import case_view
from opennrm.core.forms import add_service_errors

CHANNEL = "web"
VIEWS_PER_PAGE = 50
# How many of the latest journal entries the case page lists (without their text).
LATEST_ENTRIES = 3
# The parts of a case that the audit trail names (its object types), in words.
CASE_PARTS = {
    "case": gettext_lazy("The case"),
    "consent": gettext_lazy("Consent"),
    "referral": gettext_lazy("Referral"),
    "assistance": gettext_lazy("Assistance delivered"),
    "screening": gettext_lazy("Screening"),
    "identification_decision": gettext_lazy("Identification decision"),
    "criminal_proceeding": gettext_lazy("Criminal proceedings"),
    "return_plan": gettext_lazy("Return plan"),
    "support_plan": gettext_lazy("Support plan"),
    "journal_entry": gettext_lazy("Journal"),
    "attachment": gettext_lazy("Documents"),
    "case_summary": gettext_lazy("Printed summary"),
}


@dataclass(frozen=True)
class CaseFileSection:
    """What the case page's "Notes and documents" section shows: no encrypted text."""

    latest_entries: list
    attachment_count: int
    may_read: bool
    may_add: bool
    may_see_viewers: bool


def case_file_context(user, case, present) -> dict:
    """The case page's section (registered in CasefileConfig.ready); `present` names the
    case's lists that hold rows: the others are not read."""
    return {"case_file": CaseFileSection(
        latest_entries=(list(services.journal_entries(user, case)[:LATEST_ENTRIES])
                        if "journal_entries" in present else []),
        attachment_count=(services.attachments(user, case).count()
                          if "attachments" in present else 0),
        may_read=access.can_read_case_file(user, case),
        may_add=access.can_add_to_case_file(user, case),
        may_see_viewers=access.can_see_case_viewers(user, case),
    )}


def _case_file_page(request, case_number: str, *, journal_form=None, attachment_form=None,
                    status: int = 200):
    case = case_access.get_visible_case(request.user, case_number)
    may_read = access.can_read_case_file(request.user, case)
    may_add = access.can_add_to_case_file(request.user, case)
    if may_read:
        journal = services.read_journal(request.user, case, channel=CHANNEL)
        attachments = services.read_attachments(request.user, case, channel=CHANNEL)
    else:
        journal = list(services.journal_entries(request.user, case))
        attachments = list(services.attachments(request.user, case))
    return render(request, "casefile/case_file.html", {
        "case": case,
        "journal": journal,
        "attachments": attachments,
        "may_read": may_read,
        "may_add": may_add,
        "may_see_viewers": access.can_see_case_viewers(request.user, case),
        "journal_form": journal_form or (JournalEntryForm() if may_add else None),
        "attachment_form": attachment_form or (AttachmentForm() if may_add else None),
    }, status=status)


@require_GET
@case_view
def case_file(request, case_number):
    """The journal and the attachments, with their text: reading them is audited."""
    return _case_file_page(request, case_number)


def _back_to(case, anchor: str):
    return redirect(f"{reverse('case-file', args=[case.case_number])}#{anchor}")


@require_POST
@case_view
def journal_new(request, case_number):
    case = case_access.get_visible_case(request.user, case_number)
    access.ensure_can_add_to_case_file(request.user, case)
    form = JournalEntryForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.add_journal_entry(request.user, case, data["kind"], data["happened_on"],
                                       data["text"], channel=CHANNEL)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Journal entry added."))
            return _back_to(case, "journal")
    return _case_file_page(request, case_number, journal_form=form)


@require_POST
@case_view
def attachment_new(request, case_number):
    case = case_access.get_visible_case(request.user, case_number)
    access.ensure_can_add_to_case_file(request.user, case)
    form = AttachmentForm(request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        upload = data["file"]
        # One byte past the limit is enough for the service to refuse a file as too large.
        content = upload.read(settings.OPENNRM_ATTACHMENT_MAX_BYTES + 1)
        try:
            services.add_attachment(request.user, case, data["kind"], upload.name, content,
                                    data["description"], channel=CHANNEL)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Document attached."))
            return _back_to(case, "attachments")
    return _case_file_page(request, case_number, attachment_form=form)


@require_GET
@case_view
def attachment_download(request, case_number, pk):
    """The file, decrypted, as a download that no browser renders or keeps; audited."""
    case = case_access.get_visible_case(request.user, case_number)
    opened = services.open_attachment(request.user, case, pk, channel=CHANNEL)
    if opened is None:
        raise Http404(_("No such document on this case."))
    attachment, content = opened
    response = HttpResponse(content, content_type=attachment.content_type)
    response["Content-Disposition"] = (
        f'attachment; filename="{services.download_name(case, attachment)}"')
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    # Should a browser open it after all, it runs nothing and loads nothing.
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response


@require_http_methods(["GET", "POST"])
@case_view
def case_summary(request, case_number):
    """Choose what to print (GET); the PDF (POST), recorded in the audit trail."""
    case = case_access.get_visible_case(request.user, case_number)
    may_read = access.can_read_case_file(request.user, case)
    form = SummaryForm(request.POST or None)
    if not case_access.can_see_identity(request.user):
        del form.fields["with_identity"]
    if not may_read:
        del form.fields["with_journal"]
    if request.method == "POST" and form.is_valid():
        pdf = services.print_case_summary(
            request.user, case.case_number,
            with_identity=form.cleaned_data.get("with_identity", False),
            with_journal=form.cleaned_data.get("with_journal", False), channel=CHANNEL)
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = (
            f'attachment; filename="{case.case_number}-summary.pdf"')
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "no-store"
        return response
    return render(request, "casefile/summary_form.html", {"case": case, "form": form})


@require_GET
@case_view
def case_viewers(request, case_number):
    """Who looked at the case, from the audit trail: for its agency's supervisors."""
    case = case_access.get_visible_case(request.user, case_number)
    viewers = services.case_viewers(request.user, case)
    page = Paginator(services.case_views(request.user, case), VIEWS_PER_PAGE).get_page(
        request.GET.get("page"))
    for entry in page.object_list:
        entry.part = CASE_PARTS.get(entry.object_type, entry.object_type.replace("_", " "))
    return render(request, "casefile/case_viewers.html", {
        "case": case, "viewers": viewers, "page": page})
