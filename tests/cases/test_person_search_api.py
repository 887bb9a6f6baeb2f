"""POST /api/persons/search: the person search over the API."""

from datetime import date

import pytest

from opennrm.accounts.models import ApiToken
from opennrm.audit.models import AuditEntry
from opennrm.cases import services
from tests.factories import person_data
from tests.helpers import ApiClient, assert_problem

SEARCH = "/api/persons/search"


@pytest.fixture
def api(caseworker):
    return ApiClient(caseworker)


@pytest.fixture
def officer_api(police_officer):
    return ApiClient(police_officer)


@pytest.fixture
def roles_without_cases(analyst, auditor, administrator):
    return [ApiClient(user) for user in (analyst, auditor, administrator)]


def register_maria(user):
    return services.register_case(user, person_data(
        given_name="Марія", family_name="Шевченко", birth_date=date(1990, 5, 12)))


def test_it_works(api, caseworker):
    case = register_maria(caseworker)
    response = api.post(SEARCH, {"name": "Mariia Shevchenko", "birth_year": 1990})
    assert response.status_code == 200
    [found] = response.json()
    assert found["cases"] == [{"case_number": case.case_number, "status": "active",
                               "victim_status": "presumed", "owner_agency": "la-strada"}]
    assert found["identity"] == {"given_name": "Марія", "family_name": "Шевченко",
                                 "aliases": [], "birth_date": "1990-05-12",
                                 "birth_year": 1990}
    assert [(r["field"], r["match"]) for r in found["reasons"]] == [
        ("given_name", "transliteration"), ("family_name", "transliteration"),
        ("birth_date", "year")]
    assert found["explanation"] == ("given name (transliteration), family name "
                                    "(transliteration), birth year")
    assert found["linkable_cases"] == []


def test_it_is_recorded_in_the_audit_trail(api, caseworker):
    case = register_maria(caseworker)
    api.post(SEARCH, {"name": "Shevchenko"})
    entry = AuditEntry.objects.get(action="search")
    assert (entry.object_ref, entry.channel) == (case.case_number, "api")


def test_it_validates_ownership(caseworker, officer_api, roles_without_cases):
    register_maria(caseworker)
    for client in [officer_api, *roles_without_cases]:
        response = client.post(SEARCH, {"name": "Mariia Shevchenko"})
        assert response.status_code == 200 and response.json() == []
    assert not AuditEntry.objects.filter(action="search").exists()


def test_names_never_go_in_the_address(api, caseworker):
    register_maria(caseworker)
    assert api.get(SEARCH, {"name": "Mariia Shevchenko"}).status_code == 405


def test_it_gives_every_error_at_once(api):
    problem = assert_problem(api.post(SEARCH, {"name": "   ", "birth_date": "1990-01-01",
                                               "birth_year": 1990, "birth_month": 5}), 422)
    assert {e["field"] for e in problem["errors"]} == {"name", "birth_date"}


def test_it_refuses_unknown_fields_and_wrong_types(api):
    assert_problem(api.post(SEARCH, {"name": "Ana", "given_name": "Ana"}), 422)
    assert_problem(api.post(SEARCH, {"name": "Ana", "birth_year": "1990"}), 422)
    assert_problem(api.post(SEARCH, {"name": "Ana", "limit": 500}), 422)


def test_a_read_only_token_may_search(client, caseworker):
    register_maria(caseworker)
    _, secret = ApiToken.issue(caseworker, "reader", read_only=True)
    response = ApiClient(secret=secret).post(SEARCH, {"name": "Mariia"})
    assert response.status_code == 200 and len(response.json()) == 1


def test_it_is_in_the_openapi_document(api):
    document = api.get("/api/openapi.json").json()
    operation = document["paths"]["/api/persons/search"]["post"]
    assert operation["operationId"] == "searchPersons"
