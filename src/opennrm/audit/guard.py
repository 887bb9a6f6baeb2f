"""The database's own guard on the audit tables: triggers, and `opennrm db harden`.

Triggers (installed by migration 0005) refuse UPDATE, DELETE and TRUNCATE of audit entries
and checkpoints, and let the head row only move forward (UPDATE only to a higher
`last_sequence`; no DELETE or TRUNCATE). They stop the application, and anyone using its
database role by mistake. A table's owner or a superuser can still disable them: where
the application runs under its own role, `harden` takes the privileges away from it too.
Whoever holds the owner's role can rewrite the tables; the keyed hashes and the signed
checkpoints (`audit.checkpoints`) are what make that visible.

Migrations import the SQL below: changing it needs a new migration that drops and
re-creates the triggers.
"""

from contextlib import contextmanager

ENTRY_TABLE = "audit_auditentry"
HEAD_TABLE = "audit_audithead"
CHECKPOINT_TABLE = "audit_auditcheckpoint"
APPEND_ONLY_TABLES = (ENTRY_TABLE, CHECKPOINT_TABLE)
AUDIT_TABLES = (ENTRY_TABLE, HEAD_TABLE, CHECKPOINT_TABLE)

POSTGRESQL_INSTALL = [
    """CREATE OR REPLACE FUNCTION opennrm_audit_append_only() RETURNS trigger
       LANGUAGE plpgsql AS $$
       BEGIN
         RAISE EXCEPTION 'the audit trail is append-only: % on % refused', TG_OP, TG_TABLE_NAME
           USING ERRCODE = 'insufficient_privilege';
       END $$""",
    """CREATE OR REPLACE FUNCTION opennrm_audit_head_forward() RETURNS trigger
       LANGUAGE plpgsql AS $$
       BEGIN
         IF TG_OP = 'UPDATE' AND NEW.id = OLD.id
            AND NEW.last_sequence > OLD.last_sequence THEN
           RETURN NEW;
         END IF;
         RAISE EXCEPTION 'the audit head only moves forward: % on % refused', TG_OP, TG_TABLE_NAME
           USING ERRCODE = 'insufficient_privilege';
       END $$""",
    *[statement for table in APPEND_ONLY_TABLES for statement in (
        f"""CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION opennrm_audit_append_only()""",
        f"""CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
            FOR EACH STATEMENT EXECUTE FUNCTION opennrm_audit_append_only()""",
    )],
    f"""CREATE TRIGGER {HEAD_TABLE}_forward_only BEFORE UPDATE OR DELETE ON {HEAD_TABLE}
        FOR EACH ROW EXECUTE FUNCTION opennrm_audit_head_forward()""",
    f"""CREATE TRIGGER {HEAD_TABLE}_no_truncate BEFORE TRUNCATE ON {HEAD_TABLE}
        FOR EACH STATEMENT EXECUTE FUNCTION opennrm_audit_head_forward()""",
]
POSTGRESQL_REMOVE = [
    *[f"DROP TRIGGER IF EXISTS {table}_{name} ON {table}"
      for table in APPEND_ONLY_TABLES for name in ("append_only", "no_truncate")],
    f"DROP TRIGGER IF EXISTS {HEAD_TABLE}_forward_only ON {HEAD_TABLE}",
    f"DROP TRIGGER IF EXISTS {HEAD_TABLE}_no_truncate ON {HEAD_TABLE}",
    "DROP FUNCTION IF EXISTS opennrm_audit_append_only()",
    "DROP FUNCTION IF EXISTS opennrm_audit_head_forward()",
]

# SQLite has no TRUNCATE (a DELETE without WHERE fires the DELETE trigger) and no roles.
_SQLITE_TRIGGERS = {
    **{f"{table}_no_{op.lower()}": f"""CREATE TRIGGER {table}_no_{op.lower()}
            BEFORE {op} ON {table}
            BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END"""
       for table in APPEND_ONLY_TABLES for op in ("UPDATE", "DELETE")},
    f"{HEAD_TABLE}_forward_only": f"""CREATE TRIGGER {HEAD_TABLE}_forward_only
        BEFORE UPDATE ON {HEAD_TABLE}
        WHEN NEW.id != OLD.id OR NEW.last_sequence <= OLD.last_sequence
        BEGIN SELECT RAISE(ABORT, 'the audit head only moves forward'); END""",
    f"{HEAD_TABLE}_no_delete": f"""CREATE TRIGGER {HEAD_TABLE}_no_delete
        BEFORE DELETE ON {HEAD_TABLE}
        BEGIN SELECT RAISE(ABORT, 'the audit head only moves forward'); END""",
}
SQLITE_INSTALL = list(_SQLITE_TRIGGERS.values())
SQLITE_REMOVE = [f"DROP TRIGGER IF EXISTS {name}" for name in _SQLITE_TRIGGERS]


