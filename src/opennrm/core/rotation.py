"""Re-encrypting stored personal data under the active key, without downtime.

Rows are re-encrypted in small batches, each in its own transaction, with a
compare-and-set update: a value the application changed meanwhile (already under the
active key) is left alone. Reads keep working throughout, because every ciphertext names
its key and the old key stays in the ring until `retire_key` finds no value using it.
"""

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from django.apps import apps
from django.db import connection, transaction

from opennrm.core.fields import EncryptedTextField
from opennrm.core.keyring import KeyRing, KeyRingError, get_keyring

BATCH_SIZE = 500


@dataclass(frozen=True)
class EncryptedColumn:
    table: str
    pk_column: str
    column: str
    context: str


def encrypted_columns() -> list[EncryptedColumn]:
    columns = []
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, EncryptedTextField):
                columns.append(EncryptedColumn(
                    model._meta.db_table, model._meta.pk.column, field.column,
                    field.crypto_context,
                ))
    return columns


def _batches(column: EncryptedColumn):
    qn = connection.ops.quote_name
    last_pk = None
    while True:
        where = f"WHERE {qn(column.pk_column)} > %s" if last_pk is not None else ""
        sql = (f"SELECT {qn(column.pk_column)}, {qn(column.column)} FROM {qn(column.table)} "
               f"{where} ORDER BY {qn(column.pk_column)} LIMIT {BATCH_SIZE}")
        with connection.cursor() as cursor:
            cursor.execute(sql, [last_pk] if last_pk is not None else [])
            rows = cursor.fetchall()
        if not rows:
            return
        yield rows
        last_pk = rows[-1][0]


def key_usage() -> Counter:
    """How many stored values each data key encrypts."""
    usage: Counter = Counter()
    for column in encrypted_columns():
        for rows in _batches(column):
            for _, token in rows:
                if token:
                    usage[KeyRing.key_id_of(token)] += 1
    return usage


def reencrypt_all(progress: Callable[[int], None] | None = None) -> int:
    """Re-encrypt every value not under the active key. Returns how many were rewritten."""
    ring = get_keyring()
    qn = connection.ops.quote_name
    rewritten = 0
    for column in encrypted_columns():
        update = (f"UPDATE {qn(column.table)} SET {qn(column.column)} = %s "
                  f"WHERE {qn(column.pk_column)} = %s AND {qn(column.column)} = %s")
        for rows in _batches(column):
            changes = [
                (ring.encrypt(ring.decrypt(token, column.context), column.context), pk, token)
                for pk, token in rows
                if token and KeyRing.key_id_of(token) != ring.active_key_id
            ]
            if changes:
                with transaction.atomic(), connection.cursor() as cursor:
                    cursor.executemany(update, changes)
                rewritten += len(changes)
            if progress:
                progress(len(rows))
    return rewritten


def retire_key(key_id: str) -> None:
    """Remove a data key from the ring, refusing while any stored value still uses it."""
    still_used = key_usage().get(key_id, 0)
    if still_used:
        raise KeyRingError(
            f"{still_used} stored values are still encrypted with {key_id}; "
            "run `opennrm keys rotate` first"
        )
    get_keyring().retire_key(key_id)
