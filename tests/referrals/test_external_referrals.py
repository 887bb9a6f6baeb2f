"""Referrals to services outside OpenNRM: recorded by the caseworker with the person's
consent, followed up and closed with the outcome the caseworker records."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from opennrm.accounts.models import Role
from opennrm.audit.models import AuditEntry
from opennrm.cases import access
from opennrm.cases import services as case_services
from opennrm.core import codelists
from opennrm.referrals import services
from opennrm.referrals.models import EXTERNAL_OUTCOMES, Referral, ReferralState
from opennrm.reminders.models import Notification
from opennrm.services.matching import matching_services
from tests.factories import make_agency, make_user
from tests.referrals.outside import make_legal_aid, record, three_legal_aid_offices

S = ReferralState


@pytest.fixture
def legal_aid(db):
    return make_legal_aid()


@pytest.fixture
def external(caseworker, case, legal_aid, consent):
    return record(caseworker, case, legal_aid)


# --- recording ------------------------------------------------------------------------------

def test_it_is_recorded_with_no_receiving_agency(caseworker, case, legal_aid, consent):
    referral = record(caseworker, case, legal_aid)
    assert referral.external and referral.recipient_agency is None
    assert referral.state == S.SENT and referral.consent == consent
    assert referral.referring_agency == caseworker.agency
    assert referral.shared_fields == ["given_name", "gender", "languages", "needs"]
    assert referral.respond_by == timezone.localdate() + timedelta(days=3)  # answer time
    assert referral.recipient_name == "State-Guaranteed Legal Aid, Chișinău"
    assert AuditEntry.objects.filter(action="create", object_type="referral",
                                     reason=f"referral {referral.pk} outside OpenNRM").exists()


def test_the_caseworker_may_choose_the_follow_up_day(caseworker, case, legal_aid, consent):
    day = timezone.localdate() + timedelta(days=10)
    assert record(caseworker, case, legal_aid, follow_up_on=day).respond_by == day


@pytest.mark.parametrize(("days", "message"), [(-1, "in the past"), (400, "within a year")])
def test_a_follow_up_day_in_the_past_or_too_far_is_refused(caseworker, case, legal_aid,
                                                           consent, days, message):
    with pytest.raises(ValidationError) as refused:
        record(caseworker, case, legal_aid,
               follow_up_on=timezone.localdate() + timedelta(days=days))
    assert message in refused.value.message_dict["follow_up_on"][0]
    assert not Referral.objects.exists()


def test_it_needs_the_persons_consent(caseworker, case, legal_aid):
    with pytest.raises(ValidationError) as refused:
        record(caseworker, case, legal_aid)
    assert "has not consented to be referred to State-Guaranteed Legal Aid" in \
        refused.value.message_dict["consent"][0]
    assert not Referral.objects.exists()


def test_a_consent_naming_an_agency_does_not_cover_a_service_outside_opennrm(
        caseworker, case, legal_aid, shelter):
    case_services.record_consent(caseworker, case, "referral", date(2026, 3, 2),
                                 recipient_agency_code=shelter.code)
    with pytest.raises(ValidationError) as refused:
        record(caseworker, case, legal_aid)
    assert "a consent that names an agency does not cover" in \
        refused.value.message_dict["consent"][0]


def test_a_withdrawn_consent_blocks_it(caseworker, case, legal_aid, consent):
    case_services.withdraw_consent(caseworker, consent, date(2026, 3, 9))
    with pytest.raises(ValidationError) as refused:
        record(caseworker, case, legal_aid)
    assert "withdrew their consent" in refused.value.message_dict["consent"][0]


def test_a_supervisor_overrides_a_missing_consent_with_a_reason(case, legal_aid, ngo):
    supervisor = make_user(Role.SUPERVISOR, ngo)
    referral = record(supervisor, case, legal_aid, override_reason="Hearing tomorrow.")
    assert referral.consent is None and referral.consent_override_reason == "Hearing tomorrow."
    assert AuditEntry.objects.filter(reason=f"referral {referral.pk}: consent overridden",
                                     fields=["consent"]).exists()


def test_a_caseworker_may_not_override_a_missing_consent(caseworker, case, legal_aid):
    with pytest.raises(access.CaseAccessDenied):
        record(caseworker, case, legal_aid, override_reason="Urgent.")


def test_it_refuses_a_service_that_takes_referrals_in_opennrm(caseworker, case, service,
                                                              consent):
    with pytest.raises(ValidationError) as refused:
        record(caseworker, case, service)
    assert "takes referrals in OpenNRM" in refused.value.message_dict["service"][0]


def test_sending_to_a_service_outside_opennrm_points_to_recording(caseworker, case,
                                                                  legal_aid, consent):
    with pytest.raises(ValidationError) as refused:
        services.refer_case(caseworker, case, legal_aid, [])
    assert "record the referral as one outside OpenNRM" in \
        refused.value.message_dict["service"][0]


def test_it_refuses_a_second_open_referral_to_the_same_service(external, caseworker, case,
                                                               legal_aid):
    with pytest.raises(ValidationError) as refused:
        record(caseworker, case, legal_aid)
    assert "already has an open referral" in refused.value.message_dict["service"][0]


def test_another_agency_may_not_record_one_for_the_case(case, legal_aid, consent,
                                                        police_officer):
    with pytest.raises(access.CaseNotFound):
        record(police_officer, case, legal_aid)


def test_no_one_in_opennrm_is_told(caseworker, case, legal_aid, consent, shelter_worker):
    record(caseworker, case, legal_aid)
    assert not Notification.objects.exists()


# --- the matcher ------------------------------------------------------------------------------

def test_the_matcher_offers_the_legal_aid_services_outside_opennrm(caseworker, case):
    offices = three_legal_aid_offices()
    assert {service.pk for service in matching_services(case, "legal_aid")} == {
        office.pk for office in offices}


# --- the outcome --------------------------------------------------------------------------

OUTCOME_STATES = [("accepted", S.ACCEPTED), ("assistance_delivered", S.COMPLETED),
                  ("declined", S.DECLINED), ("no_answer", S.CANCELLED)]


def test_every_outcome_of_the_code_list_has_a_state():
    assert set(codelists.entries(EXTERNAL_OUTCOMES)) == set(services.OUTCOMES[S.SENT])
    assert dict(OUTCOME_STATES) == services.OUTCOMES[S.SENT]


@pytest.mark.parametrize(("outcome", "state"), OUTCOME_STATES)
def test_the_caseworker_records_the_outcome(external, caseworker, outcome, state):
    services.record_referral_outcome(caseworker, external, outcome, "Spoke to Ms Rusu.")
    external.refresh_from_db()
    assert (external.state, external.outcome) == (state, outcome)
    event = external.events.last()
    assert (event.from_state, event.to_state, event.actor) == (S.SENT, state, caseworker)
    assert event.reason == "Spoke to Ms Rusu."
    assert external.status_label == codelists.label(EXTERNAL_OUTCOMES, outcome)
    assert AuditEntry.objects.filter(action="update", fields=["outcome", "state"]).exists()


def test_assistance_delivered_after_acceptance_completes_it(external, caseworker):
    services.record_referral_outcome(caseworker, external, "accepted")
    assert services.outcome_choices(caseworker, external) == ["assistance_delivered"]
    services.record_referral_outcome(caseworker, external, "assistance_delivered")
    external.refresh_from_db()
    assert (external.state, external.outcome) == (S.COMPLETED, "assistance_delivered")
    assert external.ended_at is not None
    assert services.outcome_choices(caseworker, external) == []


@pytest.mark.parametrize("outcome", ["declined", "no_answer", "accepted"])
def test_an_accepted_referral_can_only_be_delivered_or_cancelled(external, caseworker,
                                                                 outcome):
    services.record_referral_outcome(caseworker, external, "accepted")
    with pytest.raises(ValidationError) as refused:
        services.record_referral_outcome(caseworker, external, outcome)
    assert "cannot be" in refused.value.message_dict["state"][0]
    assert Referral.objects.get().state == S.ACCEPTED


def test_an_ended_referral_takes_no_outcome(external, caseworker):
    services.record_referral_outcome(caseworker, external, "declined")
    with pytest.raises(ValidationError):
        services.record_referral_outcome(caseworker, external, "accepted")


def test_an_unknown_outcome_is_refused(external, caseworker):
    with pytest.raises(ValidationError) as refused:
        services.record_referral_outcome(caseworker, external, "lost")
    assert "outcome" in refused.value.message_dict


def test_only_the_referring_agency_records_the_outcome(external, shelter_worker):
    with pytest.raises(access.CaseAccessDenied):
        services.record_referral_outcome(shelter_worker, external, "accepted")


def test_a_referral_in_opennrm_takes_no_outcome_from_the_sender(referral, caseworker):
    with pytest.raises(ValidationError) as refused:
        services.record_referral_outcome(caseworker, referral, "accepted")
    assert "receiving agency answers" in refused.value.message_dict["outcome"][0]
    assert services.outcome_choices(caseworker, referral) == []


def test_the_sender_cancels_it_with_a_reason(external, caseworker):
    assert services.allowed_transitions(caseworker, external) == [
        S.ACCEPTED, S.COMPLETED, S.DECLINED, S.CANCELLED]
    with pytest.raises(ValidationError):
        services.cancel_referral(caseworker, external, "")
    services.cancel_referral(caseworker, external, "She found a lawyer herself.")
    assert Referral.objects.get().state == S.CANCELLED


def test_its_answers_are_not_the_recipients_actions(external, caseworker):
    """The recipient's functions (accept, decline…) are for a receiving agency: nobody in
    OpenNRM is one for a referral outside it."""
    with pytest.raises(access.CaseAccessDenied):
        services.accept_referral(caseworker, external)


# --- consent withdrawal -------------------------------------------------------------------

def test_consent_withdrawal_stops_it_and_asks_the_caseworker_to_tell_the_service(
        external, caseworker, consent):
    case_services.withdraw_consent(caseworker, consent, timezone.localdate())
    external.refresh_from_db()
    assert external.state == S.STOPPED
    told = Notification.objects.get(user=caseworker, kind="referral_stopped")
    assert "Tell the service" in told.message


# --- who sees it ----------------------------------------------------------------------------

def test_another_agency_cannot_see_it(external, police_officer, shelter_worker):
    for user in (police_officer, shelter_worker):
        with pytest.raises(access.CaseNotFound):
            services.get_referral(user, external.pk)
        assert not services.referrals_visible_to(user).exists()
        assert not services.inbox(user).exists()


def test_an_agency_with_no_users_linked_sees_nothing_either(external):
    stranger = make_user(Role.CASEWORKER, make_agency("lawyers-guild"))
    assert not services.referrals_visible_to(stranger).exists()


def test_the_referring_agency_sees_it_in_its_outbox(external, caseworker):
    assert list(services.outbox(caseworker)) == [external]
    assert services.read_referral(caseworker, external.pk).side == services.SENDER
