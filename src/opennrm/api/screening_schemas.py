"""The request and response schemas of the screening routes (`api/screening.py`)."""

from datetime import date, datetime
from typing import Literal

from ninja import Field, Schema
from pydantic import BaseModel, ConfigDict

from opennrm.api.schemas import IsoDate, Request
from opennrm.cases.models import VictimStatus
from opennrm.screening.models import Decision, Outcome

Labels = dict[str, str]
Strength = Literal["strong", "medium", "weak"]


class IndicatorSourceOut(BaseModel):
    document: str = Field(description="Publication id, e.g. WCMS_105023 (ILO/EC, 2009).")
    list: str = Field(description="The list of that publication, e.g. adult-labour.")
    dimension: str
    tier: Strength
    verified: bool = Field(description="Whether the tier was checked against the published "
                                       "text itself.")
    page: int | None = None


class IndicatorOut(BaseModel):
    code: str
    strength: Strength
    labels: Labels
    source: IndicatorSourceOut | None = Field(
        None, description="Where the indicator and its tier come from.")
    departure: str | None = Field(None, description="Why the list departs from its source.")
    note: str | None = Field(None, description="What is uncertain about this indicator.")


class DimensionOut(BaseModel):
    code: str
    group: Literal["recruitment", "exploitation", "destination"]
    labels: Labels
    note: str | None = None
    indicators: list[IndicatorOut]


class RuleOut(BaseModel):
    dimension_present: list[dict[str, int]] = Field(
        description="Alternatives of minimum counts (strong, medium, weak, medium_or_weak): "
                    "a dimension is present when its observed indicators meet any one.")
    probable_victim: list[list[str]] = Field(
        description="Groups of dimensions: a probable victim has a dimension present in "
                    "every group (the children's lists need recruitment and exploitation "
                    "only). The list's own rule always applies.")


class IndicatorSetSummary(BaseModel):
    """A list as in `screening/indicators/schema.json`, labels by language."""

    id: str
    version: str
    population: Literal["adult", "child"] = Field(
        description="The age group the list and its rule are for. A person of the other "
                    "age group is screened with it only with age_group_override.")
    exploitation: Literal["labour", "sexual"]
    labels: Labels
    source: str
    uncertain: str = Field(description="What is uncertain in this encoding; empty when "
                                       "nothing is.")


class IndicatorSetOut(IndicatorSetSummary):
    dimensions: list[DimensionOut]
    rule: RuleOut


class ScreeningPreviewRequest(Request):
    indicator_set: str = Field(description="Id of the list (see /api/indicator-sets).")
    version: str
    observed: list[str] = Field(description="Codes of the observed indicators.")


class ScreeningRequest(Request):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "indicator_set": "ilo-ec-adult-labour", "version": "2009.1", "screened_on": "2026-03-05",
        "observed": {"recruitment_violence_on_victim": "Beaten when she asked to leave."},
    }]})

    indicator_set: str = Field(description="Id of the list (see /api/indicator-sets).")
    version: str
    screened_on: IsoDate | None = Field(None, description="Today when not given.")
    observed: dict[str, str] = Field(
        description="Each observed indicator code with a short note (may be empty).")
    age_group_override: str = Field(
        "", description="Only when the list is not for the person's age group (a list for "
                        "adults for a person who may be a child, or the reverse): why it "
                        "is used. Without it such a screening is refused (422 on "
                        "indicator_set). Recorded, encrypted and audited.")


class DimensionCount(Schema):
    code: str
    present: bool
    strong: int
    medium: int
    weak: int


class ScreeningPreview(Schema):
    indicator_set: str
    version: str
    outcome: Outcome
    present_dimensions: list[str]
    dimensions: list[DimensionCount]
    treated_as_child: bool = Field(description="The list's rule is the children's one.")
    fits_person: bool = Field(description="The list is for the person's age group today; "
                                          "if not, recording needs age_group_override.")
    explanation: list[str] = Field(description="In the language of the request.")


class ScreeningOut(Schema):
    id: int
    indicator_set: str
    version: str
    screened_on: date
    outcome: Outcome
    present_dimensions: list[str]
    treated_as_child: bool
    age_group_override: str = Field(description="Why a list for another age group was "
                                                "used; empty when the list fits.")
    observed: list[str]
    notes: dict[str, str] = Field(description="The screener's note beside an indicator.")
    explanation: list[str] = Field(description="In the language of the request.")
    screened_by: str = Field(description="Username of the screener.")
    agency: str = Field(description="Code of the screener's agency.")
    recorded_at: datetime


class IdentificationRequest(Request):
    decision: Decision
    decided_on: IsoDate
    grounds: str
    appeal: str = Field("", description="Appeal lodged, by whom, outcome.")


class IdentificationDecisionOut(Schema):
    id: int
    decision: Decision
    decided_on: date
    deciding_agency: str = Field(description="Code of the deciding agency.")
    grounds: str
    appeal: str
    decided_by: str = Field(description="Username of who recorded the decision.")
    recorded_at: datetime


class IdentificationDecisionRecorded(IdentificationDecisionOut):
    victim_status: VictimStatus = Field(description="The victim status of the case now.")


class QueueFilters(Schema):
    page: int = Field(1, ge=1)
    page_size: int = Field(50, ge=1, le=200)


class QueueEntry(BaseModel):
    """A case awaiting a formal decision: no name, birth date or other identity data."""

    case_number: str
    first_screened_on: date
    days_waiting: int
    age_band: str
    is_child: bool
    exploitation_forms: list[str]
    owner_agency: str = Field(description="Code of the agency that owns the case.")


class QueuePage(BaseModel):
    items: list[QueueEntry]
    count: int
    page: int
    page_size: int
