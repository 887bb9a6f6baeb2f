"""The referral service functions: consent rule, state machine, shared fields, assistance."""

import threading
from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections
from django.utils import timezone

from opennrm.accounts.models import Role
from opennrm.audit.models import AuditEntry
from opennrm.cases import access
from opennrm.cases import services as case_services
from opennrm.referrals import access as referral_access
from opennrm.referrals import services
from opennrm.referrals.models import Assistance, Referral, ReferralEvent, ReferralState
from opennrm.reminders.models import Notification
from tests.factories import make_agency, make_agency_service, make_user, person_data

S = ReferralState


def move_to(state: str, referral, sender, recipient):
    """Bring a freshly sent referral into `state` through the service functions."""
    if state == S.SENT:
        return referral
    if state == S.DECLINED:
        return services.decline_referral(recipient, referral, "No free places.")
    if state == S.CANCELLED:
        return services.cancel_referral(sender, referral, "Found a place elsewhere.")
    if state == S.STOPPED:
        case_services.withdraw_consent(sender, referral.consent, timezone.localdate())
        referral.refresh_from_db()
        return referral
    services.accept_referral(recipient, referral)
    if state == S.WITHDRAWN:
        return services.withdraw_referral(recipient, referral, "She moved to another town.")
    if state == S.COMPLETED:
        services.record_assistance(recipient, referral, "shelter", "Two weeks' stay.",
                                   timezone.localdate())
        return services.complete_referral(recipient, referral)
    return referral


def act(to_state: str, referral, sender, recipient):
    """Ask for `to_state` as the side that may ask for it, with a reason."""
    if to_state == S.COMPLETED and referral.state == S.ACCEPTED:
        services.record_assistance(recipient, referral, "shelter", "A night's stay.",
                                   timezone.localdate())
    functions = {
        S.ACCEPTED: (services.accept_referral, recipient),
        S.DECLINED: (services.decline_referral, recipient),
        S.WITHDRAWN: (services.withdraw_referral, recipient),
        S.COMPLETED: (services.complete_referral, recipient),
        S.CANCELLED: (services.cancel_referral, sender),
    }
    function, actor = functions[to_state]
    return function(actor, referral, "A reason.")


# --- the lifecycle --------------------------------------------------------------------------

def test_a_referral_is_sent_accepted_assisted_and_completed(caseworker, case, service,
                                                             consent, shelter_worker):
    referral = services.refer_case(caseworker, case, service, ["gender", "needs"],
                                   "A safe place to stay.")
    assert referral.state == S.SENT
    assert referral.recipient_agency == service.provider.agency
    assert referral.referring_agency == caseworker.agency
    assert referral.consent == consent
    assert referral.respond_by == timezone.localdate() + timedelta(days=5)
    assert Notification.objects.filter(user=shelter_worker, kind="referral_sent").exists()

    services.accept_referral(shelter_worker, referral)
    assert Notification.objects.filter(user=caseworker, kind="referral_accepted").exists()
    services.record_assistance(shelter_worker, referral, "shelter", "Room 4, two weeks.",
                               timezone.localdate())
    services.complete_referral(shelter_worker, referral, "Moved to own flat.")

    referral.refresh_from_db()
    assert referral.state == S.COMPLETED
    assert referral.answered_at and referral.ended_at
    history = [(e.from_state, e.to_state, e.actor) for e in referral.events.all()]
    assert history == [("", S.SENT, caseworker), (S.SENT, S.ACCEPTED, shelter_worker),
                       (S.ACCEPTED, S.COMPLETED, shelter_worker)]
    assert referral.events.last().reason == "Moved to own flat."
    record = Assistance.objects.get(referral=referral)
    assert (record.delivered_by, record.delivering_agency) == (shelter_worker,
                                                               shelter_worker.agency)


ALLOWED = [(from_state, to_state) for from_state, rules in services.TRANSITIONS.items()
           for to_state in rules if to_state != S.STOPPED]


@pytest.mark.parametrize(("from_state", "to_state"), ALLOWED)
def test_it_makes_every_allowed_transition(from_state, to_state, referral, caseworker,
                                           shelter_worker):
    move_to(from_state, referral, caseworker, shelter_worker)
    act(to_state, referral, caseworker, shelter_worker)
    referral.refresh_from_db()
    assert referral.state == to_state
    last = referral.events.last()
    assert (last.from_state, last.to_state) == (from_state, to_state)


