"""A case handed to another agency of the node, with the person's consent: the owning
agency's supervisor asks, the receiving agency's supervisor accepts or declines."""

import pytest
from django.core.exceptions import ValidationError

from opennrm.accounts.models import Role
from opennrm.audit.models import AuditEntry
from opennrm.cases import access, services, transfer
from opennrm.cases.models import TransferState
from opennrm.reminders.models import Notification
from opennrm.workspace.timeline import timeline
from opennrm.workspace.waiting import waiting_for
from tests.factories import (
    make_agency,
    make_agency_service,
    make_consent,
    make_referral,
    make_user,
)
from tests.helpers import as_user


@pytest.fixture
def supervisor(ngo):
    return make_user(Role.SUPERVISOR, ngo, "supervisor")


@pytest.fixture
def shelter(db):
    return make_agency("casa-luminii", "ngo")


@pytest.fixture
def shelter_supervisor(shelter):
    return make_user(Role.SUPERVISOR, shelter, "shelter-supervisor")


@pytest.fixture
def consented(caseworker, case, shelter):
    return services.record_consent(caseworker, case, "transfer", "2026-03-02",
                                   recipient_agency_code=shelter.code)


def test_a_transfer_without_the_persons_consent_is_refused(supervisor, case, shelter):
    with pytest.raises(ValidationError) as error:
        transfer.request_transfer(supervisor, case, shelter.code)
    assert "has not consented to a transfer to Casa Luminii" in str(
        error.value.message_dict["to_agency"])
    assert not case.transfers.exists()


def test_a_consent_for_another_agency_does_not_count(supervisor, caseworker, case, shelter,
                                                     police):
    services.record_consent(caseworker, case, "transfer", "2026-03-02",
                            recipient_agency_code=police.code)
    with pytest.raises(ValidationError):
        transfer.request_transfer(supervisor, case, shelter.code)


def test_a_caseworker_cannot_request_a_transfer(caseworker, case, shelter, consented):
    with pytest.raises(access.CaseAccessDenied):
        transfer.request_transfer(caseworker, case, shelter.code)


def test_the_receiving_supervisor_is_told_and_finds_it_waiting(supervisor, case, shelter,
                                                               shelter_supervisor, consented):
    requested = transfer.request_transfer(supervisor, case, shelter.code, channel="web")
    assert requested.state == TransferState.REQUESTED and requested.consent == consented
    notice = Notification.objects.get(user=shelter_supervisor, kind="transfer_requested")
    assert notice.link == f"/cases/transfers/{requested.pk}/"
    waiting = waiting_for(shelter_supervisor, requested.requested_at.date())
    assert [entry.link for entry in waiting.entries] == [notice.link]
    assert AuditEntry.objects.filter(object_ref=case.case_number, fields=["transfer"],
                                     reason="transfer requested to casa-luminii").exists()


def test_one_request_at_a_time(supervisor, case, shelter, consented):
    transfer.request_transfer(supervisor, case, shelter.code)
    with pytest.raises(ValidationError, match="already waiting"):
        transfer.request_transfer(supervisor, case, shelter.code)


def test_accepting_moves_the_case_with_its_history(supervisor, caseworker, case, shelter,
                                                   shelter_supervisor, consented):
    make_consent(caseworker, case)  # to be referred
    referral = make_referral(caseworker, case,
                             make_agency_service(make_agency("legal-aid", "ngo")))
    requested = transfer.request_transfer(supervisor, case, shelter.code)
    transfer.accept_transfer(shelter_supervisor, requested, channel="web")
    case.refresh_from_db()
    assert case.owner_agency == shelter and case.assigned_to is None
    # The new owner sees and may change it; the former owner no longer sees it.
    assert access.get_visible_case(shelter_supervisor, case.case_number) == case
    with pytest.raises(access.CaseNotFound):
        access.get_visible_case(caseworker, case.case_number)
    # History stays: consents, referrals (the open one now the new owner's to follow).
    assert case.consents.count() == 2
    referral.refresh_from_db()
    assert referral.referring_agency == shelter
    kinds = [entry.kind for entry in timeline(case)]
    assert "transfer_requested" in kinds and "transfer_accepted" in kinds
    assert AuditEntry.objects.filter(object_ref=case.case_number,
                                     fields=["assigned_to", "owner_agency", "transfer"],
                                     actor_username="shelter-supervisor").exists()
    assert Notification.objects.filter(user=supervisor, kind="transfer_accepted").exists()
    # The request's notification is done.
    assert Notification.objects.get(user=shelter_supervisor,
                                    kind="transfer_requested").cleared_at is not None


