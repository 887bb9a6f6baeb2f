"""The table definitions: their strings reach the translation catalogues."""

from django.utils import translation

from opennrm.statistics import engine, strings


def test_every_definition_string_is_listed_for_the_catalogues():
    # When this fails: python -m opennrm.statistics.strings, then make messages.
    assert [str(s) for s in strings.DEFINITION_STRINGS] == strings.strings_in_definitions()


def test_table_titles_are_translated():
    with translation.override("uk"):
        titles = dict(engine.table_set_choices())
    assert titles["eurostat"] != "Eurostat: trafficking in human beings"