def install_sql(vendor: str) -> list[str]:
    return {"postgresql": POSTGRESQL_INSTALL, "sqlite": SQLITE_INSTALL}.get(vendor, [])


def remove_sql(vendor: str) -> list[str]:
    return {"postgresql": POSTGRESQL_REMOVE, "sqlite": SQLITE_REMOVE}.get(vendor, [])


@contextmanager
def guard_lifted(connection):
    """The triggers off, then on again: what a database administrator with the owner's role
    does before rewriting the trail (the tampering tests), and what the test suite's flush
    between transactional tests needs. On PostgreSQL it needs the tables' owner."""
    vendor = connection.vendor
    with connection.cursor() as cursor:
        if vendor == "postgresql":
            for table in AUDIT_TABLES:
                cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        else:
            for statement in remove_sql(vendor):
                cursor.execute(statement)
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            if vendor == "postgresql":
                for table in AUDIT_TABLES:
                    cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
            else:
                for statement in install_sql(vendor):
                    cursor.execute(statement)


class HardenError(Exception):
    pass


def harden(connection, app_role: str) -> list[str]:
    """Take UPDATE, DELETE and TRUNCATE of the audit tables away from the application's
    database role (PostgreSQL), leaving it what appending needs. Run it as the tables'
    owner. Refused when the application's role owns the tables or is a superuser: an owner
    can grant itself the privileges back and disable the triggers. Returns the statements.
    """
    if connection.vendor != "postgresql":
        raise HardenError("only PostgreSQL has database roles; on SQLite, protect the file")
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = %s", [app_role])
        row = cursor.fetchone()
        if row is None:
            raise HardenError(f"there is no database role {app_role!r}")
        if row[0]:
            raise HardenError(f"{app_role!r} is a superuser: no privilege can be taken from it")
        cursor.execute(
            "SELECT tablename, tableowner FROM pg_tables WHERE tablename = ANY(%s) "
            "AND pg_has_role(%s, tableowner, 'MEMBER')", [list(AUDIT_TABLES), app_role])
        owned = cursor.fetchall()
        if owned:
            raise HardenError(
                f"{app_role!r} owns (or is a member of the owner of) "
                f"{', '.join(table for table, _ in owned)}: run the migrations as another role "
                "that owns the tables, and the application as this one")
        role = connection.ops.quote_name(app_role)
        statements = [
            f"REVOKE UPDATE, DELETE, TRUNCATE ON {ENTRY_TABLE}, {CHECKPOINT_TABLE} FROM {role}",
            f"REVOKE DELETE, TRUNCATE ON {HEAD_TABLE} FROM {role}",
            f"GRANT SELECT, INSERT ON {ENTRY_TABLE}, {CHECKPOINT_TABLE} TO {role}",
            f"GRANT SELECT, INSERT, UPDATE ON {HEAD_TABLE} TO {role}",
        ]
        for statement in statements:
            cursor.execute(statement)
        # A privilege granted to PUBLIC or to a role it belongs to is not revoked above.
        kept = []
        for table, privileges in ((ENTRY_TABLE, ("UPDATE", "DELETE", "TRUNCATE")),
                                  (CHECKPOINT_TABLE, ("UPDATE", "DELETE", "TRUNCATE")),
                                  (HEAD_TABLE, ("DELETE", "TRUNCATE"))):
            for privilege in privileges:
                cursor.execute("SELECT has_table_privilege(%s, %s, %s)",
                               [app_role, table, privilege])
                if cursor.fetchone()[0]:
                    kept.append(f"{privilege} on {table}")
        if kept:
            raise HardenError(f"{app_role!r} still has {', '.join(kept)} through PUBLIC or a "
                              "role it belongs to: revoke it there")
    return statements
