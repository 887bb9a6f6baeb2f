from datetime import date

from opennrm.audit.models import AuditEntry
from opennrm.cases import services
from tests.factories import person_data
from tests.helpers import assert_problem

SEARCH = "/api/cases/search"


def test_it_finds_a_case_across_scripts_and_name_order(api, caseworker):
    case = services.register_case(caseworker, person_data(
        given_name="Иван", family_name="Иванов", birth_date=date(1990, 1, 5)))
    response = api.post(SEARCH, {"given_name": "Ivanov", "family_name": "Ivan",
                                 "birth_date": "1990-01-05"})
    assert response.status_code == 200
    [item] = response.json()
    assert item["case_number"] == case.case_number
    assert "given_name" not in item and "Иван" not in str(item)


def test_it_needs_the_exact_birth_date(api, caseworker, case):
    response = api.post(SEARCH, {"given_name": "Elena", "family_name": "Popescu",
                                 "birth_date": "1998-04-13"})
    assert response.json() == []


def test_it_is_recorded_in_the_audit_trail(api, case):
    api.post(SEARCH, {"given_name": "Elena", "family_name": "Popescu",
                      "birth_date": "1998-04-12"})
    entry = AuditEntry.objects.get(action="search")
    assert (entry.object_ref, entry.channel) == (case.case_number, "api")


def test_it_validates_ownership(case, officer_api, roles_without_cases):
    for client in [officer_api, *roles_without_cases]:
        response = client.post(SEARCH, {"given_name": "Elena", "family_name": "Popescu",
                                        "birth_date": "1998-04-12"})
        assert response.json() == []


def test_names_never_go_in_the_address(api, case):
    # Addresses end up in the logs of web servers and proxies; a GET would put them there.
    response = api.get(SEARCH, {"given_name": "Elena", "family_name": "Popescu",
                                "birth_date": "1998-04-12"})
    assert response.status_code == 405
    assert not AuditEntry.objects.filter(action="search").exists()


def test_it_needs_a_name_and_a_birth_date(api):
    problem = assert_problem(api.post(SEARCH, {"given_name": "Elena"}), 422)
    assert {e["field"] for e in problem["errors"]} == {"family_name", "birth_date"}


def test_search_runs_the_same_queries_for_one_match_or_many(
        client, caseworker, django_assert_max_num_queries):
    from datetime import date

    from opennrm.accounts.models import ApiToken
    from opennrm.cases import services
    from tests.factories import person_data

    _, secret = ApiToken.issue(caseworker, "t")
    for _ in range(3):
        services.register_case(caseworker, person_data(given_name="Maria", family_name="Rusu",
                                                       birth_date=date(2000, 1, 1)))
    params = {"given_name": "Maria", "family_name": "Rusu", "birth_date": "2000-01-01"}
    # token (+ its first-use stamp), lookup, audit head lock, insert, head update, and the
    # test transaction's savepoint pair: nothing per match
    with django_assert_max_num_queries(8):
        response = client.post("/api/cases/search", params, content_type="application/json",
                               HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == 200
    assert len(response.json()) == 3
    assert "Maria" not in response.content.decode()
