"""Journal entries: encrypted at rest, seen as the case's other fields, every read and write
audited."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from opennrm.audit.models import AuditEntry
from opennrm.casefile import services
from opennrm.casefile.models import JournalEntry
from opennrm.cases import access
from opennrm.cases import services as case_services
from tests.casefile.conftest import JOURNAL_TEXT


def test_the_text_is_encrypted_at_rest(entry):
    with connection.cursor() as cursor:
        cursor.execute("SELECT text FROM casefile_journalentry")
        stored = cursor.fetchone()[0]
    assert stored.startswith("enc1:") and "shelter" not in stored
    assert JournalEntry.objects.get().text == JOURNAL_TEXT


def test_adding_an_entry_is_audited_without_its_text(caseworker, case, entry):
    created = AuditEntry.objects.get(object_type="journal_entry", action="create")
    assert created.object_ref == case.case_number and created.actor_username == "caseworker"
    assert "text" in created.fields and "shelter" not in created.reason


def test_it_collects_every_error_at_once(caseworker, case):
    tomorrow = date.today() + timedelta(days=1)
    with pytest.raises(ValidationError) as error:
        services.add_journal_entry(caseworker, case, "letter", tomorrow, "  ")
    assert set(error.value.message_dict) == {"kind", "happened_on", "text"}
    assert "The date is in the future." in error.value.message_dict["happened_on"]
    assert not JournalEntry.objects.exists()


def test_a_closed_case_takes_no_entry(caseworker, case):
    case_services.close_case(caseworker, case, "lost_contact")
    with pytest.raises(ValidationError) as error:
        services.add_journal_entry(caseworker, case, "call", date(2026, 3, 4), "No answer.")
    assert "Reopen it" in error.value.messages[0]


def test_reading_the_journal_is_audited(caseworker, case, entry):
    entries = services.read_journal(caseworker, case, channel="web")
    assert [e.text for e in entries] == [JOURNAL_TEXT]
    read = AuditEntry.objects.filter(object_type="journal_entry", action="read").get()
    assert read.fields == ["text"] and read.channel == "web"


def test_the_list_without_text_reads_nothing_encrypted(caseworker, case, entry):
    before = AuditEntry.objects.count()
    (listed,) = services.journal_entries(caseworker, case)
    assert "text" in listed.get_deferred_fields()
    assert AuditEntry.objects.count() == before


def test_it_validates_ownership(police_officer, case, entry):
    with pytest.raises(access.CaseNotFound):
        services.read_journal(police_officer, case)
    with pytest.raises(access.CaseNotFound):
        services.journal_entries(police_officer, case)
    with pytest.raises(access.CaseNotFound):
        services.add_journal_entry(police_officer, case, "call", date(2026, 3, 4), "Hello.")
    assert JournalEntry.objects.count() == 1


def test_roles_without_cases_see_no_journal(analyst, auditor, administrator, case, entry):
    for user in (analyst, auditor, administrator):
        with pytest.raises(access.CaseNotFound):
            services.read_journal(user, case)


def test_a_reader_who_may_not_see_identities_gets_no_text(monkeypatch, caseworker, case,
                                                          entry):
    """The text is personal data, like the case's notes: the identity rule decides."""
    monkeypatch.setattr(access, "can_see_identity", lambda user: False)
    with pytest.raises(access.CaseAccessDenied):
        services.read_journal(caseworker, case)
    assert len(services.journal_entries(caseworker, case)) == 1
