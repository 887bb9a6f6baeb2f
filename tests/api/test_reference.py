from tests.helpers import ApiClient, assert_problem


def test_it_lists_agencies_to_every_role(ngo, police, roles_without_cases):
    for client in roles_without_cases:
        agencies = client.get("/api/agencies").json()
        assert {a["code"] for a in agencies} == {"la-strada", "police-chisinau"}
        assert set(agencies[0]) == {"code", "name", "agency_type", "country", "is_active"}


def test_it_serves_code_lists(api):
    assert "countries" in api.get("/api/codelists").json()
    code_list = api.get("/api/codelists/consent_purposes").json()
    assert code_list["version"]
    entry = next(e for e in code_list["codes"] if e["code"] == "data_sharing")
    assert entry["label"] == "Share data with a named recipient" and entry["needs_recipient"]
    assert entry["labels"]["uk"] and entry["labels"]["ro"] and entry["labels"]["ru"]
    assert api.get("/api/codelists/countries").json()["codes"][0]["code"]


def test_it_handles_an_unknown_code_list(api):
    assert_problem(api.get("/api/codelists/nonsense"), 404)
    assert_problem(api.get("/api/codelists/..%2F..%2Fsettings"), 404)


def test_it_requires_authentication(ngo):
    assert_problem(ApiClient().get("/api/agencies"), 401)
    assert_problem(ApiClient().get("/api/codelists/genders"), 401)
