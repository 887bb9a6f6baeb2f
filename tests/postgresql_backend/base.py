"""The test suite's PostgreSQL backend: Django's own, except how the database is emptied
between transactional tests (TransactionTestCase, the live-server and browser tests).

Django empties it with one TRUNCATE of every table. PostgreSQL truncates by giving each of
the ~85 tables, their indexes and TOAST tables new files: about 2 s each time on the CI
machine, against well under 0.1 s to DELETE the few rows a test leaves. The rows are deleted
as a replica would apply them (`session_replication_role = replica`, for this transaction
only): no foreign-key check and no trigger fires, so the order of the tables does not matter
and the audit trail's append-only triggers do not refuse it, as they refuse the application.
That needs a superuser, as creating the test databases and the tests' database roles do.
Sequences are left alone, as Django's TRUNCATE leaves them; a flush that resets them is
Django's own."""

from django.db.backends.postgresql import base, operations


class DatabaseOperations(operations.DatabaseOperations):
    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        if not tables or reset_sequences:
            return super().sql_flush(style, tables, reset_sequences=reset_sequences,
                                     allow_cascade=allow_cascade)
        return ["SET LOCAL session_replication_role = replica;",
                *(f"DELETE FROM {self.quote_name(table)};" for table in tables)]


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations
