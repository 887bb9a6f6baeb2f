"""/api/cases/{case_number}/referrals, /api/referrals and the changes of state over the API."""

from datetime import date

import pytest
from django.utils import timezone

from opennrm.audit.models import AuditEntry
from opennrm.cases import services as case_services
from opennrm.referrals.models import Assistance, Referral, ReferralState
from tests.helpers import ApiClient, assert_problem


@pytest.fixture
def api(caseworker):
    return ApiClient(caseworker)


@pytest.fixture
def officer_api(police_officer):
    return ApiClient(police_officer)


@pytest.fixture
def shelter_api(shelter_worker):
    return ApiClient(shelter_worker)


def test_it_refers_a_case(api, case, service, consent):
    response = api.post(f"/api/cases/{case.case_number}/referrals", {
        "service": service.hsds_id, "shared_fields": ["gender", "needs"], "needs": "A bed."})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["state"] == "sent"
    assert body["recipient_agency"] == "casa-luminii"
    assert body["case_number"] == case.case_number


def test_the_service_is_named_by_the_id_the_api_shows(api, case, service, consent):
    """The id of /api/services is what referCase takes and what a referral shows; the
    database's integer id, which no answer shows, is refused."""
    listed = {item["id"] for item in api.get("/api/services").json()["items"]}
    assert str(service.hsds_id) in listed
    refused = assert_problem(api.post(f"/api/cases/{case.case_number}/referrals",
                                      {"service": service.pk}), 422)
    assert refused["errors"][0]["field"] == "service"
    sent = api.post(f"/api/cases/{case.case_number}/referrals",
                    {"service": str(service.hsds_id)})
    assert sent.status_code == 201, sent.content
    assert sent.json()["service"] == str(service.hsds_id)
    assert api.get(f"/api/referrals/{sent.json()['id']}").json()["service"] \
        == str(service.hsds_id)


def test_a_missing_consent_is_a_422_on_consent(api, case, service):
    problem = assert_problem(api.post(f"/api/cases/{case.case_number}/referrals",
                                      {"service": service.hsds_id}), 422)
    assert problem["errors"][0]["field"] == "consent"
    assert not Referral.objects.exists()


def test_an_unknown_service_is_a_422(api, case, consent):
    problem = assert_problem(api.post(f"/api/cases/{case.case_number}/referrals",
                                      {"service": "00000000-0000-4000-8000-000000000999"}), 422)
    assert problem["errors"][0]["field"] == "service"


def test_referring_validates_ownership(officer_api, case, service, consent):
    assert_problem(officer_api.post(f"/api/cases/{case.case_number}/referrals",
                                    {"service": service.hsds_id}), 404)
    assert not Referral.objects.exists()


def test_the_case_referrals_are_for_the_owner_only(api, officer_api, shelter_api, referral,
                                                   case):
    listed = api.get(f"/api/cases/{case.case_number}/referrals").json()
    assert [item["id"] for item in listed] == [referral.pk]
    assert_problem(officer_api.get(f"/api/cases/{case.case_number}/referrals"), 404)
    # The recipient has the referral, never the case.
    assert_problem(shelter_api.get(f"/api/cases/{case.case_number}/referrals"), 404)
    assert_problem(shelter_api.get(f"/api/cases/{case.case_number}"), 404)


def test_the_inbox_and_outbox(api, shelter_api, referral):
    incoming = shelter_api.get("/api/referrals", {"box": "incoming", "state": "sent"}).json()
    assert [item["id"] for item in incoming["items"]] == [referral.pk]
    assert incoming["count"] == 1
    assert shelter_api.get("/api/referrals", {"box": "outgoing"}).json()["count"] == 0
    assert api.get("/api/referrals", {"box": "outgoing"}).json()["items"][0]["id"] == referral.pk
    assert api.get("/api/referrals", {"state": "accepted"}).json()["count"] == 0


def test_the_list_validates_ownership(officer_api, referral):
    assert officer_api.get("/api/referrals").json()["count"] == 0


def test_the_recipient_reads_only_the_shared_fields(shelter_api, referral, case):
    body = shelter_api.get(f"/api/referrals/{referral.pk}").json()
    assert body["shared"] == {"given_name": "Elena", "gender": "female",
                              "needs": "A safe place to stay for two weeks."}
    assert body["needs"] is None and body["consent_override_reason"] is None
    assert "Popescu" not in str(body) and "1998" not in str(body)
    assert [event["to_state"] for event in body["history"]] == ["sent"]
    assert AuditEntry.objects.filter(object_ref=case.case_number, object_type="case",
                                     reason=f"referral {referral.pk}",
                                     channel="api").exists()


