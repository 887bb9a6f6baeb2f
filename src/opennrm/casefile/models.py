"""The case file: journal entries and attached documents of a case.

Everything a person could be recognised by is encrypted at rest: a journal entry's text, an
attachment's file name and description (EncryptedTextField, with the key ring), and the
file itself (`sealing.py`: its own AES-256-GCM key, kept wrapped by the key ring in
`Attachment.file_key`). Kinds, dates, sizes and who recorded what stay in clear, so that
lists and the case page need no decryption.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from opennrm.cases.models import Case
from opennrm.core.fields import EncryptedTextField


class JournalKind(models.TextChoices):
    CONTACT = "contact", _("Contact")
    VISIT = "visit", _("Visit")
    CALL = "call", _("Call")
    MEETING = "meeting", _("Meeting")


class JournalEntry(models.Model):
    """What happened on a day of the case: a contact, a visit, a call or a meeting.

    Entries are never changed or deleted: a correction is a new entry, so the journal stays
    the record of what was known when.
    """

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="journal_entries")
    kind = models.CharField(max_length=20, choices=JournalKind.choices)
    happened_on = models.DateField()
    text = EncryptedTextField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-happened_on", "-recorded_at", "-pk"]
        verbose_name_plural = "journal entries"

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind} {self.happened_on}"


class AttachmentKind(models.TextChoices):
    IDENTITY_DOCUMENT = "identity_document", _("Identity document")
    MEDICAL = "medical", _("Medical paper")
    LEGAL = "legal", _("Legal paper")
    PHOTO = "photo", _("Photo")
    OTHER = "other", _("Other document")


class Attachment(models.Model):
    """A document attached to a case. Its content is in `AttachmentContent`, apart, so that
    listing attachments never loads a file."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="attachments")
    # Bound to the sealed content as associated data: content moved to another attachment
    # does not open.
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=20, choices=AttachmentKind.choices)
    # The type found in the content (never the one the file's name or the browser claims).
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField(help_text="bytes, as stored (metadata removed)")
    metadata_removed = models.BooleanField(default=False)
    file_name = EncryptedTextField()
    description = EncryptedTextField(blank=True)
    # The file's own key (base64), wrapped by the key ring like every encrypted value: a key
    # rotation re-wraps it without touching the file.
    file_key = EncryptedTextField()
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-uploaded_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind} {self.content_type}"


class AttachmentContent(models.Model):
    """The sealed file: nonce + AES-256-GCM ciphertext under the attachment's own key."""

    attachment = models.OneToOneField(Attachment, on_delete=models.CASCADE, primary_key=True,
                                      related_name="content")
    sealed = models.BinaryField()

    def __str__(self) -> str:
        return f"content of attachment {self.attachment_id}"
