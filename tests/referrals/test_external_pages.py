"""The pages of a referral outside OpenNRM: the matcher's list labelled, recording it, its
page with the provider's contact, the letter and the outcome, and the lists it appears in."""

import re
from datetime import date, timedelta

import pytest
from django.utils import timezone

from opennrm.audit.models import AuditEntry
from opennrm.cases import services as case_services
from opennrm.referrals.models import Referral, ReferralState
from tests.helpers import as_user, assert_no_inline_code
from tests.referrals.outside import make_legal_aid, record, three_legal_aid_offices

OUTSIDE = "(outside OpenNRM: the referral is recorded, you contact them)"


def new(case) -> str:
    return f"/cases/{case.case_number}/referrals/new/"


def detail(referral) -> str:
    return f"/referrals/{referral.pk}/"


def outcome(referral) -> str:
    return f"/referrals/{referral.pk}/outcome/"


@pytest.fixture
def legal_aid(db):
    return make_legal_aid()


@pytest.fixture
def external(caseworker, case, legal_aid, consent):
    return record(caseworker, case, legal_aid)


# --- the matcher ----------------------------------------------------------------------------

def test_the_matcher_lists_the_legal_aid_services_labelled_outside_opennrm(client, caseworker,
                                                                         case):
    three_legal_aid_offices()
    page = as_user(client, caseworker).get(new(case), {"service_type": "legal_aid"})
    text = page.content.decode()
    assert "No service of this kind" not in text
    for label in ("Lawyer for victims in criminal proceedings — State-Guaranteed Legal Aid, "
                  "Chișinău", "Lawyer for victims in criminal proceedings — "
                  "State-Guaranteed Legal Aid, Bălți", "Legal advice and representation — "
                  "Legal Clinic of the Law Faculty"):
        assert f"{label} {OUTSIDE}" in text
    assert "you contact the service yourself and give them the referral letter" in text
    assert "Follow up by" in text
    assert re.search(r'<button type="submit" class="button primary">Record the referral</button>',
                     text)
    assert_no_inline_code(page)


def test_services_in_opennrm_are_not_labelled_outside(client, caseworker, case, service,
                                                      legal_aid):
    page = as_user(client, caseworker).get(new(case), {"service_type": "shelter"})
    text = page.content.decode()
    assert "Casa Luminii shelter — Casa Luminii shelter provider</label>" in text
    assert OUTSIDE not in text and "Follow up by" not in text
    assert "Send the referral" in text


def test_both_kinds_together_send_or_record(client, caseworker, case, shelter):
    from tests.factories import make_agency_service

    make_agency_service(shelter, "Casa Luminii legal desk", "legal_aid")
    make_legal_aid()
    text = as_user(client, caseworker).get(new(case), {"service_type": "legal_aid"}
                                           ).content.decode()
    assert "Send or record the referral" in text
    assert "Casa Luminii legal desk — Casa Luminii legal desk provider</label>" in text
    assert OUTSIDE in text


# --- recording ------------------------------------------------------------------------------

def test_recording_it_needs_consent(client, caseworker, case, legal_aid):
    page = as_user(client, caseworker).post(new(case) + "?service_type=legal_aid", {
        "service": legal_aid.pk, "shared_fields": ["gender"]})
    assert page.status_code == 200
    text = page.content.decode()
    assert "There is a problem" in text
    assert "has not consented to be referred to State-Guaranteed Legal Aid" in text
    assert not Referral.objects.exists()


def test_it_records_the_referral_with_its_follow_up_day(client, caseworker, case, legal_aid,
                                                       consent):
    day = timezone.localdate() + timedelta(days=6)
    as_user(client, caseworker)
    recorded = client.post(new(case) + "?service_type=legal_aid", {
        "service": legal_aid.pk, "shared_fields": ["gender", "needs"],
        "needs": "A lawyer.", "follow_up_on": day.isoformat()})
    referral = Referral.objects.get()
    assert recorded.status_code == 302 and recorded["Location"] == detail(referral)
    assert referral.external and referral.respond_by == day
    assert referral.shared_fields == ["gender", "needs"]
    page = client.get(detail(referral))
    assert "Referral recorded. Contact State-Guaranteed Legal Aid, Chișinău and give them " \
        "the referral letter" in page.content.decode()


def test_a_follow_up_day_in_the_past_is_shown_by_its_field(client, caseworker, case,
                                                           legal_aid, consent):
    page = as_user(client, caseworker).post(new(case) + "?service_type=legal_aid", {
        "service": legal_aid.pk, "follow_up_on": "2020-01-01"})
    assert re.search(r'id="id_follow_up_on_error".*The date is in the past',
                     page.content.decode(), re.S)
    assert not Referral.objects.exists()


# --- its page -------------------------------------------------------------------------------

