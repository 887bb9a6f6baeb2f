"""Victims linked to a criminal case: the proceedings the criminal case keeps in each
victim's case, and their stage following the criminal case's."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from opennrm.accounts.models import Role
from opennrm.audit.models import AuditEntry
from opennrm.cases import services as case_services
from opennrm.core import codelists
from opennrm.justice import victims
from opennrm.justice.access import CriminalCaseNotFound
from opennrm.justice.models import CriminalCase, CriminalCaseShare, SuspectedPerson, VictimLink
from opennrm.protection import services as protection_services
from opennrm.protection.models import CriminalProceeding
from tests.factories import make_agency, make_user, person_data

OPENED = date(2026, 3, 5)


@pytest.fixture
def criminal_case(police, police_officer):
    return CriminalCase.objects.create(
        agency_in_charge=police, national_reference="2026/0815-DIICOT",
        legal_qualification="thb", opened_on=OPENED, stage="investigation_opened",
        stage_reached_on=OPENED, recorded_by=police_officer)


@pytest.fixture
def prosecution(db):
    return make_agency("prosecutor-general", "prosecution")


def link(officer, criminal_case, case, role="victim", linked_on=date(2026, 3, 20)):
    return victims.link_victim(officer, criminal_case, case.owner_agency.code,
                               case.case_number, role, linked_on)


def move_to(criminal_case, stage, reached_on):
    criminal_case.stage, criminal_case.stage_reached_on = stage, reached_on
    criminal_case.save()


def test_linking_opens_kept_proceedings_in_the_victims_case(police_officer, police,
                                                           criminal_case, case):
    victim_link = link(police_officer, criminal_case, case)

    proceeding = CriminalProceeding.objects.get(case=case)
    assert victim_link.proceeding == proceeding
    assert victim_link.case == case
    assert proceeding.kept_by_criminal_case
    assert proceeding.stage == "investigation"
    assert proceeding.role == "victim"
    assert proceeding.opened_on == OPENED
    assert proceeding.deciding_agency == police
    assert proceeding.case_reference == ""  # nothing of the investigation's file
    [first] = proceeding.stage_changes.all()
    assert (first.stage, first.decided_on, first.deciding_agency) == (
        "investigation", date(2026, 3, 20), police)


def test_linking_is_audited_on_both_sides_without_the_investigation(police_officer,
                                                                     criminal_case, case):
    link(police_officer, criminal_case, case)

    victim_side = AuditEntry.objects.get(object_ref=case.case_number,
                                         object_type="criminal_proceeding")
    assert (victim_side.action, victim_side.channel) == ("create", "justice")
    assert sorted(victim_side.fields) == ["role", "stage"]
    assert victim_side.reason == ""
    criminal_side = AuditEntry.objects.get(object_type="victim_link",
                                           object_ref=f"criminal-case-{criminal_case.pk}")
    assert criminal_side.action == "create"
    assert case.case_number not in criminal_side.reason


@pytest.mark.parametrize("wrong", ["agency", "number", "both"])
def test_a_wrong_agency_or_number_answers_the_same(police_officer, criminal_case, case, ngo,
                                                   wrong):
    """The form cannot tell an investigator which cases exist at which agency."""
    make_agency("other-ngo", "ngo")
    agency = "other-ngo" if wrong in ("agency", "both") else ngo.code
    number = "MD-26-NOSUCHNO" if wrong in ("number", "both") else case.case_number
    with pytest.raises(ValidationError) as error:
        victims.link_victim(police_officer, criminal_case, agency, number, "victim",
                            date(2026, 3, 20))
    assert error.value.message_dict == {
        "case_number": ["No case with this number at this agency."]}
    assert not CriminalProceeding.objects.exists()
    assert not VictimLink.objects.exists()


def test_a_case_is_linked_once(police_officer, criminal_case, case):
    link(police_officer, criminal_case, case)
    with pytest.raises(ValidationError) as error:
        link(police_officer, criminal_case, case, role="witness")
    assert error.value.message_dict["case_number"] == [
        "This victim's case is already linked to this criminal case."]
    assert CriminalProceeding.objects.filter(case=case).count() == 1


def test_it_checks_role_and_date(police_officer, criminal_case, case):
    with pytest.raises(ValidationError) as error:
        link(police_officer, criminal_case, case, role="accomplice", linked_on=date(2026, 3, 1))
    assert error.value.message_dict == {
        "role": ["Choose the person's role in the proceedings."],
        "linked_on": ["The date is before the investigation was opened."]}
    with pytest.raises(ValidationError) as error:
        link(police_officer, criminal_case, case, linked_on=date(2999, 1, 1))
    assert "linked_on" in error.value.message_dict
    assert not CriminalProceeding.objects.exists()


def test_it_validates_ownership(caseworker, criminal_case, case):
    """Neither the victim's caseworker nor another police agency may link to the case."""
    other_police = make_user(Role.CASEWORKER, make_agency("police-balti", "law_enforcement"))
    for outsider in (caseworker, other_police):
        with pytest.raises(CriminalCaseNotFound):
            link(outsider, criminal_case, case)
    assert not CriminalProceeding.objects.exists()


def test_an_agency_it_is_shared_with_links_victims(police_officer, prosecution,
                                                   criminal_case, case):
    prosecutor = make_user(Role.CASEWORKER, prosecution, "prosecutor")
    CriminalCaseShare.objects.create(criminal_case=criminal_case, agency=prosecution,
                                     shared_by=police_officer)
    assert link(prosecutor, criminal_case, case).proceeding.kept_by_criminal_case


def test_a_closed_victims_case_is_linked_too(police_officer, caseworker, criminal_case, case):
    """The trial goes on after the assistance ended; a refusal would tell the police that
    the case is closed."""
    case_services.close_case(caseworker, case, "lost_contact")
    assert link(police_officer, criminal_case, case).proceeding.stage == "investigation"


