"""Every route that takes an object's id validates ownership: generated from the URL resolver
(the web pages) and the OpenAPI document (the API).

For each such route, a user of another agency, with the role that would otherwise let them
use it, asks for agency A's object: the answer is 404 or 403, never the object, and no
audit entry is written about the case (nothing was read or changed). Then the owning
agency's user asks the same and is not told 404, which shows the id was real.

The ids come from `OWNED_IDS` (a factory of agency A's object for each parameter name) and,
for the web's `pk`, from `OWNED_PKS` by route name. A new route whose parameter is in
neither, nor in `NOT_OWNED`, fails the suite: "add ownership coverage for ROUTE".

Criminal cases are held by police and prosecution agencies only: on the routes of a criminal
case (`criminal_case_id`), the owner is the world's police agency (`justice_agency`) and the
intruder an investigator of another police agency.
"""

import re
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from opennrm.accounts.models import ApiToken, Role
from opennrm.api.api import api
from opennrm.audit.models import AuditEntry
from opennrm.casefile.services import add_attachment
from opennrm.cases import services as case_services
from opennrm.cases import transfer
from opennrm.cases.same_person import link_same_person
from opennrm.justice import services as justice
from opennrm.justice import victims
from opennrm.protection import services as protection
from opennrm.referrals.views import ACTIONS as REFERRAL_ACTIONS
from opennrm.reminders.models import Notification
from opennrm.screening import services as screening
from tests.factories import (
    make_agency,
    make_agency_service,
    make_case,
    make_consent,
    make_referral,
    make_user,
)

# The person of agency A's case: no answer to the other agency may name her.
NAME = "Popescu"


@dataclass
class World:
    """Agency A's objects, one of each kind a route can name, and the users who ask."""

    owner_agency: object
    other_agency: object
    justice_agency: object = None
    owners: dict = field(default_factory=dict)
    objects: dict = field(default_factory=dict)

    def owner(self, role: str):
        if role not in self.owners:
            self.owners[role] = make_user(role, self.owner_agency)
        return self.owners[role]

    def justice_owner(self, role: str):
        """A user of the police agency in charge of the world's criminal case."""
        key = ("justice", role)
        if key not in self.owners:
            self.owners[key] = make_user(role, self.justice_agency)
        return self.owners[key]

    def owner_for(self, route: "Route", role: str):
        if CRIMINAL_CASE_ID in route.parameters:
            return self.justice_owner(role)
        return self.owner(role)


def build_world() -> World:
    world = World(owner_agency=make_agency("la-strada", "ngo"),
                  other_agency=make_agency("police-chisinau", "law_enforcement"))
    caseworker = world.owner(Role.CASEWORKER)
    case = make_case(caseworker)
    other_case = make_case(caseworker, given_name="Olena")
    consent = make_consent(caseworker, case)
    shelter = make_agency("casa-luminii", "ngo")
    plan = protection.create_support_plan(caseworker, case, "Housing", date(2026, 3, 5))
    world.objects = {
        "case": case,
        "consent": consent,
        "link": link_same_person(caseworker, case, other_case.case_number),
        "screening": screening.record_screening(caseworker, case, "ilo-ec-adult-labour",
                                                "2009.1", {}, date(2026, 3, 5)),
        "referral": make_referral(caseworker, case, make_agency_service(shelter)),
        "own_service": make_agency_service(world.owner_agency, "La Strada day centre"),
        "period": protection.grant_reflection_period(
            caseworker, case, date(2026, 3, 3), date(2026, 4, 2), date(2026, 3, 3),
            deciding_authority="Coordinator"),
        "permit": protection.record_residence_permit(caseworker, case, "cooperation",
                                                     date(2026, 3, 20)),
        "proceeding": protection.record_proceeding(
            caseworker, case, "investigation", "victim", date(2026, 3, 10),
            deciding_authority="Prosecutor"),
        "claim": protection.record_compensation_claim(caseworker, case, "offender",
                                                      date(2026, 3, 15), "MDL", "100"),
        "return_plan": protection.plan_return(caseworker, case, "UA", True, date(2026, 4, 1),
                                              deciding_authority="Police",
                                              no_assessment_reason="Asked to go."),
        "action": protection.add_support_action(caseworker, plan, "Lawyer"),
        "notification": Notification.objects.create(user=caseworker, kind="test", key="t",
                                                    message="A referral was accepted."),
        "token": ApiToken.issue(caseworker, "ownership")[0],
        "trm_referral": _trm_referral(case),
        "attachment": add_attachment(caseworker, case, "other", "scan.pdf",
                                     b"%PDF-1.7\n%%EOF\n"),
        "candidate_pair": _candidate_pair(case, other_case),
        **_transfers(world, shelter),
        **_criminal_case(world),
    }
    return world