def test_the_former_owner_keeps_a_closed_record(client, supervisor, case, shelter,
                                                shelter_supervisor, consented):
    handed = transfer.accept_transfer(
        shelter_supervisor, transfer.request_transfer(supervisor, case, shelter.code))
    client = as_user(client, supervisor)
    listing = client.get("/cases/transfers/").content.decode()
    assert f"/cases/transfers/{handed.pk}/record/" in listing
    record = client.get(f"/cases/transfers/{handed.pk}/record/")
    assert record.status_code == 200
    content = record.content.decode()
    assert "Transferred to Casa Luminii" in content and "Popescu" not in content
    assert client.get(f"/cases/{case.case_number}/").status_code == 404
    assert AuditEntry.objects.filter(object_ref=case.case_number, action="read",
                                     reason="former owner's record").exists()


def test_the_closed_record_is_only_the_former_owners(client, supervisor, police, case,
                                                     shelter, shelter_supervisor, consented):
    handed = transfer.accept_transfer(
        shelter_supervisor, transfer.request_transfer(supervisor, case, shelter.code))
    response = as_user(client, make_user(Role.SUPERVISOR, police)).get(
        f"/cases/transfers/{handed.pk}/record/")
    assert response.status_code == 404
    # The new owner opens the case itself, not the former owner's record.
    response = as_user(client, shelter_supervisor).get(f"/cases/transfers/{handed.pk}/record/")
    assert response.status_code == 404


def test_declining_needs_a_reason_and_leaves_the_case(supervisor, case, shelter,
                                                      shelter_supervisor, consented):
    requested = transfer.request_transfer(supervisor, case, shelter.code)
    with pytest.raises(ValidationError) as error:
        transfer.decline_transfer(shelter_supervisor, requested, "  ")
    assert "reason" in error.value.message_dict
    transfer.decline_transfer(shelter_supervisor, requested, "No place for a family.")
    requested.refresh_from_db()
    assert requested.state == TransferState.DECLINED
    case.refresh_from_db()
    assert case.owner_agency.code == "la-strada"
    assert Notification.objects.filter(user=supervisor, kind="transfer_declined").exists()


def test_only_the_receiving_supervisor_answers(supervisor, caseworker, case, shelter,
                                               consented):
    requested = transfer.request_transfer(supervisor, case, shelter.code)
    for someone in (supervisor, make_user(Role.CASEWORKER, shelter)):
        with pytest.raises(access.CaseNotFound):
            transfer.accept_transfer(someone, requested)
    case.refresh_from_db()
    assert case.owner_agency.code == "la-strada"


def test_a_withdrawn_consent_stops_the_acceptance(supervisor, caseworker, case, shelter,
                                                  shelter_supervisor, consented):
    requested = transfer.request_transfer(supervisor, case, shelter.code)
    services.withdraw_consent(caseworker, consented, "2026-03-03")
    with pytest.raises(ValidationError, match="withdrew their consent"):
        transfer.accept_transfer(shelter_supervisor, requested)
    case.refresh_from_db()
    assert case.owner_agency.code == "la-strada"


def test_the_web_journey(client, supervisor, case, shelter, shelter_supervisor, consented):
    page = as_user(client, supervisor).get(f"/cases/{case.case_number}/").content.decode()
    assert f'action="/cases/{case.case_number}/transfer/"' in page
    response = client.post(f"/cases/{case.case_number}/transfer/",
                           {"transfer-to_agency": shelter.code})
    assert response.status_code == 302
    requested = case.transfers.get()
    answer_page = as_user(client, shelter_supervisor).get(f"/cases/transfers/{requested.pk}/")
    assert answer_page.status_code == 200 and "Popescu" not in answer_page.content.decode()
    response = client.post(f"/cases/transfers/{requested.pk}/", {"accept": "1"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.owner_agency == shelter
    # Answered: it is no longer waiting.
    assert client.get(f"/cases/transfers/{requested.pk}/").status_code == 404


def test_declining_on_the_web_shows_a_missing_reason_by_its_field(client, supervisor, case,
                                                                  shelter, shelter_supervisor,
                                                                  consented):
    requested = transfer.request_transfer(supervisor, case, shelter.code)
    response = as_user(client, shelter_supervisor).post(f"/cases/transfers/{requested.pk}/",
                                                        {"decline": "1", "reason": ""})
    assert response.status_code == 200
    assert "Say why your agency declines the case." in response.content.decode()


def test_a_missing_transfer_is_a_404(client, shelter_supervisor):
    assert as_user(client, shelter_supervisor).get("/cases/transfers/999/").status_code == 404
