"""The case file's pages: thin over the services, with their messages beside the fields,
downloads that no browser renders or caches."""

from datetime import date

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from opennrm.audit.models import AuditEntry
from opennrm.casefile.models import Attachment, JournalEntry
from opennrm.cases import sections
from opennrm.cases import services as case_services
from tests.casefile.conftest import JOURNAL_TEXT, PROGRAM, png_with_location
from tests.helpers import as_user, assert_no_inline_code


def _url(name: str, case, *args) -> str:
    return reverse(name, args=[case.case_number, *args])


def test_the_page_shows_the_journal_and_documents_and_records_the_read(client, caseworker,
                                                                       case, entry, photo):
    page = as_user(client, caseworker).get(_url("case-file", case))
    content = page.content.decode()
    assert page.status_code == 200
    assert JOURNAL_TEXT in content and "elena-popescu-bruises.png" in content
    assert _url("attachment-download", case, photo.pk) in content
    assert_no_inline_code(page)
    reads = AuditEntry.objects.filter(action="read", object_ref=case.case_number)
    assert {entry.object_type for entry in reads} == {"journal_entry", "attachment"}


def test_adding_an_entry(client, caseworker, case):
    response = as_user(client, caseworker).post(_url("journal-new", case), {
        "journal-kind": "call", "journal-happened_on": "2026-03-05",
        "journal-text": "She called from a new number."})
    assert response.status_code == 302 and response["Location"].endswith("/file/#journal")
    assert JournalEntry.objects.get().text == "She called from a new number."


def test_every_error_of_an_entry_is_shown_beside_its_field(client, caseworker, case):
    response = as_user(client, caseworker).post(_url("journal-new", case), {
        "journal-kind": "", "journal-happened_on": "", "journal-text": ""})
    content = response.content.decode()
    assert response.status_code == 200 and "There is a problem" in content
    for message in ("Choose whether it was a contact, a visit, a call or a meeting.",
                    "Enter the date it happened.", "Write what happened."):
        assert message in content
    assert 'id="id_journal-text_error"' in content
    assert not JournalEntry.objects.exists()


def test_uploading_a_photo(client, caseworker, case):
    upload = SimpleUploadedFile("IMG_0001.png", png_with_location(), "image/png")
    response = as_user(client, caseworker).post(_url("attachment-new", case), {
        "attachment-kind": "photo", "attachment-file": upload,
        "attachment-description": "Bruises"})
    assert response.status_code == 302
    attachment = Attachment.objects.get()
    assert attachment.metadata_removed and attachment.file_name == "IMG_0001.png"


def test_a_refused_upload_says_why_beside_the_file_field(client, caseworker, case):
    upload = SimpleUploadedFile("certificate.pdf", PROGRAM, "application/pdf")
    response = as_user(client, caseworker).post(_url("attachment-new", case), {
        "attachment-kind": "medical", "attachment-file": upload})
    content = response.content.decode()
    assert response.status_code == 200
    assert 'id="id_attachment-file_error"' in content and "It is a Windows program." in content
    assert not Attachment.objects.exists()


def test_a_too_large_upload_names_the_limit(client, caseworker, case, settings):
    settings.OPENNRM_ATTACHMENT_MAX_BYTES = 1024 * 1024
    upload = SimpleUploadedFile("scan.pdf", b"%PDF-1.7\n" + b"0" * (2 * 1024 * 1024))
    response = as_user(client, caseworker).post(_url("attachment-new", case), {
        "attachment-kind": "medical", "attachment-file": upload})
    assert "larger than 1 MB, the largest that can be attached" in response.content.decode()
    assert not Attachment.objects.exists()


def test_the_download_is_an_attachment_that_is_neither_sniffed_nor_kept(client, caseworker,
                                                                        case, photo):
    response = as_user(client, caseworker).get(_url("attachment-download", case, photo.pk))
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == (
        f'attachment; filename="{case.case_number}-photo-{photo.pk}.png"')
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "no-store"
    assert "sandbox" in response["Content-Security-Policy"]
    assert response.content.startswith(b"\x89PNG")
    assert AuditEntry.objects.filter(object_type="attachment", fields=["file"]).count() == 1


