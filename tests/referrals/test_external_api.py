"""Referrals outside OpenNRM over the API: recorded with `external`, read like the others,
and their outcome recorded at /api/referrals/{id}/outcome."""

from datetime import timedelta

import pytest
from django.utils import timezone

from opennrm.referrals.models import Referral, ReferralState
from tests.helpers import ApiClient, assert_problem
from tests.referrals.outside import make_legal_aid, record


@pytest.fixture
def api(caseworker):
    return ApiClient(caseworker)


@pytest.fixture
def legal_aid(db):
    return make_legal_aid()


@pytest.fixture
def external(caseworker, case, legal_aid, consent):
    return record(caseworker, case, legal_aid)


def refer(api, case, body):
    return api.post(f"/api/cases/{case.case_number}/referrals", body)


def test_it_records_a_referral_outside_opennrm(api, case, legal_aid, consent):
    day = timezone.localdate() + timedelta(days=4)
    response = refer(api, case, {"service": str(legal_aid.hsds_id), "external": True,
                                 "shared_fields": ["gender"], "follow_up_on": day.isoformat()})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["external"] is True and body["recipient_agency"] is None
    assert body["state"] == "sent" and body["outcome"] == ""
    assert body["respond_by"] == day.isoformat()
    assert Referral.objects.get().external


def test_without_external_the_service_outside_opennrm_is_a_422(api, case, legal_aid, consent):
    problem = assert_problem(refer(api, case, {"service": str(legal_aid.hsds_id)}), 422)
    assert problem["errors"][0]["field"] == "service"
    assert "record the referral as one outside OpenNRM" in problem["errors"][0]["message"]


def test_external_for_a_service_in_opennrm_is_a_422(api, case, service, consent):
    problem = assert_problem(refer(api, case, {"service": str(service.hsds_id),
                                               "external": True}), 422)
    assert problem["errors"][0]["field"] == "service"


def test_a_follow_up_day_needs_external(api, case, service, consent):
    problem = assert_problem(refer(api, case, {"service": str(service.hsds_id),
                                               "follow_up_on": "2030-01-01"}), 422)
    assert problem["errors"][0]["field"] == "follow_up_on"
    assert not Referral.objects.exists()


def test_it_needs_consent(api, case, legal_aid):
    problem = assert_problem(refer(api, case, {"service": str(legal_aid.hsds_id),
                                               "external": True}), 422)
    assert problem["errors"][0]["field"] == "consent"


def test_it_is_listed_and_read_like_the_others(api, external, case):
    [listed] = api.get(f"/api/cases/{case.case_number}/referrals").json()
    assert listed["external"] is True and listed["recipient_agency"] is None
    [outgoing] = api.get("/api/referrals?box=outgoing").json()["items"]
    assert outgoing["id"] == external.pk
    body = api.get(f"/api/referrals/{external.pk}").json()
    assert body["external"] is True and body["shared"] is None
    assert body["needs"] == "A lawyer for the hearing on 20 March."


def test_it_records_the_outcome(api, external):
    response = api.post(f"/api/referrals/{external.pk}/outcome",
                        {"outcome": "assistance_delivered", "note": "Represented her."})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["state"], body["outcome"]) == ("completed", "assistance_delivered")
    history = api.get(f"/api/referrals/{external.pk}").json()["history"]
    assert history[-1]["reason"] == "Represented her."


def test_an_unknown_outcome_is_a_422(api, external):
    problem = assert_problem(api.post(f"/api/referrals/{external.pk}/outcome",
                                      {"outcome": "refused"}), 422)
    assert problem["errors"][0]["field"] == "outcome"


def test_a_referral_in_opennrm_takes_no_outcome(api, referral):
    problem = assert_problem(api.post(f"/api/referrals/{referral.pk}/outcome",
                                      {"outcome": "accepted"}), 422)
    assert problem["errors"][0]["field"] == "outcome"
    assert Referral.objects.get().state == ReferralState.SENT


def test_the_outcome_code_list_is_published(api):
    codes = api.get("/api/codelists/external_referral_outcomes").json()["codes"]
    assert [code["code"] for code in codes] == ["accepted", "assistance_delivered",
                                                "declined", "no_answer"]


def test_it_validates_ownership(external, police_officer, shelter_worker):
    for user in (police_officer, shelter_worker):
        other = ApiClient(user)
        assert_problem(other.get(f"/api/referrals/{external.pk}"), 404)
        assert_problem(other.post(f"/api/referrals/{external.pk}/outcome",
                                  {"outcome": "accepted"}), 404)
        assert other.get("/api/referrals").json()["items"] == []
    assert Referral.objects.get().state == ReferralState.SENT
