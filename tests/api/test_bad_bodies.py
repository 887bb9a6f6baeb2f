"""No 500 from input: bodies too large, cut short, wrongly typed or wrongly encoded.

Each kind of bad body is sent to every route of the OpenAPI document (a caseworker's API
token) and to every web route (a signed-in caseworker, POST). No answer may be a server
error; a body over the limit is 413 and one that is not UTF-8 is 400 everywhere.
"""

import json
import re
from collections import Counter

import pytest
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver

from opennrm.accounts.models import ApiToken, Role
from opennrm.api.api import api
from tests.factories import (
    make_agency,
    make_agency_service,
    make_case,
    make_consent,
    make_referral,
    make_service,
    make_user,
)
from tests.helpers import ApiClient, assert_problem

LIMIT = 64 * 1024  # small limits keep the oversized bodies small
SMALL_LIMITS = override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=LIMIT,
                                 OPENNRM_MAX_BODY_BYTES=4 * LIMIT)


# --- the defects as found ------------------------------------------------------------------

def test_a_json_body_over_the_limit_is_413_before_it_is_read(api, case):
    body = json.dumps({"given_name": "x" * (3 * 1024 * 1024)})
    for method, path in (("post", "/api/cases"), ("patch", f"/api/cases/{case.case_number}"),
                         ("post", "/api/cases/search")):
        response = getattr(api.client, method)(path, body, content_type="application/json",
                                               headers=api.headers)
        problem = assert_problem(response, 413)
        assert "bytes" in problem["detail"]


@SMALL_LIMITS
def test_a_body_without_content_length_is_cut_at_the_limit(api, case):
    """A chunked body declares no length: reading stops at the limit, with 413."""
    client = api.client
    body = json.dumps({"given_name": "x" * (2 * LIMIT)}).encode()
    response = client.generic("POST", "/api/cases", body, content_type="application/json",
                              headers=api.headers, CONTENT_LENGTH="")
    # Without a length, Django's WSGI request reads nothing: the body is empty, never
    # larger than the limit. The cap is what an ASGI server's stream meets.
    assert response.status_code in (400, 413, 422)


def test_a_malformed_content_length_is_400(api):
    response = api.client.generic("POST", "/api/cases", b"{}", content_type="application/json",
                                  headers=api.headers, CONTENT_LENGTH="lots")
    assert_problem(response, 400)


def test_multipart_without_a_boundary_is_400_for_a_directory_manager(db, ngo):
    manager = ApiClient(make_user(Role.ADMINISTRATOR, ngo))
    response = manager.client.post("/api/service-directory/hsds", b"--x\r\n",
                                   content_type="multipart/form-data", headers=manager.headers)
    assert_problem(response, 400)


def test_the_upload_is_not_parsed_before_the_permission_check(api, monkeypatch):
    """A caseworker may not import: 403, and the malformed body is never read."""
    from django.http import multipartparser

    def refuse(*args, **kwargs):
        raise AssertionError("the upload was parsed")

    monkeypatch.setattr(multipartparser.MultiPartParser, "__init__", refuse)
    response = api.client.post("/api/service-directory/hsds", b"--x\r\n",
                               content_type="multipart/form-data", headers=api.headers)
    assert_problem(response, 403)


def test_an_import_without_the_file_field_names_it(db, ngo):
    manager = ApiClient(make_user(Role.ADMINISTRATOR, ngo))
    response = manager.client.post("/api/service-directory/hsds", {"other": "x"},
                                   headers=manager.headers)
    problem = assert_problem(response, 422)
    assert problem["errors"][0]["field"] == "file"


@pytest.mark.parametrize("body", [
    '{"given_name": "Ana"}'.encode("utf-16"),
    '{"given_name": "Ana"}'.encode("utf-16-le"),
    '{"given_name": "Ana"}'.encode("utf-32"),
    b'\xef\xbb\xbf{"given_name": "Ana"}',
    b'{"given_name": "\xff\xfe"}',
], ids=["utf-16", "utf-16-le", "utf-32", "utf-8 bom", "invalid utf-8"])
def test_json_that_is_not_utf_8_is_400(api, case, body):
    response = api.client.patch(f"/api/cases/{case.case_number}", body,
                                content_type="application/json", headers=api.headers)
    assert_problem(response, 400)


