"""What goes over the wire. Field names are those of `cases.services`.

Requests carry types, and state the limits of `core.validation` (lengths, counts) and the
code lists' codes, so the document tells clients what is accepted; every rule about values
(code lists, dates in the future, required recipients …) is checked by the service functions
too, so the API, the web UI and imports give the same answers.
"""

import re
from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID

from django.utils.dateparse import parse_date
from ninja import Field, Schema
from pydantic import BaseModel, BeforeValidator, ConfigDict, StrictBool, StrictInt

from opennrm.cases.models import Case, CaseStatus, Consent, VictimStatus
from opennrm.core import codelists
from opennrm.core.validation import CountLimit, TextLimit

AgencyCode = Annotated[str, Field(max_length=40, pattern=r"^[-a-zA-Z0-9_]*$",
                                  description="Code of an agency (see /api/agencies).")]


def _codes(codelist: str) -> str:
    return f"Codes from /api/codelists/{codelist}."


def Code(default, codelist: str, *, many: bool = False, **kwargs):  # noqa: N802 - a Field
    """A field of codes from `codelist`: the document lists them as its enumeration (the
    service functions still check them, with their own messages). Optional fields may also
    be "" or null, which clear them."""
    codes = list(codelists.entries(codelist))
    if many:
        extra = {"items": {"type": "string", "enum": codes}}
    else:
        extra = {"enum": codes + (["", None] if default is None else [])}
    return Field(default, description=_codes(codelist), json_schema_extra=extra, **kwargs)


IdentityText = Annotated[str, Field(max_length=TextLimit.IDENTITY)]


# --- requests ----------------------------------------------------------------------------
# Request bodies take each JSON type as itself: a date is text YYYY-MM-DD, a number a JSON
# number, a yes/no a JSON boolean. Pydantic's default would read 0 as 1970-01-01, "12" as 12
# and "yes" as true.

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _iso_date(value):
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        return value  # pydantic then refuses an impossible day such as 2026-02-30
    raise ValueError("Enter a date as text in the format YYYY-MM-DD (ISO 8601).")


IsoDate = Annotated[date, BeforeValidator(_iso_date)]

class Request(Schema):
    # A misspelt field must not be ignored in silence.
    model_config = ConfigDict(extra="forbid")


class IdentityDocument(Request):
    document_type: str = Field("other", description=_codes("identity_document_types"),
                               json_schema_extra={"enum": list(codelists.entries(
                                   "identity_document_types"))})
    number: str = Field(max_length=TextLimit.DOCUMENT_NUMBER)
    country: str = Field("", description=_codes("countries"))


class CaseFields(Request):
    """The editable fields of a case and its person (services.EDITABLE_FIELDS)."""

    given_name: str | None = Field(None, max_length=TextLimit.IDENTITY)
    family_name: str | None = Field(None, max_length=TextLimit.IDENTITY)
    aliases: list[IdentityText] | None = Field(None, max_length=CountLimit.ALIASES,
                                               description="Other names the person uses.")
    birth_date: IsoDate | None = None
    identity_documents: list[IdentityDocument] | None = Field(
        None, max_length=CountLimit.IDENTITY_DOCUMENTS)
    phone: str | None = Field(None, max_length=TextLimit.PERSON_PHONE,
                              description="A telephone number: international (+373 69 123 "
                                          "456) or in the national form of your agency's "
                                          "country. Stored and shown in E.164.")
    address: str | None = Field(None, max_length=TextLimit.IDENTITY)
    gender: str | None = Code(None, "genders")
    birth_year: StrictInt | None = Field(None, ge=1900, le=9999)
    age_uncertain: StrictBool | None = Field(
        None, description="Former yes/no form of age_uncertainty: true is "
                          "\"possibly_child\", false is \"\". age_uncertainty wins when both "
                          "are given."
    )
    age_uncertainty: Literal["", "possibly_child", "adult"] | None = Field(
        None, description="Age not established: \"possibly_child\" (presumed a child) or "
                          "\"adult\" (adult, exact age unknown); \"\" when the age is not "
                          "uncertain. With only a birth year, a person who may still be 17 "
                          "is presumed a child."
    )
    citizenships: list[str] | None = Field(None, description=_codes("countries"))
    languages: list[str] | None = Field(None, description=_codes("languages"))
    first_contact_on: IsoDate | None = None
    first_contact_place: str | None = Code(None, "first_contact_places")
    referral_source: str | None = Code(None, "referral_sources")
    exploitation_forms: list[str] | None = Code(None, "exploitation_forms", many=True)
    labour_sector: str | None = Code(None, "labour_sectors")
    recruitment_countries: list[str] | None = Field(None, description=_codes("countries"))
    transit_countries: list[str] | None = Field(None, description=_codes("countries"))
    exploitation_countries: list[str] | None = Field(None, description=_codes("countries"))
    exploitation_started_on: IsoDate | None = None
    exploitation_ended_on: IsoDate | None = None
    means_of_control: list[str] | None = Code(None, "means_of_control", many=True)
    recruiter_relation: str | None = Code(None, "recruiter_relations")
    notes: str | None = Field(None, max_length=TextLimit.LONG)


