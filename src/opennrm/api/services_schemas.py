"""The request and response schemas of the service-directory routes (`api/services.py`)."""

from datetime import datetime
from uuid import UUID

from ninja import Field, Schema
from pydantic import StrictBool, StrictInt

from opennrm.api.schemas import AgencyCode, Request
from opennrm.core.validation import TextLimit
from opennrm.services.models import ContactChannel


def _codes(codelist: str) -> str:
    return f"Codes from /api/codelists/{codelist}."


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


class MatchingService(Schema):
    service: ServiceOut
    takes_referrals: bool = Field(description="The provider receives referrals in OpenNRM; "
                                              "otherwise record a referral outside OpenNRM "
                                              "(`external`) and contact it.")
    notes: list[str] = Field(description="What to know before referring this person.")
