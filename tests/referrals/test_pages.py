"""The referral pages: the case's referrals, referring, the referral, answering, assistance,
and the inbox."""

import re
from datetime import date

import pytest
from django.utils import timezone

from opennrm.accounts.models import Role
from opennrm.audit.models import AuditEntry
from opennrm.cases import services as case_services
from opennrm.referrals import services
from opennrm.referrals.models import Assistance, Referral, ReferralState
from tests.factories import make_agency_service, make_user
from tests.helpers import as_user, assert_no_inline_code


def detail(referral) -> str:
    return f"/referrals/{referral.pk}/"


# --- the case page -------------------------------------------------------------------------

def test_the_case_page_lists_the_referrals_with_their_state(client, caseworker, referral,
                                                            case):
    page = as_user(client, caseworker).get(f"/cases/{case.case_number}/")
    text = page.content.decode()
    assert "Casa Luminii shelter" in text
    assert "Waiting for an answer" in text
    assert "Refer to a service" in text
    assert_no_inline_code(page)


def test_the_case_page_has_no_refer_button_for_a_closed_case(client, caseworker, case):
    case_services.close_case(caseworker, case, "lost_contact")
    page = as_user(client, caseworker).get(f"/cases/{case.case_number}/")
    assert "Refer to a service" not in page.content.decode()


# --- referring -----------------------------------------------------------------------------

def new(case) -> str:
    return f"/cases/{case.case_number}/referrals/new/"


def test_referring_shows_matching_services_and_sends(client, caseworker, case, service,
                                                     consent, shelter_worker):
    as_user(client, caseworker)
    page = client.get(new(case), {"service_type": "shelter"})
    text = page.content.decode()
    assert "Casa Luminii shelter — Casa Luminii shelter provider" in text
    assert "Reason for referring without consent" not in text  # caseworkers may not override
    assert_no_inline_code(page)
    sent = client.post(new(case) + "?service_type=shelter", {
        "service": service.pk,
        "shared_fields": ["gender", "needs"], "needs": "A bed tonight."})
    referral = Referral.objects.get()
    assert sent.status_code == 302 and sent["Location"] == detail(referral)
    assert referral.shared_fields == ["gender", "needs"]


def test_the_default_shares_no_identity(client, caseworker, case, service, consent):
    page = as_user(client, caseworker).get(new(case), {"service_type": "shelter"})
    text = page.content.decode()
    for default in services.DEFAULT_SHARED_FIELDS:
        assert re.search(rf'value="{default}"[^>]*checked', text)
    for identity in services.IDENTITY_SHARED_FIELDS:
        assert not re.search(rf'value="{identity}"[^>]*checked', text)


def test_a_missing_consent_shows_in_the_error_summary(client, caseworker, case, service):
    page = as_user(client, caseworker).post(new(case) + "?service_type=shelter", {
        "service": service.pk, "shared_fields": ["gender"]})
    assert page.status_code == 200
    text = page.content.decode()
    assert "There is a problem" in text
    assert "has not consented to be referred to Casa Luminii" in text
    assert not Referral.objects.exists()


def test_a_supervisor_sees_and_uses_the_override(client, supervisor, case, service):
    as_user(client, supervisor)
    assert "Reason for referring without consent" in client.get(
        new(case), {"service_type": "shelter"}).content.decode()
    client.post(new(case) + "?service_type=shelter", {
        "service": service.pk, "shared_fields": ["needs"],
        "needs": "Urgent medical care", "override_reason": "Injured; cannot sign today."})
    assert Referral.objects.get().consent_override_reason == "Injured; cannot sign today."


def test_it_lists_services_of_other_agencies_and_outside_opennrm(client, caseworker, case,
                                                                consent, ngo):
    make_agency_service(ngo, "Our own shelter")
    make_agency_service(None, "Shelter by phone")
    text = as_user(client, caseworker).get(new(case), {"service_type": "shelter"}
                                           ).content.decode()
    assert "Our own shelter" not in text
    assert ("Shelter by phone — Shelter by phone provider (outside OpenNRM: the referral is "
            "recorded, you contact them)") in text


