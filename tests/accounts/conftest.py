import pytest
from axes.utils import reset as reset_axes


@pytest.fixture(autouse=True)
def fresh_lockouts(db):
    reset_axes()
    yield
    reset_axes()
