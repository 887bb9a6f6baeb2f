import pytest
import schemathesis
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from opennrm.accounts.models import ApiToken


class ApiClient:
    """A Django test client that sends a personal API token and JSON bodies."""

    def __init__(self, user=None, secret: str | None = None):
        self.client = Client()
        self.headers = {}
        if user is not None:
            _, secret = ApiToken.issue(user, "tests")
        if secret is not None:
            self.headers["Authorization"] = f"Bearer {secret}"

    def get(self, path: str, params: dict | None = None):
        return self.client.get(path, params or {}, headers=self.headers)

    def post(self, path: str, body: dict | None = None):
        return self.client.post(path, body or {}, content_type="application/json",
                                headers=self.headers)

    def patch(self, path: str, body: dict):
        return self.client.patch(path, body, content_type="application/json",
                                 headers=self.headers)


@pytest.fixture
def api(caseworker):
    return ApiClient(caseworker)


@pytest.fixture
def officer_api(police_officer):
    return ApiClient(police_officer)


@pytest.fixture
def roles_without_cases(analyst, auditor, administrator):
    return [ApiClient(user) for user in (analyst, auditor, administrator)]


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == status
    assert set(problem) == {"type", "title", "status", "detail", "errors"}
    return problem


def as_json(value: dict) -> dict:
    """`value` with dates written the way JSON carries them."""
    return {key: item.isoformat() if hasattr(item, "isoformat") else item
            for key, item in value.items()}


# What every schemathesis run checks: no server error, and every answer as documented.
CHECKS = [
    schemathesis.checks.not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def check_against_schema(operation, headers: dict, max_examples: int) -> None:
    """Send `operation` valid and invalid requests generated from the OpenAPI document, and
    check every answer against it."""
    requests = st.one_of(operation.as_strategy(GenerationMode.POSITIVE),
                         operation.as_strategy(GenerationMode.NEGATIVE))

    @given(requests)
    @settings(max_examples=max_examples, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
    def keeps_to_schema(case):
        case.call_and_validate(headers=headers, checks=CHECKS)

    keeps_to_schema()