def _candidate_pair(case, other_case):
    """Two persons of agency A's cases that the linkage job proposes as one person."""
    from opennrm.linkage.models import CandidatePair

    first, second = sorted((case.person_id, other_case.person_id))
    return CandidatePair.objects.create(person_id=first, other_person_id=second, origin="run",
                                        match_probability=0.97, match_weight=5.0)


def _criminal_case(world: World) -> dict:
    """A criminal case of another police agency than the intruder's, with one of each of its
    records: a person, a victim (a case of agency A), a cooperation request, a share."""
    world.justice_agency = make_agency("police-balti", "law_enforcement")
    investigator = world.justice_owner(Role.CASEWORKER)
    criminal_case = justice.open_criminal_case(investigator, "2026-0417", "thb",
                                               date(2026, 3, 1))
    victim = make_case(world.owner(Role.CASEWORKER), given_name="Maria")
    return {
        "criminal_case": criminal_case,
        "suspect": justice.record_suspect(
            investigator, criminal_case, "male", "recruiter", date(2026, 3, 4),
            given_name="Vasile", family_name=NAME, birth_date=date(1970, 1, 1)),
        "victim_link": victims.link_victim(investigator, criminal_case,
                                           world.owner_agency.code, victim.case_number,
                                           "victim", date(2026, 3, 5)),
        "cooperation_request": justice.record_cooperation_request(
            investigator, criminal_case, "mla", "sent", "RO", date(2026, 3, 8),
            note=f"Find {NAME}"),
        "criminal_case_share": justice.share_criminal_case(
            investigator, criminal_case,
            make_agency("prosecutor-general", "prosecution").code),
    }


def _transfers(world: World, shelter) -> dict:
    """A transfer waiting for agency A's answer (from `shelter`), and a case agency A
    transferred to `shelter` (its closed record of it)."""
    shelter_supervisor = make_user(Role.SUPERVISOR, shelter)
    incoming = make_case(make_user(Role.CASEWORKER, shelter), given_name="Ana",
                         family_name="Rusu")
    case_services.record_consent(shelter_supervisor, incoming, "transfer", date(2026, 3, 2),
                                 recipient_agency_code=world.owner_agency.code)
    handed_on = make_case(world.owner(Role.CASEWORKER), given_name="Ion")
    case_services.record_consent(world.owner(Role.CASEWORKER), handed_on, "transfer",
                                 date(2026, 3, 2), recipient_agency_code=shelter.code)
    accepted = transfer.request_transfer(world.owner(Role.SUPERVISOR), handed_on, shelter.code)
    return {
        "transfer_to_answer": transfer.request_transfer(shelter_supervisor, incoming,
                                                        world.owner_agency.code),
        "transfer_handed_on": transfer.accept_transfer(shelter_supervisor, accepted),
    }


def _trm_referral(case):
    """Agency A's case offered to a partner node (a transnational referral sent)."""
    import uuid

    from django.utils import timezone

    from opennrm.transnational.models import Partner, TransnationalReferral

    partner = Partner.objects.create(
        node_id=uuid.uuid4(), country="UA", name="Ukraine NRM", endpoint="https://ua.example",
        valid_until=timezone.now(), card={}, keys={}, fingerprint="0" * 64)
    return TransnationalReferral.objects.create(
        direction="out", partner=partner, global_case_id=case.global_id, case=case,
        agency=case.owner_agency, stage="first_assistance", mode="shared",
        preview={"sex": "female"}, status="accepted", created_at=timezone.now())