def test_the_proceedings_follow_the_criminal_cases_stage(police_officer, police,
                                                        criminal_case, case):
    proceeding = link(police_officer, criminal_case, case).proceeding
    move_to(criminal_case, "indictment", date(2026, 5, 2))

    assert victims.follow_stage(criminal_case, police_officer) == 1

    proceeding.refresh_from_db()
    assert proceeding.stage == "prosecution"
    latest = proceeding.stage_changes.last()
    assert (latest.stage, latest.decided_on, latest.deciding_agency) == (
        "prosecution", date(2026, 5, 2), police)
    entry = AuditEntry.objects.filter(object_ref=case.case_number).last()
    assert (entry.action, entry.object_type, entry.channel) == (
        "update", "criminal_proceeding", "justice")


def test_a_stage_that_maps_to_the_same_one_adds_nothing(police_officer, criminal_case, case):
    proceeding = link(police_officer, criminal_case, case).proceeding
    move_to(criminal_case, "suspects_identified", date(2026, 4, 1))

    assert victims.follow_stage(criminal_case, police_officer) == 0
    assert proceeding.stage_changes.count() == 1


def test_every_victim_follows(police_officer, criminal_case, case, caseworker):
    other = case_services.register_case(caseworker, person_data(
        given_name="Ion", family_name="Rusu", birth_date=date(1990, 1, 1), gender="male"))
    link(police_officer, criminal_case, case)
    link(police_officer, criminal_case, other, role="witness")
    move_to(criminal_case, "closed_without_prosecution", date(2026, 6, 1))

    assert victims.follow_stage(criminal_case, police_officer) == 2
    assert set(CriminalProceeding.objects.values_list("stage", flat=True)) == {"discontinued"}


@pytest.mark.parametrize(("outcomes", "expected"), [
    (["acquitted", "convicted"], "convicted"),
    (["acquitted", "charges_dropped"], "acquitted"),
    ([], "acquitted"),
])
def test_a_final_judgement_ends_in_conviction_when_anyone_is_convicted(
        police_officer, criminal_case, case, outcomes, expected):
    proceeding = link(police_officer, criminal_case, case).proceeding
    for outcome in outcomes:
        SuspectedPerson.objects.create(
            criminal_case=criminal_case, gender="male", role="recruiter",
            suspected_on=OPENED, outcome=outcome, recorded_by=police_officer)
    move_to(criminal_case, "final_judgement", date(2027, 1, 15))

    victims.follow_stage(criminal_case, police_officer)

    proceeding.refresh_from_db()
    assert proceeding.stage == expected


def test_the_mapping_covers_every_stage():
    stages = codelists.entries("criminal_case_stages")
    assert set(victims.PROCEEDING_STAGE) == set(stages)
    targets = set(victims.PROCEEDING_STAGE.values()) | set(
        victims.PROCEEDING_STAGE_ON_CONVICTION.values())
    assert targets <= set(codelists.entries("proceeding_stages"))


def test_a_case_handed_over_is_led_by_its_new_agency(police_officer, prosecution,
                                                    criminal_case, case):
    proceeding = link(police_officer, criminal_case, case).proceeding
    criminal_case.agency_in_charge = prosecution
    move_to(criminal_case, "indictment", date(2026, 5, 2))

    victims.follow_stage(criminal_case, police_officer)

    proceeding.refresh_from_db()
    assert proceeding.deciding_agency == prosecution
    assert proceeding.stage_changes.last().deciding_agency == prosecution


def test_a_stage_recorded_late_stays_after_the_one_the_victim_joined_at(
        police_officer, criminal_case, case):
    proceeding = link(police_officer, criminal_case, case,
                      linked_on=date(2026, 4, 10)).proceeding
    move_to(criminal_case, "indictment", date(2026, 4, 5))

    victims.follow_stage(criminal_case, police_officer)

    assert [change.stage for change in proceeding.stage_changes.all()] == [
        "investigation", "prosecution"]


def test_unlinking_leaves_the_proceedings_to_the_caseworker(police_officer, caseworker,
                                                            criminal_case, case):
    victim_link = link(police_officer, criminal_case, case)
    move_to(criminal_case, "indictment", date(2026, 5, 2))
    victims.follow_stage(criminal_case, police_officer)

    victims.unlink_victim(police_officer, victim_link)

    assert not VictimLink.objects.exists()
    proceeding = CriminalProceeding.objects.get(case=case)
    assert not proceeding.kept_by_criminal_case
    assert proceeding.stage == "prosecution"
    assert proceeding.stage_changes.count() == 2
    # The caseworker goes on recording it by hand; the criminal case no longer moves it.
    protection_services.update_proceeding_stage(
        caseworker, proceeding, "trial", date(2026, 6, 1), deciding_authority="Court")
    move_to(criminal_case, "appeal", date(2026, 7, 1))
    assert victims.follow_stage(criminal_case, police_officer) == 0
    assert CriminalProceeding.objects.get(case=case).stage == "trial"
    assert AuditEntry.objects.filter(object_type="victim_link", reason="unlinked",
                                     object_ref=f"criminal-case-{criminal_case.pk}").exists()
    assert AuditEntry.objects.filter(object_type="criminal_proceeding",
                                     object_ref=case.case_number, channel="justice",
                                     fields=["kept_by_criminal_case"]).exists()


def test_only_who_sees_the_criminal_case_unlinks(police_officer, caseworker, criminal_case,
                                                case):
    victim_link = link(police_officer, criminal_case, case)
    with pytest.raises(CriminalCaseNotFound):
        victims.unlink_victim(caseworker, victim_link)
    assert VictimLink.objects.exists()

