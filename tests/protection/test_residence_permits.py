"""Residence permits (CETS 197 art. 14): application, decision, renewal chain, expiry."""

from datetime import date
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from opennrm.audit.models import AuditEntry
from opennrm.cases import access
from opennrm.protection import services
from opennrm.protection.models import PermitStatus, ResidencePermit


def test_an_application_starts_as_applied(permit):
    assert permit.status == PermitStatus.APPLIED and permit.decided_on is None


def test_it_refuses_an_unknown_permit_type(caseworker, case):
    with pytest.raises(ValidationError) as error:
        services.record_residence_permit(caseworker, case, "tourist", date(2026, 3, 20))
    assert "permit_type" in error.value.message_dict


def test_a_granted_permit_needs_an_expiry_after_the_decision(caseworker, permit):
    with pytest.raises(ValidationError) as error:
        services.decide_residence_permit(caseworker, permit, "granted", date(2026, 4, 1),
                                         deciding_authority="Migration")
    assert "expires_on" in error.value.message_dict
    permit.refresh_from_db()
    assert permit.status == PermitStatus.APPLIED


def test_a_refusal_needs_no_expiry(caseworker, permit):
    refused = services.decide_residence_permit(caseworker, permit, "refused",
                                               date(2026, 4, 1), deciding_authority="Migration")
    assert refused.status == PermitStatus.REFUSED and refused.expires_on is None
    with pytest.raises(ValidationError, match="already decided"):
        services.decide_residence_permit(caseworker, permit, "granted", date(2026, 4, 2),
                                         date(2026, 10, 1), deciding_authority="Migration")


def test_a_renewal_is_a_new_permit_linked_to_the_old_one(caseworker, granted_permit):
    renewal = services.renew_residence_permit(
        caseworker, granted_permit, date(2026, 9, 20), date(2027, 9, 30),
        deciding_authority="Migration")
    granted_permit.refresh_from_db()
    assert granted_permit.status == PermitStatus.RENEWED
    assert renewal.status == PermitStatus.GRANTED and renewal.renews == granted_permit
    assert renewal.permit_type == granted_permit.permit_type
    second = services.renew_residence_permit(caseworker, renewal, date(2026, 9, 25),
                                             date(2028, 9, 30), deciding_authority="Migration")
    assert second.renews.renews == granted_permit


def test_a_renewed_permit_cannot_be_renewed_again(caseworker, granted_permit):
    services.renew_residence_permit(caseworker, granted_permit, date(2026, 9, 20),
                                    date(2027, 9, 30), deciding_authority="Migration")
    with pytest.raises(ValidationError, match="Only a granted or expired permit"):
        services.renew_residence_permit(caseworker, granted_permit, date(2026, 9, 21),
                                        date(2028, 9, 30), deciding_authority="Migration")
    assert ResidencePermit.objects.count() == 2


def test_a_renewal_must_run_longer(caseworker, granted_permit):
    with pytest.raises(ValidationError) as error:
        services.renew_residence_permit(caseworker, granted_permit, date(2026, 9, 20),
                                        date(2026, 9, 30), deciding_authority="Migration")
    assert "expires_on" in error.value.message_dict


def test_an_application_cannot_be_renewed(caseworker, permit):
    with pytest.raises(ValidationError):
        services.renew_residence_permit(caseworker, permit, date(2026, 9, 20),
                                        date(2027, 9, 30), deciding_authority="Migration")


def test_permits_past_their_expiry_become_expired(granted_permit):
    assert services.expire_residence_permits(date(2026, 10, 1)) == 0
    assert services.expire_residence_permits(date(2026, 10, 2)) == 1
    granted_permit.refresh_from_db()
    assert granted_permit.status == PermitStatus.EXPIRED
    assert AuditEntry.objects.filter(object_type="residence_permit", reason="expired",
                                     actor_username="system").exists()


def test_every_step_is_audited(caseworker, case, granted_permit):
    services.renew_residence_permit(caseworker, granted_permit, date(2026, 9, 20),
                                    date(2027, 9, 30), deciding_authority="Migration")
    actions = list(AuditEntry.objects.filter(object_type="residence_permit",
                                             object_ref=case.case_number)
                   .values_list("action", flat=True))
    assert actions == ["create", "update", "update"]


def test_it_validates_ownership(police_officer, case, permit):
    with pytest.raises(access.CaseNotFound):
        services.decide_residence_permit(police_officer, permit, "refused", date(2026, 4, 1),
                                         deciding_authority="Migration")


def test_the_daily_command_expires_permits(granted_permit):
    out = StringIO()
    call_command("expirepermits", stdout=out)
    granted_permit.refresh_from_db()
    expected = PermitStatus.EXPIRED if granted_permit.expires_on < date.today() else (
        PermitStatus.GRANTED)
    assert granted_permit.status == expected
    assert "marked expired" in out.getvalue()
