from datetime import date

import pytest

from opennrm.audit.models import AuditEntry
from opennrm.cases import services
from opennrm.cases.models import Case
from tests.factories import person_data
from tests.helpers import as_user, assert_no_inline_code

LIST = "/cases/"


def test_it_requires_login(client, case):
    response = client.get(LIST)
    assert response.status_code == 302 and response.url.startswith("/login/")


def test_it_works(client, caseworker, case):
    response = as_user(client, caseworker).get(LIST)
    assert response.status_code == 200
    assert case.case_number in response.content.decode()
    assert b"Forced labour" in response.content
    assert_no_inline_code(response)


def test_it_shows_no_names(client, caseworker, case):
    content = as_user(client, caseworker).get(LIST).content.decode()
    assert "Elena" not in content and "Popescu" not in content and "1998-04-12" not in content


def test_it_validates_ownership(client, police_officer, case):
    response = as_user(client, police_officer).get(LIST)
    assert case.case_number not in response.content.decode()
    response = client.get(LIST, {"q": case.case_number})
    assert f"/cases/{case.case_number}/" not in response.content.decode()
    assert list(response.context["page"].object_list) == []


@pytest.mark.parametrize("role", ["analyst", "auditor", "administrator"])
def test_roles_without_case_access_see_an_explanation_and_no_case(client, case, role,
                                                                   request):
    user = request.getfixturevalue(role)
    response = as_user(client, user).get(LIST)
    content = response.content.decode()
    assert response.status_code == 200
    assert "does not give access to individual cases" in content
    assert case.case_number not in content
    response = client.post(LIST, {"given_name": "Elena", "family_name": "Popescu",
                                 "birth_date": "1998-04-12"})
    assert case.case_number not in response.content.decode()
    assert not AuditEntry.objects.filter(action="search").exists()


def test_it_paginates_by_fifty(client, caseworker):
    services.register_cases(caseworker, [services.Registration(person_data())] * 51)
    response = as_user(client, caseworker).get(LIST)
    assert len(response.context["page"].object_list) == 50
    assert b"Page 1 of 2" in response.content
    assert len(client.get(LIST, {"page": 2}).context["page"].object_list) == 1


def test_it_finds_a_case_by_number(client, caseworker, case):
    other = services.register_case(caseworker, person_data(given_name="Ana"))
    response = as_user(client, caseworker).get(LIST, {"q": case.case_number[-8:].lower()})
    content = response.content.decode()
    assert case.case_number in content and other.case_number not in content


def test_it_finds_a_case_by_exact_name_and_birth_date(client, caseworker, case):
    other = services.register_case(caseworker, person_data(given_name="Ana"))
    response = as_user(client, caseworker).post(LIST, {
        "given_name": "elena", "family_name": "POPESCU", "birth_date": "1998-04-12"})
    content = response.content.decode()
    assert case.case_number in content and other.case_number not in content
    assert AuditEntry.objects.filter(action="search", object_ref=case.case_number,
                                     channel="web").exists()


def test_name_search_needs_the_birth_date(client, caseworker, case):
    response = as_user(client, caseworker).post(LIST, {"given_name": "Elena",
                                                      "family_name": "Popescu"})
    assert response.context["name_form"].errors["birth_date"]
    assert case.case_number not in response.content.decode()


def test_name_search_keeps_names_out_of_the_url(client, caseworker):
    content = as_user(client, caseworker).get(LIST).content.decode()
    assert '<form method="post" action="/cases/" class="search"' in content


def test_name_search_does_not_cross_agencies(client, police_officer, case):
    response = as_user(client, police_officer).post(LIST, {
        "given_name": "Elena", "family_name": "Popescu", "birth_date": "1998-04-12"})
    assert case.case_number not in response.content.decode()
    assert b"No case you may open" in response.content


def test_it_marks_children(client, caseworker):
    services.register_case(caseworker, person_data(birth_date=date(2012, 1, 1)))
    assert Case.objects.get().is_child
    assert b"child" in as_user(client, caseworker).get(LIST).content


def test_the_nav_offers_only_what_the_role_may_do(client, caseworker, auditor):
    content = as_user(client, caseworker).get(LIST).content.decode()
    assert 'href="/cases/new/"' in content and 'href="/audit/"' not in content
    content = as_user(client, auditor).get(LIST).content.decode()
    assert 'href="/cases/new/"' not in content and 'href="/audit/"' in content
