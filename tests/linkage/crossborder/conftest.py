import pytest

from opennrm.accounts.models import Role
from tests.factories import make_user


@pytest.fixture
def national_coordinator(ngo):
    return make_user(Role.NATIONAL_COORDINATOR, ngo, "coordinator")


@pytest.fixture
def supervisor(ngo):
    return make_user(Role.SUPERVISOR, ngo, "supervisor")
