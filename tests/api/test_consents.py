from datetime import date

from opennrm.audit.models import AuditEntry
from opennrm.cases import services
from opennrm.cases.models import Consent
from tests.factories import person_data
from tests.helpers import assert_problem


def url(case) -> str:
    return f"/api/cases/{case.case_number}/consents"


def test_it_records_and_lists_consents(api, case, police):
    response = api.post(url(case), {"purpose": "data_sharing", "given_on": "2026-03-02",
                                     "recipient_agency": police.code})
    assert response.status_code == 201
    consent = response.json()
    assert consent["recipient_agency"] == "police-chisinau"
    assert consent["is_active"] is True
    assert api.get(url(case)).json() == [consent]
    entry = AuditEntry.objects.get(object_type="consent")
    assert (entry.channel, entry.fields) == ("api", ["consent.data_sharing"])


def test_sharing_needs_a_named_recipient(api, case):
    problem = assert_problem(api.post(url(case), {"purpose": "data_sharing",
                                                  "given_on": "2026-03-02"}), 422)
    assert problem["errors"][0]["field"] == "recipient_agency"
    problem = assert_problem(api.post(url(case), {"purpose": "data_sharing",
                                                  "given_on": "2026-03-02",
                                                  "recipient_agency": "nobody"}), 422)
    assert problem["errors"][0]["field"] == "recipient_agency"
    assert not Consent.objects.exists()


def test_it_withdraws_a_consent(api, caseworker, case):
    consent = services.record_consent(caseworker, case, "referral", date(2026, 3, 2))
    response = api.post(f"{url(case)}/{consent.pk}/withdraw", {"withdrawn_on": "2026-03-09"})
    assert response.status_code == 200
    assert response.json()["withdrawn_on"] == "2026-03-09"
    assert response.json()["is_active"] is False

    again = api.post(f"{url(case)}/{consent.pk}/withdraw", {"withdrawn_on": "2026-03-10"})
    assert assert_problem(again, 422)["errors"][0]["field"] == "withdrawn_on"


def test_it_withdraws_only_consents_of_that_case(api, caseworker, case):
    other = services.register_case(caseworker, person_data(given_name="Ana"))
    consent = services.record_consent(caseworker, other, "referral", date(2026, 3, 2))
    response = api.post(f"{url(case)}/{consent.pk}/withdraw", {"withdrawn_on": "2026-03-09"})
    assert_problem(response, 404)
    consent.refresh_from_db()
    assert consent.withdrawn_on is None


def test_it_validates_ownership(caseworker, case, officer_api, roles_without_cases):
    consent = services.record_consent(caseworker, case, "referral", date(2026, 3, 2))
    for client in [officer_api, *roles_without_cases]:
        assert_problem(client.get(url(case)), 404)
        assert_problem(client.post(url(case), {"purpose": "assistance",
                                               "given_on": "2026-03-02"}), 404)
        assert_problem(client.post(f"{url(case)}/{consent.pk}/withdraw",
                                   {"withdrawn_on": "2026-03-09"}), 404)
    assert Consent.objects.count() == 1
    consent.refresh_from_db()
    assert consent.withdrawn_on is None