@pytest.mark.parametrize("from_state", [S.SENT, S.ACCEPTED])
def test_consent_withdrawal_stops_an_open_referral(from_state, referral, caseworker,
                                                   shelter_worker):
    move_to(from_state, referral, caseworker, shelter_worker)
    move_to(S.STOPPED, referral, caseworker, shelter_worker)
    assert referral.state == S.STOPPED
    assert (referral.events.last().from_state, referral.events.last().to_state) == (
        from_state, S.STOPPED)


FORBIDDEN = [(from_state, to_state) for from_state in S.values
             for to_state in (S.ACCEPTED, S.DECLINED, S.CANCELLED, S.WITHDRAWN, S.COMPLETED)
             if to_state not in services.TRANSITIONS.get(from_state, {})]


@pytest.mark.parametrize(("from_state", "to_state"), FORBIDDEN)
def test_it_refuses_every_forbidden_transition_and_changes_nothing(
        from_state, to_state, referral, caseworker, shelter_worker):
    move_to(from_state, referral, caseworker, shelter_worker)
    events = ReferralEvent.objects.count()
    audit = AuditEntry.objects.count()
    with pytest.raises(ValidationError) as refused:
        act(to_state, referral, caseworker, shelter_worker)
    assert "state" in refused.value.message_dict
    assert "cannot be" in refused.value.message_dict["state"][0]
    assert Referral.objects.get(pk=referral.pk).state == from_state
    assert ReferralEvent.objects.count() == events
    assert AuditEntry.objects.count() == audit


def test_the_table_has_no_way_out_of_an_ended_referral():
    assert set(services.TRANSITIONS) == {S.SENT, S.ACCEPTED}


def test_only_the_recipient_answers_and_only_the_sender_cancels(referral, caseworker,
                                                               shelter_worker):
    with pytest.raises(access.CaseAccessDenied):
        services.accept_referral(caseworker, referral)
    with pytest.raises(access.CaseAccessDenied):
        services.cancel_referral(shelter_worker, referral, "Not ours to cancel.")
    assert Referral.objects.get(pk=referral.pk).state == S.SENT


@pytest.mark.parametrize("action", [services.decline_referral, services.cancel_referral])
def test_declining_and_cancelling_need_a_reason(action, referral, caseworker, shelter_worker):
    actor = shelter_worker if action is services.decline_referral else caseworker
    with pytest.raises(ValidationError) as refused:
        action(actor, referral, "  ")
    assert refused.value.message_dict == {"reason": ["Give the reason."]}
    assert Referral.objects.get(pk=referral.pk).state == S.SENT


def test_completing_needs_the_assistance_recorded_first(accepted, shelter_worker):
    with pytest.raises(ValidationError) as refused:
        services.complete_referral(shelter_worker, accepted)
    assert "Record the assistance" in refused.value.message_dict["state"][0]


# --- the consent rule ----------------------------------------------------------------------

def _nothing_written():
    return (Referral.objects.count(), ReferralEvent.objects.count(),
            Notification.objects.count())


def test_a_missing_consent_blocks_the_referral_and_writes_nothing(caseworker, case, service):
    before, audit = _nothing_written(), AuditEntry.objects.count()
    with pytest.raises(ValidationError) as refused:
        services.refer_case(caseworker, case, service, ["gender"])
    assert refused.value.message_dict["consent"] == [
        "The person has not consented to be referred to Casa Luminii. Record their consent "
        "to be referred first."]
    assert _nothing_written() == before
    assert AuditEntry.objects.count() == audit


def test_a_withdrawn_consent_blocks_the_referral(caseworker, case, service, consent):
    case_services.withdraw_consent(caseworker, consent, date(2026, 3, 5))
    with pytest.raises(ValidationError) as refused:
        services.refer_case(caseworker, case, service, ["gender"])
    assert refused.value.message_dict["consent"][0].startswith(
        "The person withdrew their consent to be referred on 2026-03-05.")
    assert not Referral.objects.exists()


def test_a_consent_naming_another_agency_does_not_cover_the_referral(caseworker, case,
                                                                      service, police):
    case_services.record_consent(caseworker, case, "referral", date(2026, 3, 2),
                                 recipient_agency_code=police.code)
    with pytest.raises(ValidationError):
        services.refer_case(caseworker, case, service, ["gender"])


