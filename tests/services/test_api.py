import io

from opennrm.audit.models import AuditEntry
from opennrm.services.models import Provider, Service
from tests.factories import make_service
from tests.helpers import ApiClient, assert_problem


def test_a_caseworker_finds_services(caseworker, service):
    make_service(name="Clinic", service_type="medical", languages=["en"])
    api = ApiClient(caseworker)

    page = api.get("/api/services", {"service_type": "shelter", "language": "ro"}).json()

    assert page["count"] == 1
    item = page["items"][0]
    assert (item["id"], item["places_available"], item["genders"]) == (
        str(service.hsds_id), 3, ["female"])
    assert api.get(f"/api/services/{service.hsds_id}").json()["name"] == "Shelter"


def test_it_needs_a_token(service):
    assert_problem(ApiClient().get("/api/services"), 401)
    assert_problem(ApiClient().get(f"/api/providers/{service.provider.hsds_id}"), 401)


def test_analysts_do_not_read_the_directory(analyst, service):
    assert_problem(ApiClient(analyst).get("/api/services"), 403)


def test_an_unknown_service_is_404(caseworker):
    assert_problem(ApiClient(caseworker).get(
        "/api/services/00000000-0000-4000-8000-000000000000"), 404)


def test_a_provider_with_its_services(caseworker, provider, service):
    answer = ApiClient(caseworker).get(f"/api/providers/{provider.hsds_id}").json()

    assert answer["agency"] == "casa-sperantei"
    assert [item["id"] for item in answer["services"]] == [str(service.hsds_id)]
    listing = ApiClient(caseworker).get("/api/providers").json()
    assert listing["items"][0]["service_count"] == 1


def test_a_coordinator_adds_and_changes_entries(coordinator):
    api = ApiClient(coordinator)
    response = api.post("/api/providers", {"name": "Biroul de Interpreți", "country": "MD",
                                           "organisation_type": "ngo"})
    assert response.status_code == 201, response.content
    provider_id = response.json()["id"]
    response = api.post(f"/api/providers/{provider_id}/services", {
        "name": "Interpretation", "service_type": "interpretation", "country": "MD",
        "languages": ["ro", "ru", "uk", "en"], "contact_channel": "phone"})
    assert response.status_code == 201, response.content
    service_id = response.json()["id"]

    changed = api.patch(f"/api/services/{service_id}", {"max_age": 99, "is_active": False})

    assert changed.status_code == 200
    assert (changed.json()["max_age"], changed.json()["is_active"]) == (99, False)
    assert AuditEntry.objects.filter(object_ref=service_id).count() == 3


def test_caseworkers_get_403_on_changes(caseworker, provider, service):
    api = ApiClient(caseworker)

    assert_problem(api.post("/api/providers", {"name": "X", "country": "MD",
                                               "organisation_type": "ngo"}), 403)
    assert_problem(api.patch(f"/api/services/{service.hsds_id}", {"name": "X"}), 403)
    assert_problem(api.patch(f"/api/providers/{provider.hsds_id}", {"is_active": False}), 403)
    assert_problem(api.post(f"/api/providers/{provider.hsds_id}/services", {
        "name": "X", "service_type": "medical", "country": "MD"}), 403)
    assert_problem(api.get("/api/service-directory/hsds"), 403)
    assert Provider.objects.get().is_active and Service.objects.get().name == "Shelter"


def test_wrong_values_are_named(coordinator, service):
    problem = assert_problem(ApiClient(coordinator).patch(
        f"/api/services/{service.hsds_id}", {"min_age": 40, "max_age": 20,
                                             "languages": ["xx"]}), 422)
    assert {error["field"] for error in problem["errors"]} == {"languages"}


def test_provider_staff_report_places(shelter_staff, service):
    response = ApiClient(shelter_staff).post(f"/api/services/{service.hsds_id}/capacity",
                                             {"places_available": 0})
    assert response.status_code == 200
    assert response.json()["places_available"] == 0


def test_it_validates_ownership_of_capacity(caseworker, service):
    """Staff of another agency may not report the provider's places."""
    assert_problem(ApiClient(caseworker).post(f"/api/services/{service.hsds_id}/capacity",
                                              {"places_available": 0}), 403)
    service.refresh_from_db()
    assert service.places_available == 3


