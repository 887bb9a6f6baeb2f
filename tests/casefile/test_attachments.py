"""Attachments: the real type read from the content, images without metadata, the file,
its name and description encrypted at rest under the key ring, every download audited."""

import io

import pytest
from cryptography.exceptions import InvalidTag
from django.core.exceptions import ValidationError
from django.db import connection
from PIL import ExifTags, Image

from opennrm.audit.models import AuditEntry
from opennrm.casefile import services
from opennrm.casefile.models import Attachment, AttachmentContent
from opennrm.cases import access
from opennrm.core.keyring import get_keyring
from opennrm.core.rotation import key_usage, reencrypt_all
from tests.casefile.conftest import (
    CAMERA_OWNER,
    PROGRAM,
    WEB_PAGE,
    jpeg_with_location,
    pdf_document,
    png_with_location,
)
from tests.helpers import bytes_on_disk


def _stored_file(attachment) -> bytes:
    return services.open_attachment(attachment.uploaded_by, attachment.case, attachment.pk)[1]


def _attach(user, case, content: bytes, file_name: str = "scan.pdf", kind: str = "medical"):
    return services.add_attachment(user, case, kind, file_name, content)


def _refusal(user, case, content: bytes, file_name: str = "scan.pdf") -> str:
    with pytest.raises(ValidationError) as error:
        _attach(user, case, content, file_name)
    assert not Attachment.objects.exists() and not AttachmentContent.objects.exists()
    return " ".join(error.value.message_dict["file"])


# --- encryption at rest ---------------------------------------------------------------------

def test_the_file_its_name_and_description_are_encrypted_at_rest(caseworker, case):
    content = pdf_document("Certificate for Elena Popescu")
    attachment = services.add_attachment(caseworker, case, "medical", "popescu-certificate.pdf",
                                         content, "Signed by Dr Rusu")
    with connection.cursor() as cursor:
        cursor.execute("SELECT file_name, description, file_key FROM casefile_attachment")
        file_name, description, file_key = cursor.fetchone()
        cursor.execute("SELECT sealed FROM casefile_attachmentcontent")
        sealed = bytes(cursor.fetchone()[0])
    assert all(value.startswith("enc1:") for value in (file_name, description, file_key))
    assert "popescu" not in file_name and "Rusu" not in description
    assert content not in sealed and b"%PDF" not in sealed and b"Popescu" not in sealed
    assert _stored_file(attachment) == content
    attachment.refresh_from_db()
    assert attachment.file_name == "popescu-certificate.pdf"
    assert attachment.content_type == "application/pdf" and attachment.size == len(content)


@pytest.mark.django_db(transaction=True)
def test_the_database_file_holds_no_plaintext(caseworker, ngo):
    from tests.factories import make_case

    case = make_case(caseworker)
    _attach(caseworker, case, pdf_document("Diagnosis for Elena Popescu"))
    data = bytes_on_disk(("cases_case", "casefile_attachment", "casefile_attachmentcontent"))
    assert b"forced_labour" in data  # the check does see row contents in clear
    assert b"%PDF" not in data and b"scan.pdf" not in data


def test_sealed_content_moved_to_another_attachment_does_not_open(caseworker, case):
    first = _attach(caseworker, case, pdf_document("first"))
    second = _attach(caseworker, case, pdf_document("second"))
    AttachmentContent.objects.filter(pk=second.pk).update(sealed=first.content.sealed)
    with pytest.raises(InvalidTag):
        _stored_file(second)


def test_a_key_rotation_rewraps_the_file_key_and_the_file_still_opens(caseworker, case):
    content = pdf_document()
    attachment = _attach(caseworker, case, content)
    sealed_before = bytes(AttachmentContent.objects.get().sealed)
    ring = get_keyring()
    old_key = ring.active_key_id
    ring.add_key()
    reencrypt_all()
    assert key_usage()[old_key] == 0
    ring.retire_key(old_key)
    assert bytes(AttachmentContent.objects.get().sealed) == sealed_before  # not rewritten
    assert _stored_file(Attachment.objects.get(pk=attachment.pk)) == content


# --- the real type ----------------------------------------------------------------------------

def test_a_program_named_pdf_is_refused(caseworker, case):
    message = _refusal(caseworker, case, PROGRAM, "certificate.pdf")
    assert "not PDF, JPEG, PNG or WebP, whatever its name says" in message
    assert "It is a Windows program." in message


def test_a_web_page_named_pdf_is_refused(caseworker, case):
    message = _refusal(caseworker, case, WEB_PAGE, "certificate.pdf")
    assert "whatever its name says" in message


def test_a_truncated_image_is_refused(caseworker, case):
    message = _refusal(caseworker, case, png_with_location()[:60], "photo.png")
    assert "The image could not be read" in message


def test_a_pdf_named_jpg_is_stored_as_the_pdf_it_is(caseworker, case):
    attachment = _attach(caseworker, case, pdf_document(), "photo.jpg", kind="photo")
    assert attachment.content_type == "application/pdf"
    assert services.download_name(case, attachment).endswith(".pdf")


