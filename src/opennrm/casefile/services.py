"""The one write path of the case file, and its audited reads.

Every function checks access itself (`casefile.access`, built on `cases.access`), so the
web pages and the API cannot forget it; every write, and every read of encrypted text or of
a file, appends its audit entry in the same transaction. Nothing a caller passes is trusted:
an attachment's type comes from its content, and an image is stored without its metadata
(`files.py`).
"""

import datetime
from pathlib import PurePosixPath

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Max, Min, OuterRef, QuerySet, Subquery
from django.utils.translation import gettext as _

from opennrm.accounts.models import Agency, User
from opennrm.audit.models import Action, AuditEntry
from opennrm.audit.services import AuditEvent, entries_about, record_events
from opennrm.casefile import access, files, sealing
from opennrm.casefile.models import (
    Attachment,
    AttachmentContent,
    AttachmentKind,
    JournalEntry,
    JournalKind,
)
from opennrm.cases import access as case_access
from opennrm.cases.models import Case
from opennrm.cases.services import PERSONAL_DATA_FIELDS
from opennrm.core import printing
from opennrm.core.validation import TextLimit, clean_date, clean_text

# The encrypted fields, as the audit trail names them.
JOURNAL_SECRETS = ("text",)
ATTACHMENT_SECRETS = ("file_name", "description")
ATTACHMENT_FILE = ("file",)
# What the audit trail records as someone looking at a case (the rows of "Who viewed this
# case"); every entry about a case, whatever its object type, names the case number.
VIEWING_ACTIONS = (Action.READ, Action.REVEAL, Action.EXPORT, Action.SEARCH)


def _audit(actor: User, action: str, object_type: str, case: Case, fields: tuple[str, ...],
           channel: str, reason: str = "") -> None:
    record_events(actor, [AuditEvent(action, object_type, case.case_number, fields, reason)],
                  channel)


def _choice(value, choices, field: str, errors: dict, message: str) -> str:
    if value not in choices.values:
        errors.setdefault(field, []).append(message)
    return value


def _raise(errors: dict) -> None:
    if errors:
        raise ValidationError(errors)


def _open_case(case: Case) -> Case:
    """The case re-read under a row lock; a closed case takes nothing new."""
    case = Case.objects.select_for_update().get(pk=case.pk)
    if case.is_closed:
        raise ValidationError({"case": [
            _("This case is closed. Reopen it to add to its journal or documents.")]})
    return case


# --- the journal ------------------------------------------------------------------------------

def add_journal_entry(actor: User, case: Case, kind: str, happened_on: datetime.date | str,
                      text: str, channel: str = "") -> JournalEntry:
    """Record a contact, visit, call or meeting on `case`, its text encrypted; audited."""
    access.ensure_can_add_to_case_file(actor, case)
    errors: dict = {}
    kind = _choice(kind, JournalKind, "kind", errors,
                   _("Choose whether it was a contact, a visit, a call or a meeting."))
    happened_on = clean_date(happened_on, "happened_on", errors,
                             required=_("Enter the date it happened."), not_in_future=True)
    text = clean_text(text, "text", errors, limit=TextLimit.LONG,
                      required=_("Write what happened."))
    _raise(errors)
    with transaction.atomic():
        case = _open_case(case)
        entry = JournalEntry.objects.create(case=case, kind=kind, happened_on=happened_on,
                                            text=text, recorded_by=actor)
        _audit(actor, Action.CREATE, "journal_entry", case, ("kind", "happened_on", "text"),
               channel)
    return entry


def journal_entries(user: User, case: Case) -> QuerySet[JournalEntry]:
    """The entries of `case` without their text (nothing is decrypted, nothing audited)."""
    case_access.ensure_visible(user, case)
    return case.journal_entries.defer("text").select_related("recorded_by")


def read_journal(user: User, case: Case, channel: str = "") -> list[JournalEntry]:
    """Every entry of `case`, newest first, with its text; reading the texts is audited."""
    access.ensure_can_read_case_file(user, case)
    entries = list(case.journal_entries.select_related("recorded_by"))
    if entries:
        _audit(user, Action.READ, "journal_entry", case, JOURNAL_SECRETS, channel)
    return entries


# --- attachments ------------------------------------------------------------------------------

def _file_name(name: str) -> str:
    """The name as uploaded, without folders or unprintable characters, at most
    TextLimit.NAME characters (keeping its end, where the extension is)."""
    name = PurePosixPath((name or "").replace("\\", "/")).name
    name = "".join(character for character in name if character.isprintable()).strip()
    return name[-TextLimit.NAME:] or _("unnamed file")


