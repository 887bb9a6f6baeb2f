import pytest

from opennrm.accounts.models import Role
from opennrm.services.models import Provider, Service
from tests.conftest import make_agency, make_user


def make_provider(**overrides) -> Provider:
    values = {"name": "Casa Speranța", "organisation_type": "ngo", "country": "MD"}
    values.update(overrides)
    return Provider.objects.create(**values)


def make_service(provider: Provider | None = None, **overrides) -> Service:
    values = {"name": "Shelter", "service_type": "shelter", "country": "MD",
              "region": "Chișinău", "city": "Chișinău"}
    values.update(overrides)
    return Service.objects.create(provider=provider or make_provider(), **values)


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
