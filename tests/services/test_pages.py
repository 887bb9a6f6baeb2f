import io

from django.urls import reverse

from opennrm.services.models import Provider, Service
from tests.factories import make_service
from tests.helpers import as_user, assert_no_inline_code


def test_the_directory_lists_and_filters(client, caseworker, service):
    make_service(name="Clinic", service_type="medical", region="Cahul")
    response = as_user(client, caseworker).get(reverse("service-directory"),
                                               {"service_type": "medical"})

    assert response.status_code == 200
    assert "Clinic" in response.content.decode()
    assert "Shelter" not in response.content.decode()
    assert response["Cache-Control"] == "no-store"
    assert_no_inline_code(response)


def test_a_bad_filter_is_named(client, caseworker, service):
    response = as_user(client, caseworker).get(reverse("service-directory"), {"age": "old"})
    assert response.status_code == 200
    assert "There is a problem" in response.content.decode()


def test_it_needs_sign_in(client, service):
    response = client.get(reverse("service-directory"))
    assert response.status_code == 302


def test_analysts_may_not_read_it(client, analyst, service):
    assert as_user(client, analyst).get(reverse("service-directory")).status_code == 403


def test_provider_and_service_pages(client, caseworker, provider, service):
    as_user(client, caseworker)
    provider_page = client.get(reverse("provider-detail", args=[provider.hsds_id]))
    service_page = client.get(reverse("service-detail", args=[service.hsds_id]))
    providers = client.get(reverse("provider-list"))

    assert "Shelter" in provider_page.content.decode()
    assert "18" in service_page.content.decode()
    assert "Report free places" not in service_page.content.decode()
    assert provider.name in providers.content.decode()
    assert_no_inline_code(service_page)


def test_an_unknown_service_is_404(client, caseworker):
    as_user(client, caseworker)
    assert client.get("/services/00000000-0000-4000-8000-000000000000/").status_code == 404


def test_provider_staff_report_places_on_the_page(client, shelter_staff, service):
    as_user(client, shelter_staff)
    page = client.get(reverse("service-detail", args=[service.hsds_id]))
    assert "Report free places" in page.content.decode()

    response = client.post(reverse("service-capacity", args=[service.hsds_id]),
                           {"places_available": "20"})
    assert "More places free than the capacity." in response.content.decode()
    response = client.post(reverse("service-capacity", args=[service.hsds_id]),
                           {"places_available": "0"})
    assert response.status_code == 302
    service.refresh_from_db()
    assert service.places_available == 0


def test_it_validates_ownership_of_capacity(client, caseworker, service):
    """Staff of another agency get 403 and the places stay as they were."""
    response = as_user(client, caseworker).post(
        reverse("service-capacity", args=[service.hsds_id]), {"places_available": "0"})
    assert response.status_code == 403
    service.refresh_from_db()
    assert service.places_available == 3


def test_caseworkers_cannot_open_the_forms(client, caseworker, provider, service):
    as_user(client, caseworker)
    for url in (reverse("provider-new"), reverse("provider-edit", args=[provider.hsds_id]),
                reverse("service-new", args=[provider.hsds_id]),
                reverse("service-edit", args=[service.hsds_id]), reverse("service-hsds"),
                reverse("service-hsds-export")):
        assert client.get(url).status_code == 403, url
    assert client.post(reverse("service-set-active", args=[service.hsds_id])).status_code == 403
    assert Service.objects.get().is_active


def test_a_coordinator_adds_a_provider_and_a_service(client, coordinator):
    as_user(client, coordinator)
    response = client.post(reverse("provider-new"), {"name": "", "country": "MD"})
    assert "There is a problem" in response.content.decode()
    assert not Provider.objects.exists()

    response = client.post(reverse("provider-new"), {
        "name": "Biroul Avocaților", "organisation_type": "ngo", "country": "MD",
        "email": "birou@example.md"})
    provider = Provider.objects.get()
    assert response.status_code == 302

    response = client.post(reverse("service-new", args=[provider.hsds_id]), {
        "name": "Legal aid", "service_type": "legal_aid", "country": "MD",
        "contact_channel": "in_system", "response_days": "5", "min_age": "30",
        "max_age": "20"})
    content = response.content.decode()
    assert "The highest age is below the lowest age." in content
    assert "choose e-mail or telephone" in content

    response = client.post(reverse("service-new", args=[provider.hsds_id]), {
        "name": "Legal aid", "service_type": "legal_aid", "country": "MD",
        "contact_channel": "email", "response_days": "5", "genders": ["female"],
        "languages": ["ro", "ru"]})
    assert response.status_code == 302
    assert Service.objects.get().genders == ["female"]


def test_a_coordinator_edits_and_deactivates(client, coordinator, provider, service):
    as_user(client, coordinator)
    page = client.get(reverse("service-edit", args=[service.hsds_id]))
    assert page.status_code == 200
    assert_no_inline_code(page)
    data = {"name": "Shelter for women", "service_type": "shelter", "country": "MD",
            "contact_channel": "in_system", "response_days": "3", "genders": ["female"],
            "min_age": "18", "capacity": "12", "places_available": "3"}
    assert client.post(reverse("service-edit", args=[service.hsds_id]), data).status_code == 302
    client.post(reverse("service-set-active", args=[service.hsds_id]))
    service.refresh_from_db()
    assert (service.name, service.response_days, service.is_active) == (
        "Shelter for women", 3, False)


def test_the_hsds_page_exports_and_lists_import_problems(client, coordinator, service):
    as_user(client, coordinator)
    assert client.get(reverse("service-hsds")).status_code == 200
    download = client.get(reverse("service-hsds-export"))
    assert download["Content-Type"] == "application/zip"

    bad = io.BytesIO(b"not a zip")
    bad.name = "directory.zip"
    response = client.post(reverse("service-hsds"), {"file": bad})
    assert "This is not a zip file" in response.content.decode()

    good = io.BytesIO(download.content)
    good.name = "directory.zip"
    response = client.post(reverse("service-hsds"), {"file": good})
    assert response.status_code == 302


def test_the_hsds_page_imports_the_official_example_and_says_what_is_not_kept(client,
                                                                             coordinator):
    from tests.services.test_hsds30 import example_zip

    as_user(client, coordinator)
    upload = example_zip()
    upload.name = "example.zip"
    response = client.post(reverse("service-hsds"), {"file": upload,
                                                     "service_type": "psychological"},
                           follow=True)

    page = response.content.decode()
    assert "Not kept: 1 in locations.csv, organization_id" in page
    assert Service.objects.get().service_type == "psychological"


def test_the_provider_list_hides_inactive_providers_unless_asked(client, caseworker, provider):
    provider.is_active = False
    provider.save()
    as_user(client, caseworker)

    listed = client.get(reverse("provider-list")).content.decode()
    asked = client.get(reverse("provider-list"), {"include_inactive": "1"}).content.decode()

    assert provider.name not in listed
    assert provider.name in asked
