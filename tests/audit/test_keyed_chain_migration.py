"""Migration audit.0004: an older trail (unkeyed SHA-256) is re-chained with the audit key."""

import hashlib
import importlib

import pytest
from django.apps import apps
from django.db import connection

from opennrm.audit.guard import guard_lifted
from opennrm.audit.models import AuditEntry, AuditHead
from opennrm.audit.services import GENESIS_HASH, _entry_content, verify_chain
from opennrm.cases import services

migration = importlib.import_module("opennrm.audit.migrations.0004_keyed_chain")


class SchemaEditor:
    connection = connection


def write_an_old_trail():
    """The trail as the code before the keyed chain wrote it."""
    with guard_lifted(connection), connection.cursor() as cursor:
        previous = GENESIS_HASH
        for entry in AuditEntry.objects.order_by("sequence"):
            entry_hash = hashlib.sha256(_entry_content(previous, entry)).hexdigest()
            cursor.execute("UPDATE audit_auditentry SET previous_hash = %s, entry_hash = %s "
                           "WHERE id = %s", [previous, entry_hash, entry.pk])
            previous = entry_hash
        cursor.execute("UPDATE audit_audithead SET last_hash = %s", [previous])


def test_an_intact_old_trail_is_rechained_with_the_audit_key(case, caseworker):
    services.read_case(caseworker, case.case_number)
    write_an_old_trail()
    contents = list(AuditEntry.objects.values_list("sequence", "actor_username", "reason"))
    assert not verify_chain().ok  # SHA-256 is no longer accepted
    with guard_lifted(connection):
        migration.rechain(apps, SchemaEditor())
    assert verify_chain().ok
    assert list(AuditEntry.objects.values_list("sequence", "actor_username", "reason")) == \
        contents
    assert AuditHead.objects.get().last_sequence == len(contents)


def test_a_trail_broken_before_the_upgrade_is_not_blessed(case, caseworker, monkeypatch):
    services.read_case(caseworker, case.case_number)
    write_an_old_trail()
    with guard_lifted(connection), connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditentry SET reason = 'edited' WHERE sequence = 1")
        with pytest.raises(RuntimeError, match="already broken"):
            migration.rechain(apps, SchemaEditor())
        monkeypatch.setenv("OPENNRM_AUDIT_RECHAIN_BROKEN", "1")
        migration.rechain(apps, SchemaEditor())
    assert verify_chain().ok


def test_a_keyed_trail_is_left_as_it_is(case, caseworker):
    services.read_case(caseworker, case.case_number)
    before = list(AuditEntry.objects.values_list("sequence", "entry_hash"))
    migration.rechain(apps, SchemaEditor())  # would fail on the triggers if it wrote
    assert list(AuditEntry.objects.values_list("sequence", "entry_hash")) == before
