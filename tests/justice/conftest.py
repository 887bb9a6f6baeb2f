"""Fixtures of the criminal-justice tests: police and prosecution agencies, their staff,
and a criminal case of the Chișinău police (the `police` agency of tests/conftest.py)."""

from datetime import date

import pytest

from opennrm.accounts.models import Role
from opennrm.justice import services
from tests.factories import make_agency, make_user

OPENED_ON = date(2026, 3, 1)


@pytest.fixture
def other_police(db):
    return make_agency("police-balti", "law_enforcement")


@pytest.fixture
def other_officer(other_police):
    return make_user(Role.CASEWORKER, other_police, "other-officer")


@pytest.fixture
def prosecution(db):
    return make_agency("prosecutor-general", "prosecution")


@pytest.fixture
def prosecutor(prosecution):
    return make_user(Role.CASEWORKER, prosecution, "prosecutor")


@pytest.fixture
def criminal_case(police_officer):
    return services.open_criminal_case(police_officer, "2026-0417", "thb", OPENED_ON,
                                       "sexual_exploitation")


@pytest.fixture
def suspect(police_officer, criminal_case):
    return services.record_suspect(
        police_officer, criminal_case, "male", "recruiter", date(2026, 3, 4),
        given_name="Vasile", family_name="Cojocaru", birth_date=date(1980, 6, 1),
        citizenships=["MD"])
