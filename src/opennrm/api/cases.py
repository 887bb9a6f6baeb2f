"""/api/cases: register, list, find, read and change cases.

Handlers translate HTTP to calls of `cases.services` and `cases.access` and back; the
rules live there. A response that shows who the person is comes from `services.read_case`,
so each such disclosure is in the audit trail.
"""

from django.core.exceptions import ValidationError
from django.db.models import F, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from ninja import Path, Query, Router
from ninja.responses import Status

from opennrm.api.pagination import paginate
from opennrm.api.problems import problems, with_field_names
from opennrm.api.schemas import (
    CaseChanges,
    CaseDetail,
    CaseFilters,
    CasePage,
    CaseRegistration,
    CaseSummary,
    Closure,
    NameSearch,
    SamePersonLinkOut,
    SamePersonLinkRemoval,
    SamePersonLinkRequest,
    VictimStatusDecision,
)
from opennrm.cases import access, same_person, services
from opennrm.cases.models import Case

CHANNEL = "api"

CaseNumber = Path[str, {"max_length": 32, "pattern": r"^[A-Za-z0-9][A-Za-z0-9-]*$",
                        "examples": ["MD-26-7KQ3M9XA"]}]

LinkId = Path[int, {"ge": 1, "le": 2**63 - 1}]

router = Router(tags=["cases"])


SUMMARY_COLUMNS = (
    "case_number", "global_id", "status", "victim_status", "age_band", "is_child",
    "exploitation_forms", "first_contact_on", "registered_at",
)


def summaries(cases: QuerySet[Case]) -> QuerySet[dict]:
    """The list columns of `cases`, read in one query without loading (or decrypting) a
    person."""
    return cases.values(*SUMMARY_COLUMNS, gender=F("person__gender"),
                        owner_agency_code=F("owner_agency__code"))


def _detail(request: HttpRequest, case_number: str) -> dict:
    case = services.read_case(request.auth, case_number, channel=CHANNEL)
    return CaseDetail.from_case(case, with_identity=access.can_see_identity(request.auth))


@router.get("", response={200: CasePage, **problems(401, 422)}, operation_id="listCases",
            summary="List the cases you may see")
def list_cases(request: HttpRequest, filters: Query[CaseFilters]):
    """Newest first, without names or other identity data."""
    cases = access.cases_visible_to(request.auth)
    if filters.status:
        cases = cases.filter(status=filters.status)
    if filters.victim_status:
        cases = cases.filter(victim_status=filters.victim_status)
    return paginate(summaries(cases), filters, count_of=cases)


@router.post("/search", response={200: list[CaseSummary], **problems(400, 401, 422)},
             operation_id="searchCases", summary="Find cases by exact name and birth date")
def search_cases(request: HttpRequest, search: NameSearch):
    """Name order, case, diacritics and script do not matter (Иванов finds Ivanov).

    The name and birth date go in the JSON body, never in the address: web servers,
    proxies and browsers keep addresses in their logs and history.
    """
    return services.find_cases_by_name(request.auth, search.given_name, search.family_name,
                                       search.birth_date, channel=CHANNEL, read=summaries)


@router.post("", response={201: CaseDetail, **problems(400, 401, 403, 422)},
             operation_id="registerCase", summary="Register a case")
def register_case(request: HttpRequest, response: HttpResponse, registration: CaseRegistration):
    """A new person and a case owned by your agency, with the status of presumed victim."""
    case = services.register_case(request.auth, registration.model_dump(exclude_unset=True),
                                  channel=CHANNEL)
    response["Location"] = reverse("api:read_case", args=[case.case_number])
    return Status(201, _detail(request, case.case_number))


@router.get("/{case_number}", response={200: CaseDetail, **problems(401, 404, 422)},
            operation_id="readCase", summary="Read a case", url_name="read_case")
def read_case(request: HttpRequest, case_number: CaseNumber):
    """Identity fields are filled only for roles that may see who the person is."""
    return _detail(request, case_number)


@router.patch("/{case_number}", response={200: CaseDetail, **problems(400, 401, 403, 404, 422)},
              operation_id="updateCase", summary="Change fields of a case")
