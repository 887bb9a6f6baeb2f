"""/api/services, /api/providers and /api/service-directory: the service directory.

Every signed-in case-handling user reads it (it holds no personal data of victims);
directory managers (national coordinator, administrator) change it and exchange it as
Open Referral HSDS; a provider's own staff report its free places. Handlers translate HTTP
to calls of `services.services` and `services.hsds`; the rules live there. The schemas
are in `services_schemas.py`.
"""

import io
from uuid import UUID

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from ninja import Query, Router
from ninja.responses import Status

from opennrm.api.cases import CaseNumber
from opennrm.api.pagination import paginate
from opennrm.api.problems import problems
from opennrm.api.services_schemas import (
    CapacityUpdate,
    ImportSummaryOut,
    MatchingService,
    ProviderChanges,
    ProviderCreate,
    ProviderDetail,
    ProviderFilters,
    ProviderPage,
    ServiceChanges,
    ServiceCreate,
    ServiceFilters,
    ServiceOut,
    ServicePage,
)
from opennrm.cases import access
from opennrm.core import codelists
from opennrm.services import access as directory_access
from opennrm.services import hsds, matching, queries
from opennrm.services import services as directory
from opennrm.services.models import Provider, Service

CHANNEL = "api"
HSDS_FILENAME = "opennrm-service-directory-hsds.zip"

router = Router(tags=["service directory"])


# --- helpers -----------------------------------------------------------------------------

def _no_nul(text: str) -> str:
    # PostgreSQL rejects NUL in text; no entry has one, so the filter finds nothing.
    if "\x00" in text:
        raise Http404("Nothing matches.")
    return text


def service_out(service: Service) -> dict:
    return {
        "id": service.hsds_id, "provider_id": service.provider.hsds_id,
        "provider_name": service.provider.name,
        **{name: getattr(service, name) for name in (
            "name", "service_type", "description", "address", "city", "region", "country",
            "genders", "min_age", "max_age", "languages", "capacity", "places_available",
            "capacity_updated_at", "contact_channel", "response_days", "is_active",
            "updated_at")},
    }


def provider_out(provider: Provider, service_count: int) -> dict:
    return {
        "id": provider.hsds_id, "agency": provider.agency.code if provider.agency else None,
        "service_count": service_count,
        **{name: getattr(provider, name) for name in (
            "name", "description", "organisation_type", "email", "phone", "website",
            "country", "is_active", "updated_at")},
    }


def _service(user, service_id: UUID) -> Service:
    service = queries.get_service(user, service_id)
    if service is None:
        raise Http404("There is no service with this id.")
    return service


def _provider(user, provider_id: UUID) -> Provider:
    provider = queries.get_provider(user, provider_id)
    if provider is None:
        raise Http404("There is no provider with this id.")
    return provider


def _provider_detail(user, provider: Provider) -> dict:
    services = list(queries.provider_services(user, provider))
    return {**provider_out(provider, len(services)),
            "services": [service_out(service) for service in services]}


def _set_active(user, item, active: bool | None, activate, deactivate) -> None:
    if active is True:
        activate(user, item, channel=CHANNEL)
    elif active is False:
        deactivate(user, item, channel=CHANNEL)


# --- services ----------------------------------------------------------------------------

@router.get("/services", response={200: ServicePage, **problems(401, 403, 404, 422)},
            operation_id="listServices", summary="Find services in the directory")
def list_services(request: HttpRequest, filters: Query[ServiceFilters]):
    """Active services of active providers unless `include_inactive`; by name."""
    where = queries.DirectoryFilter(
        service_type=_no_nul(filters.service_type), country=_no_nul(filters.country),
        region=_no_nul(filters.region), language=filters.language, gender=filters.gender,
        age=filters.age, free_places=filters.free_places,
        provider=str(filters.provider_id or ""), text=_no_nul(filters.q),
        include_inactive=filters.include_inactive)
    services = queries.directory(request.auth, where)
    return paginate(services, filters,
                    render=lambda page: [service_out(service) for service in page])


