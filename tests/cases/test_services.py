from datetime import date

import pytest
from django.core.exceptions import ValidationError

from opennrm.audit.models import AuditEntry
from opennrm.cases import access, services
from opennrm.cases.models import Case, CaseStatus, Person
from tests.factories import person_data


def test_register_case_creates_person_and_pseudonymous_case(caseworker, case):
    assert case.owner_agency == caseworker.agency
    assert case.case_number.startswith("MD-")
    assert "Popescu" not in case.case_number
    assert case.person.given_name == "Elena"
    assert case.age_band == "27-29"
    assert case.is_child is False
    assert case.victim_status == "presumed"
    assert AuditEntry.objects.filter(action="create", object_ref=case.case_number).exists()


def test_one_person_may_have_several_cases(caseworker, case):
    second = Case.objects.create(
        person=case.person, owner_agency=caseworker.agency, case_number="MD-26-SECOND00",
        first_contact_on=date(2026, 5, 1),
    )
    assert set(case.person.cases.all()) == {case, second}


def test_bad_input_changes_nothing_and_names_the_field(caseworker):
    before = (Person.objects.count(), Case.objects.count(), AuditEntry.objects.count())
    with pytest.raises(ValidationError) as error:
        services.register_case(caseworker, person_data(
            citizenships=["XX"], first_contact_on="2026-13-40", gender=""))
    fields = error.value.message_dict
    assert "citizenships" in fields and "first_contact_on" in fields and "gender" in fields
    assert (Person.objects.count(), Case.objects.count(), AuditEntry.objects.count()) == before


def test_a_batch_with_one_bad_entry_registers_nothing(caseworker):
    with pytest.raises(ValidationError) as error:
        services.register_cases(caseworker, [
            services.Registration(person_data()),
            services.Registration(person_data(exploitation_forms=["nonsense"])),
        ])
    assert "entry 2" in error.value.message_dict
    assert Case.objects.count() == 0


def test_person_of_uncertain_age_is_presumed_a_child(caseworker):
    case = services.register_case(caseworker, person_data(birth_date=None,
                                                          age_uncertain=True))
    assert case.is_child is True


def test_exact_search_matches_across_scripts_and_name_order(caseworker):
    case = services.register_case(caseworker, person_data(
        given_name="Иван", family_name="Иванов", birth_date=date(1990, 1, 5)))
    found = services.find_cases_by_name(caseworker, "Ivanov", "Ivan", date(1990, 1, 5))
    assert found == [case]
    assert services.find_cases_by_name(caseworker, "Ivan", "Ivanov", date(1990, 1, 6)) == []


def test_search_never_returns_another_agencys_case(case, police_officer):
    found = services.find_cases_by_name(police_officer, "Elena", "Popescu", date(1998, 4, 12))
    assert found == []


def test_update_records_only_changed_fields(caseworker, case):
    services.update_case(caseworker, case, {"phone": "+37360000000", "given_name": "Elena"})
    entry = AuditEntry.objects.filter(action="update").latest("sequence")
    assert entry.fields == ["phone"]
    case.refresh_from_db()
    assert case.person.phone == "+37360000000"


def test_officer_of_another_agency_cannot_edit(case, police_officer):
    with pytest.raises(access.CaseNotFound):
        services.update_case(police_officer, case, {"phone": "+37360000001"})


def test_closed_case_cannot_be_edited_until_reopened(caseworker, case):
    case = services.close_case(caseworker, case, "assistance_completed")
    assert case.status == CaseStatus.CLOSED
    with pytest.raises(ValidationError):
        services.update_case(caseworker, case, {"phone": "+37360000001"})
    services.reopen_case(caseworker, case)
    services.update_case(caseworker, case, {"phone": "+37360000001"})


def test_closing_as_referred_elsewhere_marks_closed_referred(caseworker, case):
    case = services.close_case(caseworker, case, "referred_elsewhere")
    assert case.status == CaseStatus.CLOSED_REFERRED


def test_closing_needs_a_known_reason(caseworker, case):
    with pytest.raises(ValidationError) as error:
        services.close_case(caseworker, case, "bored")
    assert "closure_reason" in error.value.message_dict


def test_data_sharing_consent_needs_a_named_recipient(caseworker, case, police):
    with pytest.raises(ValidationError) as error:
        services.record_consent(caseworker, case, "data_sharing", date(2026, 3, 2))
    assert "recipient_agency" in error.value.message_dict
    consent = services.record_consent(caseworker, case, "data_sharing", date(2026, 3, 2),
                                      recipient_agency_code=police.code)
    assert consent.recipient_agency == police
    assert services.has_active_consent(case, "data_sharing")


def test_withdrawn_consent_stays_on_record(caseworker, case):
    consent = services.record_consent(caseworker, case, "referral", date(2026, 3, 2))
    services.withdraw_consent(caseworker, consent, date(2026, 3, 9))
    assert not services.has_active_consent(case, "referral")
    assert case.consents.count() == 1
    with pytest.raises(ValidationError):
        services.withdraw_consent(caseworker, consent, date(2026, 3, 10))


def test_roles_without_case_access_see_no_cases(case, analyst, auditor, administrator):
    for user in (analyst, auditor, administrator):
        assert not access.cases_visible_to(user).exists()
        with pytest.raises(access.CaseNotFound):
            services.read_case(user, case.case_number)
        assert not access.can_see_identity(user)