def add_attachment(actor: User, case: Case, kind: str, file_name: str, content: bytes,
                   description: str = "", channel: str = "") -> Attachment:
    """Attach a document to `case`: refused unless its content is of an accepted type and
    within the size limit; an image is stored without its metadata; the file, its name and
    description are encrypted. Audited."""
    access.ensure_can_add_to_case_file(actor, case)
    errors: dict = {}
    kind = _choice(kind, AttachmentKind, "kind", errors, _("Choose what kind of document it is."))
    description = clean_text(description, "description", errors, limit=TextLimit.NOTE)
    checked = None
    if files.check_size(len(content), "file", errors):
        checked = files.check_file(content, "file", errors)
    _raise(errors)
    with transaction.atomic():
        case = _open_case(case)
        attachment = Attachment(case=case, kind=kind, content_type=checked.content_type,
                                size=len(checked.content),
                                metadata_removed=checked.metadata_removed,
                                file_name=_file_name(file_name), description=description,
                                uploaded_by=actor)
        attachment.file_key, sealed = sealing.seal(checked.content, attachment.uuid)
        attachment.save()
        AttachmentContent.objects.create(attachment=attachment, sealed=sealed)
        _audit(actor, Action.CREATE, "attachment", case,
               ("kind", "file", *ATTACHMENT_SECRETS), channel)
    return attachment


def attachments(user: User, case: Case) -> QuerySet[Attachment]:
    """The attachments of `case` without names, descriptions or files (nothing decrypted,
    nothing audited)."""
    case_access.ensure_visible(user, case)
    return (case.attachments.defer("file_name", "description", "file_key")
            .select_related("uploaded_by"))


def read_attachments(user: User, case: Case, channel: str = "") -> list[Attachment]:
    """The attachments of `case` with their names and descriptions (not their files);
    reading them is audited."""
    access.ensure_can_read_case_file(user, case)
    found = list(case.attachments.defer("file_key").select_related("uploaded_by"))
    if found:
        _audit(user, Action.READ, "attachment", case, ATTACHMENT_SECRETS, channel)
    return found


def open_attachment(user: User, case: Case, attachment_id: int,
                    channel: str = "") -> tuple[Attachment, bytes] | None:
    """One attachment of `case` and its file, decrypted, for a download (None if `case` has
    no such attachment). Every download is audited, naming the attachment."""
    access.ensure_can_read_case_file(user, case)
    attachment = case.attachments.filter(pk=attachment_id).select_related("content").first()
    if attachment is None:
        return None
    content = sealing.unseal(attachment.file_key, attachment.content.sealed, attachment.uuid)
    _audit(user, Action.READ, "attachment", case, ATTACHMENT_FILE, channel,
           reason=f"download of attachment {attachment.pk}")
    return attachment, content


def download_name(case: Case, attachment: Attachment) -> str:
    """The name a download is saved under: the case number, the attachment and the type's
    extension, never the uploaded name (which may name the person)."""
    extension = files.TYPE_NAMES.get(attachment.content_type, "bin").lower()
    extension = {"jpeg": "jpg"}.get(extension, extension)
    return f"{case.case_number}-{attachment.kind}-{attachment.pk}.{extension}"


# --- who viewed the case ----------------------------------------------------------------------

def _agency_name():
    """The name of the entry's agency (audit entries keep its id, not a foreign key)."""
    return Subquery(Agency.objects.filter(pk=OuterRef("agency_id")).values("name")[:1])


def case_views(user: User, case: Case) -> QuerySet[AuditEntry]:
    """The audit entries of people looking at `case` (reads, identity shown, exports and
    prints, name searches that found it), newest first, each with `agency_name`. For the
    case's agency's supervisors."""
    access.ensure_can_see_case_viewers(user, case)
    return entries_about(case.case_number, VIEWING_ACTIONS).annotate(
        agency_name=_agency_name())


def case_viewers(user: User, case: Case) -> list[dict]:
    """Who looked at `case`: one row per user and agency (`actor_username`, `agency_id`,
    `agency_name`) with how often (`views`), first and last (`first_at`, `last_at`), the
    most recent first."""
    return list(case_views(user, case).order_by()
                .values("actor_username", "agency_id")
                .annotate(views=Count("id"), first_at=Min("at"), last_at=Max("at"),
                          agency_name=_agency_name())
                .order_by("-last_at"))


# --- the printable summary --------------------------------------------------------------------

def print_case_summary(user: User, case_number: str, *, with_identity: bool = False,
                       with_journal: bool = False, channel: str = "") -> bytes:
    """The case summary as a PDF for `user`: only what they may see, the identity and the
    journal's text only when asked for. Printing is audited (EXPORT, naming what was
    printed)."""
    from opennrm.casefile import summary  # WeasyPrint loads only when someone prints

    case = case_access.get_visible_case(user, case_number)
    if with_identity and not case_access.can_see_identity(user):
        raise case_access.CaseAccessDenied(_("Your role does not show identities."))
    if with_journal:
        access.ensure_can_read_case_file(user, case)
    journal = (list(case.journal_entries.select_related("recorded_by")) if with_journal
               else None)
    html = summary.summary_html(user, case, with_identity=with_identity, journal=journal,
                                attachments=list(attachments(user, case)))
    pdf = printing.render_pdf(html)
    fields = ["summary"]
    if with_identity:
        fields += PERSONAL_DATA_FIELDS
    if with_journal:
        fields += [f"journal_entry.{name}" for name in JOURNAL_SECRETS]
    _audit(user, Action.EXPORT, "case_summary", case, tuple(fields), channel,
           reason="printed summary")
    return pdf
