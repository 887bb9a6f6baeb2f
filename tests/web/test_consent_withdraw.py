import pytest

from opennrm.cases import services
from tests.factories import person_data
from tests.helpers import as_user


@pytest.fixture
def consent(caseworker, case):
    return services.record_consent(caseworker, case, "assistance", "2026-03-02")


def url(case, consent) -> str:
    return f"/cases/{case.case_number}/consents/{consent.pk}/withdraw/"


def field(consent) -> str:
    return f"consent-{consent.pk}-withdrawn_on"


def test_it_works(client, caseworker, case, consent):
    response = as_user(client, caseworker).post(url(case, consent),
                                                {field(consent): "2026-03-05", "confirm": "1"})
    assert response.status_code == 302
    consent.refresh_from_db()
    assert str(consent.withdrawn_on) == "2026-03-05"
    assert consent.withdrawal_recorded_by == caseworker


def test_it_asks_for_confirmation_before_withdrawing(client, caseworker, case, consent):
    """A GET, or a POST without `confirm`, shows what withdrawing will stop and changes
    nothing."""
    assert as_user(client, caseworker).get(url(case, consent)).status_code == 200
    response = client.post(url(case, consent), {field(consent): "2026-03-05"})
    assert response.status_code == 200 and b'name="confirm"' in response.content
    consent.refresh_from_db()
    assert consent.withdrawn_on is None


def test_a_date_before_the_consent_is_shown_next_to_the_field(client, caseworker, case,
                                                              consent):
    response = as_user(client, caseworker).post(url(case, consent),
                                                {field(consent): "2026-03-01"})
    assert response.status_code == 200
    content = response.content.decode()
    assert content.count("Withdrawal is before the consent was given.") == 2  # field, summary
    assert 'value="2026-03-01"' in content
    consent.refresh_from_db()
    assert consent.withdrawn_on is None


def test_a_second_withdrawal_is_refused_with_a_message(client, caseworker, case, consent):
    services.withdraw_consent(caseworker, consent, "2026-03-04")
    response = as_user(client, caseworker).post(url(case, consent),
                                                {field(consent): "2026-03-05"})
    assert b"This consent was already withdrawn." in response.content
    consent.refresh_from_db()
    assert str(consent.withdrawn_on) == "2026-03-04"


def test_the_consent_must_belong_to_the_case(client, caseworker, case, consent):
    other = services.register_case(caseworker, person_data(given_name="Ana"))
    response = as_user(client, caseworker).post(url(other, consent),
                                                {field(consent): "2026-03-05"})
    assert response.status_code == 404
    consent.refresh_from_db()
    assert consent.withdrawn_on is None


def test_it_validates_ownership(client, police_officer, case, consent):
    response = as_user(client, police_officer).post(url(case, consent),
                                                    {field(consent): "2026-03-05"})
    assert response.status_code == 404
    assert "Popescu" not in response.content.decode()
    consent.refresh_from_db()
    assert consent.withdrawn_on is None