@router.get("/services/{service_id}", response={200: ServiceOut, **problems(401, 403, 404, 422)},
            operation_id="readService", summary="Read a service", url_name="read_service")
def read_service(request: HttpRequest, service_id: UUID):
    return service_out(_service(request.auth, service_id))


@router.patch("/services/{service_id}",
              response={200: ServiceOut, **problems(400, 401, 403, 404, 422)},
              operation_id="updateService", summary="Change a service (directory managers)")
def update_service(request: HttpRequest, service_id: UUID, changes: ServiceChanges):
    """Only the fields sent are changed and recorded in the audit trail."""
    service = _service(request.auth, service_id)
    values = changes.model_dump(exclude_unset=True)
    active = values.pop("is_active", None)
    directory_access.ensure_can_manage(request.auth)
    service = directory.update_service(request.auth, service, values, channel=CHANNEL)
    _set_active(request.auth, service, active, directory.reactivate_service,
                directory.deactivate_service)
    return service_out(_service(request.auth, service_id))


@router.post("/services/{service_id}/capacity",
             response={200: ServiceOut, **problems(400, 401, 403, 404, 422)},
             operation_id="updateServiceCapacity",
             summary="Report the places free today (the provider's staff)")
def update_capacity(request: HttpRequest, service_id: UUID, update: CapacityUpdate):
    service = _service(request.auth, service_id)
    directory.update_capacity(request.auth, service, update.places_available, channel=CHANNEL)
    return service_out(_service(request.auth, service_id))


@router.get("/cases/{case_number}/matching-services",
            response={200: list[MatchingService], **problems(401, 403, 404, 422)},
            operation_id="listMatchingServices",
            summary="Services of a type this case's person is eligible for, best first")
def list_matching_services(request: HttpRequest, case_number: CaseNumber, service_type: str):
    """Free places and the person's languages first. Only the case's owning agency may ask
    (the answer tells something about the person: sex, age, languages)."""
    case = access.get_visible_case(request.auth, case_number)
    if service_type not in codelists.entries("service_types"):
        raise ValidationError({"service_type": [
            "Unknown service type: codes from /api/codelists/service_types."]})
    return [{"service": service_out(service),
             "takes_referrals": matching.takes_referrals_in_opennrm(service),
             "notes": matching.eligibility_notes(service, case)}
            for service in matching.matching_services(case, service_type)]


# --- providers ---------------------------------------------------------------------------

@router.get("/providers", response={200: ProviderPage, **problems(401, 403, 404, 422)},
            operation_id="listProviders", summary="List the providers in the directory")
def list_providers(request: HttpRequest, filters: Query[ProviderFilters]):
    providers = queries.providers(request.auth, queries.ProviderFilter(
        text=_no_nul(filters.q), country=_no_nul(filters.country),
        organisation_type=_no_nul(filters.organisation_type),
        include_inactive=filters.include_inactive))
    return paginate(providers, filters, render=lambda page: [
        provider_out(provider, provider.service_count) for provider in page])


@router.post("/providers", response={201: ProviderDetail, **problems(400, 401, 403, 422)},
             operation_id="createProvider", summary="Add a provider (directory managers)")
def create_provider(request: HttpRequest, response: HttpResponse, provider: ProviderCreate):
    created = directory.create_provider(request.auth, provider.model_dump(exclude_unset=True),
                                        channel=CHANNEL)
    response["Location"] = reverse("api:read_provider", args=[created.hsds_id])
    return Status(201, _provider_detail(request.auth, created))


@router.get("/providers/{provider_id}",
            response={200: ProviderDetail, **problems(401, 403, 404, 422)},
            operation_id="readProvider", summary="Read a provider with its services",
            url_name="read_provider")
def read_provider(request: HttpRequest, provider_id: UUID):
    return _provider_detail(request.auth, _provider(request.auth, provider_id))


