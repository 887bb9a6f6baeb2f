"""The write path of the criminal-justice side: every field error at once, nothing kept
when something is wrong, the audit trail without names, identities encrypted at rest."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from opennrm.accounts.models import Role
from opennrm.audit.models import AuditEntry
from opennrm.justice import access, services, victims
from opennrm.justice.models import (
    CooperationRequest,
    CriminalCase,
    CriminalCaseShare,
    CriminalCaseStage,
    NonPunishmentAlert,
    SuspectedPerson,
)
from tests.factories import make_agency, make_user
from tests.helpers import bytes_on_disk
from tests.justice.conftest import OPENED_ON

TOMORROW = timezone.localdate() + timedelta(days=1)


def _errors(raised) -> dict:
    return raised.value.message_dict


def _entries(criminal_case):
    return AuditEntry.objects.filter(object_ref=services.audit_ref(criminal_case))


# --- opening a criminal case ---------------------------------------------------------------

def test_opening_a_case_records_its_first_stage_at_the_officers_agency(police_officer, police):
    criminal_case = services.open_criminal_case(
        police_officer, " 2026-0417 ", "thb_child", OPENED_ON, "forced_begging",
        date(2025, 11, 1), date(2026, 2, 20))
    criminal_case.refresh_from_db()
    assert criminal_case.agency_in_charge == police
    assert criminal_case.national_reference == "2026-0417"
    assert criminal_case.iccs == "0204"
    assert (criminal_case.stage, criminal_case.stage_reached_on) == ("investigation_opened",
                                                                     OPENED_ON)
    assert [(s.stage, s.reached_on) for s in criminal_case.stages.all()] == [
        ("investigation_opened", OPENED_ON)]
    entry = _entries(criminal_case).get()
    assert entry.action == "create" and "national_reference" in entry.fields
    assert "2026-0417" not in f"{entry.object_ref} {entry.reason}"


def test_opening_a_case_reports_every_wrong_field_and_keeps_nothing(police_officer):
    with pytest.raises(ValidationError) as raised:
        services.open_criminal_case(police_officer, "  ", "theft", TOMORROW, "knitting",
                                    date(2026, 2, 1), date(2026, 1, 1))
    assert set(_errors(raised)) == {"national_reference", "legal_qualification", "opened_on",
                                    "exploitation_form", "offence_to"}
    assert not CriminalCase.objects.exists()
    assert not AuditEntry.objects.filter(object_type="criminal_case").exists()


@pytest.mark.parametrize("agency_type", ["ngo", "social_services", "labour_inspection"])
def test_only_police_and_prosecution_open_criminal_cases(agency_type, db):
    worker = make_user(Role.CASEWORKER, make_agency("someone", agency_type))
    with pytest.raises(access.CriminalCaseAccessDenied):
        services.open_criminal_case(worker, "1", "thb", OPENED_ON)
    assert not CriminalCase.objects.exists()


def test_a_prosecutor_opens_a_case_too(prosecutor, prosecution):
    criminal_case = services.open_criminal_case(prosecutor, "P-1", "forced_labour", OPENED_ON)
    assert criminal_case.agency_in_charge == prosecution


# --- stages --------------------------------------------------------------------------------

def test_each_stage_stays_in_the_history(police_officer, criminal_case):
    services.record_stage(police_officer, criminal_case, "suspects_identified",
                          date(2026, 3, 10))
    services.record_stage(police_officer, criminal_case, "indictment", date(2026, 5, 2))
    criminal_case.refresh_from_db()
    assert (criminal_case.stage, criminal_case.stage_reached_on) == ("indictment",
                                                                     date(2026, 5, 2))
    assert [s.stage for s in criminal_case.stages.all()] == [
        "investigation_opened", "suspects_identified", "indictment"]


def test_a_stage_before_the_previous_one_or_in_the_future_is_refused(police_officer,
                                                                     criminal_case):
    services.record_stage(police_officer, criminal_case, "suspects_identified",
                          date(2026, 3, 10))
    with pytest.raises(ValidationError) as raised:
        services.record_stage(police_officer, criminal_case, "indictment", date(2026, 3, 9))
    assert "previous stage" in _errors(raised)["reached_on"][0]
    with pytest.raises(ValidationError) as raised:
        services.record_stage(police_officer, criminal_case, "indictment", TOMORROW)
    assert _errors(raised)["reached_on"] == ["The date is in the future."]
    assert criminal_case.stages.count() == 2


def test_the_same_stage_twice_is_refused(police_officer, criminal_case):
    with pytest.raises(ValidationError) as raised:
        services.record_stage(police_officer, criminal_case, "investigation_opened",
                              date(2026, 3, 2))
    assert "already at this stage" in _errors(raised)["stage"][0]


def test_closing_without_prosecution_needs_a_reason_and_only_then(police_officer,
                                                                   criminal_case):
    with pytest.raises(ValidationError) as raised:
        services.record_stage(police_officer, criminal_case, "closed_without_prosecution",
                              date(2026, 4, 1))
    assert set(_errors(raised)) == {"closure_reason"}
    with pytest.raises(ValidationError) as raised:
        services.record_stage(police_officer, criminal_case, "indictment", date(2026, 4, 1),
                              closure_reason="time_barred")
    assert set(_errors(raised)) == {"closure_reason"}
    assert criminal_case.stages.count() == 1
    services.record_stage(police_officer, criminal_case, "closed_without_prosecution",
                          date(2026, 4, 1), "insufficient_evidence")
    criminal_case.refresh_from_db()
    assert criminal_case.closure_reason == "insufficient_evidence"
    assert criminal_case.stages.last().closure_reason == "insufficient_evidence"


def test_a_bad_stage_reports_every_field(police_officer, criminal_case):
    with pytest.raises(ValidationError) as raised:
        services.record_stage(police_officer, criminal_case, "", "not a date", "whatever")
    assert set(_errors(raised)) == {"stage", "reached_on", "closure_reason"}
    assert CriminalCaseStage.objects.count() == 1


def test_the_victims_proceedings_follow_the_stage(police_officer, criminal_case, case):
    victims.link_victim(police_officer, criminal_case, case.owner_agency.code,
                        case.case_number, "victim", date(2026, 3, 5))
    services.record_stage(police_officer, criminal_case, "indictment", date(2026, 5, 2))
    assert case.proceedings.get().stage == "prosecution"


def test_a_conviction_ends_the_victims_proceedings_as_convicted(police_officer,
                                                                criminal_case, suspect, case):
    victims.link_victim(police_officer, criminal_case, case.owner_agency.code,
                        case.case_number, "victim", date(2026, 3, 5))
    services.record_indictment(police_officer, suspect, date(2026, 5, 1))
    services.record_stage(police_officer, criminal_case, "final_judgement", date(2026, 9, 1))
    assert case.proceedings.get().stage == "acquitted"
    services.record_outcome(police_officer, suspect, "convicted", date(2026, 9, 1),
                            "imprisonment", 96)
    assert case.proceedings.get().stage == "convicted"


# --- shares --------------------------------------------------------------------------------

def test_sharing_lets_the_other_agency_see_and_record(police_officer, criminal_case,
                                                      prosecutor, prosecution):
    services.share_criminal_case(police_officer, criminal_case, prosecution.code)
    assert access.get_visible_criminal_case(prosecutor, criminal_case.pk) == criminal_case
    services.record_stage(prosecutor, criminal_case, "indictment", date(2026, 5, 2))
    entry = _entries(criminal_case).filter(object_type="criminal_case_share").get()
    assert entry.reason == f"shared with {prosecution.code}"


def test_a_case_is_shared_only_with_another_active_police_or_prosecution_agency(
        police_officer, criminal_case, police, ngo, prosecution):
    retired = make_agency("old-unit", "law_enforcement")
    retired.is_active = False
    retired.save()
    for code in (ngo.code, police.code, retired.code, "nowhere", ""):
        with pytest.raises(ValidationError) as raised:
            services.share_criminal_case(police_officer, criminal_case, code)
        assert set(_errors(raised)) == {"agency"}, code
    services.share_criminal_case(police_officer, criminal_case, prosecution.code)
    with pytest.raises(ValidationError) as raised:
        services.share_criminal_case(police_officer, criminal_case, prosecution.code)
    assert "already shared" in _errors(raised)["agency"][0]
    assert CriminalCaseShare.objects.count() == 1


def test_only_the_agency_in_charge_shares_and_withdraws(police_officer, criminal_case,
                                                        prosecutor, prosecution,
                                                        other_police):
    share = services.share_criminal_case(police_officer, criminal_case, prosecution.code)
    with pytest.raises(access.CriminalCaseAccessDenied):
        services.share_criminal_case(prosecutor, criminal_case, other_police.code)
    with pytest.raises(access.CriminalCaseAccessDenied):
        services.withdraw_share(prosecutor, share)
    assert list(criminal_case.shares.values_list("agency__code", flat=True)) == [
        prosecution.code]


def test_a_withdrawn_share_hides_the_case_again(police_officer, criminal_case, prosecutor,
                                                prosecution):
    share = services.share_criminal_case(police_officer, criminal_case, prosecution.code)
    services.withdraw_share(police_officer, share)
    with pytest.raises(access.CriminalCaseNotFound):
        access.get_visible_criminal_case(prosecutor, criminal_case.pk)
    assert _entries(criminal_case).filter(object_type="criminal_case_share").count() == 2


# --- persons -------------------------------------------------------------------------------

def test_a_suspect_is_recorded_with_the_age_the_birth_date_gives(police_officer,
                                                                 criminal_case):
    person = services.record_suspect(
        police_officer, criminal_case, "female", "exploiter", date(2026, 3, 4),
        given_name=" Maria ", family_name="Ionescu", birth_date="1990-03-05",
        citizenships="MD,ro")
    person.refresh_from_db()
    assert (person.given_name, person.family_name, person.birth_date) == (
        "Maria", "Ionescu", "1990-03-05")
    assert person.age == 35
    assert person.citizenships == ["MD", "RO"]
    assert person.name_index
    entry = _entries(criminal_case).filter(object_type="suspected_person").get()
    assert {"given_name", "family_name", "birth_date"} <= set(entry.fields)
    assert "Ionescu" not in f"{entry.object_ref} {entry.reason}"


def test_without_a_birth_date_the_age_is_as_typed(police_officer, criminal_case):
    person = services.record_suspect(police_officer, criminal_case, "male", "transporter",
                                     date(2026, 3, 4), age="42")
    assert person.age == 42
    assert person.name_index == ""


def test_a_suspect_with_wrong_fields_is_not_recorded(police_officer, criminal_case):
    with pytest.raises(ValidationError) as raised:
        services.record_suspect(police_officer, criminal_case, "robot", "", date(2026, 2, 1),
                                given_name="Ion\u202e", birth_date="1990-02-30",
                                age=200, citizenships=["XX"])
    assert set(_errors(raised)) == {"gender", "role", "suspected_on", "given_name",
                                    "birth_date", "age", "citizenships"}
    assert not SuspectedPerson.objects.exists()


def test_an_age_that_contradicts_the_birth_date_is_refused(police_officer, criminal_case):
    with pytest.raises(ValidationError) as raised:
        services.record_suspect(police_officer, criminal_case, "male", "recruiter",
                                date(2026, 3, 4), birth_date=date(1980, 6, 1), age=30)
    assert _errors(raised)["age"] == [
        "The birth date gives 45 years on the day the person was suspected."]


def test_a_suspect_who_has_a_victims_case_raises_a_non_punishment_alert(
        police_officer, criminal_case, case):
    person = services.record_suspect(police_officer, criminal_case, "female", "recruiter",
                                     date(2026, 3, 4), given_name="Elena",
                                     family_name="Popescu", birth_date=date(1998, 4, 12))
    assert NonPunishmentAlert.objects.filter(suspect=person, case=case).exists()


def test_an_identity_corrected_later_is_checked_again(police_officer, suspect, case):
    assert not NonPunishmentAlert.objects.exists()
    services.update_suspect_identity(police_officer, suspect, "Elena", "Popescu",
                                     "1998-04-12", "female", ["MD", "UA"])
    suspect.refresh_from_db()
    assert (suspect.given_name, suspect.gender, suspect.age) == ("Elena", "female", 27)
    assert suspect.citizenships == ["MD", "UA"]
    assert NonPunishmentAlert.objects.filter(suspect=suspect, case=case).exists()
    entry = _entries(suspect.criminal_case).filter(object_type="suspected_person",
                                                   action="update").get()
    assert {"given_name", "family_name", "birth_date", "gender"} <= set(entry.fields)


def test_a_wrong_identity_changes_nothing(police_officer, suspect):
    with pytest.raises(ValidationError) as raised:
        services.update_suspect_identity(police_officer, suspect, "x" * 301, "Cojocaru",
                                         date(2026, 5, 1), "robot")
    assert set(_errors(raised)) == {"given_name", "birth_date", "gender"}
    suspect.refresh_from_db()
    assert suspect.given_name == "Vasile"


@pytest.mark.django_db(transaction=True)
def test_identities_are_encrypted_at_rest(police_officer, criminal_case):
    services.record_suspect(police_officer, criminal_case, "male", "financier",
                            date(2026, 3, 4), given_name="Gheorghe",
                            family_name="Zmeuranu", birth_date=date(1975, 1, 31))
    services.record_cooperation_request(police_officer, criminal_case, "jit", "sent", "RO",
                                        date(2026, 3, 8), note="Contact through Bucharest")
    data = bytes_on_disk(("justice_suspectedperson", "justice_criminalcase",
                          "justice_cooperationrequest"))
    assert b"financier" in data  # the check does see row contents in clear
    for secret in (b"Gheorghe", b"Zmeuranu", b"1975-01-31", b"2026-0417", b"Bucharest"):
        assert secret not in data, secret


def test_an_indictment_is_not_before_the_suspicion(police_officer, suspect):
    with pytest.raises(ValidationError) as raised:
        services.record_indictment(police_officer, suspect, date(2026, 3, 3))
    assert set(_errors(raised)) == {"prosecuted_on"}
    services.record_indictment(police_officer, suspect, date(2026, 5, 1))
    suspect.refresh_from_db()
    assert suspect.prosecuted_on == date(2026, 5, 1)


def test_an_outcome_needs_the_indictment_first(police_officer, suspect):
    with pytest.raises(ValidationError) as raised:
        services.record_outcome(police_officer, suspect, "acquitted", date(2026, 9, 1))
    assert "indicted first" in _errors(raised)["outcome"][0]


def test_a_conviction_carries_the_sentence_and_the_assets(police_officer, suspect):
    services.record_indictment(police_officer, suspect, date(2026, 5, 1))
    services.record_outcome(police_officer, suspect, "convicted", date(2026, 9, 1),
                            "imprisonment", "96", "25000.5")
    suspect.refresh_from_db()
    assert (suspect.outcome, suspect.outcome_on, suspect.sentence_type,
            suspect.sentence_months) == ("convicted", date(2026, 9, 1), "imprisonment", 96)
    assert suspect.assets_confiscated_eur == Decimal("25000.50")


def test_only_a_conviction_carries_a_sentence(police_officer, suspect):
    services.record_indictment(police_officer, suspect, date(2026, 5, 1))
    with pytest.raises(ValidationError) as raised:
        services.record_outcome(police_officer, suspect, "acquitted", date(2026, 9, 1),
                                "fine", None)
    assert set(_errors(raised)) == {"sentence_type"}
    with pytest.raises(ValidationError) as raised:
        services.record_outcome(police_officer, suspect, "convicted", date(2026, 4, 1),
                                "imprisonment", None, "-5")
    assert set(_errors(raised)) == {"outcome_on", "sentence_months",
                                    "assets_confiscated_eur"}
    with pytest.raises(ValidationError) as raised:
        services.record_outcome(police_officer, suspect, "convicted", date(2026, 9, 1),
                                "fine", 12)
    assert set(_errors(raised)) == {"sentence_months"}
    suspect.refresh_from_db()
    assert suspect.outcome == ""
    services.record_outcome(police_officer, suspect, "charges_dropped", date(2026, 9, 1))
    suspect.refresh_from_db()
    assert (suspect.outcome, suspect.sentence_type, suspect.sentence_months) == (
        "charges_dropped", "", None)


# --- international cooperation -------------------------------------------------------------

def test_a_cooperation_request_is_tracked_until_answered(police_officer, criminal_case):
    request = services.record_cooperation_request(
        police_officer, criminal_case, "mla", "sent", "it", date(2026, 3, 8),
        note="Bank records")
    request.refresh_from_db()
    assert (request.partner_country, request.state, request.note) == ("IT", "pending",
                                                                      "Bank records")
    services.update_cooperation_request(police_officer, request, "executed",
                                        date(2026, 4, 20))
    request.refresh_from_db()
    assert (request.state, request.answered_on, request.note) == (
        "executed", date(2026, 4, 20), "Bank records")
    fields = [entry.fields for entry in _entries(criminal_case).filter(
        object_type="cooperation_request")]
    assert fields == [["direction", "kind", "note", "partner_country", "requested_on",
                       "state"], ["answered_on", "state"]]


def test_a_wrong_cooperation_request_is_not_recorded(police_officer, criminal_case):
    with pytest.raises(ValidationError) as raised:
        services.record_cooperation_request(police_officer, criminal_case, "letter", "both",
                                            "ZZ", TOMORROW, "unknown", None, "\x00")
    assert set(_errors(raised)) == {"kind", "direction", "partner_country", "requested_on",
                                    "state", "note"}
    assert not CooperationRequest.objects.exists()


def test_an_answer_has_a_date_after_the_request_and_a_pending_one_none(police_officer,
                                                                        criminal_case):
    request = services.record_cooperation_request(police_officer, criminal_case, "eio",
                                                  "received", "DE", date(2026, 3, 8))
    with pytest.raises(ValidationError) as raised:
        services.update_cooperation_request(police_officer, request, "refused")
    assert set(_errors(raised)) == {"answered_on"}
    with pytest.raises(ValidationError) as raised:
        services.update_cooperation_request(police_officer, request, "refused",
                                            date(2026, 3, 1))
    assert set(_errors(raised)) == {"answered_on"}
    with pytest.raises(ValidationError) as raised:
        services.update_cooperation_request(police_officer, request, "pending",
                                            date(2026, 3, 9))
    assert set(_errors(raised)) == {"answered_on"}
    request.refresh_from_db()
    assert (request.state, request.answered_on) == ("pending", None)


# --- reading -------------------------------------------------------------------------------

def test_reading_a_case_records_the_fields_shown(police_officer, criminal_case, suspect):
    services.read_criminal_case(police_officer, criminal_case.pk, channel="web")
    entry = _entries(criminal_case).filter(action="read").get()
    assert entry.fields == ["birth_date", "family_name", "given_name", "national_reference"]
    services.read_suspect(police_officer, criminal_case, suspect.pk)
    assert _entries(criminal_case).filter(action="read",
                                          object_type="suspected_person").exists()


def test_reading_another_cases_person_finds_nothing(police_officer, criminal_case, suspect):
    other = services.open_criminal_case(police_officer, "2026-0999", "pimping", OPENED_ON)
    assert services.read_suspect(police_officer, other, suspect.pk) is None
    assert not _entries(other).filter(action="read").exists()
