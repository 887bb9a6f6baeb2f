"""The referral workflows' rules in one process (the exchange itself is tested between real
nodes in test_workflows.py): consent naming the country, a child's return, the pages."""

import uuid
from datetime import date
from types import SimpleNamespace

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from opennrm.accounts.models import Role
from opennrm.cases import services as case_services
from opennrm.transnational import workflows
from opennrm.transnational.models import OutboxMessage, Partner, TransnationalReferral
from tests.factories import make_agency, make_case, make_user

pytestmark = pytest.mark.django_db


def _partner(country="UA") -> Partner:
    return Partner.objects.create(
        node_id=uuid.uuid4(), country=country, name=f"{country} NRM",
        endpoint="https://partner.example", valid_until=timezone.now(), card={}, keys={},
        fingerprint="0" * 64, allowed_types=list(workflows.MESSAGE_TYPES))


def _offer(actor, case, partner, **overrides):
    values = {"stage": "first_assistance", "mode": "shared", "shared_fields": ["given_name"],
              "services_asked": ["shelter"], "urgency": "routine"}
    values.update(overrides)
    return workflows.offer_transnational_referral(actor, case, partner, **values)


def test_nothing_is_sent_without_consent_naming_that_country(caseworker):
    case = make_case(caseworker)
    partner = _partner("UA")
    case_services.record_consent(caseworker, case, "referral", date(2026, 3, 2))
    case_services.record_consent(caseworker, case, "data_sharing", date(2026, 3, 2),
                                 recipient_node="RO")
    with pytest.raises(ValidationError) as refused:
        _offer(caseworker, case, partner)
    assert "consent" in refused.value.message_dict
    assert not OutboxMessage.objects.exists() and not TransnationalReferral.objects.exists()
    # A withdrawn consent naming the country does not count either.
    consent = case_services.record_consent(caseworker, case, "data_sharing", date(2026, 3, 2),
                                           recipient_node="UA")
    case_services.withdraw_consent(caseworker, consent, date(2026, 3, 3))
    with pytest.raises(ValidationError):
        _offer(caseworker, case, partner)
    assert not OutboxMessage.objects.exists()


def test_a_childs_return_is_blocked_without_the_joint_risk_assessment(caseworker):
    case = make_case(caseworker, birth_date=date(2014, 1, 5))
    assert case.is_child
    case_services.record_consent(caseworker, case, "data_sharing", date(2026, 3, 2),
                                 recipient_node="UA")
    with pytest.raises(ValidationError) as refused:
        _offer(caseworker, case, _partner(), stage="return")
    assert "risk_assessment" in refused.value.message_dict


def test_only_listed_fields_may_be_shared(caseworker):
    case = make_case(caseworker)
    case_services.record_consent(caseworker, case, "data_sharing", date(2026, 3, 2),
                                 recipient_node="UA")
    with pytest.raises(ValidationError) as refused:
        _offer(caseworker, case, _partner(), shared_fields=["notes"])
    assert "shared_fields" in refused.value.message_dict


def test_pages_show_a_referral_to_its_parties_only(client, caseworker, ngo):
    case = make_case(caseworker)
    referral = TransnationalReferral.objects.create(
        direction="out", partner=_partner(), global_case_id=case.global_id, case=case,
        agency=ngo, stage="return", mode="handover", preview={"sex": "female"},
        status="active", created_at=timezone.now())
    client.force_login(caseworker)
    page = client.get(f"/cases/{case.case_number}/").content.decode()
    assert "Transnational referrals" in page and f"/transnational/referrals/{referral.pk}/" in page
    assert client.get(f"/transnational/referrals/{referral.pk}/").status_code == 200
    assert client.get(f"/cases/{case.case_number}/transnational/offer").status_code == 200
    other = make_user(Role.CASEWORKER, make_agency("police-x", "law_enforcement"))
    coordinator = make_user(Role.NATIONAL_COORDINATOR, make_agency("nc-x", "government"))
    for user in (other, coordinator):  # a sent referral is the sending agency's alone
        client.force_login(user)
        assert client.get(f"/transnational/referrals/{referral.pk}/").status_code == 404
        assert str(case.global_id) not in client.get("/transnational/referrals/").content.decode()


