"""In a real browser: a caseworker writes a journal entry and attaches a photo, downloads it
without its location and prints a summary; the supervisor sees who viewed the case. Every
new page passes axe (WCAG 2.2 AA)."""

import io
import re

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from opennrm.audit.models import AuditEntry
from opennrm.casefile.models import Attachment, JournalEntry
from tests.casefile.conftest import png_with_location
from tests.e2e.browser import assert_accessible, browser, open_page, screenshot, sign_in

pytestmark = pytest.mark.browser

__all__ = ["browser"]  # the fixture, for this folder's tests


@pytest.fixture
def axe_page(browser) -> Page:
    # axe-core is injected into the page: only these pages bypass the CSP to allow it.
    return open_page(browser, bypass_csp=True)


def field(scope, label: str):
    """The form control labelled `label`, whether or not it is marked "(required)"."""
    return scope.get_by_label(re.compile(rf"^{re.escape(label)}(\s*\(required\))?$"))


def test_a_caseworker_adds_a_journal_entry_and_a_photo(axe_page: Page, live_server, caseworker,
                                                       supervisor, case, tmp_path):
    page, base = axe_page, live_server.url
    sign_in(page, base, "caseworker")
    page.goto(f"{base}/cases/{case.case_number}/file/")
    expect(page.get_by_role("heading", level=1, name="Journal and documents")).to_be_visible()
    assert_accessible(page, "Journal and documents, empty")

    # A journal entry, first without its text: the message is beside the field.
    journal = page.locator("#journal")
    field(journal, "Kind of contact").select_option("visit")
    field(journal, "Date").fill("2026-03-05")
    journal.get_by_role("button", name="Add the entry").click()
    expect(page.get_by_role("alert").filter(has_text="There is a problem")).to_be_visible()
    expect(field(page.locator("#journal"), "What happened")).to_have_attribute(
        "aria-invalid", "true")
    assert_accessible(page, "Journal and documents, with an error")
    field(page.locator("#journal"), "What happened").fill("Visited her at the shelter.")
    page.locator("#journal").get_by_role("button", name="Add the entry").click()
    expect(page.get_by_text("Journal entry added.")).to_be_visible()
    expect(page.locator("#journal").get_by_text("Visited her at the shelter.")).to_be_visible()

    # A photo taken with its GPS position.
    photo = tmp_path / "IMG_0001.png"
    photo.write_bytes(png_with_location())
    documents = page.locator("#attachments")
    field(documents, "Kind of document").select_option("photo")
    field(documents, "File").set_input_files(str(photo))
    field(documents, "Description").fill("Bruises on the left arm")
    documents.get_by_role("button", name="Attach the document").click()
    expect(page.get_by_text("Document attached.")).to_be_visible()
    row = page.locator("#attachments").get_by_role("row").filter(has_text="IMG_0001.png")
    expect(row).to_contain_text("metadata removed")
    expect(row).to_contain_text("Bruises on the left arm")
    screenshot(page, "case-file")
    assert_accessible(page, "Journal and documents, filled")

    # Downloaded, it has no location; the download is in the audit trail.
    attachment = Attachment.objects.get()
    with page.expect_download() as download_info:
        row.get_by_role("link", name=re.compile("^Download")).click()
    download = download_info.value
    assert download.suggested_filename == f"{case.case_number}-photo-{attachment.pk}.png"
    with open(download.path(), "rb") as handle, Image.open(io.BytesIO(handle.read())) as image:
        assert not image.getexif()
    assert AuditEntry.objects.filter(object_type="attachment", fields=["file"]).count() == 1
    assert JournalEntry.objects.get().text == "Visited her at the shelter."

    # The summary, with the journal.
    page.get_by_role("link", name="Print a summary").click()
    expect(page.get_by_role("heading", level=1, name="Print a summary")).to_be_visible()
    assert_accessible(page, "Print a summary")
    page.get_by_label("Include the journal's entries").check()
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download the PDF").click()
    assert download_info.value.suggested_filename == f"{case.case_number}-summary.pdf"
    with open(download_info.value.path(), "rb") as handle:
        assert handle.read(5) == b"%PDF-"
    assert not page.script_errors

    # The case's supervisor sees who viewed it.
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, base, "supervisor")
    page.goto(f"{base}/cases/{case.case_number}/viewers/")
    expect(page.get_by_role("heading", level=1, name="Who viewed this case")).to_be_visible()
    people = page.get_by_role("table").first
    expect(people.get_by_role("row").filter(has_text="caseworker")).to_contain_text("La Strada")
    expect(page.get_by_role("cell", name="Printed summary")).to_be_visible()
    assert_accessible(page, "Who viewed this case")
    assert not page.script_errors
