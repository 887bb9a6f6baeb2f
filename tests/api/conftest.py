import pytest
from django.test import Client

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