@router.patch("/providers/{provider_id}",
              response={200: ProviderDetail, **problems(400, 401, 403, 404, 422)},
              operation_id="updateProvider", summary="Change a provider (directory managers)")
def update_provider(request: HttpRequest, provider_id: UUID, changes: ProviderChanges):
    """Only the fields sent are changed and recorded in the audit trail."""
    provider = _provider(request.auth, provider_id)
    values = changes.model_dump(exclude_unset=True)
    active = values.pop("is_active", None)
    directory_access.ensure_can_manage(request.auth)
    provider = directory.update_provider(request.auth, provider, values, channel=CHANNEL)
    _set_active(request.auth, provider, active, directory.reactivate_provider,
                directory.deactivate_provider)
    return _provider_detail(request.auth, _provider(request.auth, provider_id))


@router.post("/providers/{provider_id}/services",
             response={201: ServiceOut, **problems(400, 401, 403, 404, 422)},
             operation_id="createService",
             summary="Add a service of a provider (directory managers)")
def create_service(request: HttpRequest, response: HttpResponse, provider_id: UUID,
                   service: ServiceCreate):
    provider = _provider(request.auth, provider_id)
    created = directory.create_service(request.auth, provider,
                                       service.model_dump(exclude_unset=True), channel=CHANNEL)
    response["Location"] = reverse("api:read_service", args=[created.hsds_id])
    return Status(201, service_out(created))


# --- HSDS --------------------------------------------------------------------------------

@router.get("/service-directory/hsds", response={200: None, **problems(401, 403)},
            operation_id="exportServiceDirectory",
            summary="Download the directory as Open Referral HSDS 3.0 (directory managers)",
            openapi_extra={"responses": {200: {
                "description": "A zip: datapackage.json and one CSV per HSDS table.",
                "content": {"application/zip": {"schema": {"type": "string",
                                                           "format": "binary"}}}}}})
def export_directory(request: HttpRequest):
    output = io.BytesIO()
    hsds.export_directory(request.auth, output, channel=CHANNEL)
    response = HttpResponse(output.getvalue(), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{HSDS_FILENAME}"'
    return response


@router.post("/service-directory/hsds",
             response={200: ImportSummaryOut, **problems(400, 401, 403, 413, 422)},
             operation_id="importServiceDirectory",
             summary="Import an Open Referral HSDS 3.0 zip (directory managers)",
             openapi_extra={"requestBody": {"required": True, "content": {
                 "multipart/form-data": {"schema": {
                     "type": "object", "required": ["file"], "additionalProperties": False,
                     "properties": {
                         "file": {"type": "string", "format": "binary",
                                  "description": "The HSDS 3.0 zip."},
                         "country": {"type": "string", "description": (
                             "Country (ISO 3166-1 alpha-2) of entries whose files give "
                             "none; default: the node's")},
                         "organisation_type": {"type": "string", "description": (
                             "Organisation type (agency_types) where the files and the "
                             "mapping file give none")},
                         "service_type": {"type": "string", "description": (
                             "Service type (service_types) where the files and the "
                             "mapping file give none")}}}}}}})
def import_directory(request: HttpRequest):
    """Entries are matched by HSDS id. The whole file is checked first: if any row is
    wrong, the answer lists every problem (file, row, column) and nothing is written. The
    answer lists what was not kept (references to rows not in the package, HSDS 3.1
    tables and fields)."""
    # Who may import is checked before the upload is read (so not as a File parameter,
    # which ninja would parse first): a malformed body from anyone else is never parsed.
    directory_access.ensure_can_manage(request.auth)
    upload = request.FILES.get("file")  # malformed multipart: 400 (api.problems)
    if upload is None:
        raise ValidationError({"file": ["Upload the HSDS zip as the form field 'file'."]})
    options = hsds.ImportOptions(
        country=request.POST.get("country", ""),
        organisation_type=request.POST.get("organisation_type", ""),
        service_type=request.POST.get("service_type", ""))
    return hsds.import_directory(request.auth, upload, channel=CHANNEL, options=options)
