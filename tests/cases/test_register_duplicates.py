"""Registering a case: "this person may already be known" shows the candidates the user may
see; reusing the person is one click; another agency's case opened to the user is linked as
the same person."""

from datetime import date

import pytest

from opennrm.audit.models import AuditEntry
from opennrm.cases import access, services
from opennrm.cases.models import Case, Person, SamePersonLink
from tests.factories import person_data
from tests.helpers import as_user, assert_no_inline_code

URL = "/cases/new/"


def form_data(**overrides) -> dict:
    data = {"given_name": "Mariia", "family_name": "Shevchenko", "birth_date": "1990-05-12",
            "gender": "female", "first_contact_on": "2026-03-02",
            "exploitation_forms": ["forced_labour"]}
    data.update(overrides)
    return data


@pytest.fixture
def known(caseworker):
    return services.register_case(caseworker, person_data(
        given_name="Марія", family_name="Шевченко", birth_date=date(1990, 5, 12)))


def test_it_warns_that_the_person_may_already_be_known(client, caseworker, known):
    response = as_user(client, caseworker).post(URL, form_data())
    content = response.content.decode()
    assert response.status_code == 200 and Case.objects.count() == 1
    assert "This person may already be known" in content
    assert known.case_number in content and "Марія Шевченко" in content
    assert f'name="person_of_case" value="{known.case_number}"' in content
    assert 'value="Mariia"' in content  # what was typed is kept
    assert AuditEntry.objects.filter(action="search", object_ref=known.case_number,
                                     reason="possible duplicate at registration").exists()
    assert_no_inline_code(response)


def test_reusing_the_person_is_one_click(client, caseworker, known):
    response = as_user(client, caseworker).post(URL, form_data(
        person_of_case=known.case_number, given_name="Typed differently"))
    new = Case.objects.exclude(pk=known.pk).get()
    assert response.status_code == 302 and response.url == f"/cases/{new.case_number}/"
    assert new.person_id == known.person_id and Person.objects.count() == 1
    assert new.person.given_name == "Марія"  # the identity stays as recorded
    assert new.exploitation_forms == ["forced_labour"]
    entry = AuditEntry.objects.get(action="create", object_ref=new.case_number)
    assert entry.reason == f"person of {known.case_number}"


def test_none_of_them_registers_a_new_person(client, caseworker, known):
    response = as_user(client, caseworker).post(URL, form_data(new_person="1"))
    assert response.status_code == 302
    assert Person.objects.count() == 2


def test_no_warning_without_a_candidate(client, caseworker, known):
    response = as_user(client, caseworker).post(URL, form_data(
        given_name="Ion", family_name="Rusu", birth_date="1975-01-02"))
    assert response.status_code == 302 and Person.objects.count() == 2


def test_it_validates_ownership(client, police_officer, known):
    # Another agency's person is neither shown nor reusable.
    response = as_user(client, police_officer).post(URL, form_data())
    assert response.status_code == 302 and Person.objects.count() == 2
    response = client.post(URL, form_data(person_of_case=known.case_number))
    assert response.status_code == 200
    assert "There is no case with this number that you may see" in response.content.decode()
    assert Case.objects.count() == 2


def test_errors_come_before_the_warning(client, caseworker, known):
    response = as_user(client, caseworker).post(URL, form_data(gender=""))
    assert "gender" in response.context["form"].errors
    assert not response.context["duplicates"]


def test_another_agencys_case_opened_by_a_grant_is_linked_as_the_same_person(
        client, caseworker, police_officer, known, monkeypatch):
    monkeypatch.setattr(access, "_same_person_candidates_grants",
                        [lambda user: Case.objects.filter(pk=known.pk).values("pk")])
    monkeypatch.setattr(access, "_same_person_link_grants",
                        [lambda user, number: known if number == known.case_number else None])
    content = as_user(client, police_officer).post(URL, form_data()).content.decode()
    assert f'name="same_person_as" value="{known.case_number}"' in content
    assert "Марія" not in content  # another agency's identity is not shown
    response = client.post(URL, form_data(same_person_as=known.case_number))
    assert response.status_code == 302
    new = Case.objects.get(owner_agency=police_officer.agency)
    link = SamePersonLink.objects.get()
    assert (link.case, link.same_as_case) == (new, known)
    assert new.person_id != known.person_id
