"""Criminal proceedings (with non-punishment, CETS 197 art. 26) and compensation (art. 15)."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from opennrm.audit.models import AuditEntry
from opennrm.cases import access
from opennrm.protection import services
from opennrm.protection.models import CompensationOutcome, CriminalProceeding


def test_the_file_number_is_encrypted_at_rest(proceeding):
    with connection.cursor() as cursor:
        cursor.execute("SELECT case_reference FROM protection_criminalproceeding")
        stored = cursor.fetchone()[0]
    assert "2026-0417" not in stored and stored.startswith("enc1:")
    assert CriminalProceeding.objects.get().case_reference == "2026-0417"


def test_each_stage_stays_in_the_history(caseworker, proceeding):
    services.update_proceeding_stage(caseworker, proceeding, "prosecution", date(2026, 5, 1),
                                     deciding_authority="Prosecutor")
    services.update_proceeding_stage(caseworker, proceeding, "trial", date(2026, 6, 1),
                                     deciding_authority="Court", non_punishment_considered=True,
                                     non_punishment_note="Forced to carry drugs.")
    proceeding.refresh_from_db()
    assert proceeding.stage == "trial" and proceeding.non_punishment_considered
    assert [change.stage for change in proceeding.stage_changes.all()] == [
        "investigation", "prosecution", "trial"]


def test_a_stage_cannot_go_back_in_time(caseworker, proceeding):
    with pytest.raises(ValidationError) as error:
        services.update_proceeding_stage(caseworker, proceeding, "trial", date(2026, 3, 9),
                                         deciding_authority="Court")
    assert "decided_on" in error.value.message_dict
    assert proceeding.stage_changes.count() == 1


def test_a_non_punishment_note_needs_the_box_ticked(caseworker, case):
    with pytest.raises(ValidationError) as error:
        services.record_proceeding(caseworker, case, "investigation", "witness",
                                   date(2026, 3, 10), deciding_authority="Prosecutor",
                                   non_punishment_note="Compelled to steal.")
    assert "non_punishment_considered" in error.value.message_dict


def test_it_refuses_an_unknown_role(caseworker, case):
    with pytest.raises(ValidationError) as error:
        services.record_proceeding(caseworker, case, "investigation", "suspect",
                                   date(2026, 3, 10), deciding_authority="Prosecutor")
    assert "role" in error.value.message_dict


def test_a_claim_is_awarded_then_paid(caseworker, claim):
    services.record_compensation_outcome(caseworker, claim, "awarded", date(2026, 6, 1),
                                         "30000", deciding_authority="Court")
    paid = services.record_compensation_outcome(caseworker, claim, "paid", date(2026, 7, 1),
                                                deciding_authority="Court")
    assert paid.outcome == CompensationOutcome.PAID
    assert paid.decided_on == date(2026, 6, 1) and paid.paid_on == date(2026, 7, 1)
    assert str(paid.amount_awarded) == "30000.00"


def test_a_refused_claim_is_final(caseworker, claim):
    services.record_compensation_outcome(caseworker, claim, "refused", date(2026, 6, 1),
                                         deciding_authority="Court")
    with pytest.raises(ValidationError, match="final outcome"):
        services.record_compensation_outcome(caseworker, claim, "paid", date(2026, 7, 1),
                                             "100", deciding_authority="Court")


def test_an_award_needs_an_amount(caseworker, claim):
    with pytest.raises(ValidationError) as error:
        services.record_compensation_outcome(caseworker, claim, "awarded", date(2026, 6, 1),
                                             deciding_authority="Court")
    assert "amount_awarded" in error.value.message_dict
    claim.refresh_from_db()
    assert claim.outcome == CompensationOutcome.PENDING


def test_it_refuses_an_unknown_currency(caseworker, case):
    with pytest.raises(ValidationError) as error:
        services.record_compensation_claim(caseworker, case, "offender", date(2026, 3, 15),
                                           "XYZ", "100")
    assert "currency" in error.value.message_dict


def test_proceedings_and_claims_are_audited(caseworker, case, proceeding, claim):
    types = set(AuditEntry.objects.filter(object_ref=case.case_number)
                .values_list("object_type", flat=True))
    assert {"criminal_proceeding", "compensation_claim"} <= types


def test_it_validates_ownership(police_officer, case, proceeding, claim):
    with pytest.raises(access.CaseNotFound):
        services.update_proceeding_stage(police_officer, proceeding, "trial", date(2026, 5, 1),
                                         deciding_authority="Court")
    with pytest.raises(access.CaseNotFound):
        services.record_compensation_outcome(police_officer, claim, "refused",
                                             date(2026, 5, 1), deciding_authority="Court")