def test_the_referral_page_corrects_a_shared_field_and_sends_it(client, caseworker,
                                                               monkeypatch):
    # The channel itself (signing, sealing, the outbox) is tested between real nodes: here
    # what the workflow asks it to send is recorded.
    sent = []

    def send_message(actor, partner, message_type, payload, **kwargs):
        sent.append((partner.country, message_type, payload))
        return SimpleNamespace(message_id=uuid.uuid4())

    monkeypatch.setattr(workflows.services, "send_message", send_message)
    case = make_case(caseworker)
    case_services.record_consent(caseworker, case, "data_sharing", date(2026, 3, 2),
                                 recipient_node="UA")
    referral = _offer(caseworker, case, _partner(), shared_fields=["given_name", "phone"])
    client.force_login(caseworker)
    url = f"/transnational/referrals/{referral.pk}/"
    assert 'id="trm-correct"' not in client.get(url).content.decode()  # not accepted yet
    TransnationalReferral.objects.filter(pk=referral.pk).update(status="active")
    page = client.get(url).content.decode()
    assert 'id="trm-correct"' in page and 'value="phone"' in page and 'value="address"' not in page
    client.post(url + "correct", {"field": "given_name", "value": "Corrected"})
    case.refresh_from_db()
    assert case.person.given_name == "Corrected"
    assert sent[-1] == ("UA", "referral_correction", {"fields": {"given_name": "Corrected"}})
    # A field this referral does not share is refused by the form: nothing more is sent.
    client.post(url + "correct", {"field": "address", "value": "Str. 1"})
    assert [kind for _, kind, _ in sent] == ["referral_offer", "referral_correction"]
    with pytest.raises(ValidationError):
        workflows.correction_changes({"notes": "x"})


def _recording_sender(monkeypatch) -> list:
    sent = []

    def send_message(actor, partner, message_type, payload, **kwargs):
        sent.append((partner.country, message_type, payload))
        return SimpleNamespace(message_id=uuid.uuid4())

    monkeypatch.setattr(workflows.services, "send_message", send_message)
    return sent


def test_a_declined_offer_may_be_made_again_and_is_decided_again(caseworker, monkeypatch):
    sent = _recording_sender(monkeypatch)
    case = make_case(caseworker)
    case_services.record_consent(caseworker, case, "data_sharing", date(2026, 3, 2),
                                 recipient_node="UA")
    partner = _partner()
    referral = _offer(caseworker, case, partner)
    with pytest.raises(ValidationError) as refused:  # not while the first is open
        _offer(caseworker, case, partner)
    assert "partner" in refused.value.message_dict
    TransnationalReferral.objects.filter(pk=referral.pk).update(
        status="declined", decision_reason="no shelter place")
    again = _offer(caseworker, case, partner, services_asked=["medical"])
    assert again.pk == referral.pk and again.status == "offered" and not again.decision_reason
    assert [kind for _, kind, _ in sent] == ["referral_offer", "referral_offer"]
    assert sent[-1][2]["services_asked"] == ["medical"]
    # The receiving side: the declined offer is waiting for a decision again.
    from opennrm.transnational.receiving import ReceivedMessage

    incoming = TransnationalReferral.objects.create(
        direction="in", partner=partner, global_case_id=case.global_id, stage="first_assistance",
        mode="shared", preview={}, status="declined", decision_reason="no place",
        created_at=timezone.now())
    workflows.handle_offer(ReceivedMessage(
        message_id=uuid.uuid4(), type="referral_offer", schema_version="1.0", partner=partner,
        case_id=case.global_id, sequence=3, in_reply_to=None, consent_ref="", issued_at=0,
        payload=sent[-1][2]))
    incoming.refresh_from_db()
    assert incoming.status == "offered" and incoming.preview["services_asked"] == ["medical"]
    assert not incoming.decision_reason


def test_a_handover_closes_the_case_through_close_case(caseworker, monkeypatch):
    _recording_sender(monkeypatch)
    case = make_case(caseworker)
    case_services.record_consent(caseworker, case, "data_sharing", date(2026, 3, 2),
                                 recipient_node="UA")
    referral = _offer(caseworker, case, _partner(), mode="handover")
    TransnationalReferral.objects.filter(pk=referral.pk).update(status="accepted")
    referral.refresh_from_db()
    workflows.send_identity(referral)
    case.refresh_from_db()
    assert case.status == "closed_referred" and case.closure_reason == "referred_elsewhere"
    assert case.closed_at is not None


def test_a_handover_by_someone_who_may_no_longer_edit_leaves_the_case_open(caseworker,
                                                                          monkeypatch):
    _recording_sender(monkeypatch)
    case = make_case(caseworker)
    case_services.record_consent(caseworker, case, "data_sharing", date(2026, 3, 2),
                                 recipient_node="UA")
    referral = _offer(caseworker, case, _partner(), mode="handover")
    TransnationalReferral.objects.filter(pk=referral.pk).update(status="accepted")
    caseworker.is_active = False
    caseworker.save(update_fields=["is_active"])
    referral.refresh_from_db()
    workflows.send_identity(referral)
    case.refresh_from_db()
    assert not case.is_closed
    assert referral.events.filter(code="not_closed").exists()