class CaseRegistration(CaseFields):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "given_name": "Elena", "family_name": "Popescu", "birth_date": "1998-04-12",
        "gender": "female", "citizenships": ["MD"], "languages": ["ro"],
        "first_contact_on": "2026-03-02", "exploitation_forms": ["forced_labour"],
        "identity_documents": [{"document_type": "passport", "number": "AB1234567",
                                "country": "MD"}],
    }]})

    gender: str = Code(..., "genders")
    first_contact_on: IsoDate


class CaseChanges(CaseFields):
    """Only the fields sent are changed; send null or an empty value to clear one."""


class Closure(Request):
    closure_reason: str = Code(..., "closure_reasons")


class VictimStatusDecision(Request):
    victim_status: VictimStatus
    decided_on: IsoDate


class ConsentGiven(Request):
    purpose: str = Code(..., "consent_purposes")
    given_on: IsoDate
    recipient_agency: AgencyCode = ""
    recipient_node: str = Field("", max_length=2,
                                description="Country code of a partner node. "
                                            + _codes("countries"))


class ConsentWithdrawal(Request):
    withdrawn_on: IsoDate


class SamePersonLinkRequest(Request):
    case_number: str = Field(max_length=32, description="Number of the other case of the "
                                                        "same person.",
                             examples=["MD-26-7KQ3M9XA"])
    reason: str = Field("", max_length=TextLimit.REASON,
                        description="Why they are the same person (optional; encrypted).")


class SamePersonLinkRemoval(Request):
    reason: str = Field(max_length=TextLimit.REASON, description="Why the link was wrong.")


class CaseFilters(Schema):
    status: CaseStatus | None = None
    victim_status: VictimStatus | None = None
    page: int = Field(1, ge=1)
    page_size: int = Field(50, ge=1, le=200)


class NameSearch(Schema):
    given_name: str = Field(max_length=TextLimit.IDENTITY)
    family_name: str = Field(max_length=TextLimit.IDENTITY)
    birth_date: IsoDate


# --- responses ---------------------------------------------------------------------------

class CaseSummary(BaseModel):
    """A case in a list: no name, birth date, document or contact, nothing to decrypt.

    A plain pydantic model: items are dicts from `.values()`, so ninja's per-attribute
    ORM resolution (DjangoGetter) is not needed, and it is the slow part of a list.
    """

    case_number: str
    global_id: UUID
    status: CaseStatus
    victim_status: VictimStatus
    age_band: str
    is_child: bool
    gender: str
    exploitation_forms: list[str]
    first_contact_on: date
    registered_at: datetime
    owner_agency: str = Field(validation_alias="owner_agency_code",
                              description="Code of the agency that owns the case.")


class CasePage(BaseModel):
    items: list[CaseSummary]
    count: int
    page: int
    page_size: int


class ConsentOut(Schema):
    id: int
    purpose: str
    given_on: date
    recipient_agency: str | None
    recipient_node: str
    recorded_at: datetime
    withdrawn_on: date | None
    is_active: bool

    @staticmethod
    def from_consent(consent: Consent) -> dict:
        return {
            "id": consent.pk, "purpose": consent.purpose, "given_on": consent.given_on,
            "recipient_agency": consent.recipient_agency.code if consent.recipient_agency
            else None,
            "recipient_node": consent.recipient_node, "recorded_at": consent.recorded_at,
            "withdrawn_on": consent.withdrawn_on, "is_active": consent.is_active,
        }


class SamePersonLinkOut(Schema):
    id: int
    case_number: str = Field(description="The other case of the same person.")
    owner_agency: str = Field(description="Code of the agency that owns the other case.")
    reason: str | None = Field(description="Why they are the same person (a reason may "
                                           "describe the person). Null for roles that may "
                                           "not see who the person is, and in the answer "
                                           "to a removal.")
    recorded_by: str = Field(description="Username of who linked the cases.")
    recorded_at: datetime
    removed_at: datetime | None

    @staticmethod
    def from_link(link, case: Case, *, reason: str | None) -> dict:
        other = link.same_as_case if link.case_id == case.pk else link.case
        return {"id": link.pk, "case_number": other.case_number,
                "owner_agency": other.owner_agency.code, "reason": reason,
                "recorded_by": link.recorded_by.username, "recorded_at": link.recorded_at,
                "removed_at": link.removed_at}


