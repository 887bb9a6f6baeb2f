"""Fixtures for the tests of the node's linkage job (imported by each test module, as the
browser tests import theirs): three agencies, their staff, and a register of distinct persons
so that the model's prior is that of a real register, not of four records."""

from datetime import date
from itertools import product

import pytest

from opennrm.accounts.models import Role
from tests.factories import make_agency, make_case, make_user

GIVEN = ("Ana", "Ion", "Maria", "Vasile", "Olga", "Petru")
FAMILY = ("Rusu", "Ceban", "Lungu", "Munteanu", "Moraru")
# Elena Popescu as a second agency registers her again: everything agrees.
CLEAR = {}
# As a registration with little known: no birth date, no citizenship, no phone, no papers.
GREY = {"birth_date": None, "citizenships": [], "phone": "", "identity_documents": []}


def register_person(user, **overrides):
    """A case of Elena Popescu (tests.factories.person_data) registered by `user`."""
    return make_case(user, **overrides)


def fill_register(*users) -> None:
    """Thirty persons who are all different, registered by `users` in turn."""
    for number, (given, family) in enumerate(product(GIVEN, FAMILY)):
        make_case(users[number % len(users)], given_name=given, family_name=family,
                  birth_date=date(1965 + number, 1 + number % 12, 1 + number % 28),
                  gender="female" if number % 2 else "male", phone="", identity_documents=[],
                  notes="")


@pytest.fixture
def coordination(db):
    return make_agency("coordination", "central_government")


@pytest.fixture
def coordinator(coordination):
    return make_user(Role.NATIONAL_COORDINATOR, coordination, "coordinator")


@pytest.fixture
def coordination_caseworker(coordination):
    return make_user(Role.CASEWORKER, coordination, "coordination-caseworker")


@pytest.fixture
def ngo_supervisor(ngo):
    return make_user(Role.SUPERVISOR, ngo, "ngo-supervisor")


@pytest.fixture
def police_supervisor(police):
    return make_user(Role.SUPERVISOR, police, "police-supervisor")


@pytest.fixture
def register(caseworker, police_officer):
    fill_register(caseworker, police_officer)
