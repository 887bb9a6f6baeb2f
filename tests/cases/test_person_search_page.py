"""/cases/find/: the person search page."""

from datetime import date

from opennrm.audit.models import AuditEntry
from opennrm.cases import services
from tests.factories import person_data
from tests.helpers import as_user, assert_no_inline_code

URL = "/cases/find/"


def register_tetiana(user):
    return services.register_case(user, person_data(
        given_name="Тетяна", family_name="Бондаренко", birth_date=date(1990, 5, 12)))


def test_it_shows_the_form(client, caseworker):
    response = as_user(client, caseworker).get(URL)
    content = response.content.decode()
    assert response.status_code == 200
    assert '<form method="post" action="/cases/find/"' in content
    assert 'name="name"' in content and 'name="birth_year"' in content
    assert_no_inline_code(response)


def test_it_works(client, caseworker):
    case = register_tetiana(caseworker)
    response = as_user(client, caseworker).post(URL, {"name": "Tetiana Bondarenko",
                                                      "birth_year": "1990"})
    content = response.content.decode()
    assert case.case_number in content and "Тетяна Бондаренко" in content
    assert "family name (transliteration)" in content and "birth year" in content
    assert AuditEntry.objects.filter(action="search", object_ref=case.case_number,
                                     channel="web").exists()
    assert_no_inline_code(response)


def test_it_validates_ownership(client, caseworker, police_officer):
    case = register_tetiana(caseworker)
    response = as_user(client, police_officer).post(URL, {"name": "Tetiana Bondarenko"})
    content = response.content.decode()
    assert case.case_number not in content and "Тетяна" not in content
    assert "No person you may see matches" in content


def test_roles_without_cases_are_refused(client, analyst):
    assert as_user(client, analyst).post(URL, {"name": "Tetiana"}).status_code == 403


def test_it_needs_a_sign_in(client):
    response = client.post(URL, {"name": "Tetiana"})
    assert response.status_code == 302 and "/login/" in response.url


def test_every_error_is_shown_at_once_next_to_its_field(client, caseworker):
    response = as_user(client, caseworker).post(URL, {
        "name": "", "birth_date": "1990-13-45", "birth_year": "18", "age_from": "40",
        "age_to": "30"})
    errors = response.context["form"].errors
    assert set(errors) == {"name", "birth_date", "birth_year", "age_to"}
    assert "Type at least one name" in response.content.decode()
    assert not AuditEntry.objects.filter(action="search").exists()


def test_names_stay_out_of_the_address(client, caseworker):
    register_tetiana(caseworker)
    response = as_user(client, caseworker).get(URL, {"name": "Tetiana"})
    assert "Тетяна" not in response.content.decode()
    assert response.context["matches"] is None


def test_the_case_list_offers_the_search(client, caseworker):
    content = as_user(client, caseworker).get("/cases/").content.decode()
    assert 'action="/cases/find/"' in content and 'id="find_name"' in content