def test_the_sender_reads_the_state_but_not_as_shared_data(api, referral):
    body = api.get(f"/api/referrals/{referral.pk}").json()
    assert body["shared"] is None
    assert body["needs"] == "A safe place to stay for two weeks."
    assert body["shared_fields"] == ["given_name", "gender", "needs"]


def test_reading_validates_ownership(officer_api, referral):
    problem = assert_problem(officer_api.get(f"/api/referrals/{referral.pk}"), 404)
    assert problem["detail"] == "There is no referral with this id that you may see."


def test_consent_withdrawn_after_acceptance_ends_access_over_the_api(
        shelter_api, accepted, caseworker, consent):
    assert shelter_api.get(f"/api/referrals/{accepted.pk}").json()["shared"]
    case_services.withdraw_consent(caseworker, consent, timezone.localdate())
    body = shelter_api.get(f"/api/referrals/{accepted.pk}").json()
    assert body["state"] == "stopped"
    assert body["shared"] is None


def test_the_lifecycle_over_the_api(api, shelter_api, referral):
    base = f"/api/referrals/{referral.pk}"
    assert shelter_api.post(f"{base}/accept", {}).json()["state"] == "accepted"
    recorded = shelter_api.post(f"{base}/assistance", {
        "service_type": "shelter", "description": "Room 4.",
        "delivered_on": timezone.localdate().isoformat()})
    assert recorded.status_code == 201, recorded.content
    assert [item["description"] for item in api.get(f"{base}/assistance").json()] == ["Room 4."]
    assert shelter_api.post(f"{base}/complete", {"reason": "Moved on."}).json()["state"] == \
        "completed"
    history = api.get(base).json()["history"]
    assert [(e["from_state"], e["to_state"]) for e in history] == [
        (None, "sent"), ("sent", "accepted"), ("accepted", "completed")]


def test_a_forbidden_transition_is_a_422_and_changes_nothing(shelter_api, referral):
    problem = assert_problem(shelter_api.post(f"/api/referrals/{referral.pk}/withdraw",
                                              {"reason": "x"}), 422)
    assert problem["errors"][0]["field"] == "state"
    assert Referral.objects.get().state == ReferralState.SENT


def test_the_wrong_side_is_a_403(api, shelter_api, referral):
    assert_problem(api.post(f"/api/referrals/{referral.pk}/accept", {}), 403)
    assert_problem(shelter_api.post(f"/api/referrals/{referral.pk}/cancel", {"reason": "x"}),
                   403)


def test_declining_needs_a_reason(shelter_api, referral):
    problem = assert_problem(shelter_api.post(f"/api/referrals/{referral.pk}/decline", {}), 422)
    assert problem["errors"] == [{"field": "reason", "message": "Give the reason."}]


@pytest.mark.parametrize("action", ["accept", "decline", "cancel", "withdraw", "complete"])
def test_changes_validate_ownership(action, officer_api, referral):
    assert_problem(officer_api.post(f"/api/referrals/{referral.pk}/{action}", {"reason": "x"}),
                   404)
    assert Referral.objects.get().state == ReferralState.SENT


def test_assistance_validates_ownership(officer_api, api, accepted):
    base = f"/api/referrals/{accepted.pk}/assistance"
    assert_problem(officer_api.get(base), 404)
    assert_problem(officer_api.post(base, {"service_type": "shelter", "description": "x",
                                           "delivered_on": "2026-03-05"}), 404)
    assert_problem(api.post(base, {"service_type": "shelter", "description": "x",
                                   "delivered_on": "2026-03-05"}), 403)
    assert not Assistance.objects.exists()


def test_an_unknown_referral_is_a_404(api):
    assert_problem(api.get("/api/referrals/123456"), 404)


def test_unknown_fields_are_refused(api, case, service, consent):
    assert_problem(api.post(f"/api/cases/{case.case_number}/referrals",
                            {"service": service.hsds_id, "share": ["given_name"]}), 422)


def test_the_supervisor_override_over_the_api(case, service, supervisor):
    response = ApiClient(supervisor).post(f"/api/cases/{case.case_number}/referrals", {
        "service": service.hsds_id, "override_reason": "Cannot sign: injured."})
    assert response.status_code == 201
    assert Referral.objects.get().consent is None


def test_a_consent_given_again_allows_a_new_referral(api, caseworker, case, service, consent):
    case_services.withdraw_consent(caseworker, consent, date(2026, 3, 5))
    case_services.record_consent(caseworker, case, "referral", date(2026, 3, 6))
    assert api.post(f"/api/cases/{case.case_number}/referrals",
                    {"service": service.hsds_id}).status_code == 201
