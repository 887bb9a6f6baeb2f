from django.db import connection

from opennrm.audit.guard import guard_lifted
from opennrm.audit.models import AuditEntry, AuditHead
from opennrm.audit.services import verify_chain
from opennrm.cases import services


def test_untouched_trail_verifies(case, caseworker):
    services.read_case(caseworker, case.case_number)
    report = verify_chain()
    assert report.ok, report.problems
    assert report.entries_checked == AuditEntry.objects.count() >= 2


def test_a_row_edited_in_sql_is_detected(case, caseworker):
    services.read_case(caseworker, case.case_number)
    entry = AuditEntry.objects.get(action="read")
    with guard_lifted(connection), connection.cursor() as cursor:  # as a DBA would
        cursor.execute("UPDATE audit_auditentry SET actor_username = %s WHERE id = %s",
                       ["someone-else", entry.pk])
    report = verify_chain()
    assert not report.ok
    assert f"entry {entry.sequence}: content was changed" in report.problems[0]


def test_a_row_deleted_in_sql_is_detected(case, caseworker):
    services.read_case(caseworker, case.case_number)
    services.read_case(caseworker, case.case_number)
    first = AuditEntry.objects.order_by("sequence").first()
    with guard_lifted(connection), connection.cursor() as cursor:  # as a DBA would
        cursor.execute("DELETE FROM audit_auditentry WHERE id = %s", [first.pk])
    assert not verify_chain().ok


def test_removing_the_last_entries_is_detected(case, caseworker):
    services.read_case(caseworker, case.case_number)
    last = AuditEntry.objects.order_by("sequence").last()
    with guard_lifted(connection), connection.cursor() as cursor:  # as a DBA would
        cursor.execute("DELETE FROM audit_auditentry WHERE id = %s", [last.pk])
    report = verify_chain()
    assert any("removed from the end" in p for p in report.problems)


def test_entries_cannot_be_changed_through_the_orm(case):
    entry = AuditEntry.objects.first()
    entry.reason = "tampered"
    try:
        entry.save()
    except RuntimeError:
        pass
    else:
        raise AssertionError("an audit entry was updated")
    assert AuditHead.objects.get().last_sequence == AuditEntry.objects.count()


def test_trail_records_who_which_case_and_fields_not_values(case, caseworker):
    services.read_case(caseworker, case.case_number, reason="court request")
    entry = AuditEntry.objects.get(action="read")
    assert entry.actor_username == caseworker.username
    assert entry.agency_id == caseworker.agency_id
    assert entry.object_ref == case.case_number
    assert "given_name" in entry.fields
    assert entry.reason == "court request"
    assert "Elena" not in str(entry.__dict__)