# Agency A's object for each id a route takes (the API's and the web's parameter names).
OWNED_IDS = {
    "case_number": lambda world: world.objects["case"].case_number,
    "consent_id": lambda world: world.objects["consent"].pk,
    "link_id": lambda world: world.objects["link"].pk,
    "referral_id": lambda world: world.objects["referral"].pk,
    "period_id": lambda world: world.objects["period"].pk,
    "permit_id": lambda world: world.objects["permit"].pk,
    "proceeding_id": lambda world: world.objects["proceeding"].pk,
    "claim_id": lambda world: world.objects["claim"].pk,
    "plan_id": lambda world: world.objects["return_plan"].pk,
    "action_id": lambda world: world.objects["action"].pk,
    "notification_id": lambda world: world.objects["notification"].pk,
    "token_id": lambda world: world.objects["token"].pk,
    "criminal_case_id": lambda world: world.objects["criminal_case"].pk,
}
CRIMINAL_CASE_ID = "criminal_case_id"
# The web's routes call their record `pk`: which record it is depends on the route.
OWNED_PKS = {
    "reflection-period-extend": "period",
    "permit-decide": "permit",
    "permit-renew": "permit",
    "proceeding-stage": "proceeding",
    "claim-outcome": "claim",
    "return-record": "return_plan",
    "support-action-complete": "action",
    "screening-detail": "screening",
    "referral-detail": "referral",
    "assistance-new": "referral",
    "referral-change": "referral",
    "referral-outcome": "referral",
    "referral-letter": "referral",
    "trm-referral": "trm_referral",
    "trm-referral-decide": "trm_referral",
    "trm-referral-status": "trm_referral",
    "trm-referral-correct": "trm_referral",
    "attachment-download": "attachment",
    "transfer-answer": "transfer_to_answer",
    "case-former-record": "transfer_handed_on",
    "suspect-detail": "suspect",
    "suspect-identity": "suspect",
    "suspect-indictment": "suspect",
    "suspect-outcome": "suspect",
    "victim-unlink": "victim_link",
    "cooperation-request": "cooperation_request",
    "criminal-case-share-withdraw": "criminal_case_share",
    "candidate-pair": "candidate_pair",
}
# Parameters that name no agency's object: national reference data and national statistics,
# which every agency reads alike, or a word the route takes. A route that takes only these
# has no ownership to validate.
NOT_OWNED = {
    "name": "a code list (reference data)",
    "set_id": "an indicator list (reference data)",
    "version": "an indicator list's version (reference data)",
    "table_set": "a statistics table set (national)",
    "release_id": "a statistics release: published, national aggregates",
    "agreement_id": "a linkage agreement is the node's (administrators and national "
                    "coordinators)",
    "round_id": "a linkage round is the node's (national coordinators only)",
    "fmt": "a file format",
    "service_id": "the service directory is national reference data",
    "provider_id": "the service directory is national reference data",
    "user_id": "the administrator manages the node's accounts, not one agency's",
    "code": "the administrator manages the node's agencies",
    "message_id": "the transnational message log belongs to the node (administrators only)",
    "node_id": "a partner node is the node's, not an agency's (administrators only)",
}
# Values for the words a route takes besides ids: each value is tried.
WORDS = {"action": sorted(REFERRAL_ACTIONS)}
# Routes on a national object that still act for one agency: the staff of a service's
# provider report its free places, no one else.
AGENCY_ROUTES_ON_NATIONAL_IDS = {
    "service-capacity": {"service_id": lambda world: world.objects["own_service"].hsds_id},
    "POST /api/services/{service_id}/capacity":
        {"service_id": lambda world: world.objects["own_service"].hsds_id},
}
# Who would use a route, when not a caseworker: formal identification is decided by a
# national coordinator (a role named in OPENNRM_IDENTIFICATION_DECIDERS); supervisors assign
# and transfer cases and answer transfers.
ROLES = {
    "case-assign": Role.SUPERVISOR,
    "case-transfer": Role.SUPERVISOR,
    "transfer-answer": Role.SUPERVISOR,
    "candidate-pair": Role.SUPERVISOR,
    "identification-new": Role.NATIONAL_COORDINATOR,
    "GET /api/cases/{case_number}/identification-decisions": Role.NATIONAL_COORDINATOR,
    "POST /api/cases/{case_number}/identification-decisions": Role.NATIONAL_COORDINATOR,
}
# Routes that answer another agency's id exactly as they answer a missing one, instead of
# with 404, and leave the object alone: marking a notification read only ever marks one's
# own; a plain GET of the identity panel only sends the browser to the case page (which is
# a 404 for them).
ANSWER_AS_FOR_A_MISSING_ID = {"notification-read", "case-identity"}
MISSING = {"case_number": "MD-26-NOSUCH00"}
# Values the API's request bodies take, by field: enough for a request to reach the service.
BODY_VALUES = {
    "reason": "recovery_needed", "withdrawn_on": "2026-03-09", "decided_on": "2026-04-01",
    "ends_on": "2026-05-02", "deciding_authority": "Court", "decision": "refused",
    "expires_on": "2027-09-30", "stage": "trial", "outcome": "refused",
    "returned_on": "2026-04-10", "done_on": "2026-03-20", "reviewed_on": "2026-04-05",
    "description": "Lawyer", "objectives": "Housing", "agreed_on": "2026-03-05",
    "status": "active", "starts_on": "2026-03-03", "permit_type": "cooperation",
    "applied_on": "2026-03-20", "role": "witness", "opened_on": "2026-03-10",
    "source": "civil", "filed_on": "2026-03-15", "currency": "EUR",
    "destination_country": "UA", "voluntary": True, "purpose": "referral",
    "given_on": "2026-03-02", "closure_reason": "lost_contact", "victim_status": "presumed",
    "service": "00000000-0000-4000-8000-000000000001", "shared_fields": ["gender"],
    "service_type": "shelter",
    "delivered_on": "2026-03-05", "indicator_set": "ilo-ec-adult-labour",
    "version": "2009.1", "observed": {}, "screened_on": "2026-03-05", "grounds": "Found.",
    "places_available": 1, "case_number": "X", "status_on": "2026-03-05",
}
# Where a field means something else on one route.
BODY_VALUES_BY_ROUTE = {
    "POST /api/cases/{case_number}/screenings/preview": {"observed": []},
    "POST /api/cases/{case_number}/identification-decisions": {"decision": "identified"},
}
# Values of the API's required query parameters.
QUERY_VALUES = {"service_type": "shelter"}


