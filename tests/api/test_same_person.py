"""/api/cases/{case_number}/same-person: link cases of one person, list and remove links."""

import pytest

from opennrm.api.api import api as the_api
from opennrm.audit.models import AuditEntry
from opennrm.cases import services
from opennrm.cases.models import Person, SamePersonLink
from opennrm.cases.same_person import link_same_person
from tests.factories import person_data
from tests.helpers import assert_problem


def url(case) -> str:
    return f"/api/cases/{case.case_number}/same-person"


@pytest.fixture
def other(caseworker):
    return services.register_case(caseworker, person_data(given_name="Olena"))


def counted(case) -> int | None:
    return Person.objects.get(pk=case.person_id).statistical_person_id


def test_it_links_lists_and_removes(api, case, other, ngo):
    response = api.post(url(case), {"case_number": other.case_number,
                                    "reason": "Same passport"})
    assert response.status_code == 201
    link = response.json()
    assert (link["case_number"], link["owner_agency"], link["reason"], link["removed_at"]) == (
        other.case_number, ngo.code, "Same passport", None)
    assert link["recorded_by"] == "caseworker"
    assert counted(case) == counted(other) == case.person_id

    assert api.get(url(case)).json() == [link]
    back = api.get(url(other)).json()
    assert [(item["id"], item["case_number"]) for item in back] == [(link["id"],
                                                                     case.case_number)]

    response = api.post(f"{url(case)}/{link['id']}/remove", {"reason": "Twin sister"})
    assert response.status_code == 200
    assert response.json()["removed_at"] is not None
    assert response.json()["reason"] is None  # the answer to a removal decrypts nothing
    assert api.get(url(case)).json() == []
    assert counted(case) is None and counted(other) is None


def test_errors_name_the_fields_of_the_request(api, case, other):
    problem = assert_problem(api.post(url(case), {"case_number": "MD-26-NOTHERE0"}), 422)
    assert problem["errors"] == [{"field": "case_number",
                                  "message": "There is no case with this number that you "
                                             "may see."}]
    problem = assert_problem(api.post(url(case), {"case_number": case.case_number}), 422)
    assert problem["errors"][0]["field"] == "case_number"

    link = api.post(url(case), {"case_number": other.case_number}).json()
    problem = assert_problem(api.post(url(other), {"case_number": case.case_number}), 422)
    assert problem["errors"][0]["message"] == (
        "These two cases are already linked as the same person.")
    problem = assert_problem(api.post(f"{url(case)}/{link['id']}/remove", {"reason": ""}), 422)
    assert problem["errors"] == [{"field": "reason",
                                  "message": "Give the reason for removing the link."}]
    assert SamePersonLink.objects.get().is_active


def test_another_agencys_case_looks_like_one_that_does_not_exist(api, case, police_officer):
    police_case = services.register_case(police_officer, person_data())
    unseen = assert_problem(api.post(url(case), {"case_number": police_case.case_number}), 422)
    missing = assert_problem(api.post(url(case), {"case_number": "MD-26-NOTHERE0"}), 422)
    assert unseen["errors"] == missing["errors"] and unseen["detail"] == missing["detail"]
    assert not SamePersonLink.objects.exists()


def test_a_link_to_a_case_you_cannot_see_is_not_listed(api, caseworker, case, other,
                                                       police_officer):
    police_case = services.register_case(police_officer, person_data())
    hidden = SamePersonLink.objects.create(case=police_case, same_as_case=case,
                                           recorded_by=police_officer)
    link_same_person(caseworker, case, other.case_number)
    assert [item["case_number"] for item in api.get(url(case)).json()] == [other.case_number]
    assert_problem(api.post(f"{url(case)}/{hidden.pk}/remove", {"reason": "Not her"}), 404)
    hidden.refresh_from_db()
    assert hidden.is_active


def test_the_list_is_audited_with_the_reasons_it_shows(api, caseworker, case, other):
    link_same_person(caseworker, case, other.case_number, reason="Same passport")
    api.get(url(case))
    entry = AuditEntry.objects.get(action="read", object_ref=case.case_number)
    assert (entry.channel, entry.fields) == ("api", ["same_person_as", "same_person_as.reason"])
    updates = AuditEntry.objects.filter(action="update").values_list("object_ref", flat=True)
    assert sorted(updates) == sorted([case.case_number, other.case_number])


def test_it_validates_ownership(caseworker, case, other, officer_api, roles_without_cases):
    link = link_same_person(caseworker, case, other.case_number)
    for client in [officer_api, *roles_without_cases]:
        assert_problem(client.get(url(case)), 404)
        assert_problem(client.post(url(case), {"case_number": other.case_number}), 404)
        assert_problem(client.post(f"{url(case)}/{link.pk}/remove", {"reason": "Not her"}), 404)
    assert SamePersonLink.objects.count() == 1
    link.refresh_from_db()
    assert link.is_active
    assert counted(other) == case.person_id


# --- the three operations in the OpenAPI document -----------------------------------------------

def same_person_labels() -> list[str]:
    document = the_api.get_openapi_schema(path_prefix="/api/")
    return [f"{method.upper()} {path}" for path, operations in document["paths"].items()
            for method in operations if "/same-person" in path]


def test_the_three_operations_are_documented():
    assert len(same_person_labels()) == 3
