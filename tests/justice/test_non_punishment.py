"""Non-punishment (CETS 197 art. 26): a suspect who also has a victim's case is found by the
blind index of name and birth date, and each side is told once, of its own file only."""

from datetime import date

import pytest
from django.urls import reverse

from opennrm.accounts.models import Role
from opennrm.cases import services as case_services
from opennrm.cases.models import Case, VictimStatus
from opennrm.justice import non_punishment
from opennrm.justice.models import (
    CriminalCase,
    CriminalCaseShare,
    NonPunishmentAlert,
    SuspectedPerson,
)
from opennrm.reminders.models import Notification
from tests.factories import make_agency, make_user, person_data

ELENA = ("Elena", "Popescu", date(1998, 4, 12))  # the person of the `case` fixture
REFERENCE = "2026/0815-DIICOT"


@pytest.fixture
def police_supervisor(police):
    return make_user(Role.SUPERVISOR, police, "police-chief")


@pytest.fixture
def ngo_supervisor(ngo):
    return make_user(Role.SUPERVISOR, ngo, "ngo-head")


@pytest.fixture
def chief_prosecutor(prosecution):
    return make_user(Role.SUPERVISOR, prosecution, "chief-prosecutor")


@pytest.fixture
def criminal_case(police, police_officer):
    return CriminalCase.objects.create(
        agency_in_charge=police, national_reference=REFERENCE, legal_qualification="thb",
        opened_on=date(2026, 3, 5), stage="suspects_identified",
        stage_reached_on=date(2026, 3, 9), recorded_by=police_officer)


def suspect(criminal_case, given_name="Elena", family_name="Popescu",
            birth_date=date(1998, 4, 12)) -> SuspectedPerson:
    return SuspectedPerson.objects.create(
        criminal_case=criminal_case, given_name=given_name, family_name=family_name,
        birth_date=birth_date.isoformat(),
        name_index=non_punishment.suspect_name_index(given_name, family_name, birth_date),
        gender="female", role="recruiter", suspected_on=date(2026, 3, 9),
        recorded_by=criminal_case.recorded_by)


def told(kind="non_punishment") -> dict:
    """username → the texts of their notifications of `kind`."""
    found: dict = {}
    for notification in Notification.objects.filter(kind=kind).select_related("user"):
        found.setdefault(notification.user.username, []).append(notification)
    return found


def test_the_index_is_the_one_of_the_persons_of_cases(case):
    assert case.person.name_index
    assert non_punishment.suspect_name_index(*ELENA) == case.person.name_index
    # Written differently, the same person (the normalisation of `cases`).
    assert non_punishment.suspect_name_index(" ELENA ", "popescu", "1998-04-12") == \
        case.person.name_index
    assert non_punishment.suspect_name_index("Elena", "Popescu", None) == ""


def test_a_suspect_with_a_victims_case_alerts_the_police_supervisors_and_the_victims_agency(
        case, criminal_case, police_officer, police_supervisor, ngo_supervisor, caseworker):
    """With no prosecution agency on the case yet, the supervisors of the agency in charge
    answer for it; on the victim's side, the supervisors of the agency owning the case."""
    make_user(Role.SUPERVISOR, make_agency("other-ngo", "ngo"), "stranger")

    assert non_punishment.check_suspect(suspect(criminal_case)) == 1

    notices = told()
    assert set(notices) == {"police-chief", "ngo-head"}
    [to_police] = notices["police-chief"]
    assert to_police.params == {"criminal_case": str(criminal_case.pk)}
    assert str(criminal_case.pk) in to_police.text()
    assert to_police.case_number == ""
    [to_ngo] = notices["ngo-head"]
    assert to_ngo.params == {"case_number": case.case_number}
    assert to_ngo.case_number == case.case_number
    assert case.case_number in to_ngo.text()
    assert NonPunishmentAlert.objects.filter(case=case).count() == 1


def test_the_prosecutors_holding_the_case_are_told_instead(
        case, criminal_case, police_officer, police_supervisor, prosecution, prosecutor,
        chief_prosecutor, ngo_supervisor):
    CriminalCaseShare.objects.create(criminal_case=criminal_case, agency=prosecution,
                                     shared_by=police_officer)
    make_user(Role.CASEWORKER, make_agency("prosecutor-balti", "prosecution"), "elsewhere")

    non_punishment.check_suspect(suspect(criminal_case))

    assert set(told()) == {"prosecutor", "chief-prosecutor", "ngo-head"}


def test_a_prosecution_agency_in_charge_is_told(case, police_officer, prosecution, prosecutor,
                                                chief_prosecutor, ngo_supervisor):
    criminal_case = CriminalCase.objects.create(
        agency_in_charge=prosecution, national_reference=REFERENCE, legal_qualification="thb",
        opened_on=date(2026, 3, 5), stage="indictment", stage_reached_on=date(2026, 3, 9),
        recorded_by=prosecutor)

    non_punishment.check_suspect(suspect(criminal_case))

    assert set(told()) == {"prosecutor", "chief-prosecutor", "ngo-head"}


def test_no_victims_case_no_alert(criminal_case, police_supervisor, ngo_supervisor):
    assert non_punishment.check_suspect(suspect(criminal_case)) == 0
    assert not Notification.objects.exists()


