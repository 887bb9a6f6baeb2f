"""The request and response schemas of the protection routes (`api/protection.py`)."""

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from ninja import Field, Schema
from pydantic import ConfigDict, StrictBool

from opennrm.api.schemas import AgencyCode, IsoDate, Request
from opennrm.core.validation import TextLimit
from opennrm.protection.models import (
    CompensationOutcome,
    PermitStatus,
    RiskLevel,
    SupportPlanStatus,
)

Day = date  # the timeline entry has a field named "date"
Authority = Field("", max_length=TextLimit.NAME,
                  description="Name of the deciding authority when it has no agency on the "
                              "platform (a court, a migration office).")
Text = Field("", max_length=TextLimit.LONG)
Amount = Field(None, ge=0, lt=10**12, max_digits=14, decimal_places=2)


def _codes(codelist: str) -> str:
    return f"Codes from /api/codelists/{codelist}."


class Decider(Request):
    """Who decided: an agency on the platform, the name of another authority, or both."""

    deciding_agency: AgencyCode = ""
    deciding_authority: str = Authority

    def decider(self) -> dict:
        return {"deciding_agency_code": self.deciding_agency,
                "deciding_authority": self.deciding_authority}


class DecidedOut(Schema):
    deciding_agency: str | None = Field(description="Code of the deciding agency.")
    deciding_authority: str
    recorded_by: str | None = Field(description="Username of who recorded it.")
    recorded_at: datetime


class TimelineEntryOut(Schema):
    date: Day
    kind: str = Field(description="A stable code: first_contact, presumed_victim, "
                                  "identification_decision, reflection_period_granted, …")
    label: str = Field(description="In the language of the request.")
    decided_by: str
    recorded_by: str
    upcoming: bool = Field(description="The date is still ahead (an end, an expiry, a "
                                       "review due).")


class ReflectionPeriodGrant(Decider):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "starts_on": "2026-03-03", "ends_on": "2026-04-02", "decided_on": "2026-03-03",
        "deciding_authority": "National coordinator"}]})

    starts_on: IsoDate
    ends_on: IsoDate = Field(description="At least the country's minimum (30 days or more) "
                                      "after starts_on.")
    decided_on: IsoDate


class ReflectionPeriodExtension(Decider):
    ends_on: IsoDate = Field(description="The new last day: after the current one.")
    reason: str = Field(max_length=40, description=_codes("reflection_extension_reasons"))
    decided_on: IsoDate


class ExtensionOut(Schema):
    previous_ends_on: date
    new_ends_on: date
    reason: str
    decided_on: date
    deciding_agency: str | None
    deciding_authority: str


class ReflectionPeriodOut(DecidedOut):
    id: int
    starts_on: date
    ends_on: date = Field(description="The current end, extensions included.")
    original_ends_on: date
    decided_on: date
    extensions: list[ExtensionOut]


class PermitApplication(Request):
    permit_type: str = Field(max_length=40, description=_codes("permit_types"))
    applied_on: IsoDate


class PermitDecision(Decider):
    decision: Literal["granted", "refused"]
    decided_on: IsoDate
    expires_on: IsoDate | None = Field(None, description="Required when granted.")


class PermitRenewal(Decider):
    decided_on: IsoDate
    expires_on: IsoDate
    applied_on: IsoDate | None = Field(None, description="The decision date when not given.")


class ResidencePermitOut(Schema):
    id: int
    permit_type: str
    status: PermitStatus
    applied_on: date
    decided_on: date | None
    expires_on: date | None
    deciding_agency: str | None
    deciding_authority: str
    renews: int | None = Field(description="Id of the permit this one renews.")
    recorded_by: str | None
    recorded_at: datetime


class ProceedingRecord(Decider):
    stage: str = Field(max_length=40, description=_codes("proceeding_stages"))
    role: str = Field(max_length=40, description=_codes("proceeding_roles"))
    opened_on: IsoDate
    case_reference: str = Field("", max_length=TextLimit.NAME,
                                description="File number (encrypted).")
    protection_measures: str = Text
    non_punishment_considered: StrictBool = False
    non_punishment_note: str = Text


class ProceedingStage(Decider):
    stage: str = Field(max_length=40, description=_codes("proceeding_stages"))
    decided_on: IsoDate
    non_punishment_considered: StrictBool | None = Field(None, description="Unchanged when null.")
    non_punishment_note: str | None = Field(None, max_length=TextLimit.LONG,
                                            description="Unchanged when null.")


class StageOut(Schema):
    stage: str
    decided_on: date
    deciding_agency: str | None
    deciding_authority: str


