"""Proceedings kept by a criminal case (`justice.victims`) in the victim's case: the
caseworker sees their stage and who leads them, never the criminal case, and cannot change
their stage."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from opennrm.cases import services as case_services
from opennrm.justice import victims
from opennrm.justice.models import CriminalCase, SuspectedPerson
from opennrm.protection import services
from opennrm.protection.models import CriminalProceeding
from tests.factories import person_data
from tests.helpers import as_user

REFERENCE = "2026/0815-DIICOT"
KEPT = "The stage of these proceedings is kept by the police or prosecution in charge."


@pytest.fixture
def criminal_case(police, police_officer):
    criminal_case = CriminalCase.objects.create(
        agency_in_charge=police, national_reference=REFERENCE, legal_qualification="thb",
        opened_on=date(2026, 3, 5), stage="indictment", stage_reached_on=date(2026, 3, 25),
        recorded_by=police_officer)
    SuspectedPerson.objects.create(
        criminal_case=criminal_case, given_name="Vasile", family_name="Ursu",
        birth_date="1975-02-02", gender="male", role="recruiter",
        suspected_on=date(2026, 3, 9), recorded_by=police_officer)
    return criminal_case


@pytest.fixture
def other_victim(police_officer, criminal_case):
    other = case_services.register_case(police_officer, person_data(
        given_name="Tatiana", family_name="Rusu"))
    victims.link_victim(police_officer, criminal_case, other.owner_agency.code,
                        other.case_number, "witness", date(2026, 3, 26))
    return other


@pytest.fixture
def kept(police_officer, criminal_case, case, other_victim) -> CriminalProceeding:
    return victims.link_victim(police_officer, criminal_case, case.owner_agency.code,
                               case.case_number, "victim", date(2026, 3, 26)).proceeding


def test_its_stage_cannot_be_recorded_by_the_caseworker(caseworker, kept):
    with pytest.raises(ValidationError) as error:
        services.update_proceeding_stage(caseworker, kept, "trial", date(2026, 4, 1),
                                         deciding_authority="Court")
    assert error.value.message_dict == {"stage": [KEPT]}
    kept.refresh_from_db()
    assert kept.stage == "prosecution"
    assert kept.stage_changes.count() == 1


def test_the_case_page_shows_its_stage_and_who_keeps_it(client, caseworker, case, kept,
                                                        police, other_victim, criminal_case):
    page = as_user(client, caseworker).get(reverse("case-detail", args=[case.case_number]))

    assert page.status_code == 200
    html = page.content.decode()
    section = html.split('id="stage-proceedings"')[1].split("</section>")[0]
    assert "Indictment sent to court" in section
    assert f"Kept by {police.name}" in section
    assert reverse("proceeding-stage", args=[case.case_number, kept.pk]) not in html
    for hidden in (REFERENCE, "Vasile", "Ursu", other_victim.case_number, "Tatiana",
                   f"/justice/{criminal_case.pk}/"):
        assert hidden not in html


def test_the_timeline_shows_its_stages_and_nothing_of_the_criminal_case(
        client, caseworker, case, kept, police, police_officer, other_victim, criminal_case):
    criminal_case.stage, criminal_case.stage_reached_on = "first_instance_judgement", \
        date(2026, 9, 1)
    criminal_case.save()
    victims.follow_stage(criminal_case, police_officer)

    page = as_user(client, caseworker).get(reverse("case-timeline", args=[case.case_number]))

    html = page.content.decode()
    assert "Indictment sent to court" in html and "Trial" in html
    assert police.name in html
    for hidden in (REFERENCE, "Vasile", "Ursu", other_victim.case_number):
        assert hidden not in html


def test_its_stage_page_sends_the_caseworker_back(client, caseworker, case, kept):
    page = reverse("proceeding-stage", args=[case.case_number, kept.pk])
    for response in (as_user(client, caseworker).get(page, follow=True),
                     client.post(page, {"stage": "trial", "decided_on": "2026-04-01",
                                        "deciding_authority": "Court"}, follow=True)):
        assert response.redirect_chain[-1][0].endswith("#stage-proceedings")
        assert KEPT in response.content.decode()
    kept.refresh_from_db()
    assert kept.stage == "prosecution"


def test_proceedings_the_caseworker_recorded_stay_theirs(client, caseworker, case, kept,
                                                         proceeding):
    html = as_user(client, caseworker).get(
        reverse("case-detail", args=[case.case_number])).content.decode()
    assert reverse("proceeding-stage", args=[case.case_number, proceeding.pk]) in html
    services.update_proceeding_stage(caseworker, proceeding, "prosecution", date(2026, 4, 1),
                                     deciding_authority="Prosecutor")
    proceeding.refresh_from_db()
    assert proceeding.stage == "prosecution"


def test_it_validates_ownership(client, caseworker, police_officer, case, kept):
    """The officer who keeps the proceedings does not see the victim's case for it."""
    response = as_user(client, police_officer).get(
        reverse("case-detail", args=[case.case_number]))
    assert response.status_code == 404
