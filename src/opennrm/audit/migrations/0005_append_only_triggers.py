"""The database refuses UPDATE, DELETE and TRUNCATE of audit entries and checkpoints, and
lets the head only move forward (see audit.guard)."""

from django.db import migrations

from opennrm.audit import guard


def install(apps, schema_editor):
    for statement in guard.install_sql(schema_editor.connection.vendor):
        schema_editor.execute(statement, params=None)


def remove(apps, schema_editor):
    for statement in guard.remove_sql(schema_editor.connection.vendor):
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0004_keyed_chain"),
    ]

    operations = [
        migrations.RunPython(install, remove),
    ]