def test_types_the_settings_leave_out_are_refused(caseworker, case, settings):
    settings.OPENNRM_ATTACHMENT_TYPES = ["application/pdf"]
    message = _refusal(caseworker, case, png_with_location(), "photo.png")
    assert "is not PDF, whatever" in message


# --- size -------------------------------------------------------------------------------------

def test_a_file_over_the_limit_is_refused_with_the_limit_named(caseworker, case, settings):
    settings.OPENNRM_ATTACHMENT_MAX_BYTES = 1024 * 1024
    message = _refusal(caseworker, case, b"%PDF-1.7\n" + b"0" * (1024 * 1024))
    assert "larger than 1 MB, the largest that can be attached" in message


def test_an_empty_file_is_refused(caseworker, case):
    assert _refusal(caseworker, case, b"") == "The file is empty."


def test_every_error_comes_at_once(caseworker, case):
    with pytest.raises(ValidationError) as error:
        services.add_attachment(caseworker, case, "selfie", "x.pdf", PROGRAM, "x" * 1001)
    assert set(error.value.message_dict) == {"kind", "file", "description"}


# --- image metadata ---------------------------------------------------------------------------

def _exif(content: bytes) -> Image.Exif:
    with Image.open(io.BytesIO(content)) as image:
        return image.getexif()


def test_the_gps_position_is_removed_from_a_png(caseworker, case):
    original = png_with_location()
    assert _exif(original).get_ifd(ExifTags.IFD.GPSInfo)  # the test file does carry it
    attachment = _attach(caseworker, case, original, "photo.png", kind="photo")
    stored = _stored_file(attachment)
    assert attachment.metadata_removed and attachment.content_type == "image/png"
    assert not _exif(stored) and not _exif(stored).get_ifd(ExifTags.IFD.GPSInfo)
    assert b"eXIf" not in stored and b"Exif" not in stored
    assert CAMERA_OWNER.encode() not in stored and b"tEXt" not in stored
    with Image.open(io.BytesIO(stored)) as image:
        assert not image.text
        # The EXIF orientation (on its side) is applied to the pixels: still upright.
        assert image.size == (20, 40)


def test_the_gps_position_is_removed_from_a_jpeg(caseworker, case):
    attachment = _attach(caseworker, case, jpeg_with_location(), "photo.jpg", kind="photo")
    stored = _stored_file(attachment)
    assert not _exif(stored) and b"Exif" not in stored and CAMERA_OWNER.encode() not in stored
    assert attachment.content_type == "image/jpeg"


def test_a_pdf_is_stored_as_it_came(caseworker, case):
    content = pdf_document()
    attachment = _attach(caseworker, case, content)
    assert _stored_file(attachment) == content and not attachment.metadata_removed


def test_the_uploaded_name_loses_its_folders_and_control_characters(caseworker, case):
    attachment = _attach(caseworker, case, pdf_document(), "C:\\Users\\ana\\scan\x07\u202e.pdf")
    attachment.refresh_from_db()
    assert attachment.file_name == "scan.pdf"


# --- access and audit -------------------------------------------------------------------------

def test_every_download_is_audited(caseworker, case, photo):
    for _ in range(2):
        services.open_attachment(caseworker, case, photo.pk, channel="web")
    downloads = AuditEntry.objects.filter(object_type="attachment", action="read",
                                          fields=["file"])
    assert downloads.count() == 2
    assert {entry.reason for entry in downloads} == {f"download of attachment {photo.pk}"}
    assert {entry.object_ref for entry in downloads} == {case.case_number}


def test_uploading_is_audited(caseworker, case, photo):
    created = AuditEntry.objects.get(object_type="attachment", action="create")
    assert created.object_ref == case.case_number and "file" in created.fields


def test_it_validates_ownership(police_officer, caseworker, case, photo):
    before = AuditEntry.objects.count()
    with pytest.raises(access.CaseNotFound):
        services.open_attachment(police_officer, case, photo.pk)
    with pytest.raises(access.CaseNotFound):
        services.read_attachments(police_officer, case)
    with pytest.raises(access.CaseNotFound):
        _attach(police_officer, case, pdf_document())
    assert AuditEntry.objects.count() == before


def test_an_attachment_of_another_case_is_not_found_under_this_one(caseworker, case, photo):
    from tests.factories import make_case

    other = make_case(caseworker, given_name="Ana")
    assert services.open_attachment(caseworker, other, photo.pk) is None


def test_a_reader_who_may_not_see_identities_downloads_nothing(monkeypatch, caseworker, case,
                                                              photo):
    monkeypatch.setattr(access, "can_see_identity", lambda user: False)
    with pytest.raises(access.CaseAccessDenied):
        services.open_attachment(caseworker, case, photo.pk)
    (listed,) = services.attachments(caseworker, case)
    assert {"file_name", "description", "file_key"} <= listed.get_deferred_fields()
