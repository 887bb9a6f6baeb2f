from datetime import date

from opennrm.cases import services as case_services
from opennrm.services.matching import eligibility_notes, matching_services
from tests.factories import make_provider, make_service, person_data

TODAY = date(2026, 11, 23)


def register(caseworker, **overrides):
    return case_services.register_case(caseworker, person_data(**overrides))


def names(services):
    return [service.name for service in services]


def test_it_matches_by_gender(caseworker):
    make_service(name="Women's shelter", genders=["female"])
    make_service(name="Men's shelter", genders=["male"])
    make_service(name="Family shelter", genders=[])
    case = register(caseworker, gender="male")

    assert names(matching_services(case, "shelter", TODAY)) == ["Family shelter",
                                                                "Men's shelter"]


def test_it_matches_by_age(caseworker):
    make_service(name="Children's centre", max_age=17)
    make_service(name="Adult shelter", min_age=18)
    adult = register(caseworker, birth_date=date(1998, 4, 12))
    child = register(caseworker, birth_date=date(2011, 1, 5))

    assert names(matching_services(adult, "shelter", TODAY)) == ["Adult shelter"]
    assert names(matching_services(child, "shelter", TODAY)) == ["Children's centre"]


def test_it_counts_the_birthday_to_the_day(caseworker):
    make_service(name="Adult shelter", min_age=18)
    case = register(caseworker, birth_date=date(2008, 11, 24))

    assert matching_services(case, "shelter", date(2026, 11, 23)) == []
    assert names(matching_services(case, "shelter", date(2026, 11, 24))) == ["Adult shelter"]


def test_it_treats_a_person_of_uncertain_age_as_a_child(caseworker):
    make_service(name="Children's centre", max_age=17)
    make_service(name="Adult shelter", min_age=18)
    case = register(caseworker, birth_date=None, age_uncertain=True)

    assert names(matching_services(case, "shelter", TODAY)) == ["Children's centre"]
    notes = eligibility_notes(matching_services(case, "shelter", TODAY)[0], case, TODAY)
    assert "The person's age is uncertain: they are presumed to be a child." in notes


def test_it_uses_the_birth_year_when_there_is_no_birth_date(caseworker):
    make_service(name="Children's centre", max_age=17)
    make_service(name="Adult shelter", min_age=18)
    case = register(caseworker, birth_date=None, birth_year=1990)

    assert names(matching_services(case, "shelter", TODAY)) == ["Adult shelter"]


def test_it_shows_every_age_when_the_age_is_unknown(caseworker):
    make_service(name="Children's centre", max_age=17)
    make_service(name="Adult shelter", min_age=18)
    case = register(caseworker, birth_date=None)

    assert names(matching_services(case, "shelter", TODAY)) == ["Adult shelter",
                                                                "Children's centre"]


def test_it_leaves_out_inactive_services_and_providers(caseworker):
    make_service(name="Open")
    make_service(name="Closed service", is_active=False)
    make_service(make_provider(name="Closed provider", is_active=False), name="Of closed")
    make_service(name="Legal aid", service_type="legal_aid")
    case = register(caseworker)

    assert names(matching_services(case, "shelter", TODAY)) == ["Open"]


def test_it_puts_free_places_and_the_persons_languages_first(caseworker):
    make_service(name="A full, speaks Romanian", languages=["ro"], capacity=5,
                 places_available=0)
    make_service(name="B free, English only", languages=["en"], capacity=5,
                 places_available=2)
    make_service(name="C free, speaks Russian", languages=["ru"], capacity=5,
                 places_available=1)
    make_service(name="D not reported, speaks Romanian", languages=["ro"], capacity=5)
    case = register(caseworker, languages=["ro", "ru"])

    assert names(matching_services(case, "shelter", TODAY)) == [
        "C free, speaks Russian", "B free, English only", "D not reported, speaks Romanian",
        "A full, speaks Romanian"]


def test_it_explains_what_does_not_fit(caseworker, service):
    case = register(caseworker, gender="male", languages=["uk"])
    service.places_available = 0
    service.save()

    assert eligibility_notes(service, case, TODAY) == [
        "Only for: Female.",
        "Speaks none of the person's languages: an interpreter may be needed.",
        "No free places at the last update.",
    ]
