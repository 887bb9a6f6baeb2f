"""The referral routes checked against the OpenAPI document by schemathesis, aimed at a real
referral (the general fuzzing in tests/api mostly meets 404s on them)."""

from datetime import date

import pytest
import schemathesis

from opennrm.accounts.models import ApiToken, Role
from opennrm.cases import services as case_services
from opennrm.referrals import services
from tests.api.conftest import check_against_schema
from tests.api.test_openapi import operation_labels
from tests.conftest import make_agency, make_user, person_data
from tests.referrals.conftest import make_service

LABELS = [label for label in operation_labels() if "referral" in label]
ACCEPTED = {"service_type": "shelter", "delivered_on": "2026-03-05", "shared_fields": ["gender"],
            "description": "Room 4.", "reason": "A reason."}


@pytest.fixture
def world(live_server, transactional_db):
    ngo, shelter = make_agency("la-strada", "ngo"), make_agency("casa-luminii", "ngo")
    sender = make_user(Role.CASEWORKER, ngo, "caseworker")
    recipient = make_user(Role.CASEWORKER, shelter, "shelter-worker")
    case = case_services.register_case(sender, person_data())
    case_services.record_consent(sender, case, "referral", date(2026, 3, 2))
    service = make_service(shelter)
    referral = services.refer_case(sender, case, service, ["gender", "needs"], "A bed.")
    return {"sender": sender, "recipient": recipient, "case": case, "service": service,
            "referral": referral}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("side", ["sender", "recipient"])
@pytest.mark.parametrize("label", LABELS)
def test_the_referral_routes_keep_to_their_schema(label, side, world, live_server):
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/openapi.json")

    @schema.hook
    def map_path_parameters(context, path_parameters):
        parameters = dict(path_parameters or {})
        if isinstance(parameters.get("referral_id"), int) and parameters["referral_id"] % 4:
            parameters["referral_id"] = world["referral"].pk
        if isinstance(parameters.get("case_number"), str) and len(parameters["case_number"]) % 4:
            parameters["case_number"] = world["case"].case_number
        return parameters or path_parameters

    @schema.hook
    def map_body(context, body):
        if not isinstance(body, dict) or len(body) % 3 == 0:
            return body
        steered = {name: value for name, value in ACCEPTED.items() if name in body}
        if "service" in body:
            steered["service"] = world["service"].pk
        return {**body, **steered}

    _, secret = ApiToken.issue(world[side], "schemathesis")
    headers = {"Authorization": f"Bearer {secret}"}
    operation = schema.find_operation_by_label(label)
    check_against_schema(operation, headers, max_examples=20)