def test_referring_validates_ownership(client, police_officer, case, service, consent):
    as_user(client, police_officer)
    assert client.get(new(case), {"service_type": "shelter"}).status_code == 404
    assert client.post(new(case) + "?service_type=shelter", {
        "service_type": "shelter", "service": service.pk}).status_code == 404
    assert not Referral.objects.exists()


# --- the referral page ---------------------------------------------------------------------

def test_the_recipient_sees_only_the_shared_fields(client, referral, shelter_worker):
    page = as_user(client, shelter_worker).get(detail(referral))
    text = page.content.decode()
    assert "Elena" in text and "A safe place to stay for two weeks." in text
    assert "Popescu" not in text and "+37369123456" not in text and "1998" not in text
    assert "Met at the bus station" not in text
    assert page["Cache-Control"] == "no-store"
    assert "Elena" not in text.split("<title>")[1].split("</title>")[0]
    assert AuditEntry.objects.filter(actor_username="shelter-worker", object_type="case",
                                     reason=f"referral {referral.pk}").exists()
    assert_no_inline_code(page)


def test_the_sender_sees_the_state_and_what_is_shared(client, caseworker, referral):
    text = as_user(client, caseworker).get(detail(referral)).content.decode()
    assert "Waiting for an answer" in text
    assert "Given name, Gender, The note on what the person needs" in text
    assert "Cancel the referral" in text and ">Accept<" not in text


def test_the_recipient_never_gets_the_case_page(client, referral, shelter_worker, case):
    assert as_user(client, shelter_worker).get(
        f"/cases/{case.case_number}/").status_code == 404


def test_the_referral_page_validates_ownership(client, referral, police_officer):
    assert as_user(client, police_officer).get(detail(referral)).status_code == 404


def test_consent_withdrawn_after_acceptance_ends_the_recipients_view(
        client, accepted, caseworker, consent, shelter_worker):
    case_services.withdraw_consent(caseworker, consent, timezone.localdate())
    text = as_user(client, shelter_worker).get(detail(accepted)).content.decode()
    assert "Stopped: consent withdrawn" in text
    assert "Your access to the data of this referral has ended." in text
    assert "Elena" not in text and "A safe place to stay" not in text


def test_both_sides_see_the_history(client, accepted, caseworker, shelter_worker):
    for user in (caseworker, shelter_worker):
        text = as_user(client, user).get(detail(accepted)).content.decode()
        assert "Waiting for an answer → Accepted, in progress" in text
        assert "shelter-worker, Casa Luminii" in text


# --- answering -----------------------------------------------------------------------------

def change(referral, action: str) -> str:
    return f"/referrals/{referral.pk}/{action}/"


def test_the_recipient_accepts(client, referral, shelter_worker):
    as_user(client, shelter_worker)
    page = client.get(change(referral, "accept"))
    assert page.status_code == 200 and "Note (optional)" in page.content.decode()
    response = client.post(change(referral, "accept"), {"reason": ""})
    assert response["Location"] == detail(referral)
    assert Referral.objects.get().state == ReferralState.ACCEPTED


def test_declining_without_a_reason_is_refused(client, referral, shelter_worker):
    page = as_user(client, shelter_worker).post(change(referral, "decline"), {"reason": ""})
    assert "Give the reason." in page.content.decode()
    assert Referral.objects.get().state == ReferralState.SENT


def test_a_forbidden_transition_shows_a_clear_error(client, referral, shelter_worker):
    page = as_user(client, shelter_worker).post(change(referral, "complete"), {"reason": ""})
    assert "cannot be completed" in page.content.decode()
    assert Referral.objects.get().state == ReferralState.SENT


def test_the_sender_cancels_with_a_reason(client, referral, caseworker):
    as_user(client, caseworker).post(change(referral, "cancel"), {"reason": "Placed elsewhere."})
    assert Referral.objects.get().state == ReferralState.CANCELLED


def test_the_sender_may_not_accept(client, referral, caseworker):
    assert as_user(client, caseworker).post(change(referral, "accept"), {}).status_code == 403
    assert Referral.objects.get().state == ReferralState.SENT


