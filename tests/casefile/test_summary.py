"""The printable case summary: a privacy marking and who printed it when on every page,
only what the reader may see, and the print in the audit trail."""

import subprocess

import pytest

from opennrm.audit.models import AuditEntry
from opennrm.casefile import services
from opennrm.cases import access
from opennrm.protection import services as protection
from tests.casefile.conftest import JOURNAL_TEXT


def pdf_text(pdf: bytes) -> str:
    assert pdf.startswith(b"%PDF-")
    done = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True,
                          check=True, timeout=60)
    # One line for each phrase, whatever the page's width broke.
    return " ".join(done.stdout.decode("utf-8").split())


def test_it_carries_the_marking_and_who_printed_it_when(caseworker, case):
    text = pdf_text(services.print_case_summary(caseworker, case.case_number))
    assert f"Summary of case {case.case_number}" in text
    assert "Confidential: personal data of a person who may have been trafficked" in text
    assert "Printed by caseworker (La Strada) on" in text


def test_the_node_sets_its_own_marking(caseworker, case, settings):
    settings.OPENNRM_SUMMARY_MARKING = "RESTRICTED - NRM"
    assert "RESTRICTED - NRM" in pdf_text(services.print_case_summary(caseworker,
                                                                      case.case_number))


def test_without_asking_it_prints_no_identity_and_no_journal(caseworker, case, entry, photo):
    text = pdf_text(services.print_case_summary(caseworker, case.case_number))
    for secret in ("Elena", "Popescu", "AB1234567", "+37369123456", "bus station",
                   "shelter", "Bruises", "bruises.png"):
        assert secret not in text, secret
    assert "Identity not printed" in text and "Journal not printed" in text
    # What the case page shows without the identity is there.
    assert "Forced labour" in text and "La Strada" in text and "Photo" in text


def test_asked_for_it_prints_the_identity_and_the_journal(caseworker, case, entry):
    text = pdf_text(services.print_case_summary(caseworker, case.case_number,
                                                with_identity=True, with_journal=True))
    assert "Elena Popescu" in text and "AB1234567" in text
    assert JOURNAL_TEXT in text


def test_it_shows_what_the_case_page_sections_show(caseworker, case, period):
    text = pdf_text(services.print_case_summary(caseworker, case.case_number))
    assert "Recovery and reflection period" in text
    assert "No protection measures recorded" not in text


@pytest.fixture
def period(caseworker, case):
    from datetime import date

    return protection.grant_reflection_period(caseworker, case, date(2026, 3, 3),
                                              date(2026, 4, 2), date(2026, 3, 3),
                                              deciding_authority="National coordinator")


def test_printing_is_audited_naming_what_was_printed(caseworker, case):
    services.print_case_summary(caseworker, case.case_number, channel="web")
    services.print_case_summary(caseworker, case.case_number, with_identity=True,
                                with_journal=True, channel="web")
    plain, full = AuditEntry.objects.filter(object_type="case_summary").order_by("sequence")
    assert plain.action == full.action == "export"
    assert plain.fields == ["summary"] and plain.object_ref == case.case_number
    assert {"family_name", "birth_date", "notes", "journal_entry.text"} <= set(full.fields)


def test_a_reader_who_may_not_see_identities_cannot_print_them(monkeypatch, caseworker, case,
                                                               entry):
    monkeypatch.setattr(access, "can_see_identity", lambda user: False)
    before = AuditEntry.objects.count()
    with pytest.raises(access.CaseAccessDenied):
        services.print_case_summary(caseworker, case.case_number, with_identity=True)
    with pytest.raises(access.CaseAccessDenied):
        services.print_case_summary(caseworker, case.case_number, with_journal=True)
    assert AuditEntry.objects.count() == before
    text = pdf_text(services.print_case_summary(caseworker, case.case_number))
    assert "Popescu" not in text and JOURNAL_TEXT not in text


def test_it_validates_ownership(police_officer, case):
    with pytest.raises(access.CaseNotFound):
        services.print_case_summary(police_officer, case.case_number, with_identity=True)
    assert not AuditEntry.objects.filter(object_type="case_summary").exists()
