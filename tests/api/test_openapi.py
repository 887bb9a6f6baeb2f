"""The OpenAPI document (tests/api/test_schema_fuzzing.py checks the API against it)."""

PROBLEM = "application/problem+json"


def test_it_serves_openapi_3_1(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    assert response.json()["openapi"].startswith("3.1")
    assert client.get("/api/docs").status_code == 200


def test_every_operation_is_documented(client):
    document = client.get("/api/openapi.json").json()
    operation_ids = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            operation_ids.append(operation["operationId"])
            assert operation["summary"] and operation["tags"], (method, path)
            assert "401" in operation["responses"], (method, path)
            for status, answer in operation["responses"].items():
                if int(status) >= 400:
                    assert list(answer["content"]) == [PROBLEM], (method, path, status)
    assert len(operation_ids) == len(set(operation_ids))
    # Every capability's routes are there (each app's own tests cover them one by one).
    assert {"listCases", "recordConsent", "recordScreening", "listServices",
            "referCase", "acceptReferral", "readCaseTimeline"} <= set(operation_ids)
    assert "Problem" in document["components"]["schemas"]
