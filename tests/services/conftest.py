import pytest

from opennrm.accounts.models import Role
from tests.factories import make_agency, make_provider, make_service, make_user


@pytest.fixture
def coordinator(db):
    return make_user(Role.NATIONAL_COORDINATOR, make_agency("national-coordination",
                                                            "central_government"),
                     "coordinator")


@pytest.fixture
def shelter_agency(db):
    return make_agency("casa-sperantei", "ngo")


@pytest.fixture
def shelter_staff(shelter_agency):
    return make_user(Role.CASEWORKER, shelter_agency, "shelter-staff")


@pytest.fixture
def provider(shelter_agency):
    return make_provider(agency=shelter_agency)


@pytest.fixture
def service(provider):
    return make_service(provider, genders=["female"], min_age=18, languages=["ro", "ru"],
                        capacity=12, places_available=3)