def update_case(request: HttpRequest, case_number: CaseNumber, changes: CaseChanges):
    """Only the fields sent are changed and recorded in the audit trail."""
    case = access.get_visible_case(request.auth, case_number)
    services.update_case(request.auth, case, changes.model_dump(exclude_unset=True),
                         channel=CHANNEL)
    return _detail(request, case_number)


@router.post("/{case_number}/close",
             response={200: CaseDetail, **problems(400, 401, 403, 404, 422)},
             operation_id="closeCase", summary="Close a case")
def close_case(request: HttpRequest, case_number: CaseNumber, closure: Closure):
    case = access.get_visible_case(request.auth, case_number)
    services.close_case(request.auth, case, closure.closure_reason, channel=CHANNEL)
    return _detail(request, case_number)


@router.post("/{case_number}/reopen", response={200: CaseDetail, **problems(401, 403, 404, 422)},
             operation_id="reopenCase", summary="Reopen a closed case")
def reopen_case(request: HttpRequest, case_number: CaseNumber):
    case = access.get_visible_case(request.auth, case_number)
    services.reopen_case(request.auth, case, channel=CHANNEL)
    return _detail(request, case_number)


@router.post("/{case_number}/victim-status",
             response={200: CaseDetail, **problems(400, 401, 403, 404, 422)},
             operation_id="decideVictimStatus", summary="Record a decision on victim status")
def decide_victim_status(request: HttpRequest, case_number: CaseNumber,
                         decision: VictimStatusDecision):
    """For example the formal identification of the person as a victim by an authority."""
    case = access.get_visible_case(request.auth, case_number)
    try:
        services.decide_victim_status(request.auth, case, decision.victim_status,
                                      decision.decided_on, channel=CHANNEL)
    except ValidationError as error:
        raise with_field_names(error, {"victim_status_decided_on": "decided_on"}) from error
    return _detail(request, case_number)


# --- same person as ------------------------------------------------------------------------

@router.get("/{case_number}/same-person",
            response={200: list[SamePersonLinkOut], **problems(401, 404, 422)},
            operation_id="listSamePersonLinks",
            summary="List the cases linked as the same person")
def list_same_person_links(request: HttpRequest, case_number: CaseNumber):
    """Only links to cases you may see; a link to a case you may not see is left out."""
    case = access.get_visible_case(request.auth, case_number)
    with_reasons = access.can_see_identity(request.auth)
    return [SamePersonLinkOut.from_link(link, case,
                                        reason=link.reason if with_reasons else None)
            for link in same_person.read_same_person_links(request.auth, case,
                                                           channel=CHANNEL)]


@router.post("/{case_number}/same-person",
             response={201: SamePersonLinkOut, **problems(400, 401, 403, 404, 422)},
             operation_id="linkSamePerson",
             summary="Link another case as the same person")
def link_same_person(request: HttpRequest, case_number: CaseNumber,
                     link: SamePersonLinkRequest):
    """The statistics then count the persons of both cases (and of any case already linked
    to them) as one person."""
    case = access.get_visible_case(request.auth, case_number)
    try:
        created = same_person.link_same_person(request.auth, case, link.case_number,
                                               link.reason, channel=CHANNEL)
    except ValidationError as error:
        raise with_field_names(error, {"same_as_case": "case_number"}) from error
    return Status(201, SamePersonLinkOut.from_link(created, case, reason=created.reason))


@router.post("/{case_number}/same-person/{link_id}/remove",
             response={200: SamePersonLinkOut, **problems(400, 401, 403, 404, 422)},
             operation_id="removeSamePersonLink", summary="Remove a wrong same-person link")
def remove_same_person_link(request: HttpRequest, case_number: CaseNumber, link_id: LinkId,
                            removal: SamePersonLinkRemoval):
    """The link stays on record, marked removed, with the reason."""
    case = access.get_visible_case(request.auth, case_number)
    link = next((link for link in same_person.same_person_links(request.auth, case)
                 if link.pk == link_id), None)
    if link is None:
        raise Http404("This case has no active same-person link with this id.")
    try:
        same_person.remove_same_person_link(request.auth, link, removal.reason,
                                            channel=CHANNEL)
    except ValidationError as error:
        raise with_field_names(error, {"removal_reason": "reason"}) from error
    return SamePersonLinkOut.from_link(link, case, reason=None)
