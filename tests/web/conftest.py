import pytest
from axes.utils import reset as reset_axes

from opennrm.accounts.models import Role
from tests.factories import make_user


@pytest.fixture(autouse=True)
def fresh_lockouts(db):
    reset_axes()
    yield
    reset_axes()


@pytest.fixture
def supervisor(ngo):
    return make_user(Role.SUPERVISOR, ngo, "supervisor")
