"""The criminal-justice pages as an investigator uses them: the list, opening a case, the
case page's forms, a person's page, cooperation requests, victims and shares."""

from datetime import date

import pytest
from django.test import Client
from django.urls import reverse

from opennrm.accounts.models import Role
from opennrm.audit.models import AuditEntry
from opennrm.justice import services, victims
from opennrm.justice.models import CriminalCase, SuspectedPerson, VictimLink
from tests.factories import make_user
from tests.helpers import assert_no_inline_code


@pytest.fixture
def officer_client(police_officer) -> Client:
    client = Client()
    client.force_login(police_officer)
    return client


def _page(criminal_case) -> str:
    return reverse("criminal-case", args=[criminal_case.pk])


def _text(response) -> str:
    return response.content.decode()


def test_the_menu_leads_police_and_prosecution_to_their_criminal_cases(officer_client,
                                                                       caseworker):
    assert 'href="/justice/"' in _text(officer_client.get(reverse("home")))
    ngo_client = Client()
    ngo_client.force_login(caseworker)
    assert 'href="/justice/"' not in _text(ngo_client.get(reverse("home")))


def test_the_list_shows_each_case_with_its_qualification_and_stage(officer_client,
                                                                   criminal_case,
                                                                   police_officer,
                                                                   other_officer,
                                                                   other_police):
    shared = services.open_criminal_case(other_officer, "B-7", "forced_labour",
                                         date(2026, 2, 1))
    services.share_criminal_case(other_officer, shared, police_officer.agency.code)
    services.open_criminal_case(other_officer, "B-8", "pimping", date(2026, 2, 1))
    response = officer_client.get(reverse("criminal-case-list"))
    text = _text(response)
    assert f"Criminal case {criminal_case.pk}<" in text
    assert f"Criminal case {shared.pk}<" in text
    assert "Trafficking in human beings" in text and "Forced labour" in text
    assert "Pimping" not in text
    assert "Investigation opened" in text
    assert "shared with your agency" in text
    assert "2026-0417" not in text  # the list reads nothing encrypted
    assert_no_inline_code(response)


def test_opening_a_case_from_the_form(officer_client, police):
    response = officer_client.post(reverse("criminal-case-new"), {
        "national_reference": "2026-0500", "legal_qualification": "forced_labour",
        "exploitation_form": "forced_labour", "opened_on": "2026-03-01",
        "offence_from": "", "offence_to": ""})
    criminal_case = CriminalCase.objects.get()
    assert response.status_code == 302 and response["Location"] == _page(criminal_case)
    assert criminal_case.agency_in_charge == police


def test_a_wrong_case_is_shown_with_its_messages_and_not_opened(officer_client):
    response = officer_client.post(reverse("criminal-case-new"), {
        "national_reference": "", "legal_qualification": "", "opened_on": "2099-01-01"})
    text = _text(response)
    assert response.status_code == 200
    assert "Give the national file number of the case." in text
    assert "Choose the legal qualification of the offence." in text
    assert "The date is in the future." in text
    assert not CriminalCase.objects.exists()


def test_the_case_page_shows_the_case_and_records_the_read(officer_client, criminal_case,
                                                           suspect):
    response = officer_client.get(_page(criminal_case))
    text = _text(response)
    assert "2026-0417" in text and "ICCS 0204" in text
    assert "Vasile Cojocaru" in text and "Recruiter" in text
    assert "Share the case" in text
    assert_no_inline_code(response)
    read = AuditEntry.objects.filter(object_ref=services.audit_ref(criminal_case),
                                     action="read").get()
    assert "national_reference" in read.fields and read.channel == "web"


def test_recording_the_next_stage(officer_client, criminal_case):
    url = reverse("criminal-case-stage-new", args=[criminal_case.pk])
    response = officer_client.post(url, {"stage-stage": "closed_without_prosecution",
                                         "stage-reached_on": "2026-04-01"})
    assert response.status_code == 200
    assert "Give the reason for closing the case without prosecution." in _text(response)
    response = officer_client.post(url, {"stage-stage": "closed_without_prosecution",
                                         "stage-reached_on": "2026-04-01",
                                         "stage-closure_reason": "offender_unknown"})
    assert response.status_code == 302
    text = _text(officer_client.get(_page(criminal_case)))
    assert "Closed without prosecution" in text and "Offender not identified" in text


def test_recording_a_suspect_and_their_way_through_the_proceedings(officer_client,
                                                                   criminal_case):
    response = officer_client.post(reverse("suspect-new", args=[criminal_case.pk]), {
        "suspect-given_name": "Ion", "suspect-family_name": "Rotaru",
        "suspect-birth_date": "1985-01-20", "suspect-gender": "male",
        "suspect-citizenships": ["MD", "RO"], "suspect-role": "exploiter",
        "suspect-suspected_on": "2026-03-05"})
    assert response.status_code == 302
    person = SuspectedPerson.objects.get()
    assert (person.family_name, person.age, person.citizenships) == ("Rotaru", 41,
                                                                     ["MD", "RO"])
    page = reverse("suspect-detail", args=[criminal_case.pk, person.pk])
    response = officer_client.get(page)
    assert "Ion Rotaru" in _text(response)
    assert_no_inline_code(response)

    response = officer_client.post(
        reverse("suspect-outcome", args=[criminal_case.pk, person.pk]),
        {"outcome-outcome": "convicted", "outcome-outcome_on": "2026-09-01"})
    assert "Record the day the person was indicted first." in _text(response)
    officer_client.post(reverse("suspect-indictment", args=[criminal_case.pk, person.pk]),
                        {"indictment-prosecuted_on": "2026-05-01"})
    response = officer_client.post(
        reverse("suspect-outcome", args=[criminal_case.pk, person.pk]),
        {"outcome-outcome": "convicted", "outcome-outcome_on": "2026-09-01",
         "outcome-sentence_type": "imprisonment", "outcome-sentence_months": "84",
         "outcome-assets_confiscated_eur": "12000"})
    assert response.status_code == 302
    text = _text(officer_client.get(_page(criminal_case)))
    assert "Convicted" in text and "84 months" in text and "12000.00" in text