@dataclass(frozen=True)
class Route:
    label: str  # "cases/<str:case_number>/edit/" (web) or "POST /api/…" (API)
    name: str  # the web route's name, or the API's label
    parameters: tuple[str, ...]
    body_fields: tuple[str, ...] = ()
    query_fields: tuple[str, ...] = ()

    @property
    def is_api(self) -> bool:
        return self.label.startswith(("GET ", "POST ", "PUT ", "PATCH ", "DELETE "))


def _web_routes(patterns, prefix: str = ""):
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            if route.startswith("api/"):
                continue  # the API's routes come from its OpenAPI document
            yield from _web_routes(entry.url_patterns, route)
        elif isinstance(entry, URLPattern):
            names = tuple(re.findall(r"<(?:\w+:)?(\w+)>", route))
            if names:
                yield Route(label=route, name=entry.name or route, parameters=names)


def _resolve(document: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _api_routes():
    document = api.get_openapi_schema(path_prefix="/api/")
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            names = tuple(parameter["name"] for parameter in operation.get("parameters", [])
                          if parameter["in"] == "path")
            query = tuple(parameter["name"] for parameter in operation.get("parameters", [])
                          if parameter["in"] == "query" and parameter.get("required"))
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            required = tuple(_resolve(document, body["schema"]).get("required", ())) \
                if body else ()
            if names:
                label = f"{method.upper()} {path}"
                yield Route(label=label, name=label, parameters=names, body_fields=required,
                            query_fields=query)


def _is_owned(route: Route) -> bool:
    if route.name in AGENCY_ROUTES_ON_NATIONAL_IDS:
        return True
    return any(name not in NOT_OWNED and name not in WORDS for name in route.parameters)


ROUTES = [route for route in [*_web_routes(get_resolver().url_patterns), *_api_routes()]
          if _is_owned(route)]


def test_every_route_with_an_id_has_ownership_coverage():
    """Each parameter of every route is known: agency A's object, a pk of the route's kind,
    a word with values, or not an agency's object."""
    missing = []
    for route in [*_web_routes(get_resolver().url_patterns), *_api_routes()]:
        for name in route.parameters:
            known = (name in OWNED_IDS or name in NOT_OWNED or name in WORDS
                     or (name == "pk" and route.name in OWNED_PKS))
            if not known:
                missing.append(f"add ownership coverage for {route.label} (parameter {name})")
        for name in route.body_fields:
            if name not in BODY_VALUES and _is_owned(route):
                missing.append(f"add ownership coverage for {route.label} (a value for the "
                               f"body's {name})")
        for name in route.query_fields:
            if name not in QUERY_VALUES and _is_owned(route):
                missing.append(f"add ownership coverage for {route.label} (a value for the "
                               f"query's {name})")
    assert not missing, "\n".join(missing)


def _values(route: Route, world: World, case_number: str | None = None) -> list[dict]:
    """Every combination of the route's parameters: agency A's ids, each word's values."""
    national = AGENCY_ROUTES_ON_NATIONAL_IDS.get(route.name, {})
    fixed = {}
    for name in route.parameters:
        if name in national:
            fixed[name] = national[name](world)
        elif name == "pk":
            fixed[name] = world.objects[OWNED_PKS[route.name]].pk
        elif name in OWNED_IDS:
            fixed[name] = OWNED_IDS[name](world)
    if case_number and "case_number" in fixed:
        fixed["case_number"] = case_number
    combinations = [fixed]
    for name in route.parameters:
        if name in WORDS:
            combinations = [{**values, name: word} for values in combinations
                            for word in WORDS[name]]
    return combinations


def _url(route: Route, values: dict) -> str:
    template = route.label.split(" ", 1)[1] if route.is_api else "/" + route.label
    if route.is_api:
        return re.sub(r"\{(\w+)\}", lambda match: str(values[match.group(1)]), template)
    return re.sub(r"<(?:\w+:)?(\w+)>", lambda match: str(values[match.group(1)]), template)


def _ask(route: Route, user, url: str) -> list:
    """The answers `user` gets: the API route's own method with a body that reaches the
    service; on the web, both GET and POST (an empty form)."""
    client = Client()
    if route.is_api:
        _, secret = ApiToken.issue(user, "ownership")
        method = route.label.split(" ", 1)[0].lower()
        headers = {"Authorization": f"Bearer {secret}"}
        if route.query_fields:
            url += "?" + urlencode({name: QUERY_VALUES[name] for name in route.query_fields})
        if method == "get":
            return [client.get(url, headers=headers)]
        values = {**BODY_VALUES, **BODY_VALUES_BY_ROUTE.get(route.name, {})}
        body = {name: values[name] for name in route.body_fields}
        return [getattr(client, method)(url, body, content_type="application/json",
                                        headers=headers)]
    client.force_login(user)
    return [client.get(url), client.post(url, {})]


def _assert_refused(route: Route, answers: list, url: str, missing_answers=None) -> None:
    if route.name in ANSWER_AS_FOR_A_MISSING_ID:
        assert [a.status_code for a in answers] == [a.status_code for a in missing_answers], url
    else:
        statuses = [answer.status_code for answer in answers]
        assert all(status in (403, 404, 405) for status in statuses), (url, statuses)
        assert any(status in (403, 404) for status in statuses), (url, statuses)
    for answer in answers:
        assert NAME not in answer.content.decode(errors="replace"), url


@pytest.mark.parametrize("route", ROUTES, ids=[route.label for route in ROUTES])
def test_it_validates_ownership(route, db):
    world = build_world()
    role = ROLES.get(route.name, Role.CASEWORKER)
    intruder = make_user(role, world.other_agency)
    intruders_case = make_case(make_user(Role.CASEWORKER, world.other_agency),
                               given_name="Ana", family_name="Rusu")
    entries = AuditEntry.objects.filter(object_ref__in=[
        world.objects["case"].case_number,
        justice.audit_ref(world.objects["criminal_case"])])
    audited = entries.count()
    intruders_criminal_case = None
    if CRIMINAL_CASE_ID in route.parameters:
        intruders_criminal_case = justice.open_criminal_case(
            make_user(Role.CASEWORKER, world.other_agency), "C-1", "thb", date(2026, 3, 1))
    for values in _values(route, world):
        url = _url(route, values)
        missing = None
        if route.name in ANSWER_AS_FOR_A_MISSING_ID:
            missing = _ask(route, intruder, _url(route, {**values, **MISSING, **{
                name: 999999 for name in route.parameters if name.endswith("_id")}}))
        _assert_refused(route, _ask(route, intruder, url), url, missing)
        if "case_number" in values and len(values) > 1:
            # Agency A's record under a case of the intruder's own agency: still refused.
            mixed = _url(route, {**values, "case_number": intruders_case.case_number})
            _assert_refused(route, _ask(route, intruder, mixed), mixed, missing)
        if intruders_criminal_case is not None and len(values) > 1:
            # The police agency's record under a criminal case of the intruder's agency.
            mixed = _url(route, {**values, CRIMINAL_CASE_ID: intruders_criminal_case.pk})
            _assert_refused(route, _ask(route, intruder, mixed), mixed, missing)
    # Nothing was read or changed: no audit entry names the case.
    assert entries.count() == audited, url
    world.objects["notification"].refresh_from_db()
    assert world.objects["notification"].read_at is None
    # The same request by the owning agency finds the object (it may still be refused the
    # change, as a referral's sender is refused accepting it): the ids were real.
    owner = world.owner_for(route, role)
    for values in _values(route, world):
        url = _url(route, values)
        statuses = [answer.status_code for answer in _ask(route, owner, url)]
        assert any(status not in (404, 405) for status in statuses), (url, statuses)