class ProceedingOut(Schema):
    id: int
    opened_on: date
    stage: str
    role: str
    case_reference: str
    protection_measures: str
    non_punishment_considered: bool
    non_punishment_note: str
    deciding_agency: str | None
    deciding_authority: str
    stages: list[StageOut]
    recorded_by: str | None
    recorded_at: datetime


class ClaimRecord(Request):
    source: str = Field(max_length=40, description=_codes("compensation_sources"))
    filed_on: IsoDate
    amount_claimed: Decimal | None = Amount
    currency: str = Field(max_length=3, description="ISO 4217, such as MDL or EUR.")


class ClaimOutcome(Decider):
    outcome: Literal["awarded", "refused", "paid"]
    decided_on: IsoDate = Field(description="For a payment, the day it was paid.")
    amount_awarded: Decimal | None = Amount


class ClaimOut(Schema):
    id: int
    source: str
    filed_on: date
    amount_claimed: Decimal | None
    currency: str
    outcome: CompensationOutcome
    amount_awarded: Decimal | None
    decided_on: date | None
    paid_on: date | None
    deciding_agency: str | None
    deciding_authority: str
    recorded_by: str | None
    recorded_at: datetime


class ReturnPlanRecord(Decider):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "destination_country": "MD", "voluntary": True, "decided_on": "2026-04-01",
        "risk_assessed_on": "2026-03-28", "risk_assessed_by": "IOM Chisinau",
        "risk_level": "low", "risk_summary": "Family supportive; recruiter in prison.",
        "deciding_agency": "la-strada"}]})

    destination_country: str = Field(max_length=2, description=_codes("countries"))
    voluntary: StrictBool
    decided_on: IsoDate
    planned_return_on: IsoDate | None = None
    risk_assessed_on: IsoDate | None = None
    risk_assessed_by: str = Field("", max_length=TextLimit.NAME)
    risk_level: RiskLevel | Literal[""] = ""
    risk_summary: str = Text
    no_assessment_reason: str = Field("", max_length=TextLimit.LONG, description=(
        "For an adult returned without a risk assessment: why. A child's return always "
        "needs an assessment."))


class ReturnRecord(Request):
    returned_on: IsoDate
    reintegration_follow_up: str = Text
    follow_up_on: IsoDate | None = None


class ReturnPlanOut(Schema):
    id: int
    destination_country: str
    voluntary: bool
    decided_on: date
    deciding_agency: str | None
    deciding_authority: str
    planned_return_on: date | None
    risk_assessed_on: date | None
    risk_assessed_by: str
    risk_level: str
    risk_summary: str
    no_assessment_reason: str
    returned_on: date | None
    reintegration_follow_up: str
    follow_up_on: date | None
    recorded_by: str | None
    recorded_at: datetime


class ProtectionOut(Schema):
    reflection_periods: list[ReflectionPeriodOut]
    residence_permits: list[ResidencePermitOut]
    proceedings: list[ProceedingOut]
    compensation_claims: list[ClaimOut]
    return_plans: list[ReturnPlanOut]


class SupportPlanFields(Request):
    """The whole plan: PUT creates it, or replaces these fields of the existing one."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "objectives": "Safe housing; Romanian course; a job in catering.",
        "agreed_on": "2026-03-10", "responsible_agency": "la-strada",
        "next_review_on": "2026-04-10", "status": "active"}]})

    objectives: str = Field(max_length=TextLimit.LONG)
    agreed_on: IsoDate = Field(description="Kept as first recorded once the plan exists.")
    responsible_agency: AgencyCode = Field(
        "", description="Code of an agency (see /api/agencies); yours when empty.")
    next_review_on: IsoDate | None = None
    status: SupportPlanStatus = SupportPlanStatus.ACTIVE


class SupportActionRecord(Request):
    description: str = Field(max_length=TextLimit.NOTE)
    responsible_agency: AgencyCode = Field(
        "", description="Code of an agency (see /api/agencies); yours when empty.")
    due_on: IsoDate | None = None


class SupportActionDone(Request):
    done_on: IsoDate


class SupportReviewRecord(Request):
    reviewed_on: IsoDate
    note: str = Text
    next_review_on: IsoDate | None = None


class SupportActionOut(Schema):
    id: int
    description: str
    responsible_agency: str
    due_on: date | None
    done_on: date | None


class SupportReviewOut(Schema):
    id: int
    reviewed_on: date
    note: str
    next_review_on: date | None
    reviewed_by: str


class SupportPlanOut(Schema):
    objectives: str
    agreed_on: date
    responsible_agency: str
    status: SupportPlanStatus
    next_review_on: date | None
    closed_on: date | None
    actions: list[SupportActionOut]
    reviews: list[SupportReviewOut]
    created_by: str
    created_at: datetime