def test_a_case_decided_not_a_victim_no_alert(case, criminal_case, police_supervisor,
                                              ngo_supervisor):
    Case.objects.filter(pk=case.pk).update(victim_status=VictimStatus.NOT_A_VICTIM)
    assert non_punishment.check_suspect(suspect(criminal_case)) == 0
    assert not Notification.objects.exists()


def test_another_birth_date_no_alert(case, criminal_case, police_supervisor, ngo_supervisor):
    other = suspect(criminal_case, birth_date=date(1998, 12, 4))
    assert non_punishment.check_suspect(other) == 0
    assert not Notification.objects.exists()


def test_a_suspect_without_birth_date_is_not_matched(case, criminal_case, police_supervisor):
    nameless = SuspectedPerson.objects.create(
        criminal_case=criminal_case, given_name="Elena", family_name="Popescu",
        gender="female", role="recruiter", suspected_on=date(2026, 3, 9),
        recorded_by=criminal_case.recorded_by)
    assert non_punishment.check_suspect(nameless) == 0


def test_a_second_check_tells_nobody_twice(case, criminal_case, police_supervisor,
                                           ngo_supervisor):
    person = suspect(criminal_case)
    non_punishment.check_suspect(person)

    assert non_punishment.check_suspect(person) == 0
    assert Notification.objects.count() == 2
    assert NonPunishmentAlert.objects.count() == 1


def test_each_victims_case_of_the_person_is_alerted(case, criminal_case, caseworker,
                                                    police_supervisor, ngo_supervisor):
    """A second case of the same person: its agency is told of it, the police once."""
    shelter = make_agency("shelter", "ngo")
    shelter_head = make_user(Role.SUPERVISOR, shelter, "shelter-head")
    second = case_services.register_case(make_user(Role.CASEWORKER, shelter), person_data())

    assert non_punishment.check_suspect(suspect(criminal_case)) == 2

    notices = told()
    assert len(notices["police-chief"]) == 1
    assert [n.case_number for n in notices["ngo-head"]] == [case.case_number]
    assert [n.case_number for n in notices[shelter_head.username]] == [second.case_number]


def test_the_notifications_reveal_nothing_of_the_other_side(
        case, criminal_case, police, police_officer, police_supervisor, ngo, ngo_supervisor):
    non_punishment.check_suspect(suspect(criminal_case))

    names = ("Elena", "Popescu", "1998")
    for notification in Notification.objects.all():
        shown = " ".join([notification.text(), notification.message, str(notification.params),
                          notification.case_number, notification.link])
        assert not any(name in shown for name in names), shown
        assert REFERENCE not in shown
        if notification.user == police_supervisor:
            assert str(criminal_case.pk) in notification.link
            assert case.case_number not in shown
            assert ngo.name not in shown and ngo.code not in shown
        else:
            assert set(notification.params) == {"case_number"}
            assert "criminal case" not in shown.lower()
            assert police.name not in shown and police.code not in shown
            assert "recruiter" not in shown.lower()
            assert notification.link == reverse("case-detail", args=[case.case_number])


# --- the other order: the victim's case comes after the suspect ----------------------------

def test_an_identity_changed_to_a_suspects_alerts(caseworker, criminal_case,
                                                  police_supervisor, ngo_supervisor):
    case = case_services.register_case(caseworker, person_data(
        given_name="Elena", family_name="Popa"))
    person = suspect(criminal_case)
    assert non_punishment.check_suspect(person) == 0

    case_services.update_case(caseworker, case, {"family_name": "Popescu"})

    assert NonPunishmentAlert.objects.filter(suspect=person, case=case).exists()
    assert set(told()) == {"police-chief", "ngo-head"}


def test_a_victim_status_decided_again_alerts(case, caseworker, criminal_case,
                                              police_supervisor, ngo_supervisor):
    Case.objects.filter(pk=case.pk).update(victim_status=VictimStatus.NOT_A_VICTIM)
    non_punishment.check_suspect(suspect(criminal_case))
    assert not Notification.objects.exists()

    case.refresh_from_db()
    case_services.decide_victim_status(caseworker, case, VictimStatus.PRESUMED,
                                       date(2026, 4, 1))

    assert set(told()) == {"police-chief", "ngo-head"}


def test_a_new_case_of_a_known_person_alerts(caseworker, criminal_case, police_supervisor,
                                             ngo_supervisor):
    first = case_services.register_case(caseworker, person_data())
    Case.objects.filter(pk=first.pk).update(victim_status=VictimStatus.NOT_A_VICTIM)
    person = suspect(criminal_case)
    non_punishment.check_suspect(person)

    second = case_services.register_case(caseworker, person_data(),
                                         person_of_case=first.case_number)

    assert list(NonPunishmentAlert.objects.values_list("case", flat=True)) == [second.pk]


def test_a_victims_case_registered_after_the_suspect_alerts(caseworker, criminal_case,
                                                            police_supervisor, ngo_supervisor):
    """`register_cases` writes with bulk_create (no post_save): its `cases_registered`
    signal runs the check, in the registration's transaction."""
    person = suspect(criminal_case)
    case = case_services.register_case(caseworker, person_data())

    assert NonPunishmentAlert.objects.filter(suspect=person, case=case).exists()
    assert set(told()) == {"police-chief", "ngo-head"}


def test_an_unrelated_change_tells_nobody(case, caseworker, criminal_case, police_supervisor):
    suspect(criminal_case, given_name="Maria")
    case_services.update_case(caseworker, case, {"phone": "+37369000000"})
    assert not Notification.objects.exists()
