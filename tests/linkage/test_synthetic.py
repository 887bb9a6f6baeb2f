"""The generated register with known truth: deterministic, and holding the duplicates,
variants and hard negatives the linkage benchmark counts on."""

import csv
import re
from collections import defaultdict
from datetime import date

import pytest

from opennrm.linkage.synthetic import (
    COLUMNS,
    RATES,
    belarusian,
    expected_records_per_person,
    feminine,
    generate_register,
    moldovan_romanian,
    summary,
    true_pairs,
    write_csv,
)

PERSONS = 20_000
CYRILLIC = re.compile(r"[\u0400-\u04ff]")
ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DMY = re.compile(r"^\d{2}\.\d{2}\.\d{4}$")


@pytest.fixture(scope="module")
def rows():
    return generate_register(PERSONS, seed=7)


@pytest.fixture(scope="module")
def by_person(rows):
    persons = defaultdict(list)
    for row in rows:
        persons[row["person_id"]].append(row)
    return persons


def variants(row) -> set[str]:
    return set(filter(None, row["variants"].split(";")))


def plain(row) -> bool:
    """Typed as the person's documents have it: native script, no variant at all."""
    return not variants(row)


def as_documented(row) -> bool:
    """Name and birth date as the person's documents have them (the date in either format)."""
    return variants(row) <= {"format_dmy", "phone_changed", "document_other",
                             "dual_citizenship"} and bool(row["given_name"])


def edits(a: str, b: str) -> int:
    """Optimal string alignment distance (a swap of neighbours is one edit)."""
    previous2, previous = None, list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if (i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]):
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[len(b)]


def parse(text: str) -> date:
    if DMY.match(text):
        day, month, year = text.split(".")
        return date(int(year), int(month), int(day))
    return date.fromisoformat(text)


def test_it_is_the_same_register_for_the_same_seed():
    assert generate_register(800, seed=3) == generate_register(800, seed=3)
    assert generate_register(800, seed=3) != generate_register(800, seed=4)


def test_every_row_has_every_column_and_a_unique_record_id(rows):
    assert all(tuple(row) == COLUMNS for row in rows)
    assert len({row["record_id"] for row in rows}) == len(rows)
    assert all(row["person_id"] for row in rows)


def test_it_has_the_persons_asked_for_some_registered_two_to_four_times(rows, by_person):
    assert len(by_person) == PERSONS
    counts = summary(rows)
    assert 0.13 <= counts["duplicated_persons"] / PERSONS <= 0.17
    assert {len(records) for records in by_person.values()} == {1, 2, 3, 4}
    assert counts["true_pairs"] == true_pairs(rows) > counts["duplicated_persons"]
    assert len(rows) == pytest.approx(PERSONS * expected_records_per_person(), rel=0.03)


def test_each_registration_of_a_person_is_by_another_agency(by_person):
    for records in by_person.values():
        agencies = [row["record_id"].rsplit("-", 1)[0] for row in records]
        assert len(set(agencies)) == len(agencies)


def test_a_cyrillic_name_is_registered_in_cyrillic_and_in_latin_letters(by_person):
    both = [records for records in by_person.values()
            if {bool(CYRILLIC.search(row["family_name"])) for row in records} == {True, False}]
    assert len(both) > 300
    schemes = {variant for records in both for row in records for variant in variants(row)
               if variant.startswith("latin:")}
    assert {"latin:uk_kmu", "latin:ru_icao", "latin:by_passport", "latin:anyascii",
            "latin:md_romanian"} <= schemes


def test_ukrainian_latin_spellings_follow_their_own_scheme(rows):
    kmu = [row for row in rows if "latin:uk_kmu" in variants(row)]
    assert kmu and not any(CYRILLIC.search(row["given_name"] + row["family_name"])
                           for row in kmu)
    assert not any(letter in row["given_name"] for row in kmu for letter in "ЄєІіЇї")


def test_belarusians_are_written_with_belarusian_letters_or_in_the_russian_form(rows):
    belarusians = [row for row in rows if row["citizenship"] == "BY"
                   and CYRILLIC.search(row["given_name"])]
    native = [row for row in belarusians if "russian_form" not in variants(row)]
    russian = [row for row in belarusians if "russian_form" in variants(row)]
    assert native and russian
    assert not any("и" in row["given_name"] + row["family_name"] for row in native)
    assert sum("і" in row["given_name"] + row["family_name"] for row in native) > len(native) / 2
    assert belarusian("Татьяна") == "Тацьяна" and belarusian("Иванов") == "Іваноў"
    assert moldovan_romanian("Сергей") == "Serghei" and moldovan_romanian("Жуков") == "Jucov"


def test_romanian_names_come_with_comma_diacritics_without_them_and_with_cedillas(by_person):
    kinds = defaultdict(int)
    for records in by_person.values():
        names = {row["family_name"] + row["given_name"] for row in records}
        if any(re.search("[șț]", name) for name in names) and len(names) > 1:
            if any(re.search("[şţ]", name) for name in names):
                kinds["comma and cedilla"] += 1
            if any(not re.search("[șțşţăâî]", name, re.I) for name in names):
                kinds["with and without"] += 1
    assert kinds["comma and cedilla"] > 20 and kinds["with and without"] > 20


