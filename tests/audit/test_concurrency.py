import threading

import pytest
from django.db import connection

from opennrm.audit.models import AuditEntry
from opennrm.audit.services import AuditEvent, record_event, verify_chain


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_keep_one_unbroken_chain(caseworker):
    errors = []

    def write(n: int) -> None:
        try:
            for i in range(10):
                record_event(caseworker, AuditEvent("read", "case", f"MD-26-T{n}{i}"), "test")
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert AuditEntry.objects.count() == 40
    report = verify_chain()
    assert report.ok, report.problems
