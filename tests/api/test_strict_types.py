"""Request bodies take each JSON type as itself: dates as text YYYY-MM-DD, numbers as
numbers, yes/no as booleans. Pydantic's default read 0 as 1970-01-01 and false as 0."""

import pytest

from tests.factories import make_agency_service
from tests.helpers import ApiClient, assert_problem


@pytest.mark.parametrize("field, value", [
    ("birth_date", 0),
    ("birth_date", 1764979200),
    ("first_contact_on", 1764979200),
    ("first_contact_on", "2026-03-02T00:00:00"),
    ("first_contact_on", "20260302"),
    ("birth_date", "1998-02-30"),
    ("birth_date", True),
])
def test_a_date_is_text_yyyy_mm_dd_only(api, case, field, value):
    problem = assert_problem(api.patch(f"/api/cases/{case.case_number}", {field: value}), 422)
    assert problem["errors"][0]["field"] == field
    if not isinstance(value, str):
        assert "YYYY-MM-DD" in problem["errors"][0]["message"]
    case.person.refresh_from_db()
    assert case.person.birth_date == "1998-04-12"


@pytest.mark.parametrize("field, value", [
    ("age_uncertain", "yes"), ("age_uncertain", 1), ("age_uncertain", "true"),
    ("birth_year", "1998"), ("birth_year", 1998.0), ("birth_year", True),
])
def test_booleans_are_booleans_and_numbers_numbers(api, case, field, value):
    problem = assert_problem(api.patch(f"/api/cases/{case.case_number}", {field: value}), 422)
    assert problem["errors"][0]["field"] == field


def test_the_right_types_are_accepted(api, case):
    response = api.patch(f"/api/cases/{case.case_number}",
                         {"birth_date": "1998-04-13", "age_uncertain": True})
    assert response.status_code == 200, response.content
    assert response.json()["identity"]["birth_date"] == "1998-04-13"


@pytest.mark.parametrize("value", [False, "3", 2.5])
def test_places_available_is_a_number(db, ngo, value):
    service = make_agency_service(ngo)
    staff = ApiClient(service.provider.agency.users.create(username="staff", role="caseworker"))
    problem = assert_problem(staff.post(f"/api/services/{service.hsds_id}/capacity",
                                        {"places_available": value}), 422)
    assert problem["errors"][0]["field"] == "places_available"
    assert staff.post(f"/api/services/{service.hsds_id}/capacity",
                      {"places_available": 3}).status_code == 200


def test_the_openapi_document_says_dates_are_text(api):
    document = api.get("/api/openapi.json").json()
    fields = document["components"]["schemas"]["CaseRegistration"]["properties"]
    assert fields["first_contact_on"] == {"format": "date", "title": "First Contact On",
                                          "type": "string"}
