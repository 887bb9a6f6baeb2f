"""/api/services, /api/providers and /api/service-directory: the service directory.

Every signed-in case-handling user reads it (it holds no personal data of victims);
directory managers (national coordinator, administrator) change it and exchange it as
Open Referral HSDS; a provider's own staff report its free places. Handlers translate HTTP
to calls of `services.services` and `services.hsds`; the rules live there.
"""

import io
from datetime import datetime
from uuid import UUID

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from ninja import Field, Query, Router, Schema
from ninja.responses import Status
from pydantic import StrictBool, StrictInt

from opennrm.api.cases import CaseNumber
from opennrm.api.pagination import paginate
from opennrm.api.problems import problems
from opennrm.api.schemas import AgencyCode, Request
from opennrm.cases import access
from opennrm.core import codelists
from opennrm.core.validation import TextLimit
from opennrm.services import access as directory_access
from opennrm.services import hsds, matching, queries
from opennrm.services import services as directory
from opennrm.services.models import ContactChannel, Provider, Service

CHANNEL = "api"
HSDS_FILENAME = "opennrm-service-directory-hsds.zip"

router = Router(tags=["service directory"])


def _codes(codelist: str) -> str:
    return f"Codes from /api/codelists/{codelist}."




# --- schemas -----------------------------------------------------------------------------

class ProviderFields(Request):
    name: str | None = None
    description: str | None = None
    organisation_type: str | None = Field(None, description=_codes("agency_types"))
    agency: AgencyCode | None = Field(
        None, description="Code of the agency of this node that receives referrals for this "
                          "provider (see /api/agencies); empty for an outside provider.")
    email: str | None = None
    phone: str | None = None
    website: str | None = None
    country: str | None = Field(None, description=_codes("countries"))


class ProviderCreate(ProviderFields):
    name: str
    organisation_type: str = Field(description=_codes("agency_types"))
    country: str = Field(description=_codes("countries"))


class ProviderChanges(ProviderFields):
    is_active: StrictBool | None = Field(None, description="false takes the provider and its "
                                                     "services out of the directory.")


class ServiceFields(Request):
    name: str | None = None
    service_type: str | None = Field(None, description=_codes("service_types"))
    description: str | None = None
    address: str | None = None
    city: str | None = None
    region: str | None = None
    country: str | None = Field(None, description=_codes("countries"))
    genders: list[str] | None = Field(None, description=_codes("genders") + " Empty: all.")
    min_age: StrictInt | None = None
    max_age: StrictInt | None = None
    languages: list[str] | None = Field(None, description=_codes("languages"))
    capacity: StrictInt | None = Field(None, description="Places in all; null: not limited.")
    places_available: StrictInt | None = Field(None, description="Places free today.")
    contact_channel: ContactChannel | None = None
    response_days: StrictInt | None = Field(None, description="Days the provider agreed to answer "
                                                        "a referral in.")


class ServiceCreate(ServiceFields):
    name: str
    service_type: str = Field(description=_codes("service_types"))
    country: str = Field(description=_codes("countries"))


class ServiceChanges(ServiceFields):
    is_active: StrictBool | None = Field(None, description="false takes the service out of the "
                                                     "directory.")


class CapacityUpdate(Request):
    places_available: StrictInt | None = Field(description="Places free today; null: not known.")


class ProviderOut(Schema):
    id: UUID = Field(description="The HSDS organization id.")
    name: str
    description: str
    organisation_type: str
    agency: str | None = Field(description="Code of the agency of this node receiving "
                                           "referrals; null for an outside provider.")
    email: str
    phone: str
    website: str
    country: str
    is_active: bool
    updated_at: datetime
    service_count: int


class ServiceOut(Schema):
    id: UUID = Field(description="The HSDS service id.")
    provider_id: UUID
    provider_name: str
    name: str
    service_type: str
    description: str
    address: str
    city: str
    region: str
    country: str
    genders: list[str] = Field(description="Empty: all.")
    min_age: int | None
    max_age: int | None
    languages: list[str]
    capacity: int | None
    places_available: int | None
    capacity_updated_at: datetime | None
    contact_channel: ContactChannel
    response_days: int
    is_active: bool
    updated_at: datetime


class ProviderDetail(ProviderOut):
    services: list[ServiceOut]


class ServicePage(Schema):
    items: list[ServiceOut]
    count: int
    page: int
    page_size: int


class ProviderPage(Schema):
    items: list[ProviderOut]
    count: int
    page: int
    page_size: int


class ServiceFilters(Schema):
    service_type: str = Field("", max_length=40, description=_codes("service_types"))
    country: str = Field("", max_length=2, description=_codes("countries"))
    region: str = Field("", max_length=TextLimit.SHORT)
    language: str = Field("", max_length=10, description="Services speaking this language.")
    gender: str = Field("", max_length=30, description="Services taking people of this sex.")
    age: int | None = Field(None, ge=0, le=130, description="Services taking this age.")
    free_places: bool = Field(False, description="Only services with places free (or no "
                                                 "limit).")
    provider_id: UUID | None = None
    q: str = Field("", max_length=TextLimit.SHORT,
                   description="Part of the name of the service, its provider or its city.")
    include_inactive: bool = False
    page: int = Field(1, ge=1)
    page_size: int = Field(50, ge=1, le=200)


class ProviderFilters(Schema):
    q: str = Field("", max_length=TextLimit.SHORT, description="Part of the provider's name.")
    country: str = Field("", max_length=2, description=_codes("countries"))
    organisation_type: str = Field("", max_length=40, description=_codes("agency_types"))
    include_inactive: bool = False
    page: int = Field(1, ge=1)
    page_size: int = Field(50, ge=1, le=200)


class NotKeptOut(Schema):
    file: str = Field(description="The package's file")
    column: str = Field(description="The column ('' for the whole file)")
    count: int = Field(description="How many values (or rows, for a file) are not kept")
    reason: str


class ImportSummaryOut(Schema):
    providers_created: int
    providers_updated: int
    services_created: int
    services_updated: int
    rows_kept: dict[str, int] = Field(
        description="HSDS rows kept as read, by HSDS table: exported again, with the "
                    "directory's own fields written over them")
    not_kept: list[NotKeptOut] = Field(description="What the import did not keep, counted")


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


class MatchingService(Schema):
    service: ServiceOut
    takes_referrals: bool = Field(description="The provider receives referrals in OpenNRM; "
                                              "otherwise contact it directly.")
    notes: list[str] = Field(description="What to know before referring this person.")


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
             "takes_referrals": (service.provider.agency_id is not None
                                 and service.contact_channel == ContactChannel.IN_SYSTEM),
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
