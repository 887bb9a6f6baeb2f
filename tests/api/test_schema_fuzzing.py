"""Every API route fuzzed once by schemathesis over real HTTP, against records that exist.

Each operation in /api/openapi.json is sent valid and invalid requests generated from the
document; every answer must be no server error and as documented (status, content type,
body). Generated ids would only ever meet a 404, so the hooks below aim most of them at real
records (which one, the generated value decides, so hypothesis still varies it), and steer
most bodies past the services' code-list and date checks (random strings would only ever
meet a 422).

Who calls a route, and how many examples it gets, is decided by its group (`GROUPS`). Run
only these tests with `pytest -m fuzz`; leave them out with `-m "not fuzz"`.
"""

from dataclasses import dataclass
from datetime import date

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from opennrm.accounts.models import ApiToken, Role
from opennrm.api.api import api
from opennrm.cases.same_person import link_same_person
from opennrm.protection import services as protection
from opennrm.referrals import services as referrals
from tests.factories import (
    make_agency,
    make_agency_service,
    make_case,
    make_consent,
    make_referral,
    make_user,
)

pytestmark = [pytest.mark.fuzz, pytest.mark.django_db(transaction=True)]

# What every run checks: no server error, and every answer as documented.
CHECKS = [
    schemathesis.checks.not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@dataclass(frozen=True)
class Group:
    """Routes fuzzed alike: by whom (one of the users is drawn for each request) and with how
    many examples."""

    users: tuple[str, ...]
    max_examples: int


# The first group whose test matches a route's label applies; the last matches every route.
GROUPS = [
    (lambda label: "/statistics" in label or "/releases" in label,
     Group(users=("analyst",), max_examples=10)),
    # Both sides of a referral: the sender's and the recipient's answers differ.
    (lambda label: "referral" in label, Group(users=("caseworker", "recipient"),
                                              max_examples=40)),
    (lambda label: "/same-person" in label, Group(users=("caseworker",), max_examples=30)),
    (lambda label: label.split(" ", 1)[1] in PROTECTION_PATHS,
     Group(users=("caseworker",), max_examples=40)),
    (lambda label: True, Group(users=("caseworker",), max_examples=25)),
]

# Values the services accept, by body field, for steering generated bodies past their checks.
ACCEPTED_VALUES = {
    "gender": "female", "citizenships": ["MD"], "languages": ["ro"],
    "exploitation_forms": ["forced_labour"], "labour_sector": "A", "recruiter_relation": "",
    "recruitment_countries": [], "transit_countries": [], "exploitation_countries": ["RU"],
    "means_of_control": [], "identity_documents": [], "birth_date": "1990-01-05",
    "birth_year": None, "first_contact_on": "2026-03-02", "exploitation_started_on": None,
    "exploitation_ended_on": None, "closure_reason": "lost_contact", "purpose": "assistance",
    "recipient_agency": "", "recipient_node": "", "given_on": "2026-03-02",
    "decided_on": "2026-04-01", "withdrawn_on": "2026-03-09",
    # protection
    "starts_on": "2026-03-03", "ends_on": "2026-06-02", "deciding_authority": "Court",
    "deciding_agency": "", "permit_type": "cooperation", "applied_on": "2026-03-20",
    "expires_on": "2028-01-01", "stage": "trial", "role": "witness",
    "opened_on": "2026-03-10", "source": "civil", "filed_on": "2026-03-15",
    "currency": "EUR", "destination_country": "UA", "risk_level": "",
    "responsible_agency": "", "agreed_on": "2026-03-05",
}
# Where a field means something else on some routes.
ACCEPTED_BY_ROUTE = {
    "protection": {"reason": "recovery_needed"},
    "referral": {"service_type": "shelter", "delivered_on": "2026-03-05",
                 "shared_fields": ["gender"], "description": "Room 4.", "reason": "A reason."},
}


def operation_labels() -> list[str]:
    document = api.get_openapi_schema(path_prefix="/api/")
    return [f"{method.upper()} {path}" for path, operations in document["paths"].items()
            for method in operations]


def _protection_paths() -> set[str]:
    document = api.get_openapi_schema(path_prefix="/api/")
    return {path for path, operations in document["paths"].items()
            if any("protection" in operation["tags"] for operation in operations.values())}


PROTECTION_PATHS = _protection_paths()


def group_of(label: str) -> Group:
    return next(group for matches, group in GROUPS if matches(label))


def check_against_schema(operation, header_choices: list[dict], max_examples: int) -> None:
    """Send `operation` valid and invalid requests generated from the OpenAPI document, each
    with one of `header_choices`, and check every answer against the document."""
    requests = st.one_of(operation.as_strategy(GenerationMode.POSITIVE),
                         operation.as_strategy(GenerationMode.NEGATIVE))

    @given(requests, st.sampled_from(header_choices))
    @settings(max_examples=max_examples, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
    def keeps_to_schema(case, headers):
        case.call_and_validate(headers=headers, checks=CHECKS)

    keeps_to_schema()


@pytest.fixture
def world(live_server):
    """Real records to aim at: cases with a consent, a same-person link, a referral and every
    kind of protection record; the users who call the routes."""
    ngo, shelter = make_agency("la-strada", "ngo"), make_agency("casa-luminii", "ngo")
    caseworker = make_user(Role.CASEWORKER, ngo, "caseworker")
    recipient = make_user(Role.CASEWORKER, shelter, "shelter-worker")
    analyst = make_user(Role.ANALYST, make_agency("coordination", "central_government"),
                        "analyst")
    first = make_case(caseworker)
    second = make_case(caseworker, given_name="Иван", family_name="Иванов",
                       birth_date=date(1990, 1, 5))
    third = make_case(caseworker, given_name="Helena")
    consent = make_consent(caseworker, first)
    service = make_agency_service(shelter)
    referral = make_referral(caseworker, first, service, ["gender", "needs"], "A bed.")
    plan = protection.create_support_plan(caseworker, first, "Housing", date(2026, 3, 5))
    ids = {
        "consent_id": consent.pk,
        "link_id": link_same_person(caseworker, first, second.case_number).pk,
        "referral_id": referral.pk,
        "period_id": protection.grant_reflection_period(
            caseworker, first, date(2026, 3, 3), date(2026, 4, 2), date(2026, 3, 3),
            deciding_authority="Coordinator").pk,
        "permit_id": protection.record_residence_permit(caseworker, first, "cooperation",
                                                        date(2026, 3, 20)).pk,
        "proceeding_id": protection.record_proceeding(
            caseworker, first, "investigation", "victim", date(2026, 3, 10),
            deciding_authority="Prosecutor").pk,
        "claim_id": protection.record_compensation_claim(caseworker, first, "offender",
                                                         date(2026, 3, 15), "MDL", "100").pk,
        "plan_id": protection.plan_return(caseworker, first, "UA", True, date(2026, 4, 1),
                                          deciding_authority="Police",
                                          no_assessment_reason="Asked to go.").pk,
        "action_id": protection.add_support_action(caseworker, plan, "Lawyer").pk,
    }
    assert referrals.side_of(recipient, referral) == "recipient"
    return {"users": {"caseworker": caseworker, "recipient": recipient, "analyst": analyst},
            "cases": (first, second, third), "ids": ids, "service": service}


@pytest.fixture
def live_schema(world, live_server):
    """The live API's schema, with hooks that aim its requests at the world's records."""
    first, second, third = world["cases"]
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/openapi.json")

    @schema.hook
    def map_path_parameters(context, path_parameters):
        parameters = dict(path_parameters or {})
        if isinstance(parameters.get("case_number"), str):
            choice = len(parameters["case_number"]) % 4
            if choice:
                parameters["case_number"] = (first, second, first)[choice - 1].case_number
        for name, record_id in world["ids"].items():
            if isinstance(parameters.get(name), int) and parameters[name] % 3:
                parameters[name] = record_id
        if isinstance(parameters.get("name"), str) and len(parameters["name"]) % 2:
            parameters["name"] = "genders"
        return parameters or path_parameters

    @schema.hook
    def map_body(context, body):
        if not isinstance(body, dict) or len(body) % 3 == 0:
            return body
        label = context.operation.label if context.operation else ""
        values = dict(ACCEPTED_VALUES)
        if label.split(" ", 1)[-1] in PROTECTION_PATHS:
            values.update(ACCEPTED_BY_ROUTE["protection"])
        if "referral" in label:
            values.update(ACCEPTED_BY_ROUTE["referral"])
        steered = {name: value for name, value in values.items() if name in body}
        if "service" in body:
            steered["service"] = str(world["service"].hsds_id)
        if "/same-person" in label and isinstance(body.get("case_number"), str):
            # A case to link with: the one already linked, or one that is not.
            steered["case_number"] = (second, third)[len(body["case_number"]) % 2].case_number
        return {**body, **steered}

    @schema.hook
    def map_query(context, query):
        if not isinstance(query, dict):
            return query
        query = dict(query)
        if "period" in query and len(str(query["period"])) % 3:
            query["period"] = "2025"
        if query.get("format") in ("xlsx", "pdf"):
            query["format"] = "csv"  # tests/statistics covers the formats; keep this quick
        return query

    return schema


@pytest.mark.parametrize("label", operation_labels())
def test_the_api_keeps_to_its_schema(label, live_schema, world):
    """Valid and invalid requests alike: no server error, and every answer is declared."""
    group = group_of(label)
    headers = []
    for name in group.users:
        _, secret = ApiToken.issue(world["users"][name], "schemathesis")
        headers.append({"Authorization": f"Bearer {secret}"})
    operation = live_schema.find_operation_by_label(label)
    check_against_schema(operation, headers, max_examples=group.max_examples)