@pytest.mark.parametrize("action", ["accept", "decline", "cancel", "withdraw", "complete"])
def test_answering_validates_ownership(action, client, referral, police_officer):
    as_user(client, police_officer)
    assert client.get(change(referral, action)).status_code == 404
    assert client.post(change(referral, action), {"reason": "x"}).status_code == 404
    assert Referral.objects.get().state == ReferralState.SENT


# --- assistance ----------------------------------------------------------------------------

def assistance(referral) -> str:
    return f"/referrals/{referral.pk}/assistance/new/"


def test_the_recipient_records_assistance(client, accepted, shelter_worker, caseworker):
    as_user(client, shelter_worker)
    assert client.get(assistance(accepted)).status_code == 200
    response = client.post(assistance(accepted), {
        "service_type": "shelter", "delivered_on": timezone.localdate().isoformat(),
        "description": "Room 4 for two weeks."})
    assert response["Location"] == detail(accepted)
    assert Assistance.objects.get().description == "Room 4 for two weeks."
    assert "Room 4 for two weeks." in as_user(client, caseworker).get(
        detail(accepted)).content.decode()


def test_recording_assistance_validates_ownership(client, accepted, police_officer,
                                                   caseworker):
    assert as_user(client, police_officer).get(assistance(accepted)).status_code == 404
    assert as_user(client, caseworker).post(assistance(accepted), {
        "service_type": "shelter", "delivered_on": "2026-03-05",
        "description": "x"}).status_code == 403
    assert not Assistance.objects.exists()


# --- the inbox -----------------------------------------------------------------------------

def test_the_inbox_shows_incoming_in_progress_and_sent(client, referral, shelter_worker,
                                                       caseworker, case, consent):
    other = services.refer_case(
        caseworker, case, make_agency_service(shelter_worker.agency, "Legal desk", "legal_aid"),
        ["gender"])
    services.accept_referral(shelter_worker, other)
    page = as_user(client, shelter_worker).get("/referrals/")
    text = page.content.decode()
    waiting, rest = text.split("In progress at your agency")
    assert "Casa Luminii shelter" in waiting and "5 days left" in waiting
    assert "Legal desk" in rest.split("Sent by your agency")[0]
    assert "Your agency has not sent a referral." in text
    assert "Elena" not in text
    assert_no_inline_code(page)
    sent = as_user(client, caseworker).get("/referrals/").content.decode()
    assert "Casa Luminii shelter" in sent.split("Sent by your agency")[1]


def test_the_inbox_marks_overdue_referrals(client, referral, shelter_worker):
    Referral.objects.filter(pk=referral.pk).update(respond_by=date(2026, 1, 1))
    text = as_user(client, shelter_worker).get("/referrals/").content.decode()
    assert "Overdue" in text


def test_the_inbox_pages_keep_the_nearest_deadline_first(client, caseworker, case, consent,
                                                         shelter, shelter_worker):
    """27 referrals waiting: page 1 has the 25 nearest deadlines in order, page 2 the rest."""
    referrals = [services.refer_case(caseworker, case,
                                     make_agency_service(shelter, f"Room {number}"), ["gender"])
                 for number in range(27)]
    for days, referral in zip(range(27, 0, -1), referrals, strict=True):
        Referral.objects.filter(pk=referral.pk).update(respond_by=date(2026, 12, days))
    as_user(client, shelter_worker)
    first = client.get("/referrals/").context["awaiting"]
    second = client.get("/referrals/", {"awaiting_page": 2}).context["awaiting"]
    deadlines = [row["respond_by"] for row in [*first.object_list, *second.object_list]]
    assert deadlines == [date(2026, 12, day) for day in range(1, 28)]
    assert len(first.object_list) == 25 and first.paginator.count == 27
    assert "Page 2 of 2" in client.get("/referrals/", {"awaiting_page": 2}).content.decode()


def test_the_inbox_shows_nothing_of_other_agencies(client, referral, police_officer):
    text = as_user(client, police_officer).get("/referrals/").content.decode()
    assert "Casa Luminii shelter" not in text


def test_the_inbox_is_for_case_handling_roles(client, shelter, db):
    analyst = make_user(Role.ANALYST, shelter)
    assert as_user(client, analyst).get("/referrals/").status_code == 403
