import pytest

from tests.helpers import ApiClient


@pytest.fixture
def api(caseworker):
    return ApiClient(caseworker)


@pytest.fixture
def officer_api(police_officer):
    return ApiClient(police_officer)


@pytest.fixture
def roles_without_cases(analyst, auditor, administrator):
    return [ApiClient(user) for user in (analyst, auditor, administrator)]
