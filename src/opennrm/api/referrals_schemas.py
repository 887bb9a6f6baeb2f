"""The request and response schemas of the referral routes (`api/referrals.py`)."""

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from ninja import Field, Schema
from pydantic import ConfigDict

from opennrm.api.schemas import IsoDate, Request
from opennrm.core import codelists
from opennrm.referrals import services
from opennrm.referrals.models import EXTERNAL_OUTCOMES, ReferralState

SharedField = Literal[tuple(services.SHARED_FIELDS)]


class ReferralRequest(Request):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "service": "0190f2a4-5c3e-7b51-9d2a-4c1e8f0b6a37",
        "shared_fields": ["gender", "age_band", "languages", "needs"],
        "needs": "A safe place to stay for two weeks.",
    }]})

    service: UUID = Field(description="Id of a service of another provider (the `id` of "
                                      "/api/services): one that takes referrals in OpenNRM, "
                                      "or, with `external`, one outside OpenNRM.")
    external: bool = Field(False, description="The service is outside OpenNRM: the referral is "
                                              "recorded, and you contact the provider (the "
                                              "referral letter is printed on the referral's "
                                              "page). Its consent must name no agency.")
    follow_up_on: IsoDate | None = Field(
        None, description="With `external`: the day you will ask the provider what became of "
                          "the referral (a reminder); default: the service's answer time.")
    shared_fields: list[str] = Field(
        [], description="What the receiving agency may see: "
                        + ", ".join(services.SHARED_FIELDS) + ". Nothing else is shared.")
    needs: str = Field("", description="What the person needs from the service.")
    override_reason: str = Field(
        "", description="Only without a referral consent in force, and only for a supervisor "
                        "or national coordinator: why the referral cannot wait. Audited.")


class ReasonRequest(Request):
    reason: str = Field("", description="Required to decline, cancel or withdraw.")


class OutcomeRequest(Request):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "outcome": "accepted", "note": "Lawyer assigned; first meeting on Monday.",
    }]})

    outcome: str = Field(description="What became of a referral outside OpenNRM: "
                                     + ", ".join(codelists.entries(EXTERNAL_OUTCOMES))
                                     + " (/api/codelists/external_referral_outcomes).")
    note: str = Field("", description="Optional.")


class AssistanceRequest(Request):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "service_type": "shelter", "delivered_on": "2026-03-09",
        "description": "Two weeks in the shelter, room 4.",
    }]})

    service_type: str = Field(description="Codes from /api/codelists/service_types.")
    description: str
    delivered_on: IsoDate


class ReferralSummary(Schema):
    """A referral without anything about the person."""

    id: int
    case_number: str
    service: UUID = Field(description="Id of the service (the `id` of /api/services).")
    service_name: str
    referring_agency: str = Field(description="Code of the referring agency.")
    recipient_agency: str | None = Field(description="Code of the receiving agency; null for a "
                                                     "referral outside OpenNRM.")
    external: bool = Field(description="To a service outside OpenNRM: recorded by the "
                                       "referring agency, which contacts the provider.")
    state: ReferralState
    outcome: str = Field(description="Outside OpenNRM: what became of it, as the referring "
                                     "agency recorded it (codes of "
                                     "/api/codelists/external_referral_outcomes); empty until "
                                     "then and for referrals in OpenNRM.")
    sent_at: datetime
    respond_by: date = Field(description="The receiving agency's answer deadline; outside "
                                         "OpenNRM, the day to follow the referral up.")


class ReferralEventOut(Schema):
    from_state: ReferralState | None
    to_state: ReferralState
    at: datetime
    by: str | None = Field(description="Username of who made the change.")
    agency: str | None = Field(description="Code of their agency.")
    reason: str


class ReferralDetail(ReferralSummary):
    shared_fields: list[SharedField] = Field(description="What the referral shares.")
    shared: dict[str, str | list[str]] | None = Field(
        description="For the receiving agency: the shared values, while the referral is open "
                    "and the consent it rests on is in force; null otherwise and for the "
                    "referring agency.")
    needs: str | None = Field(description="For the referring agency only.")
    consent_overridden: bool
    consent_override_reason: str | None = Field(description="For the referring agency only.")
    history: list[ReferralEventOut]


class ReferralPage(Schema):
    items: list[ReferralSummary]
    count: int
    page: int
    page_size: int


class ReferralFilters(Schema):
    box: Literal["incoming", "outgoing"] | None = Field(
        None, description="incoming: addressed to your agency; outgoing: sent by it; "
                          "both when not given.")
    state: ReferralState | None = None
    page: int = Field(1, ge=1, le=100_000)
    page_size: int = Field(50, ge=1, le=200)


class AssistanceOut(Schema):
    id: int
    service_type: str
    description: str
    delivered_on: date
    delivered_by: str = Field(description="Username of who delivered it.")
    agency: str = Field(description="Code of the delivering agency.")
    recorded_at: datetime
