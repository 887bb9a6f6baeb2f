import itertools
from datetime import date

import pytest

from opennrm.accounts.models import Agency, Role, User
from opennrm.cases import services

PASSWORD = "correct horse battery staple"
_counter = itertools.count(1)


def make_agency(code: str, agency_type: str = "ngo", country: str = "MD") -> Agency:
    return Agency.objects.create(code=code, name=code.replace("-", " ").title(),
                                 agency_type=agency_type, country=country)


def make_user(role: str, agency: Agency | None, username: str | None = None) -> User:
    username = username or f"{role}-{next(_counter)}"
    return User.objects.create_user(username=username, password=PASSWORD, role=role,
                                    agency=agency)


def person_data(**overrides) -> dict:
    data = {
        "given_name": "Elena",
        "family_name": "Popescu",
        "birth_date": date(1998, 4, 12),
        "gender": "female",
        "citizenships": ["MD"],
        "languages": ["ro", "ru"],
        "phone": "+37369123456",
        "address": "str. Ștefan cel Mare 1, Chișinău",
        "identity_documents": [{"document_type": "passport", "number": "AB1234567",
                                "country": "MD"}],
        "first_contact_on": date(2026, 3, 2),
        "exploitation_forms": ["forced_labour"],
        "labour_sector": "A",
        "exploitation_countries": ["RU"],
        "notes": "Met at the bus station; afraid of the employer.",
    }
    data.update(overrides)
    return data


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
