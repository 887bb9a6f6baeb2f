"""Identifiers in any script and format normalise to comparable forms."""

from datetime import date

import duckdb
import pytest
import translitua

from opennrm.linkage.normalise import (
    BirthDate,
    UnreadableRecord,
    UnreadableValue,
    cyrillic_languages,
    name_forms,
    normalise_identity,
    parse_birth_date,
    parse_country,
    parse_document_number,
    parse_phone,
    parse_sex,
)


def _meet(a: str, b: str) -> bool:
    """Two written names share a spelling or a sound key (the model's strongest levels)."""
    first, second = name_forms(a), name_forms(b)
    return bool(set(first.forms) & set(second.forms) or set(first.keys) & set(second.keys))


def _similarity(a: str, b: str) -> float:
    return duckdb.execute("select jaro_winkler_similarity(?, ?)",
                          [name_forms(a).key, name_forms(b).key]).fetchone()[0]


@pytest.mark.parametrize(("cyrillic", "passport"), [
    ("Олександр Шевченко", "OLEKSANDR SHEVCHENKO"),      # Ukrainian, national system
    ("Юлія Ковальчук", "YULIIA KOVALCHUK"),
    ("Александр Шевченко", "ALEKSANDR SHEVCHENKO"),       # Russian, ICAO 9303
    ("Юлия Ковальчук", "IULIIA KOVALCHUK"),
    ("Аляксандр Шаўчэнка", "ALIAKSANDR SHAUCHENKA"),      # Belarusian passport
    ("Сяргей Лукашэвіч", "SIARHEI LUKASHEVICH"),
])
def test_cyrillic_meets_its_passport_latin(cyrillic, passport):
    for cyrillic_part, latin_part in zip(cyrillic.split(), passport.split(), strict=True):
        assert _meet(cyrillic_part, latin_part), (cyrillic_part, latin_part)


def test_machine_readable_zone_fillers_separate_words():
    assert name_forms("SHEVCHENKO<<OLEKSANDR").forms == name_forms("Shevchenko Oleksandr").forms


def test_the_same_name_in_ukrainian_russian_and_belarusian_is_comparable():
    # Мельник is written alike in Ukrainian and Russian, Мельнік in Belarusian.
    assert _meet("Мельник", "Мельнік")
    assert _meet("Мельник", "Melnyk") and _meet("Мельник", "Melnik")
    # Сергій, Сергей, Сяргей: different spellings of one name, close in Jaro-Winkler.
    assert _similarity("Сергій", "Сергей") >= 0.92
    assert _similarity("Сергей", "Сяргей") >= 0.8
    assert _similarity("Сергій", "Serhii") == 1.0


def test_romanian_letters_with_comma_or_cedilla_or_none_are_one_name():
    comma, cedilla, bare = name_forms("Ștefan Țurcanu"), name_forms("Şţefan Ţurcanu"), \
        name_forms("Stefan Turcanu")
    assert comma.primary == bare.primary == "stefanturcanu"
    assert cedilla.primary == bare.primary
    # Ț is spoken ts: the Cyrillic spelling of the name meets it.
    assert _meet("Țurcanu", "Цуркану")


def test_turkish_letters_fold_and_dotted_capital_i_is_one_letter():
    assert name_forms("Çelik").forms[0] == name_forms("ÇELİK").forms[0] == "celik"
    assert name_forms("Yılmaz").primary == name_forms("YILMAZ").primary == "yilmaz"
    assert name_forms("Şükrü").primary == "sukru"
    assert _meet("Çelik", "Челик")


def test_passport_latin_umlauts_meet_their_machine_readable_spelling():
    assert _meet("Müller", "MUELLER")
    assert _meet("Müller", "Muller")