def test_the_download_of_a_missing_attachment_is_404(client, caseworker, case):
    response = as_user(client, caseworker).get(_url("attachment-download", case, 999999))
    assert response.status_code == 404


def test_printing_from_the_page(client, caseworker, case):
    client = as_user(client, caseworker)
    form = client.get(_url("case-summary", case))
    assert form.status_code == 200 and "Include the identity" in form.content.decode()
    response = client.post(_url("case-summary", case), {"with_identity": "on"})
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        f'attachment; filename="{case.case_number}-summary.pdf"')
    assert response["Cache-Control"] == "no-store"
    assert "family_name" in AuditEntry.objects.get(object_type="case_summary").fields


def test_a_closed_case_offers_no_forms(client, caseworker, case):
    case_services.close_case(caseworker, case, "lost_contact")
    content = as_user(client, caseworker).get(_url("case-file", case)).content.decode()
    assert "Add a journal entry" not in content and "Attach a document" not in content
    response = client.post(_url("journal-new", case), {
        "journal-kind": "call", "journal-happened_on": "2026-03-05", "journal-text": "Hi."})
    assert "Reopen it" in response.content.decode()


def test_it_validates_ownership(client, police_officer, case, entry, photo):
    client = as_user(client, police_officer)
    for name, args in (("case-file", ()), ("journal-new", ()), ("attachment-new", ()),
                       ("attachment-download", (photo.pk,)), ("case-summary", ()),
                       ("case-viewers", ())):
        assert client.get(_url(name, case, *args)).status_code in (404, 405)
        assert client.post(_url(name, case, *args), {}).status_code in (404, 405)
    assert JournalEntry.objects.count() == 1


def test_the_case_page_section_reads_nothing_encrypted(caseworker, supervisor, case, entry,
                                                       photo):
    present = case_services.relations_with_rows(case, sections.section_relations())
    assert {"journal_entries", "attachments"} <= present
    before = AuditEntry.objects.count()
    section = sections.sections_context(caseworker, case, present)["case_file"]
    assert [e.happened_on for e in section.latest_entries] == [date(2026, 3, 4)]
    assert "text" in section.latest_entries[0].get_deferred_fields()
    assert section.attachment_count == 1 and section.may_add and not section.may_see_viewers
    assert sections.sections_context(supervisor, case, present)["case_file"].may_see_viewers
    assert AuditEntry.objects.count() == before


def test_an_upload_within_the_limit_never_lands_in_a_temporary_file(client, caseworker, case,
                                                                    monkeypatch):
    """Django writes larger uploads to a temporary file, in clear: not ours."""
    def refuse(*args, **kwargs):
        raise AssertionError("the upload was written to a temporary file")

    monkeypatch.setattr("django.core.files.uploadhandler.TemporaryUploadedFile", refuse)
    content = b"%PDF-1.7\n" + b"0" * (5 * 1024 * 1024) + b"\n%%EOF\n"
    response = as_user(client, caseworker).post(_url("attachment-new", case), {
        "attachment-kind": "legal",
        "attachment-file": SimpleUploadedFile("court-order.pdf", content)})
    assert response.status_code == 302
    assert Attachment.objects.get().size == len(content)


def test_the_case_page_section_links_to_the_pages(rf, caseworker, supervisor, case, entry):
    """casefile/case_file_section.html, which the case page includes."""
    from django.template.loader import render_to_string

    present = case_services.relations_with_rows(case, sections.section_relations())
    for user, shows_viewers in ((caseworker, False), (supervisor, True)):
        context = {"case": case, **sections.sections_context(user, case, present)}
        html = render_to_string("casefile/case_file_section.html", context, request=rf.get("/"))
        assert _url("case-file", case) in html and _url("case-summary", case) in html
        assert "Visit" in html and JOURNAL_TEXT not in html
        assert (_url("case-viewers", case) in html) is shows_viewers
