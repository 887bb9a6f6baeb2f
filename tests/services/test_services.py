import pytest
from django.core.exceptions import ValidationError

from opennrm.accounts.models import Role
from opennrm.audit.models import AuditEntry
from opennrm.services import access, queries, services
from opennrm.services.access import DirectoryAccessDenied
from opennrm.services.models import Provider, Service
from tests.factories import make_user

PROVIDER = {"name": "Centrul de Asistență Juridică", "organisation_type": "ngo",
            "country": "md", "email": "info@example.md", "phone": "+373 22 000000"}
SERVICE = {"name": "Legal counselling", "service_type": "legal_aid", "country": "MD",
           "region": "Chișinău", "languages": ["ro", "ru"], "contact_channel": "email",
           "min_age": 18, "capacity": 10}


def test_a_coordinator_adds_a_provider_and_a_service(coordinator):
    provider = services.create_provider(coordinator, PROVIDER)
    service = services.create_service(coordinator, provider, SERVICE)

    assert provider.country == "MD"
    assert service.provider == provider and service.languages == ["ro", "ru"]
    assert list(AuditEntry.objects.values_list("action", "object_type", "object_ref")) == [
        ("create", "provider", str(provider.hsds_id)),
        ("create", "service", str(service.hsds_id))]


def test_the_administrator_manages_the_directory(administrator):
    assert access.can_manage_directory(administrator)
    services.create_provider(administrator, PROVIDER)


@pytest.mark.parametrize("role", [Role.CASEWORKER, Role.SUPERVISOR, Role.ANALYST,
                                  Role.AUDITOR])
def test_other_roles_cannot_change_the_directory(ngo, role, provider, service):
    user = make_user(role, ngo)

    with pytest.raises(DirectoryAccessDenied):
        services.create_provider(user, PROVIDER)
    with pytest.raises(DirectoryAccessDenied):
        services.update_service(user, service, {"name": "Renamed"})
    with pytest.raises(DirectoryAccessDenied):
        services.deactivate_provider(user, provider)
    assert Provider.objects.count() == 1 and Service.objects.get().name == "Shelter"


def test_caseworkers_read_the_directory_but_analysts_do_not(caseworker, analyst, service):
    assert list(queries.directory(caseworker)) == [service]
    with pytest.raises(DirectoryAccessDenied):
        queries.directory(analyst)


def test_it_names_each_wrong_field(coordinator):
    with pytest.raises(ValidationError) as error:
        services.create_provider(coordinator, {"name": "", "organisation_type": "bank",
                                               "country": "XX", "email": "not-an-address",
                                               "website": "ftp://example.org"})
    assert set(error.value.message_dict) == {"name", "organisation_type", "country", "email",
                                             "website"}
    assert Provider.objects.count() == 0


def test_it_checks_ages_places_and_channel(coordinator, provider):
    external = services.create_provider(coordinator, PROVIDER)
    with pytest.raises(ValidationError) as error:
        services.create_service(coordinator, external, {
            **SERVICE, "min_age": 18, "max_age": 17, "capacity": 2, "places_available": 3,
            "contact_channel": "in_system", "genders": ["woman"], "languages": ["xx"]})
    assert set(error.value.message_dict) == {"genders", "languages"}
    with pytest.raises(ValidationError) as error:
        services.create_service(coordinator, external, {
            **SERVICE, "min_age": 18, "max_age": 17, "capacity": 2, "places_available": 3,
            "contact_channel": "in_system"})
    assert set(error.value.message_dict) == {"max_age", "places_available", "contact_channel"}
    assert Service.objects.count() == 0


def test_an_update_audits_only_what_changed(coordinator, service):
    services.update_service(coordinator, service, {"name": "Shelter", "max_age": 60,
                                                   "languages": ["ro", "ru"]})

    entry = AuditEntry.objects.get()
    assert (entry.action, entry.fields) == ("update", ["max_age"])
    service.refresh_from_db()
    assert service.max_age == 60


def test_deactivated_services_leave_the_directory(coordinator, caseworker, service):
    services.deactivate_service(coordinator, service)
    assert list(queries.directory(caseworker)) == []

    services.reactivate_service(coordinator, service)
    assert list(queries.directory(caseworker)) == [service]


def test_a_provider_keeps_its_agency_while_services_take_referrals_in_opennrm(
        coordinator, provider, service):
    with pytest.raises(ValidationError) as error:
        services.update_provider(coordinator, provider, {"agency": ""})
    assert "agency" in error.value.message_dict
    provider.refresh_from_db()
    assert provider.agency is not None


def test_provider_staff_update_their_places(shelter_staff, service):
    services.update_capacity(shelter_staff, service, 1)

    service.refresh_from_db()
    assert service.places_available == 1 and service.capacity_updated_at is not None
    assert AuditEntry.objects.get().fields == ["places_available"]


def test_it_validates_ownership_of_capacity(caseworker, service):
    """Staff of another agency may not report the shelter's places."""
    with pytest.raises(DirectoryAccessDenied):
        services.update_capacity(caseworker, service, 0)
    service.refresh_from_db()
    assert service.places_available == 3


def test_a_coordinator_updates_any_capacity(coordinator, service):
    services.update_capacity(coordinator, service, 0)
    service.refresh_from_db()
    assert service.places_available == 0


def test_places_cannot_exceed_capacity(shelter_staff, service):
    with pytest.raises(ValidationError) as error:
        services.update_capacity(shelter_staff, service, 13)
    assert "places_available" in error.value.message_dict
    with pytest.raises(ValidationError):
        services.update_capacity(shelter_staff, service, -1)
    service.refresh_from_db()
    assert service.places_available == 3 and not AuditEntry.objects.exists()


def test_the_directory_filters(caseworker, service):
    from tests.factories import make_service

    other = make_service(name="Clinic", service_type="medical", region="Cahul",
                         languages=["en"], capacity=5, places_available=0)

    def found(**where):
        return list(queries.directory(caseworker, queries.DirectoryFilter(**where)))

    assert found(service_type="medical") == [other]
    assert found(region="cahul") == [other]
    assert found(language="ro") == [service]
    assert found(gender="male") == [other]
    assert found(age=15) == [other]
    assert found(free_places=True) == [service]
    assert found(provider=str(service.provider.hsds_id)) == [service]
    assert found(provider="not-a-uuid") == []
    assert found(text="clin") == [other]
