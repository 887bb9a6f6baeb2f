"""The child presumption (CETS 197 Art. 10(3)): one rule, `cases.age.may_be_child`."""

from datetime import date
from types import SimpleNamespace

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from opennrm.cases import age, services
from opennrm.cases.forms import CaseForm
from opennrm.cases.models import Case
from tests.factories import person_data


def person(birth_date="", birth_year=None, age_uncertainty=""):
    return SimpleNamespace(birth_date=birth_date, birth_year=birth_year,
                           age_uncertainty=age_uncertainty)


CONTACT = date(2026, 1, 5)


def test_with_only_a_birth_year_the_youngest_possible_age_decides():
    someone = person(birth_year=2008)  # 17 or 18 on 2026-01-05
    assert age.age_bounds(someone, CONTACT) == (17, 18)
    assert age.may_be_child(someone, CONTACT) is True
    assert age.statistical_age(someone, CONTACT) == 17
    assert age.may_be_child(person(birth_year=2007), CONTACT) is False  # 18 or 19


def test_a_birth_date_gives_the_exact_age():
    assert age.age_bounds(person(birth_date="2008-01-06"), CONTACT) == (17, 17)
    assert age.may_be_child(person(birth_date="2008-01-06"), CONTACT) is True
    assert age.age_bounds(person(birth_date="2008-01-05"), CONTACT) == (18, 18)
    assert age.may_be_child(person(birth_date="2008-01-05"), CONTACT) is False


def test_the_uncertain_age_choices():
    assert age.may_be_child(person(age_uncertainty="possibly_child"), CONTACT) is True
    # Possibly a child wins over a birth year that says adult.
    assert age.may_be_child(person(birth_year=1990, age_uncertainty="possibly_child"),
                            CONTACT) is True
    assert age.may_be_child(person(age_uncertainty="adult"), CONTACT) is False
    # "Adult, exact age unknown" settles a birth year that allows 17 or 18: 18.
    adult = person(birth_year=2008, age_uncertainty="adult")
    assert age.may_be_child(adult, CONTACT) is False
    assert age.statistical_age(adult, CONTACT) == 18
    # Nothing recorded: age unknown, not presumed a child.
    assert age.may_be_child(person(), CONTACT) is False
    assert age.statistical_age(person(), CONTACT) is None


def test_a_case_is_asked_about_its_first_contact(caseworker):
    case = services.register_case(caseworker, person_data(
        birth_date=None, birth_year=2008, first_contact_on=date(2026, 1, 5)))
    assert case.is_child is True
    assert case.age_at_first_contact == 17
    assert case.age_band == "9-17"
    assert age.may_be_child(case) is True
    assert age.may_be_child(case, date(2027, 1, 5)) is False


@pytest.mark.parametrize(("choice", "child"), [("possibly_child", True), ("adult", False)])
def test_registration_takes_the_choice(caseworker, choice, child):
    case = services.register_case(caseworker, person_data(birth_date=None,
                                                          age_uncertainty=choice))
    assert case.person.age_uncertainty == choice
    assert case.is_child is child
    assert case.age_band == "" and case.age_at_first_contact is None


def test_adult_with_a_birth_that_makes_a_child_is_refused(caseworker):
    with pytest.raises(ValidationError) as error:
        services.register_case(caseworker, person_data(
            birth_date=date(2012, 1, 1), age_uncertainty="adult"))
    assert "age_uncertainty" in error.value.message_dict
    with pytest.raises(ValidationError):
        services.register_case(caseworker, person_data(age_uncertainty="perhaps"))


def test_the_former_yes_no_field_still_means_possibly_a_child(caseworker):
    case = services.register_case(caseworker, person_data(birth_date=None,
                                                          age_uncertain=True))
    assert case.person.age_uncertainty == "possibly_child"
    assert case.person.age_uncertain is True


def test_changing_the_choice_recomputes_the_flag(caseworker):
    case = services.register_case(caseworker, person_data(birth_date=None, birth_year=2008,
                                                          first_contact_on=date(2026, 1, 5)))
    assert case.is_child is True
    case = services.update_case(caseworker, case, {"age_uncertainty": "adult"})
    assert case.is_child is False and case.age_at_first_contact == 18


def test_the_form_offers_both_choices():
    codes = [code for code, _label in CaseForm().fields["age_uncertainty"].choices]
    assert codes == ["", "possibly_child", "adult"]


@pytest.mark.django_db(transaction=True)
def test_the_migration_maps_the_former_choice_to_possibly_a_child():
    executor = MigrationExecutor(connection)
    before = [("cases", "0005_case_list_child_index")]
    after = [("cases", "0008_remove_person_age_uncertain")]
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    Agency = old.get_model("accounts", "Agency")
    agency = Agency.objects.create(code="m-ngo", name="NGO", agency_type="ngo", country="MD")
    Person, OldCase = old.get_model("cases", "Person"), old.get_model("cases", "Case")
    uncertain = Person.objects.create(gender="female", age_uncertain=True)
    by_year = Person.objects.create(gender="male", birth_year=2008)
    for number, someone in (("MD-26-M1", uncertain), ("MD-26-M2", by_year)):
        # The flags as the former rule left them: the oldest age decided.
        OldCase.objects.create(case_number=number, person=someone, owner_agency=agency,
                               first_contact_on=date(2026, 1, 5),
                               age_band="" if someone is uncertain else "18-20",
                               is_child=someone is uncertain)
    executor = MigrationExecutor(connection)
    executor.migrate(after)
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    first, second = Case.objects.get(case_number="MD-26-M1"), Case.objects.get(
        case_number="MD-26-M2")
    assert first.person.age_uncertainty == "possibly_child" and first.is_child
    assert second.is_child and second.age_band == "9-17" and second.age_at_first_contact == 17


def test_possibly_a_child_with_an_adult_birth_year_has_no_age():
    # The recorded year is in doubt: the person counts as a child of unknown age, never as
    # a child aged 35 (statistics put them under "less than 18, exact age not known").
    doubted = person(birth_year=1990, age_uncertainty="possibly_child")
    assert age.statistical_age(doubted, CONTACT) is None
    assert age.statistical_age(person(birth_year=2010, age_uncertainty="possibly_child"),
                               CONTACT) == 15