def test_a_suspect_with_errors_is_not_recorded(officer_client, criminal_case):
    response = officer_client.post(reverse("suspect-new", args=[criminal_case.pk]), {
        "suspect-birth_date": "1990-01-01", "suspect-age": "20",
        "suspect-suspected_on": "2026-03-05"})
    text = _text(response)
    assert "Choose the person&#x27;s sex." in text
    assert "Choose the person&#x27;s role in the offence." in text
    assert "The birth date gives 36 years" in text
    assert not SuspectedPerson.objects.exists()


def test_correcting_a_suspects_identity(officer_client, criminal_case, suspect):
    url = reverse("suspect-identity", args=[criminal_case.pk, suspect.pk])
    response = officer_client.post(url, {
        "identity-given_name": "Vasilii", "identity-family_name": "Cojocaru",
        "identity-birth_date": "1980-06-01", "identity-gender": "male"})
    assert response.status_code == 302
    suspect.refresh_from_db()
    assert suspect.given_name == "Vasilii" and suspect.citizenships == []


def test_linking_and_unlinking_a_victim(officer_client, criminal_case, case):
    url = reverse("victim-link-new", args=[criminal_case.pk])
    response = officer_client.post(url, {
        "victim-agency": case.owner_agency.code, "victim-case_number": "MD-26-NOSUCH00",
        "victim-role": "witness", "victim-linked_on": "2026-03-05"})
    assert str(victims.NO_SUCH_CASE) in _text(response)
    response = officer_client.post(url, {
        "victim-agency": case.owner_agency.code, "victim-case_number": case.case_number,
        "victim-role": "witness", "victim-linked_on": "2026-03-05"})
    assert response.status_code == 302
    link = VictimLink.objects.get()
    text = _text(officer_client.get(_page(criminal_case)))
    assert case.case_number in text and "Witness" in text
    assert "Popescu" not in text  # the victim's name stays in the victim's case
    response = officer_client.post(reverse("victim-unlink", args=[criminal_case.pk, link.pk]))
    assert response.status_code == 302
    assert not VictimLink.objects.exists()
    assert case.proceedings.get().kept_by_criminal_case is False


def test_recording_and_updating_a_cooperation_request(officer_client, criminal_case):
    response = officer_client.post(reverse("cooperation-request-new", args=[criminal_case.pk]),
                                   {"kind": "eio", "direction": "sent",
                                    "partner_country": "DE", "requested_on": "2026-03-08",
                                    "state": "pending", "note": "Phone records"})
    assert response.status_code == 302
    request = criminal_case.cooperation_requests.get()
    url = reverse("cooperation-request", args=[criminal_case.pk, request.pk])
    response = officer_client.get(url)
    assert "Phone records" in _text(response) and "European Investigation Order" in _text(
        response)
    response = officer_client.post(url, {"state": "executed", "note": "Phone records"})
    assert "Give the date of the answer." in _text(response)
    response = officer_client.post(url, {"state": "executed", "answered_on": "2026-04-02",
                                         "note": "Phone records"})
    assert response.status_code == 302
    text = _text(officer_client.get(_page(criminal_case)))
    assert "Executed" in text and "Germany" in text


def test_sharing_and_withdrawing_from_the_page(officer_client, criminal_case, prosecution,
                                               ngo):
    url = reverse("criminal-case-share", args=[criminal_case.pk])
    choices = officer_client.get(_page(criminal_case)).context["share_form"].fields[
        "agency"].choices
    assert [code for code, _name in choices] == ["", prosecution.code]
    response = officer_client.post(url, {"share-agency": ngo.code})
    assert response.status_code == 200
    assert "Select a valid choice" in _text(response)
    assert not criminal_case.shares.exists()
    response = officer_client.post(url, {"share-agency": prosecution.code})
    assert response.status_code == 302
    share = criminal_case.shares.get()
    response = officer_client.post(
        reverse("criminal-case-share-withdraw", args=[criminal_case.pk, share.pk]))
    assert response.status_code == 302
    assert not criminal_case.shares.exists()


def test_the_pages_ask_for_sign_in(criminal_case):
    response = Client().get(_page(criminal_case))
    assert response.status_code == 302 and "login" in response["Location"]


def test_a_supervisor_of_a_police_agency_opens_cases_too(police):
    client = Client()
    client.force_login(make_user(Role.SUPERVISOR, police))
    assert client.get(reverse("criminal-case-new")).status_code == 200
