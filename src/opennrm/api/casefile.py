"""/api/cases/{case_number}/journal and …/attachments: the case file, read only.

Handlers translate HTTP to calls of `casefile.services` and back; the rules live there.
The journal's text and the attachments' names and descriptions come from the services'
audited reads, and only for a reader who may see them (otherwise null); files are
downloaded on the web page, where each download is audited.
"""

from datetime import date, datetime

from django.http import HttpRequest
from ninja import Field, Router, Schema

from opennrm.api.cases import CHANNEL, CaseNumber
from opennrm.api.problems import problems
from opennrm.casefile import access as casefile_access
from opennrm.casefile import services
from opennrm.casefile.models import AttachmentKind, JournalKind
from opennrm.cases import access

router = Router(tags=["case file"])


class JournalEntryOut(Schema):
    id: int
    kind: str = Field(json_schema_extra={"enum": list(JournalKind.values)})
    happened_on: date
    text: str | None = Field(description="Null when the reader's role does not show it.")
    recorded_by: str
    recorded_at: datetime


class AttachmentOut(Schema):
    id: int
    kind: str = Field(json_schema_extra={"enum": list(AttachmentKind.values)})
    content_type: str = Field(description="The type found in the file's content.")
    size: int = Field(description="Bytes, as stored (images without their metadata).")
    metadata_removed: bool
    file_name: str | None = Field(description="Null when the reader's role does not show it.")
    description: str | None = Field(
        description="Null when the reader's role does not show it.")
    uploaded_by: str
    uploaded_at: datetime


@router.get("/{case_number}/journal",
            response={200: list[JournalEntryOut], **problems(401, 404, 422)},
            operation_id="listJournalEntries", summary="List the journal entries of a case")
def list_journal_entries(request: HttpRequest, case_number: CaseNumber):
    """Newest first. Reading the texts is audited."""
    case = access.get_visible_case(request.auth, case_number)
    may_read = casefile_access.can_read_case_file(request.auth, case)
    entries = (services.read_journal(request.auth, case, channel=CHANNEL) if may_read
               else services.journal_entries(request.auth, case))
    return [{"id": entry.pk, "kind": entry.kind, "happened_on": entry.happened_on,
             "text": entry.text if may_read else None,
             "recorded_by": entry.recorded_by.username, "recorded_at": entry.recorded_at}
            for entry in entries]


@router.get("/{case_number}/attachments",
            response={200: list[AttachmentOut], **problems(401, 404, 422)},
            operation_id="listAttachments",
            summary="List the documents attached to a case (not their files)")
def list_attachments(request: HttpRequest, case_number: CaseNumber):
    """Newest first. Reading the names and descriptions is audited."""
    case = access.get_visible_case(request.auth, case_number)
    may_read = casefile_access.can_read_case_file(request.auth, case)
    found = (services.read_attachments(request.auth, case, channel=CHANNEL) if may_read
             else services.attachments(request.auth, case))
    return [{"id": attachment.pk, "kind": attachment.kind,
             "content_type": attachment.content_type, "size": attachment.size,
             "metadata_removed": attachment.metadata_removed,
             "file_name": attachment.file_name if may_read else None,
             "description": attachment.description if may_read else None,
             "uploaded_by": attachment.uploaded_by.username,
             "uploaded_at": attachment.uploaded_at}
            for attachment in found]