def test_a_typo_is_one_edit_away_from_the_name(by_person):
    checked = 0
    for records in by_person.values():
        clean = [row for row in records if plain(row) and row["given_name"]]
        for row in records:
            if variants(row) == {"typo:given"} and clean and row["given_name"]:
                assert edits(row["given_name"], clean[0]["given_name"]) == 1
                checked += 1
            elif variants(row) == {"typo:family"} and clean:
                assert edits(row["family_name"], clean[0]["family_name"]) == 1
                checked += 1
    assert checked > 20


def test_birth_dates_are_typed_in_several_formats_or_left_out(rows):
    dates = [row["birth_date"] for row in rows]
    share = {kind: sum(bool(test(text)) for text in dates) / len(dates) for kind, test in (
        ("iso", ISO.match), ("dmy", DMY.match), ("year", re.compile(r"^\d{4}$").match),
        ("missing", lambda text: text == ""))}
    assert share["iso"] > 0.7
    assert 0.10 < share["dmy"] < 0.20
    assert 0.03 < share["year"] < 0.07
    assert 0.02 < share["missing"] < 0.06
    assert sum(share.values()) == pytest.approx(1)


def test_a_swapped_date_has_day_and_month_swapped_and_an_off_one_is_a_day_off(by_person):
    found = defaultdict(int)
    for records in by_person.values():
        exact = [parse(row["birth_date"]) for row in records
                 if row["birth_date"] and not variants(row) & {
                     "swapped_date", "off_by_one_day", "year_only", "missing_date"}]
        if not exact:
            continue
        for row in records:
            if "swapped_date" in variants(row):
                typed = parse(row["birth_date"])
                assert (typed.day, typed.month) == (exact[0].month, exact[0].day)
                assert typed.day != typed.month
                found["swapped"] += 1
            if "off_by_one_day" in variants(row):
                assert abs((parse(row["birth_date"]) - exact[0]).days) == 1
                found["off by one"] += 1
    assert found["swapped"] > 10 and found["off by one"] > 10


def test_fields_are_left_out_of_some_records(rows):
    for column in ("sex", "citizenship", "place_of_birth", "phone", "document_number",
                   "given_name"):
        missing = sum(not row[column] for row in rows) / len(rows)
        assert 0.005 < missing < 0.8, column
    assert {row["sex"] for row in rows} == {"female", "male", ""}
    assert {row["citizenship"] for row in rows} == {"MD", "UA", "RU", "BY", "RO", "TR", ""}


def test_household_members_share_family_name_address_and_phone(rows):
    households = defaultdict(lambda: defaultdict(list))
    for row in rows:
        if row["household_id"].startswith("h"):
            households[row["household_id"]][row["person_id"]].append(row)
    counts = summary(rows)
    assert 0.07 < counts["persons_in_households"] / PERSONS < 0.13
    assert counts["households"] == len(households)
    shared_phone = 0
    for members in households.values():
        assert len(members) >= 2
        plain_rows = [row for records in members.values() for row in records
                      if as_documented(row)]
        names = {feminine(row["family_name"]) for row in plain_rows}
        assert len(names) <= 1
        addresses = {row["address"] for records in members.values() for row in records
                     if row["address"]}
        assert len(addresses) <= 1
        phones = [{row["phone"][-7:] for row in records if row["phone"]}
                  for records in members.values()]
        shared_phone += len(set.intersection(*phones)) > 0 if all(phones) else 0
    assert shared_phone > 50


def test_twins_share_family_name_and_birth_date_but_not_the_given_name(rows):
    twins = defaultdict(lambda: defaultdict(list))
    for row in rows:
        if row["household_id"].startswith("t"):
            twins[row["household_id"]][row["person_id"]].append(row)
    assert 0.006 < 2 * summary(rows)["twin_pairs"] / PERSONS < 0.014
    compared = 0
    for pair in twins.values():
        plain_rows = [[row for row in records if as_documented(row) and row["birth_date"]]
                      for records in pair.values()]
        if len(plain_rows) == 2 and all(plain_rows):
            first, second = plain_rows[0][0], plain_rows[1][0]
            assert feminine(first["family_name"]) == feminine(second["family_name"])
            assert parse(first["birth_date"]) == parse(second["birth_date"])
            assert first["given_name"] != second["given_name"]
            compared += 1
    assert compared > 20


def test_rates_can_be_changed_but_not_misspelt():
    rows = generate_register(1000, seed=1, duplicated=0.0, households=0.0, twins=0.0)
    assert len(rows) == 1000 and not any(row["household_id"] for row in rows)
    clean = generate_register(1000, seed=1, **{name: 0.0 for name in RATES})
    assert not any(row["variants"] for row in clean)
    with pytest.raises(TypeError, match="duplicates"):
        generate_register(10, seed=1, duplicates=0.2)
    with pytest.raises(ValueError, match="typo"):
        generate_register(10, seed=1, typo=1.5)


def test_it_writes_the_register_as_csv(tmp_path):
    rows = generate_register(200, seed=5)
    write_csv(rows, tmp_path / "register.csv")
    with open(tmp_path / "register.csv", encoding="utf-8", newline="") as file:
        assert list(csv.DictReader(file)) == rows
    write_csv(rows, tmp_path / "input.csv", columns=("record_id", "given_name"))
    with open(tmp_path / "input.csv", encoding="utf-8", newline="") as file:
        assert next(csv.reader(file)) == ["record_id", "given_name"]
