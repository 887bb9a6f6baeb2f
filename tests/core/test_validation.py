"""The shared checks of typed input: the same answer in every app."""

from datetime import date, timedelta

from django.utils import timezone

from opennrm.core.validation import clean_code, clean_codes, clean_date, clean_text


def test_text_that_no_database_stores_is_refused_not_crashed_on():
    for bad in ("a\x00b", "lone \ud800 surrogate", 42):
        errors = {}
        assert clean_text(bad, "note", errors, limit=100) == ""
        assert errors == {"note": ["Enter text."]}


def test_text_is_stripped_limited_and_may_be_required():
    errors = {}
    assert clean_text("  Ана  ", "note", errors, limit=10) == "Ана"
    assert clean_text("x" * 11, "long", errors, limit=10) == "x" * 11
    assert clean_text(None, "needed", errors, limit=10, required="Describe it.") == ""
    assert errors == {"long": ["Enter at most 10 characters."], "needed": ["Describe it."]}


def test_dates_are_parsed_checked_and_may_not_lie_ahead():
    errors = {}
    tomorrow = timezone.localdate() + timedelta(days=1)
    assert clean_date("2026-03-02", "a", errors) == date(2026, 3, 2)
    assert clean_date("2026-02-30", "b", errors) is None
    assert clean_date(20260302, "c", errors) is None
    assert clean_date("", "d", errors) is None
    assert clean_date(None, "e", errors, required="Give the date.") is None
    assert clean_date(tomorrow, "f", errors, not_in_future=True) == tomorrow
    assert clean_date(tomorrow, "g", errors) == tomorrow
    assert errors == {"b": ["Enter a date as YYYY-MM-DD."], "c": ["Enter a date as YYYY-MM-DD."],
                      "e": ["Give the date."], "f": ["The date is in the future."]}


def test_a_code_is_checked_against_its_list_with_one_message():
    errors = {}
    assert clean_code(" md ", "countries", "country", errors) == "MD"
    assert clean_code("", "genders", "gender", errors) == ""
    assert clean_code(None, "genders", "needed", errors, required="Choose one.") == ""
    assert clean_code("martian", "genders", "gender", errors) == "martian"
    assert clean_code(7, "genders", "number", errors) == ""
    assert errors == {"needed": ["Choose one."], "gender": ["Choose a value from the list."],
                      "number": ["Choose a value from the list."]}


def test_a_list_of_codes_names_the_unknown_ones():
    errors = {}
    assert clean_codes("md, ua,md", "countries", "countries", errors) == ["MD", "UA"]
    assert clean_codes(["ro", "xx", "yy"], "languages", "languages", errors) == [
        "ro", "xx", "yy"]
    assert clean_codes([1], "languages", "numbers", errors) == []
    assert errors == {"languages": ["Unknown code(s): xx, yy."], "numbers": ["Enter a list."]}
