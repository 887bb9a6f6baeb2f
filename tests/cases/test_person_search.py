"""The person search: any part of a name, any script or spelling, any part of the birth
date; ranked, with why; only persons the user may see; audited; never a name in clear."""

import hashlib
from datetime import date
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection

from opennrm.audit.models import AuditEntry
from opennrm.cases import access, normalise, person_search, services
from opennrm.cases.models import NameToken
from opennrm.cases.person_search import PersonQuery, search_persons
from opennrm.core.keyring import get_keyring
from tests.factories import make_agency, make_user, person_data


def register(user, given, family, birth_date=date(1990, 5, 12), **extra):
    return services.register_case(user, person_data(given_name=given, family_name=family,
                                                    birth_date=birth_date, **extra))


@pytest.fixture
def crowd(caseworker):
    """Persons with similar names and the same birth date, so that ranking matters."""
    for given, family in [("Maria", "Rusu"), ("Mario", "Shevchuk"), ("Марина", "Шевчук"),
                          ("Marian", "Sevcenco"), ("Olena", "Shevchenko"),
                          ("Мария", "Ковальчук"), ("Ştefan", "Ţurcanu")]:
        register(caseworker, given, family)


@pytest.fixture
def maria(caseworker, crowd):
    return register(caseworker, "Марія", "Шевченко", aliases=["Маша"])


def top5(user, query: PersonQuery) -> list[int]:
    return [match.person.pk for match in search_persons(user, query, limit=5)]


@pytest.mark.parametrize("query", [
    PersonQuery("Mariia Shevchenko"),                                   # Ukrainian passport
    PersonQuery("Mariya Shevchenko", birth_year=1990),                  # older spelling
    PersonQuery("Mariya"), PersonQuery("Марія"),                        # given name alone
    PersonQuery("Shevchenko Mariia", birth_date=date(1990, 5, 12)),     # any order
    PersonQuery("Schewtschenko", birth_date=date(1990, 5, 12)),         # German rendering
    PersonQuery("Ševčenko Marija", birth_year=1990, birth_month=5),     # scientific, month
    PersonQuery("Shevchneko Mariia", birth_date=date(1990, 5, 12)),     # one typo
    PersonQuery("Mariia Shevchenko", birth_date=date(1990, 12, 5)),     # day and month swapped
    PersonQuery("Mariia Shevchenko", age_from=30, age_to=40),           # an age range
    PersonQuery("Masha"),                                               # another name
], ids=lambda query: f"{query.name} {query.birth_date or query.birth_year or ''}")
def test_it_finds_the_person_in_any_spelling_in_the_top_five(caseworker, maria, query):
    assert maria.person_id in top5(caseworker, query)


def test_the_best_match_comes_first_and_says_why(caseworker, maria):
    [first, *_others] = search_persons(caseworker, PersonQuery(
        "Mariia Shevchenko", birth_date=date(1990, 12, 5)))
    assert first.person.pk == maria.person_id
    assert first.explanation == ("given name (transliteration), family name "
                                 "(transliteration), birth date with day and month swapped")
    assert first.cases == [maria] and first.identity_shown
    assert first.person.given_name == "Марія"


def test_exact_spelling_ranks_above_a_transliteration(caseworker):
    latin = register(caseworker, "Mariia", "Shevchenko")
    cyrillic = register(caseworker, "Марія", "Шевченко")
    found = [m.person.pk for m in search_persons(caseworker, PersonQuery("Марія Шевченко"))]
    assert found[:2] == [cyrillic.person_id, latin.person_id]
    [match] = [m for m in search_persons(caseworker, PersonQuery("Марія Шевченко"))
               if m.person.pk == latin.person_id]
    assert match.explanation == "given name (transliteration), family name (transliteration)"


def test_diacritics_do_not_matter(caseworker, crowd):
    [first, *_others] = search_persons(caseworker, PersonQuery("Stefan Turcanu"))
    assert (first.person.given_name, first.explanation) == (
        "Ştefan", "given name (exact), family name (exact)")


def test_a_person_with_only_an_estimated_birth_year_is_found(caseworker, crowd):
    case = register(caseworker, "Олена", "Мельник", birth_date=None, birth_year=1994)
    found = search_persons(caseworker, PersonQuery("Olena Melnyk",
                                                   birth_date=date(1994, 3, 8)))
    assert found[0].person.pk == case.person_id
    assert found[0].explanation.endswith("birth year")


def test_a_birth_year_far_off_counts_against(caseworker):
    near = register(caseworker, "Ana", "Rusu", birth_date=date(1990, 1, 1))
    far = register(caseworker, "Ana", "Rusu", birth_date=date(1970, 1, 1))
    found = search_persons(caseworker, PersonQuery("Ana Rusu", birth_year=1991))
    assert [m.person.pk for m in found] == [near.person_id, far.person_id]
    assert found[0].explanation.endswith("birth year ±1")
    assert found[0].score > found[1].score


def test_an_age_range_leaves_out_other_ages(caseworker):
    young = register(caseworker, "Ana", "Rusu", birth_date=date(2008, 1, 1))
    register(caseworker, "Ana", "Rusu", birth_date=date(1960, 1, 1))
    found = search_persons(caseworker, PersonQuery("Ana", age_from=14, age_to=20))
    assert [m.person.pk for m in found] == [young.person_id]


def test_the_birth_date_alone_finds_no_one(caseworker, maria):
    assert search_persons(caseworker, PersonQuery("Zzyzx", birth_date=date(1990, 5, 12))) == []


def test_a_person_of_another_agency_is_not_shown(caseworker, police_officer, maria):
    assert search_persons(police_officer, PersonQuery("Mariia Shevchenko")) == []
    assert not AuditEntry.objects.filter(action="search").exists()