class IdentityDocumentOut(Schema):
    document_type: str = "other"
    number: str = ""
    country: str = ""


class CaseIdentity(Schema):
    given_name: str
    family_name: str
    aliases: list[str]
    birth_date: date | None
    identity_documents: list[IdentityDocumentOut]
    phone: str
    address: str
    notes: str


class CaseDetail(Schema):
    case_number: str
    global_id: UUID
    owner_agency: str
    registered_at: datetime
    updated_at: datetime
    status: CaseStatus
    closure_reason: str
    closed_at: datetime | None
    victim_status: VictimStatus
    victim_status_decided_on: date | None
    victim_status_decided_by: str | None = Field(
        description="Code of the agency that decided the victim status."
    )
    victim_status_recorded_by: str | None = Field(description="Username of who recorded it.")
    gender: str
    birth_year: int | None
    age_uncertain: bool = Field(description="True when age_uncertainty is possibly_child.")
    age_uncertainty: str
    age_band: str
    is_child: bool = Field(description="May be a child at first contact, so presumed one "
                                       "(cases.age.may_be_child).")
    citizenships: list[str]
    languages: list[str]
    first_contact_on: date
    first_contact_place: str = Field(description="Code of the list first_contact_places "
                                                 "(\"\" when not recorded).")
    referral_source: str = Field(description="Code of the list referral_sources (\"\" when "
                                             "not recorded).")
    exploitation_forms: list[str]
    labour_sector: str
    recruitment_countries: list[str]
    transit_countries: list[str]
    exploitation_countries: list[str]
    exploitation_started_on: date | None
    exploitation_ended_on: date | None
    means_of_control: list[str]
    recruiter_relation: str
    identity: CaseIdentity | None = Field(
        description="Name, birth date, documents, contacts and notes; null for roles that "
                    "may not see who the person is."
    )
    consents: list[ConsentOut]

    @staticmethod
    def from_case(case: Case, *, with_identity: bool) -> dict:
        person = case.person
        decider = case.victim_status_decided_by_agency
        recorder = case.victim_status_recorded_by
        identity = None
        if with_identity:
            identity = {
                "given_name": person.given_name, "family_name": person.family_name,
                "aliases": person.aliases,
                "birth_date": parse_date(person.birth_date) if person.birth_date else None,
                "identity_documents": person.identity_documents, "phone": person.phone,
                "address": person.address, "notes": case.notes,
            }
        return {
            "case_number": case.case_number, "global_id": case.global_id,
            "owner_agency": case.owner_agency.code, "registered_at": case.registered_at,
            "updated_at": case.updated_at, "status": case.status,
            "closure_reason": case.closure_reason, "closed_at": case.closed_at,
            "victim_status": case.victim_status,
            "victim_status_decided_on": case.victim_status_decided_on,
            "victim_status_decided_by": decider.code if decider else None,
            "victim_status_recorded_by": recorder.username if recorder else None,
            "gender": person.gender, "birth_year": person.birth_year,
            "age_uncertain": person.age_uncertain,
            "age_uncertainty": person.age_uncertainty, "age_band": case.age_band,
            "is_child": case.is_child, "citizenships": person.citizenships,
            "languages": person.languages, "first_contact_on": case.first_contact_on,
            "first_contact_place": case.first_contact_place,
            "referral_source": case.referral_source,
            "exploitation_forms": case.exploitation_forms,
            "labour_sector": case.labour_sector,
            "recruitment_countries": case.recruitment_countries,
            "transit_countries": case.transit_countries,
            "exploitation_countries": case.exploitation_countries,
            "exploitation_started_on": case.exploitation_started_on,
            "exploitation_ended_on": case.exploitation_ended_on,
            "means_of_control": case.means_of_control,
            "recruiter_relation": case.recruiter_relation,
            "identity": identity,
            "consents": [ConsentOut.from_consent(consent) for consent
                         in case.consents.select_related("recipient_agency")],
        }


class AgencyOut(Schema):
    code: str
    name: str
    agency_type: str
    country: str
    is_active: bool


class CodeEntry(BaseModel):
    # A list may carry more attributes per code (age bands their bounds, …). A plain
    # pydantic model keeps them; ninja's Schema would drop them.
    model_config = ConfigDict(extra="allow")

    code: str
    label: str


class CodeList(Schema):
    name: str
    version: str
    source: str = ""
    codes: list[CodeEntry]
