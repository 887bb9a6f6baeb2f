"""Reads the raw rows the database holds and looks for the person's identity in them."""

import pytest
from django.db import connection

from opennrm.core.rotation import encrypted_columns
from tests.helpers import bytes_on_disk

SECRETS = ["Elena", "Popescu", "AB1234567", "+37369123456", "Chișinău", "1998-04-12",
           "bus station"]


def _all_raw_text() -> str:
    chunks = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            for row in cursor.fetchall():
                chunks.append(" ".join(str(value) for value in row))
    return "\n".join(chunks)


def test_no_identity_in_clear_anywhere_in_the_database(case):
    raw = _all_raw_text()
    for secret in SECRETS:
        assert secret not in raw, f"{secret!r} is stored in clear"
    assert case.person.family_name == "Popescu"


def _bytes_on_disk(settings) -> bytes:
    """The bytes the database server wrote to disk for the person and case tables."""
    return bytes_on_disk(("cases_person", "cases_case"))


@pytest.mark.django_db(transaction=True)
def test_the_database_files_hold_no_plaintext(caseworker, settings):
    from opennrm.cases import services
    from tests.factories import person_data

    services.register_case(caseworker, person_data())
    data = _bytes_on_disk(settings)
    assert len(data) > 1000
    assert b"forced_labour" in data  # the check does see row contents in clear
    for secret in SECRETS:
        assert secret.encode() not in data, f"{secret!r} is on disk in clear"


def test_every_identity_column_is_encrypted():
    names = {(c.table, c.column) for c in encrypted_columns()}
    for column in ("given_name", "family_name", "aliases", "birth_date", "identity_documents",
                   "phone", "address"):
        assert ("cases_person", column) in names
    assert ("cases_case", "notes") in names


def test_a_ciphertext_moved_to_another_column_does_not_decrypt(case):
    with connection.cursor() as cursor:
        cursor.execute("SELECT family_name FROM cases_person WHERE id = %s", [case.person_id])
        family_name_ciphertext = cursor.fetchone()[0]
        cursor.execute("UPDATE cases_person SET given_name = %s WHERE id = %s",
                       [family_name_ciphertext, case.person_id])
    from cryptography.exceptions import InvalidTag

    from opennrm.cases.models import Person
    try:
        Person.objects.get(pk=case.person_id)
    except InvalidTag:
        return
    raise AssertionError("a swapped ciphertext decrypted")
