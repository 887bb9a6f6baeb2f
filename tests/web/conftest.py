import re

import pytest
from axes.utils import reset as reset_axes

from opennrm.accounts.models import Role
from tests.conftest import make_user

# What a Content-Security-Policy without 'unsafe-inline' blocks.
INLINE_CODE = re.compile(
    r"<script(?![^>]*\bsrc=)[^>]*>|<style\b|\sstyle\s*=|\son[a-z]+\s*=|javascript:", re.I
)


@pytest.fixture(autouse=True)
def fresh_lockouts(db):
    reset_axes()
    yield
    reset_axes()


@pytest.fixture
def supervisor(ngo):
    return make_user(Role.SUPERVISOR, ngo, "supervisor")


def assert_no_inline_code(response) -> None:
    """The page carries no inline script, style or event handler that CSP would block."""
    found = INLINE_CODE.findall(response.content.decode())
    assert not found, f"inline code CSP would block: {found}"


def as_user(client, user):
    client.force_login(user)
    return client
