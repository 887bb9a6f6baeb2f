from datetime import date

from opennrm.accounts.models import Role
from opennrm.cases import services
from opennrm.cases.models import CaseStatus
from tests.factories import make_user, person_data
from tests.helpers import assert_problem

IDENTITY_FIELDS = {"given_name", "family_name", "aliases", "birth_date", "identity_documents",
                   "phone", "address", "notes", "identity"}


def register(caseworker, count: int) -> list:
    return services.register_cases(caseworker, [
        services.Registration(person_data(given_name=f"Person {n}")) for n in range(count)
    ])


def test_it_works(api, caseworker, case):
    response = api.get("/api/cases")
    assert response.status_code == 200
    page = response.json()
    assert page["count"] == 1 and page["page"] == 1 and page["page_size"] == 50
    [item] = page["items"]
    assert item["case_number"] == case.case_number
    assert item["owner_agency"] == "la-strada"
    assert item["gender"] == "female"
    assert item["age_band"] == "27-29"
    assert item["exploitation_forms"] == ["forced_labour"]


def test_it_shows_no_identity(api, case):
    item = api.get("/api/cases").json()["items"][0]
    assert not IDENTITY_FIELDS & set(item)
    assert "Elena" not in str(item) and "Popescu" not in str(item)


def test_it_validates_ownership(case, officer_api, roles_without_cases):
    for client in [officer_api, *roles_without_cases]:
        page = client.get("/api/cases").json()
        assert page == {"items": [], "count": 0, "page": 1, "page_size": 50}


def test_it_pages(api, caseworker):
    register(caseworker, 5)
    first = api.get("/api/cases", {"page_size": 2}).json()
    second = api.get("/api/cases", {"page_size": 2, "page": 2}).json()
    last = api.get("/api/cases", {"page_size": 2, "page": 3}).json()
    beyond = api.get("/api/cases", {"page_size": 2, "page": 10**30}).json()
    assert first["count"] == 5
    assert [len(p["items"]) for p in (first, second, last, beyond)] == [2, 2, 1, 0]
    numbers = [item["case_number"] for p in (first, second, last) for item in p["items"]]
    assert len(set(numbers)) == 5


def test_it_limits_the_page_size(api):
    problem = assert_problem(api.get("/api/cases", {"page_size": 201}), 422)
    assert problem["errors"][0]["field"] == "page_size"


def test_it_filters_by_status_and_victim_status(api, caseworker):
    closed, identified, _ = register(caseworker, 3)
    services.close_case(caseworker, closed, "lost_contact")
    coordinator = make_user(Role.NATIONAL_COORDINATOR, caseworker.agency, "coordinator")
    services.decide_victim_status(coordinator, identified, "identified", date(2026, 4, 1))

    by_status = api.get("/api/cases", {"status": CaseStatus.CLOSED}).json()
    assert [i["case_number"] for i in by_status["items"]] == [closed.case_number]
    by_victim_status = api.get("/api/cases", {"victim_status": "identified"}).json()
    assert [i["case_number"] for i in by_victim_status["items"]] == [identified.case_number]
    assert_problem(api.get("/api/cases", {"status": "nonsense"}), 422)


def test_it_reads_a_page_without_a_query_per_case(api, caseworker,
                                                         django_assert_num_queries):
    register(caseworker, 30)
    api.get("/api/cases")  # records the token's last use, which the next call skips
    # The token with its user, the count, the page.
    with django_assert_num_queries(3):
        response = api.get("/api/cases", {"page_size": 30})
    assert len(response.json()["items"]) == 30