def test_ukrainian_letters_never_go_through_a_russian_scheme():
    assert cyrillic_languages("Євгенія") == ("uk",)
    assert cyrillic_languages("Їжак") == ("uk",)
    assert "ru" not in cyrillic_languages("Іван")
    forms = name_forms("Євгенія").forms
    assert forms[0] == "yevheniia"  # the national system (KMU 2010)
    russian = {translitua.translit("Євгенія", scheme).lower()
               for scheme in (translitua.RussianICAO, translitua.RussianInternationalPassport)}
    # A Russian scheme leaves Є and І as they are: nothing of that kind is kept.
    assert all(not set(russian) & {form} for form in forms)
    assert all(form.isascii() and form.isalpha() for form in forms)


def test_belarusian_letters_take_the_belarusian_schemes():
    assert cyrillic_languages("Яўген") == ("be",)
    assert cyrillic_languages("Лукашэвіч") == ("be",)
    assert {"yauhen", "jauhien"} <= set(name_forms("Яўген").forms)


def test_other_scripts_fall_back_to_anyascii():
    assert name_forms("Γιώργος").primary == "giorgos"
    assert name_forms("  ") is None and name_forms("123") is None


@pytest.mark.parametrize(("text", "expected", "precision"), [
    ("1990-05-03", BirthDate(1990, 5, 3), "day"),
    ("03.05.1990", BirthDate(1990, 5, 3), "day"),
    ("3/5/1990", BirthDate(1990, 5, 3), "day"),
    ("1990-05", BirthDate(1990, 5), "month"),
    ("05.1990", BirthDate(1990, 5), "month"),
    ("00.05.1990", BirthDate(1990, 5), "month"),
    ("00.00.1990", BirthDate(1990), "year"),
    ("1990", BirthDate(1990), "year"),
])
def test_birth_dates_keep_their_precision(text, expected, precision):
    born = parse_birth_date(text)
    assert born == expected and born.precision == precision


def test_an_empty_birth_date_is_missing():
    assert parse_birth_date("") is None and parse_birth_date("  ") is None


@pytest.mark.parametrize(("text", "says"), [
    ("31.02.1990", "not a date of the calendar"),
    ("1990/05/03", "known format"),
    ("03-05-1990", "known format"),
    ("May 1990", "known format"),
    ("13.13.1990", "no month 13"),
    ("01.01.1850", "not a possible birth year"),
    ("05.00.1990", "no month"),
    ("02.01.2030", "in the future"),
])
def test_unreadable_birth_dates_are_an_error_saying_why(text, says):
    with pytest.raises(UnreadableValue, match=says):
        parse_birth_date(text, today=date(2030, 1, 1))


def test_sex_codes_in_several_languages():
    assert [parse_sex(v) for v in ("F", "female", "ж", "2", "M", "чол", "1", "bărbat", "X",
                                   "", "0")] == ["F", "F", "F", "F", "M", "M", "M", "M", "X",
                                                 None, None]
    with pytest.raises(UnreadableValue, match="not a sex code"):
        parse_sex("q")


def test_citizenship_becomes_iso_alpha_2():
    assert [parse_country(v) for v in ("UA", "ukr", "804", "Moldova", "Romania", "")] == [
        "UA", "UA", "UA", "MD", "RO", None]
    with pytest.raises(UnreadableValue, match="not an ISO 3166"):
        parse_country("Atlantis")


def test_phone_numbers_compare_as_international_digits():
    assert parse_phone("067 123 45 67", "UA") == parse_phone("+380 67 123 4567") \
        == parse_phone("00380671234567") == "380671234567"
    assert parse_phone("") is None
    with pytest.raises(UnreadableValue, match="too short"):
        parse_phone("12-34")


def test_document_numbers_are_upper_case_alphanumerics_typed_on_either_keyboard():
    assert parse_document_number("ab 123-456") == parse_document_number("АВ123456") == "AB123456"
    assert parse_document_number(" ") is None


def test_a_record_names_every_unreadable_value():
    with pytest.raises(UnreadableRecord) as caught:
        normalise_identity({"given_name": "Ana", "birth_date": "31.02.1990", "sex": "q"})
    assert set(caught.value.reasons) == {"birth_date", "sex"}
    with pytest.raises(UnreadableRecord, match="no name"):
        normalise_identity({"birth_date": "1990"})
