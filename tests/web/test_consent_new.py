from opennrm.audit.models import AuditEntry
from opennrm.cases.models import Consent
from tests.helpers import as_user, assert_no_inline_code


def url(case) -> str:
    return f"/cases/{case.case_number}/consents/new/"


def test_it_shows_the_form(client, caseworker, case, police):
    response = as_user(client, caseworker).get(url(case))
    assert response.status_code == 200
    assert b"Share data with a named recipient" in response.content
    assert b'value="police-chisinau"' in response.content
    assert_no_inline_code(response)


def test_it_works(client, caseworker, case):
    response = as_user(client, caseworker).post(url(case), {
        "purpose": "assistance", "given_on": "2026-03-02"})
    assert response.status_code == 302 and response.url == f"/cases/{case.case_number}/"
    consent = Consent.objects.get()
    assert (consent.case, consent.purpose, consent.recorded_by) == (case, "assistance", caseworker)
    assert AuditEntry.objects.filter(object_type="consent", channel="web").exists()


def test_sharing_needs_a_recipient(client, caseworker, case):
    response = as_user(client, caseworker).post(url(case), {
        "purpose": "data_sharing", "given_on": "2026-03-02"})
    assert response.status_code == 200
    assert response.context["form"].errors["recipient_agency"]
    assert 'value="2026-03-02"' in response.content.decode()
    assert not Consent.objects.exists()


def test_it_records_a_named_recipient(client, caseworker, case, police):
    as_user(client, caseworker).post(url(case), {
        "purpose": "data_sharing", "given_on": "2026-03-02",
        "recipient_agency": "police-chisinau"})
    assert Consent.objects.get().recipient_agency == police


def test_it_validates_ownership(client, police_officer, case):
    as_user(client, police_officer)
    assert client.get(url(case)).status_code == 404
    response = client.post(url(case), {"purpose": "assistance", "given_on": "2026-03-02"})
    assert response.status_code == 404
    assert not Consent.objects.exists()