def test_a_consent_naming_the_receiving_agency_covers_it(caseworker, case, service, shelter):
    named = case_services.record_consent(caseworker, case, "referral", date(2026, 3, 2),
                                         recipient_agency_code=shelter.code)
    assert services.refer_case(caseworker, case, service, []).consent == named


def test_a_caseworker_may_not_override_a_missing_consent(caseworker, case, service):
    with pytest.raises(access.CaseAccessDenied):
        services.refer_case(caseworker, case, service, [], override_reason="Urgent.")
    assert not Referral.objects.exists()


def test_a_supervisor_overrides_a_missing_consent_with_a_reason_and_it_is_audited(
        supervisor, case, service, shelter_worker):
    with pytest.raises(ValidationError):
        services.refer_case(supervisor, case, service, [])
    referral = services.refer_case(supervisor, case, service, ["needs"], "Medical care",
                                   override_reason="Unconscious; needs care today.")
    assert referral.consent is None
    assert referral.consent_override_reason == "Unconscious; needs care today."
    assert AuditEntry.objects.filter(object_ref=case.case_number,
                                     reason=f"referral {referral.pk}: consent overridden",
                                     fields=["consent"]).exists()
    assert referral_access.can_see_shared_fields(shelter_worker, referral)


# --- what the recipient sees ---------------------------------------------------------------

def test_the_recipient_sees_only_the_shared_fields_and_the_read_is_audited(
        referral, shelter_worker, case):
    shown = services.read_referral(shelter_worker, referral.pk, channel="web")
    assert shown.side == services.RECIPIENT
    assert shown.shared == {"given_name": "Elena", "gender": "female",
                            "needs": "A safe place to stay for two weeks."}
    entry = AuditEntry.objects.filter(actor_username="shelter-worker", action="read",
                                      object_type="case").get()
    assert entry.object_ref == case.case_number
    assert entry.fields == ["gender", "given_name", "needs"]
    assert entry.reason == f"referral {referral.pk}"


def test_identity_is_not_shared_unless_ticked(caseworker, case, service, consent,
                                              shelter_worker):
    referral = services.refer_case(caseworker, case, service, services.DEFAULT_SHARED_FIELDS)
    shared = services.shared_data(shelter_worker, referral)
    assert set(shared) == {"gender", "age_band", "languages", "needs"}
    assert not set(shared) & set(services.IDENTITY_SHARED_FIELDS)


def test_it_refuses_fields_outside_the_vocabulary(caseworker, case, service, consent):
    with pytest.raises(ValidationError) as refused:
        services.refer_case(caseworker, case, service, ["address", "gender"])
    assert "address" in refused.value.message_dict["shared_fields"][0]


def test_consent_withdrawn_after_acceptance_ends_the_recipients_access(
        accepted, caseworker, shelter_worker, consent):
    assert services.shared_data(shelter_worker, accepted) is not None
    case_services.withdraw_consent(caseworker, consent, timezone.localdate())
    referral = Referral.objects.get(pk=accepted.pk)
    assert referral.state == S.STOPPED
    assert services.read_referral(shelter_worker, referral.pk).shared is None
    notice = Notification.objects.get(user=shelter_worker, kind="referral_stopped")
    assert referral.case.case_number in notice.text()
    assert "Elena" not in notice.text() and "Popescu" not in notice.text()


def test_access_ends_at_once_even_before_the_state_changes(accepted, shelter_worker, consent):
    # Read-time rule: a withdrawn consent is enough, whatever the referral's state says.
    consent.withdrawn_on = timezone.localdate()
    consent.save()
    accepted.consent.refresh_from_db()
    assert not referral_access.can_see_shared_fields(shelter_worker, accepted)


def test_withdrawing_another_consent_leaves_the_referral_alone(referral, caseworker, case):
    other = case_services.record_consent(caseworker, case, "research", date(2026, 3, 2))
    case_services.withdraw_consent(caseworker, other, timezone.localdate())
    assert Referral.objects.get(pk=referral.pk).state == S.SENT


@pytest.mark.parametrize("ended", [S.DECLINED, S.CANCELLED, S.COMPLETED, S.WITHDRAWN])
def test_an_ended_referral_shares_nothing_any_more(ended, referral, caseworker,
                                                   shelter_worker):
    move_to(ended, referral, caseworker, shelter_worker)
    assert services.read_referral(shelter_worker, referral.pk).shared is None


def test_the_recipient_never_gets_the_case(referral, shelter_worker, case):
    with pytest.raises(access.CaseNotFound):
        access.get_visible_case(shelter_worker, case.case_number)


