"""Withdrawing a consent asks for confirmation first and says what it will stop; the consent
rows say what is true ("In force since …")."""

import uuid

import pytest
from django.utils import timezone

from opennrm.accounts.models import Role
from opennrm.audit.models import AuditEntry
from opennrm.cases import services
from opennrm.cases.consent_effects import withdrawal_effects
from opennrm.core.dates import short_date
from tests.factories import (
    make_agency,
    make_agency_service,
    make_consent,
    make_referral,
    make_user,
)
from tests.helpers import as_user, assert_no_inline_code


@pytest.fixture
def consent(caseworker, case):
    return make_consent(caseworker, case)  # to be referred


def url(case, consent) -> str:
    return f"/cases/{case.case_number}/consents/{consent.pk}/withdraw/"


def field(consent) -> str:
    return f"consent-{consent.pk}-withdrawn_on"


def test_an_active_consent_reads_in_force_since_its_date(client, caseworker, case, consent):
    content = as_user(client, caseworker).get(f"/cases/{case.case_number}/").content.decode()
    assert f"In force since {short_date(consent.given_on)}" in content
    assert "Withdrawn on" not in content
    assert f'href="{url(case, consent)}"' in content


def test_the_first_step_says_what_it_will_stop_and_changes_nothing(client, caseworker, case,
                                                                   consent):
    make_referral(caseworker, case, make_agency_service(make_agency("casa-luminii")))
    audited = AuditEntry.objects.filter(object_type="consent").count()
    response = as_user(client, caseworker).get(url(case, consent))
    assert response.status_code == 200
    content = response.content.decode()
    assert "1 open referral will stop" in content and "Casa Luminii shelter" in content
    assert "Withdraw: date of withdrawal" in content
    assert 'name="confirm"' in content
    assert_no_inline_code(response)
    consent.refresh_from_db()
    assert consent.withdrawn_on is None
    assert AuditEntry.objects.filter(object_type="consent").count() == audited


def test_a_post_without_confirmation_only_asks(client, caseworker, case, consent):
    response = as_user(client, caseworker).post(url(case, consent),
                                                {field(consent): "2026-03-05"})
    assert response.status_code == 200
    assert 'value="2026-03-05"' in response.content.decode()
    consent.refresh_from_db()
    assert consent.withdrawn_on is None


def test_the_first_step_shows_a_wrong_date_by_its_field(client, caseworker, case, consent):
    response = as_user(client, caseworker).post(url(case, consent),
                                                {field(consent): "2026-03-01"})
    assert "Withdrawal is before the consent was given." in response.content.decode()


def test_confirming_withdraws_and_stops_the_referral(client, caseworker, case, consent):
    referral = make_referral(caseworker, case, make_agency_service(make_agency("casa-luminii")))
    response = as_user(client, caseworker).post(url(case, consent),
                                                {field(consent): "2026-03-05", "confirm": "1"})
    assert response.status_code == 302
    consent.refresh_from_db()
    assert str(consent.withdrawn_on) == "2026-03-05"
    referral.refresh_from_db()
    assert referral.state == "stopped"
    content = client.get(f"/cases/{case.case_number}/").content.decode()
    assert "Withdrawn on" in content


def test_nothing_to_stop_is_said_too(client, caseworker, case):
    consent = services.record_consent(caseworker, case, "assistance", "2026-03-02")
    content = as_user(client, caseworker).get(url(case, consent)).content.decode()
    assert "Nothing rests on this consent now" in content


def test_partner_nodes_that_received_the_case_are_counted(caseworker, case):
    from opennrm.transnational.models import Partner, TransnationalReferral

    consent = services.record_consent(caseworker, case, "data_sharing", "2026-03-02",
                                      recipient_node="UA")
    partner = Partner.objects.create(
        node_id=uuid.uuid4(), country="UA", name="Ukraine NRM", endpoint="https://ua.example",
        valid_until=timezone.now(), card={}, keys={}, fingerprint="0" * 64)
    TransnationalReferral.objects.create(
        direction="out", partner=partner, global_case_id=case.global_id, case=case,
        agency=case.owner_agency, stage="first_assistance", mode="shared",
        preview={"sex": "female"}, status="accepted", created_at=timezone.now())
    assert withdrawal_effects(consent) == [
        "1 partner node that received the case will be told to erase it: Ukraine NRM."]


def test_it_validates_ownership(client, police, case, consent):
    response = as_user(client, make_user(Role.CASEWORKER, police)).get(url(case, consent))
    assert response.status_code == 404


def test_a_reader_who_may_not_change_the_case_is_refused(client, analyst, case, consent):
    assert as_user(client, analyst).get(url(case, consent)).status_code == 404
