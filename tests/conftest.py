"""Fixtures every test may ask for: two agencies, their users, and a case. The objects come
from tests/factories.py."""

import pytest
from django.utils import translation

from opennrm.accounts.models import Role
from opennrm.cases import services
from tests.factories import make_agency, make_user, person_data


@pytest.fixture(autouse=True)
def _language_of_the_next_test_is_its_own():
    """A request of the test client activates the language it asked for (the language
    switcher, a cookie) in the thread, and Django leaves it active after the response: the
    next test in the same worker would read Romanian where it expects English."""
    yield
    translation.deactivate()


@pytest.fixture
def ngo(db):
    return make_agency("la-strada", "ngo")


@pytest.fixture
def police(db):
    return make_agency("police-chisinau", "law_enforcement")


@pytest.fixture
def caseworker(ngo):
    return make_user(Role.CASEWORKER, ngo, "caseworker")


@pytest.fixture
def police_officer(police):
    return make_user(Role.CASEWORKER, police, "officer")


@pytest.fixture
def analyst(ngo):
    return make_user(Role.ANALYST, ngo, "analyst")


@pytest.fixture
def auditor(db):
    return make_user(Role.AUDITOR, None, "auditor")


@pytest.fixture
def administrator(ngo):
    return make_user(Role.ADMINISTRATOR, ngo, "admin")


@pytest.fixture
def case(caseworker):
    return services.register_case(caseworker, person_data())