def test_a_third_agency_sees_nothing(referral, police_officer):
    with pytest.raises(access.CaseNotFound):
        services.get_referral(police_officer, referral.pk)
    assert not services.inbox(police_officer).exists()
    assert not services.outbox(police_officer).exists()


def test_inbox_and_outbox(referral, caseworker, shelter_worker):
    assert list(services.inbox(shelter_worker)) == [referral]
    assert list(services.outbox(caseworker)) == [referral]
    assert not services.inbox(caseworker).exists()
    assert not services.outbox(shelter_worker).exists()


def test_an_analyst_of_the_receiving_agency_sees_no_referral(referral, shelter):
    analyst = make_user(Role.ANALYST, shelter)
    assert not services.inbox(analyst).exists()


# --- what may be referred ------------------------------------------------------------------

def test_it_refuses_a_second_open_referral_to_the_same_service(referral, caseworker, case,
                                                               service):
    with pytest.raises(ValidationError) as refused:
        services.refer_case(caseworker, case, service, [])
    assert "already has an open referral" in refused.value.message_dict["service"][0]


def test_it_refuses_a_provider_outside_opennrm(caseworker, case, consent):
    service = make_agency_service(None, "Clinic by phone")
    with pytest.raises(ValidationError) as refused:
        services.refer_case(caseworker, case, service, [])
    assert "does not take referrals in OpenNRM" in refused.value.message_dict["service"][0]


def test_it_refuses_a_closed_case(caseworker, case, service, consent):
    case_services.close_case(caseworker, case, "lost_contact")
    with pytest.raises(ValidationError):
        services.refer_case(caseworker, case, service, [])


def test_it_validates_ownership(case, service, police_officer):
    with pytest.raises(access.CaseNotFound):
        services.refer_case(police_officer, case, service, [])


# --- assistance ----------------------------------------------------------------------------

def test_assistance_is_recorded_only_while_accepted(referral, shelter_worker):
    with pytest.raises(ValidationError) as refused:
        services.record_assistance(shelter_worker, referral, "shelter", "A bed.",
                                   timezone.localdate())
    assert "only while the referral is accepted" in refused.value.message_dict["state"][0]
    assert not Assistance.objects.exists()


def test_only_the_recipient_records_assistance(accepted, caseworker):
    with pytest.raises(access.CaseAccessDenied):
        services.record_assistance(caseworker, accepted, "shelter", "A bed.",
                                   timezone.localdate())


def test_assistance_needs_a_kind_a_description_and_a_past_date(accepted, shelter_worker):
    with pytest.raises(ValidationError) as refused:
        services.record_assistance(shelter_worker, accepted, "spa", " ",
                                   timezone.localdate() + timedelta(days=1))
    assert set(refused.value.message_dict) == {"service_type", "description", "delivered_on"}


def test_assistance_descriptions_are_encrypted_at_rest(accepted, shelter_worker):
    record = services.record_assistance(shelter_worker, accepted, "medical",
                                        "Treated for a broken wrist.", timezone.localdate())
    with connection.cursor() as cursor:
        cursor.execute("SELECT description FROM referrals_assistance WHERE id = %s",
                       [record.pk])
        assert "wrist" not in cursor.fetchone()[0]


# --- concurrency (PostgreSQL) --------------------------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_two_concurrent_answers_end_in_exactly_one(ngo):
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL; SQLite serialises writers anyway")
    shelter = make_agency("casa-luminii", "ngo")
    caseworker = make_user(Role.CASEWORKER, ngo)
    first, second = (make_user(Role.CASEWORKER, shelter) for _ in range(2))
    case = case_services.register_case(caseworker, person_data())
    case_services.record_consent(caseworker, case, "referral", date(2026, 3, 2))
    referral = services.refer_case(caseworker, case, make_agency_service(shelter), ["gender"])
    barrier = threading.Barrier(2)
    outcomes = []

    def answer(actor):
        try:
            barrier.wait()
            services.accept_referral(actor, Referral.objects.get(pk=referral.pk))
            outcomes.append("won")
        except ValidationError:
            outcomes.append("refused")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=answer, args=(actor,)) for actor in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["refused", "won"]
    assert ReferralEvent.objects.filter(referral=referral).count() == 2
    assert Referral.objects.get(pk=referral.pk).state == S.ACCEPTED