def test_hsds_download_and_upload(coordinator, service):
    api = ApiClient(coordinator)
    download = api.get("/api/service-directory/hsds")
    assert download.status_code == 200
    assert download["Content-Type"] == "application/zip"

    upload = io.BytesIO(download.content)
    upload.name = "directory.zip"
    response = api.client.post("/api/service-directory/hsds", {"file": upload},
                               headers=api.headers)
    assert response.status_code == 200, response.content
    assert response.json() == {"providers_created": 0, "providers_updated": 0,
                               "services_created": 0, "services_updated": 0,
                               "rows_kept": {"language": 2, "organization": 1, "service": 1},
                               "not_kept": []}


def test_the_official_hsds_example_uploads_with_options_and_lists_what_is_not_kept(
        coordinator):
    from tests.services.test_hsds30 import example_zip

    upload = example_zip()
    upload.name = "example.zip"
    response = ApiClient(coordinator).client.post(
        "/api/service-directory/hsds",
        {"file": upload, "service_type": "psychological", "country": "RO"},
        headers=ApiClient(coordinator).headers)

    assert response.status_code == 200, response.content
    answer = response.json()
    assert (answer["providers_created"], answer["services_created"]) == (1, 1)
    assert answer["rows_kept"]["schedule"] == 1
    assert {(item["file"], item["column"], item["count"]) for item in answer["not_kept"]} == {
        ("locations.csv", "organization_id", 1), ("contacts.csv", "organization_id", 1),
        ("contacts.csv", "service_at_location_id", 1), ("taxonomy_terms.csv", "taxonomy_id", 1)}
    assert Provider.objects.get().country == "RO"


def test_a_bad_upload_lists_its_problems(coordinator):
    api = ApiClient(coordinator)
    upload = io.BytesIO(b"not a zip")
    upload.name = "directory.zip"
    problem = assert_problem(api.client.post("/api/service-directory/hsds", {"file": upload},
                                             headers=api.headers), 422)
    assert problem["errors"][0]["field"] == "file"


def test_matching_services_for_a_case_best_first_with_notes(db):
    from datetime import date

    from opennrm.accounts.models import Role
    from opennrm.cases import services as case_services
    from opennrm.services.models import Provider, Service
    from tests.factories import make_agency, make_user, person_data
    from tests.helpers import ApiClient

    ngo = make_agency("ngo-matching")
    caseworker = make_user(Role.CASEWORKER, ngo)
    case = case_services.register_case(caseworker, person_data(
        birth_date=date(1998, 4, 12), gender="female", languages=["ro"]))
    shelter_agency = make_agency("shelter-matching")
    provider = Provider.objects.create(name="Shelter", organisation_type="ngo",
                                       agency=shelter_agency, country="MD")
    full = Service.objects.create(provider=provider, name="Full shelter", service_type="shelter",
                                  country="MD", places_available=0, capacity=5)
    free = Service.objects.create(provider=provider, name="Women's shelter", country="MD",
                                  service_type="shelter", genders=["female"], places_available=3)
    Service.objects.create(provider=provider, name="Men's shelter", service_type="shelter",
                           country="MD", genders=["male"])
    api = ApiClient(caseworker)
    response = api.get(f"/api/cases/{case.case_number}/matching-services",
                       {"service_type": "shelter"})
    assert response.status_code == 200, response.content
    found = response.json()
    assert [item["service"]["name"] for item in found] == [free.name, full.name]
    assert found[0]["takes_referrals"] is True
    assert "No free places at the last update." in found[1]["notes"]
    assert api.get(f"/api/cases/{case.case_number}/matching-services",
                   {"service_type": "nope"}).status_code == 422


def test_matching_services_validates_ownership(case, police_officer):
    from tests.helpers import ApiClient

    response = ApiClient(police_officer).get(f"/api/cases/{case.case_number}/matching-services",
                                             {"service_type": "shelter"})
    assert response.status_code == 404


def test_providers_are_listed_by_name(caseworker):
    for name in ("Beta", "Alpha", "Gamma"):
        Provider.objects.create(name=name, organisation_type="ngo", country="MD")

    listing = ApiClient(caseworker).get("/api/providers").json()

    assert [item["name"] for item in listing["items"]] == ["Alpha", "Beta", "Gamma"]