def test_a_web_form_over_the_limit_is_413(client, caseworker, case):
    client.force_login(caseworker)
    response = client.post(f"/cases/{case.case_number}/edit/",
                           {"given_name": "x" * (3 * 1024 * 1024)})
    assert response.status_code == 413


# --- every route, every kind of bad body ---------------------------------------------------

def _nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def _wrong_type(schema: dict) -> object:
    """A value of another JSON type than `schema` asks for."""
    kind = schema.get("type")
    if "anyOf" in schema:
        kinds = {option.get("type") for option in schema["anyOf"]}
        kind = next((k for k in ("string", "integer", "boolean", "array", "object")
                     if k in kinds), None)
    return {"string": 1764979200, "integer": "12", "number": False, "boolean": "yes",
            "array": {"a": 1}, "object": ["a"]}.get(kind, [[]])


def _resolve(document: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _wrongly_typed_body(document: dict, operation: dict) -> bytes:
    content = operation.get("requestBody", {}).get("content", {}).get("application/json")
    schema = _resolve(document, content["schema"]) if content else {}
    properties = schema.get("properties", {"x": {"type": "string"}})
    return json.dumps({name: _wrong_type(_resolve(document, field))
                       for name, field in properties.items()}).encode()


def _strings_for_everything(document: dict, operation: dict) -> bytes:
    content = operation.get("requestBody", {}).get("content", {}).get("application/json")
    schema = _resolve(document, content["schema"]) if content else {}
    return json.dumps({name: "1" for name in schema.get("properties", {"x": 1})}).encode()


# kind → (content type, body or a function of (document, operation), status required or None)
API_KINDS = {
    "oversized": ("application/json", b'{"x": "' + b"x" * (LIMIT + 10) + b'"}', 413),
    "truncated": ("application/json", b'{"given_name": "Ele', 400),
    "list for object": ("application/json", b'[{"given_name": "Elena"}]', None),
    "null": ("application/json", b"null", None),
    "empty": ("application/json", b"", None),
    "wrongly typed": ("application/json", _wrongly_typed_body, None),
    "strings for all": ("application/json", _strings_for_everything, None),
    "deeply nested": ("application/json", _nested(100_000), None),
    "invalid utf-8": ("application/json", b'{"given_name": "\xc3\x28\xff"}', 400),
    "utf-16": ("application/json", '{"given_name": "Ana"}'.encode("utf-16"), 400),
    "lone surrogate": ("application/json", b'{"given_name": "\\ud800"}', None),
    "multipart, no boundary": ("multipart/form-data", b"--x\r\n", None),
    "multipart, cut short": ("multipart/form-data; boundary=x",
                             b'--x\r\nContent-Disposition: form-data; name="file"; '
                             b'filename="a.zip"\r\n\r\nPK', None),
    "form, invalid utf-8": ("application/x-www-form-urlencoded", b"given_name=%FF%FE", None),
}


@pytest.fixture
def world(caseworker, ngo):
    case = make_case(caseworker)
    make_consent(caseworker, case)
    shelter = make_agency("casa-luminii", "ngo")
    referral = make_referral(caseworker, case, make_agency_service(shelter))
    service = make_service()
    return {
        "case_number": case.case_number, "referral_id": referral.pk,
        "service_id": service.hsds_id, "provider_id": service.provider.hsds_id,
        "name": "countries", "set_id": "ilo-ec-adult-labour", "version": "2009.1",
    }


def _api_operations():
    document = api.get_openapi_schema(path_prefix="/api/")
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            yield document, path, method, operation


def _takes_json(operation: dict) -> bool:
    return "application/json" in operation.get("requestBody", {}).get("content", {})


def _fill(template: str, values: dict, pattern: str) -> str:
    return re.sub(pattern, lambda match: str(values.get(match.group(1), 1)), template)


@SMALL_LIMITS
def test_no_api_route_answers_a_bad_body_with_a_server_error(world, caseworker, capsys):
    _, secret = ApiToken.issue(caseworker, "bad bodies")
    client = Client()
    headers = {"Authorization": f"Bearer {secret}"}
    failures, sent, statuses = [], 0, Counter()
    for document, path, method, operation in _api_operations():
        url = _fill(path, world, r"\{(\w+)\}")
        for kind, (content_type, body, required) in API_KINDS.items():
            if callable(body):
                body = body(document, operation)
            response = client.generic(method.upper(), url, body, content_type=content_type,
                                      headers=headers)
            sent += 1
            statuses[response.status_code // 100 * 100] += 1
            # A route that reads no JSON body ignores it (the oversized one excepted: refused
            # unread); one that may not be used at all says 403 without reading it.
            if required and (required == 413 or _takes_json(operation)):
                wrong = response.status_code not in (required, 403)
            else:
                wrong = False
            if response.status_code >= 500 or wrong:
                failures.append(f"{method.upper()} {path} [{kind}]: {response.status_code}")
    with capsys.disabled():
        print(f"\nAPI: {sent} requests (routes × {len(API_KINDS)} kinds), by status class "
              f"{dict(sorted(statuses.items()))}")
    assert not failures, "\n".join(failures)


def _web_routes(patterns, prefix: str = ""):
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            if not route.startswith("api/"):
                yield from _web_routes(entry.url_patterns, route)
        elif isinstance(entry, URLPattern) and entry.name != "logout":
            yield route


def _web_values(world: dict) -> dict:
    return {**world, "pk": 1, "code": "la-strada", "user_id": 1, "token_id": 1,
            "table_set": "eurostat", "fmt": "csv", "release_id": 1, "action": "accept"}


WEB_KINDS = {
    "oversized": ("application/x-www-form-urlencoded",
                  b"given_name=" + b"x" * (LIMIT + 10), 413),
    "invalid utf-8": ("application/x-www-form-urlencoded", b"given_name=%FF%FE&notes=%C3%28",
                      400),
    "utf-16": ("application/x-www-form-urlencoded", "given_name=Ana".encode("utf-16"), 400),
    "wrongly typed": ("application/x-www-form-urlencoded",
                      b"birth_date=0&birth_year=abc&first_contact_on=1764979200&"
                      b"places_available=false&given_on=2026-13-45&pk=-1&page=x", None),
    "json": ("application/json", b'{"given_name": "Elena"}', None),
    "multipart, no boundary": ("multipart/form-data", b"--x\r\n", None),
    "multipart, cut short": ("multipart/form-data; boundary=x",
                             b'--x\r\nContent-Disposition: form-data; name="file"; '
                             b'filename="a.zip"\r\n\r\nPK', None),
    "multipart, invalid utf-8": ("multipart/form-data; boundary=x",
                                 b'--x\r\nContent-Disposition: form-data; name="given_name"'
                                 b'\r\n\r\n\xff\xfe\r\n--x--\r\n', 400),
}


@SMALL_LIMITS
def test_no_web_form_answers_a_bad_body_with_a_server_error(world, caseworker, capsys):
    values = _web_values(world)
    client = Client()
    failures, sent, statuses, routes = [], 0, Counter(), 0
    for route in _web_routes(get_resolver().url_patterns):
        url = "/" + _fill(route, values, r"<(?:\w+:)?(\w+)>")
        routes += 1
        for kind, (content_type, body, required) in WEB_KINDS.items():
            client.force_login(caseworker)
            response = client.generic("POST", url, body, content_type=content_type)
            sent += 1
            statuses[response.status_code // 100 * 100] += 1
            if response.status_code >= 500 or (required and response.status_code != required):
                failures.append(f"POST /{route} [{kind}]: {response.status_code}")
    with capsys.disabled():
        print(f"\nWeb: {sent} requests ({routes} routes × {len(WEB_KINDS)} kinds), by status "
              f"class {dict(sorted(statuses.items()))}")
    assert not failures, "\n".join(failures)


def test_the_case_form_refuses_invalid_utf_8_and_stores_nothing(client, caseworker, case):
    client.force_login(caseworker)
    response = client.generic("POST", f"/cases/{case.case_number}/edit/", b"given_name=Ana%FF",
                              content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert "UTF-8" in response.content.decode()
    case.person.refresh_from_db()
    assert case.person.given_name == "Elena"
