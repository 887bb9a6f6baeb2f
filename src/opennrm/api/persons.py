"""/api/persons/search: find a person in any spelling (`cases.person_search`).

The name and birth date go in the JSON body, never in the address. The handler translates
HTTP to a call of the service and back; the rules (who is found, what is shown, the audit
entries) live there.
"""

from datetime import date
from typing import Literal

from django.http import HttpRequest
from ninja import Field, Router
from pydantic import BaseModel, StrictInt

from opennrm.api.problems import problems
from opennrm.api.schemas import IsoDate, Request
from opennrm.cases import person_search
from opennrm.cases.models import CaseStatus, VictimStatus
from opennrm.core.validation import TextLimit

CHANNEL = "api"

router = Router(tags=["persons"])


class PersonSearch(Request):
    """Any part of a name, and at most one of: a birth date, a year (with or without the
    month), an age range."""

    name: str = Field(max_length=TextLimit.IDENTITY,
                      description="Any part of the name, in any script or spelling.",
                      examples=["Mariia Shevchenko"])
    birth_date: IsoDate | None = None
    birth_year: StrictInt | None = Field(None, ge=1900, le=9999)
    birth_month: StrictInt | None = Field(None, ge=1, le=12,
                                          description="With birth_year.")
    age_from: StrictInt | None = Field(None, ge=0, le=130)
    age_to: StrictInt | None = Field(None, ge=0, le=130)
    limit: StrictInt = Field(person_search.DEFAULT_LIMIT, ge=1, le=person_search.MAX_LIMIT)


class MatchReason(BaseModel):
    field: Literal["given_name", "family_name", "aliases", "birth_date"]
    match: Literal["exact", "transliteration", "similar", "date", "swapped", "month", "year",
                   "near_year"]
    text: str = Field(description="The reason in the caller's language.")


class MatchedCase(BaseModel):
    """A case of the person found that you may open (GET /api/cases/{case_number})."""

    case_number: str
    status: CaseStatus
    victim_status: VictimStatus
    owner_agency: str = Field(description="Code of the agency that owns the case.")


class LinkableCase(BaseModel):
    """Another agency's case of the person found, opened to your agency (a referral): link
    a case of yours to it as the same person (POST /api/cases/{case_number}/same-person)."""

    case_number: str
    owner_agency: str


class FoundIdentity(BaseModel):
    given_name: str
    family_name: str
    aliases: list[str]
    birth_date: date | None
    birth_year: int | None


class PersonMatch(BaseModel):
    score: float = Field(description="Higher is a better match; only the order matters.")
    explanation: str = Field(description="Why it matched, in the caller's language.")
    reasons: list[MatchReason]
    identity: FoundIdentity | None = Field(
        description="Only for roles that may see identities, and persons with a case of "
                    "your agency.")
    cases: list[MatchedCase]
    linkable_cases: list[LinkableCase]

    @classmethod
    def from_match(cls, match: person_search.PersonMatch) -> "PersonMatch":
        person = match.person
        identity = None
        if match.identity_shown:
            identity = FoundIdentity(
                given_name=person.given_name, family_name=person.family_name,
                aliases=person.aliases or [],
                birth_date=date.fromisoformat(person.birth_date) if person.birth_date else None,
                birth_year=person.birth_year)
        return cls(
            score=match.score, explanation=match.explanation,
            reasons=[MatchReason(field=reason.part, match=reason.match, text=str(reason))
                     for reason in match.reasons],
            identity=identity,
            cases=[MatchedCase(case_number=case.case_number, status=case.status,
                               victim_status=case.victim_status,
                               owner_agency=case.owner_agency.code) for case in match.cases],
            linkable_cases=[LinkableCase(case_number=case.case_number,
                                         owner_agency=case.owner_agency.code)
                            for case in match.linkable_cases])


@router.post("/search", response={200: list[PersonMatch], **problems(400, 401, 422)},
             operation_id="searchPersons", summary="Find a person in any spelling")
def search_persons(request: HttpRequest, search: PersonSearch):
    """Ranked, best first, each with why it matched: words of the name (exact,
    transliteration, similar spelling) and the birth date (date, day and month swapped,
    month, year, year ±1). Only persons with a case you may see, or one opened to your
    agency for a same-person link. Every case shown is recorded in the audit trail. Call it
    before registering a case: "this person may already be known"."""
    query = person_search.clean_query(search.model_dump(exclude={"limit"}))
    return [PersonMatch.from_match(match)
            for match in person_search.search_persons(request.auth, query, limit=search.limit,
                                                      channel=CHANNEL)]
