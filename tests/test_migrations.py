"""Every model change has its migration (a missing one would fail on a real node's upgrade)."""

from io import StringIO

from django.core.management import call_command


def test_the_models_and_the_migrations_agree(db):
    output = StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=output)
    except SystemExit:
        raise AssertionError("a model change has no migration:\n" + output.getvalue()) from None
