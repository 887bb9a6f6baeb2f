"""/api/cases/{case_number}/… protection routes."""

from datetime import date

import pytest

from opennrm.accounts.models import Role
from opennrm.audit.models import AuditEntry
from opennrm.protection import services
from opennrm.protection.models import PermitStatus, ReflectionPeriod
from tests.factories import make_user
from tests.helpers import ApiClient, assert_problem

PERIOD = {"starts_on": "2026-03-03", "ends_on": "2026-04-02", "decided_on": "2026-03-03",
          "deciding_authority": "National coordinator"}


@pytest.fixture
def api(caseworker):
    return ApiClient(caseworker)


def routes(caseworker, case, permit, proceeding, claim, return_plan, support_plan):
    """Every protection route with a body the service accepts, on `case`, in an order in
    which each call succeeds."""
    base = f"/api/cases/{case.case_number}"
    renewable = services.decide_residence_permit(
        caseworker, services.record_residence_permit(caseworker, case, "cooperation",
                                                     date(2026, 3, 20)),
        "granted", date(2026, 4, 1), date(2026, 10, 1), deciding_authority="M")

    def period_path() -> str:
        # The period the route before this one created (or the test's own).
        return f"{base}/reflection-periods/{case.reflection_periods.get().pk}/extensions"

    action = support_plan.actions.create(description="Counselling",
                                         responsible_agency=support_plan.responsible_agency,
                                         recorded_by=support_plan.created_by)
    return [
        ("get", f"{base}/timeline", None),
        ("get", f"{base}/protection", None),
        ("get", f"{base}/support-plan", None),
        ("post", f"{base}/reflection-periods", PERIOD),
        ("post", period_path,
         {"ends_on": "2026-05-02", "reason": "recovery_needed", "decided_on": "2026-04-01",
          "deciding_authority": "Coordinator"}),
        ("post", f"{base}/residence-permits",
         {"permit_type": "cooperation", "applied_on": "2026-03-20"}),
        ("post", f"{base}/residence-permits/{permit.pk}/decision",
         {"decision": "refused", "decided_on": "2026-04-01", "deciding_authority": "M"}),
        ("post", f"{base}/residence-permits/{renewable.pk}/renewal",
         {"decided_on": "2026-09-20", "expires_on": "2027-09-30", "deciding_authority": "M"}),
        ("post", f"{base}/proceedings",
         {"stage": "investigation", "role": "witness", "opened_on": "2026-03-10",
          "deciding_authority": "Prosecutor"}),
        ("post", f"{base}/proceedings/{proceeding.pk}/stages",
         {"stage": "trial", "decided_on": "2026-05-01", "deciding_authority": "Court"}),
        ("post", f"{base}/compensation-claims",
         {"source": "civil", "filed_on": "2026-03-15", "currency": "EUR"}),
        ("post", f"{base}/compensation-claims/{claim.pk}/outcome",
         {"outcome": "refused", "decided_on": "2026-06-01", "deciding_authority": "Court"}),
        ("post", f"{base}/return-plans",
         {"destination_country": "UA", "voluntary": True, "decided_on": "2026-04-01",
          "deciding_authority": "Police", "no_assessment_reason": "Asked to leave."}),
        ("post", f"{base}/return-plans/{return_plan.pk}/return", {"returned_on": "2026-04-10"}),
        ("put", f"{base}/support-plan",
         {"objectives": "Housing", "agreed_on": "2026-03-05", "status": "active"}),
        ("post", f"{base}/support-plan/actions", {"description": "Lawyer"}),
        ("post", f"{base}/support-plan/actions/{action.pk}/done", {"done_on": "2026-03-20"}),
        ("post", f"{base}/support-plan/reviews", {"reviewed_on": "2026-04-05"}),
    ]


def call(client: ApiClient, method: str, path, body):
    path = path() if callable(path) else path
    if method == "get":
        return client.get(path)
    if method == "put":
        return client.client.put(path, body, content_type="application/json",
                                 headers=client.headers)
    return client.post(path, body)


@pytest.fixture
def every_route(caseworker, case, permit, proceeding, claim, return_plan, support_plan):
    return routes(caseworker, case, permit, proceeding, claim, return_plan, support_plan)


def test_every_route_works_for_the_owning_agency(api, every_route):
    for method, path, body in every_route:
        response = call(api, method, path, body)
        assert response.status_code in (200, 201), (path, response.content)


def test_roles_without_cases_get_404(ngo, every_route, period):
    analyst = ApiClient(make_user(Role.ANALYST, ngo, "analyst-2"))
    for method, path, body in every_route:
        assert_problem(call(analyst, method, path, body), 404)


def test_a_short_period_is_a_422_on_ends_on(api, case):
    problem = assert_problem(api.post(f"/api/cases/{case.case_number}/reflection-periods",
                                      {**PERIOD, "ends_on": "2026-03-20"}), 422)
    assert problem["errors"][0]["field"] == "ends_on"
    assert "at least 30 days" in problem["errors"][0]["message"]
    assert not ReflectionPeriod.objects.exists()


def test_a_childs_return_without_assessment_is_a_422(api, child_case):
    problem = assert_problem(api.post(f"/api/cases/{child_case.case_number}/return-plans", {
        "destination_country": "UA", "voluntary": True, "decided_on": "2026-04-01",
        "deciding_authority": "Police", "no_assessment_reason": "Family insists."}), 422)
    assert problem["errors"][0]["field"] == "risk_assessed_on"


def test_the_renewal_answers_the_new_permit(api, case, granted_permit):
    response = api.post(
        f"/api/cases/{case.case_number}/residence-permits/{granted_permit.pk}/renewal",
        {"decided_on": "2026-09-20", "expires_on": "2027-09-30", "deciding_authority": "M"})
    assert response.status_code == 201
    assert response.json()["renews"] == granted_permit.pk
    granted_permit.refresh_from_db()
    assert granted_permit.status == PermitStatus.RENEWED


def test_the_timeline_answers_the_steps(api, case, period):
    entries = api.get(f"/api/cases/{case.case_number}/timeline").json()
    assert [entry["kind"] for entry in entries][:2] == ["first_contact",
                                                       "reflection_period_granted"]
    assert entries[1]["decided_by"] == "National coordinator"


def test_reading_encrypted_details_is_audited(api, case, proceeding, support_plan):
    protection = api.get(f"/api/cases/{case.case_number}/protection").json()
    assert protection["proceedings"][0]["case_reference"] == "2026-0417"
    plan = api.get(f"/api/cases/{case.case_number}/support-plan").json()
    assert plan["objectives"] == "Safe housing; a job."
    reads = set(AuditEntry.objects.filter(action="read", object_ref=case.case_number,
                                          channel="api").values_list("object_type", flat=True))
    assert {"criminal_proceeding", "support_plan"} <= reads


def test_put_creates_then_changes_the_support_plan(api, case):
    path = f"/api/cases/{case.case_number}/support-plan"
    assert_problem(api.get(path), 404)
    body = {"objectives": "Housing", "agreed_on": "2026-03-05", "next_review_on": "2026-04-05"}
    created = call(api, "put", path, body)
    assert created.status_code == 200 and created.json()["responsible_agency"] == "la-strada"
    changed = call(api, "put", path, {**body, "status": "closed"})
    assert changed.json()["status"] == "closed" and changed.json()["closed_on"]