def test_roles_without_cases_find_nothing(analyst, auditor, administrator, maria):
    for user in (analyst, auditor, administrator):
        assert search_persons(user, PersonQuery("Mariia Shevchenko")) == []


def test_each_case_shown_is_recorded_as_a_search(caseworker, maria):
    search_persons(caseworker, PersonQuery("Mariia Shevchenko"), channel="web")
    entry = AuditEntry.objects.get(action="search", object_ref=maria.case_number)
    assert entry.channel == "web" and entry.reason == "person search"
    assert set(entry.fields) == {"given_name", "family_name", "aliases", "birth_date"}


def test_another_agencys_case_opened_by_a_grant_is_offered_without_identity(
        caseworker, police_officer, maria, monkeypatch):
    monkeypatch.setattr(access, "_same_person_candidates_grants",
                        [lambda user: access.Case.objects.filter(pk=maria.pk).values("pk")])
    [match] = search_persons(police_officer, PersonQuery("Mariia Shevchenko"))
    assert match.cases == [] and match.linkable_cases == [maria]
    assert not match.identity_shown
    assert {"given_name", "family_name", "birth_date"} <= match.person.get_deferred_fields()


def test_the_index_follows_changes_of_the_name(caseworker, maria):
    services.update_case(caseworker, maria, {"family_name": "Коваленко"})
    assert maria.person_id not in top5(caseworker, PersonQuery("Shevchenko"))
    assert maria.person_id in top5(caseworker, PersonQuery("Kovalenko Mariia"))


def test_erasing_the_identity_empties_the_index(caseworker, maria):
    services.erase_identity(maria, "consent withdrawn")
    assert not NameToken.objects.filter(person_id=maria.person_id).exists()


def test_reindexing_rebuilds_the_index(caseworker, maria):
    NameToken.objects.all().delete()
    assert top5(caseworker, PersonQuery("Mariia Shevchenko")) == []
    assert person_search.reindex_persons(batch_size=3) == 8
    assert maria.person_id in top5(caseworker, PersonQuery("Mariia Shevchenko"))


def test_the_reindex_command_is_recorded(caseworker, maria):
    output = StringIO()
    call_command("reindex_persons", "--batch-size", "5", stdout=output)
    assert "8 persons indexed." in output.getvalue()
    entry = AuditEntry.objects.get(object_type="person_index")
    assert (entry.action, entry.channel, entry.reason) == ("update", "cli",
                                                           "8 persons reindexed")
    assert entry.actor_username.startswith("cli:")


def _clear_forms(*names: str) -> set[str]:
    forms = set()
    for word in normalise.name_words(*names):
        forms |= {word, normalise.written_form(word), *normalise.spellings(word)}
        forms |= {normalise.sound_key(spelling) for spelling in normalise.spellings(word)}
    return forms | {"1990-05-12", "1990-12-05", "1990-05"}


def test_no_name_or_date_is_stored_in_clear(caseworker, maria):
    forms = _clear_forms("Марія", "Шевченко", "Маша")
    stored = set(NameToken.objects.filter(person_id=maria.person_id)
                 .values_list("digest", flat=True))
    unkeyed = {int.from_bytes(hashlib.sha256(f.encode()).digest()[:8], "big", signed=True)
               for f in forms}
    assert stored and not stored & unkeyed
    assert not stored & {int.from_bytes(f.encode()[:8].ljust(8, b"\0"), "big", signed=True)
                         for f in forms}
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM cases_nametoken")
        dump = repr(cursor.fetchall()) + repr([column[0] for column in cursor.description])
    assert not [form for form in forms if len(form) > 2 and form in dump]
    assert {field.name for field in NameToken._meta.get_fields()} == {
        "id", "person", "kind", "digest"}


def test_the_digests_are_keyed(caseworker, maria, monkeypatch):
    before = set(NameToken.objects.values_list("digest", flat=True))
    monkeypatch.setattr(get_keyring(), "index_key", b"\x01" * 32)
    person_search.index_persons([maria.person])
    after = set(NameToken.objects.filter(person_id=maria.person_id)
                .values_list("digest", flat=True))
    assert after and not after & before


def test_the_query_is_checked_with_every_message_at_once():
    with pytest.raises(ValidationError) as error:
        person_search.clean_query({"name": "  ", "birth_date": date(1990, 1, 1),
                                   "birth_year": "1880", "birth_month": 13, "age_from": 40,
                                   "age_to": 30})
    assert set(error.value.message_dict) == {"name", "birth_year", "birth_month", "age_to",
                                             "birth_date"}
    query = person_search.clean_query({"name": "Mariia", "birth_year": "1990",
                                       "birth_month": "5"})
    assert (query.birth_year, query.birth_month) == (1990, 5)


def test_registration_of_many_indexes_every_person(caseworker):
    cases = services.register_cases(caseworker, [
        services.Registration(person_data(given_name=f"Ana{n}", family_name="Rusu"))
        for n in ("a", "b", "c")])
    assert NameToken.objects.filter(person__in=[c.person_id for c in cases]).values(
        "person").distinct().count() == 3


def test_a_search_reads_no_encrypted_field_of_the_persons_left_out(
        caseworker, maria, django_assert_max_num_queries):
    other = make_user("caseworker", make_agency("other-ngo"), "other")
    register(other, "Марія", "Шевченко")
    # index lookup, the user's own cases, the cases other agencies referred to it (shown
    # without identity), the persons shown, and the audit append
    with django_assert_max_num_queries(9):
        found = search_persons(caseworker, PersonQuery("Mariia Shevchenko"))
    assert [m.person.pk for m in found][:1] == [maria.person_id]
