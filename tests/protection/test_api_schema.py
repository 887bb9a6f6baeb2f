"""The protection routes fuzzed by schemathesis against records that exist.

tests/api/test_openapi.py fuzzes every route, but with no protection records its ids meet
only 404s; here the ids point at a real period, permit, proceeding, claim, return and
support-plan action most of the time, so the services' answers are checked too.
"""

from datetime import date

import pytest
import schemathesis

from opennrm.accounts.models import ApiToken
from opennrm.api.api import api
from opennrm.cases import services as case_services
from opennrm.protection import services
from tests.api.conftest import check_against_schema
from tests.conftest import person_data

ACCEPTED_VALUES = {
    "starts_on": "2026-03-03", "ends_on": "2026-06-02", "decided_on": "2026-04-01",
    "deciding_authority": "Court", "deciding_agency": "", "reason": "recovery_needed",
    "permit_type": "cooperation", "applied_on": "2026-03-20", "expires_on": "2028-01-01",
    "stage": "trial", "role": "witness", "opened_on": "2026-03-10", "source": "civil",
    "filed_on": "2026-03-15", "currency": "EUR", "destination_country": "UA",
    "risk_level": "", "responsible_agency": "", "agreed_on": "2026-03-05",
}


def protection_labels() -> list[str]:
    document = api.get_openapi_schema(path_prefix="/api/")
    return [f"{method.upper()} {path}" for path, operations in document["paths"].items()
            for method, operation in operations.items() if "protection" in operation["tags"]]


@pytest.fixture
def live_schema(live_server, caseworker):
    case = case_services.register_case(caseworker, person_data())
    ids = {
        "period_id": services.grant_reflection_period(
            caseworker, case, date(2026, 3, 3), date(2026, 4, 2), date(2026, 3, 3),
            deciding_authority="Coordinator").pk,
        "permit_id": services.record_residence_permit(caseworker, case, "cooperation",
                                                      date(2026, 3, 20)).pk,
        "proceeding_id": services.record_proceeding(
            caseworker, case, "investigation", "victim", date(2026, 3, 10),
            deciding_authority="Prosecutor").pk,
        "claim_id": services.record_compensation_claim(caseworker, case, "offender",
                                                       date(2026, 3, 15), "MDL", "100").pk,
        "plan_id": services.plan_return(caseworker, case, "UA", True, date(2026, 4, 1),
                                        deciding_authority="Police",
                                        no_assessment_reason="Asked to go.").pk,
    }
    plan = services.create_support_plan(caseworker, case, "Housing", date(2026, 3, 5))
    ids["action_id"] = services.add_support_action(caseworker, plan, "Lawyer").pk
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/openapi.json")

    @schema.hook
    def map_path_parameters(context, path_parameters):
        parameters = dict(path_parameters or {})
        if isinstance(parameters.get("case_number"), str) and len(parameters["case_number"]) % 3:
            parameters["case_number"] = case.case_number
        for name, record_id in ids.items():
            if isinstance(parameters.get(name), int) and parameters[name] % 3:
                parameters[name] = record_id
        return parameters or path_parameters

    @schema.hook
    def map_body(context, body):
        if not isinstance(body, dict) or len(body) % 3 == 0:
            return body
        return {**body, **{name: value for name, value in ACCEPTED_VALUES.items()
                           if name in body}}

    return schema


@pytest.fixture
def auth_headers(caseworker):
    _, secret = ApiToken.issue(caseworker, "schemathesis")
    return {"Authorization": f"Bearer {secret}"}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("label", protection_labels())
def test_the_protection_routes_keep_to_their_schema(label, live_schema, auth_headers):
    operation = live_schema.find_operation_by_label(label)
    check_against_schema(operation, auth_headers, max_examples=40)