def test_its_page_shows_the_provider_to_contact_and_what_to_do(client, caseworker, external):
    page = as_user(client, caseworker).get(detail(external))
    text = page.content.decode()
    assert "None: the service is outside OpenNRM" in text
    assert "+373 22 000 202" in text
    assert 'href="mailto:chisinau@legal-aid.example.md"' in text
    assert "Follow up by" in text and "Answer due by" not in text
    assert "Shared with the service (in the letter)" in text
    assert "Download the referral letter (PDF)" in text
    assert f'href="{outcome(external)}"' in text
    # The receiving agency's buttons are not offered: nobody in OpenNRM receives it.
    for action in ("accept", "decline", "complete", "withdraw"):
        assert f"/referrals/{external.pk}/{action}/" not in text
    assert f"/referrals/{external.pk}/cancel/" in text
    assert_no_inline_code(page)


def test_the_case_page_and_the_outbox_name_the_provider_outside_opennrm(client, caseworker,
                                                                       external, case):
    as_user(client, caseworker)
    case_page = client.get(f"/cases/{case.case_number}/").content.decode()
    assert "State-Guaranteed Legal Aid, Chișinău <span class=\"tag\">outside OpenNRM</span>" \
        in case_page
    inbox = client.get("/referrals/").content.decode()
    assert "State-Guaranteed Legal Aid, Chișinău <span class=\"tag\">outside OpenNRM</span>" \
        in inbox


def test_the_lists_show_the_recorded_outcome(client, caseworker, external, case):
    from opennrm.referrals import services

    services.record_referral_outcome(caseworker, external, "no_answer")
    as_user(client, caseworker)
    for url in (f"/cases/{case.case_number}/", "/referrals/", detail(external)):
        assert "No answer from the service" in client.get(url).content.decode(), url


def test_it_validates_ownership(client, external, police_officer, shelter_worker):
    for user in (police_officer, shelter_worker):
        as_user(client, user)
        for url in (detail(external), outcome(external)):
            response = client.get(url)
            assert response.status_code == 404, (url, user)
            assert "Elena" not in response.content.decode()
        assert client.post(outcome(external), {"outcome": "accepted"}).status_code == 404
    assert Referral.objects.get().state == ReferralState.SENT


# --- the outcome ----------------------------------------------------------------------------

def test_the_outcome_form_offers_the_outcomes_of_the_code_list(client, caseworker, external):
    page = as_user(client, caseworker).get(outcome(external))
    text = page.content.decode()
    for label in ("Accepted: the service took the person on", "Assistance delivered",
                  "Declined by the service", "No answer from the service"):
        assert label in text
    assert_no_inline_code(page)


def test_it_records_the_outcome(client, caseworker, external):
    as_user(client, caseworker)
    done = client.post(outcome(external), {"outcome": "accepted",
                                           "note": "First meeting on Monday."})
    assert done.status_code == 302 and done["Location"] == detail(external)
    external.refresh_from_db()
    assert (external.state, external.outcome) == (ReferralState.ACCEPTED, "accepted")
    text = client.get(detail(external)).content.decode()
    assert "Outcome recorded." in text and "First meeting on Monday." in text
    # Accepted: only "assistance delivered" is left to record.
    form = client.get(outcome(external)).content.decode()
    assert "Assistance delivered" in form and "Declined by the service" not in form


def test_choosing_no_outcome_says_so(client, caseworker, external):
    page = as_user(client, caseworker).post(outcome(external), {"note": "?"})
    assert "Choose what became of the referral." in page.content.decode()
    assert Referral.objects.get().state == ReferralState.SENT


def test_an_ended_referral_has_no_outcome_form(client, caseworker, external):
    as_user(client, caseworker).post(outcome(external), {"outcome": "declined"})
    back = client.get(outcome(external))
    assert back.status_code == 302 and back["Location"] == detail(external)


def test_a_referral_in_opennrm_has_no_outcome_form(client, caseworker, referral):
    back = as_user(client, caseworker).get(outcome(referral))
    assert back.status_code == 302


def test_recording_the_outcome_is_audited(client, caseworker, external, case):
    as_user(client, caseworker).post(outcome(external), {"outcome": "declined"})
    entry = AuditEntry.objects.filter(action="update", object_type="referral").last()
    assert entry.object_ref == case.case_number and entry.fields == ["outcome", "state"]
    assert entry.channel == "web"


def test_consent_withdrawn_ends_the_letter(client, caseworker, external, consent):
    case_services.withdraw_consent(caseworker, consent, date(2026, 3, 9))
    text = as_user(client, caseworker).get(detail(external)).content.decode()
    assert "Download the referral letter" not in text
    assert "Stopped: consent withdrawn" in text


def test_the_receiving_agencys_changes_are_not_offered_to_the_caseworker(client, caseworker,
                                                                        external):
    as_user(client, caseworker)
    for action in ("accept", "decline", "complete"):
        back = client.get(f"/referrals/{external.pk}/{action}/")
        assert back.status_code == 302 and back["Location"] == detail(external), action
    assert client.get(f"/referrals/{external.pk}/cancel/").status_code == 200
