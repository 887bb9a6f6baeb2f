from django.db import connection

from opennrm.audit.guard import guard_lifted
from opennrm.cases import services


def test_auditor_sees_who_read_a_case_and_when(client, case, caseworker, auditor):
    services.read_case(caseworker, case.case_number, channel="web")
    client.force_login(auditor)
    response = client.get("/audit/", {"case_number": case.case_number, "action": "read"})
    assert response.status_code == 200
    page = response.content.decode()
    assert caseworker.username in page
    assert case.case_number in page
    assert "Popescu" not in page


def test_only_auditors_read_the_trail(client, case, caseworker, analyst, administrator):
    for user in (caseworker, analyst, administrator):
        client.force_login(user)
        assert client.get("/audit/").status_code == 403


def test_verify_button_reports_tampering(client, case, auditor):
    client.force_login(auditor)
    assert "The chain is intact" in client.get("/audit/", {"verify": "1"}).content.decode()
    with guard_lifted(connection), connection.cursor() as cursor:  # as a DBA would
        cursor.execute("UPDATE audit_auditentry SET reason = 'x'")
    assert "tampered with" in client.get("/audit/", {"verify": "1"}).content.decode()
