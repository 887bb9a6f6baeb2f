import logging

from opennrm.cases import services
from tests.helpers import assert_problem


def test_unknown_addresses_answer_with_a_problem(api):
    problem = assert_problem(api.get("/api/no/such/thing"), 404)
    assert problem["title"] == "Not Found"


def test_a_body_that_is_not_json_is_a_bad_request(api):
    response = api.client.post("/api/cases", "{not json", content_type="application/json",
                               headers=api.headers)
    assert_problem(response, 400)


def test_an_unexpected_error_does_not_leak_data(api, case, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("decryption failed for Elena Popescu, born 1998-04-12")

    monkeypatch.setattr(services, "read_case", broken)
    with caplog.at_level(logging.ERROR, logger="opennrm.api.problems"):
        response = api.get(f"/api/cases/{case.case_number}")
    problem = assert_problem(response, 500)
    assert "Popescu" not in response.content.decode()
    assert problem["errors"] == []
    assert "Unexpected error" in caplog.text


def test_text_that_is_not_unicode_is_a_bad_request(api):
    body = '{"given_name": "\\ud800", "gender": "female", "first_contact_on": "2026-03-02"}'
    response = api.client.post("/api/cases", body, content_type="application/json",
                               headers=api.headers)
    assert_problem(response, 400)
