import csv
import io

import pytest
from django.core.exceptions import ValidationError

from opennrm.audit.models import AuditEntry
from opennrm.cases import access
from opennrm.cases.exports import export_cases_csv


def test_export_writes_visible_cases_and_audits_the_reason(case, caseworker):
    out = io.StringIO()
    assert export_cases_csv(caseworker, "annual report to the coordinator", out) == 1
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert rows[0]["case_number"] == case.case_number
    assert rows[0]["exploitation_forms"] == "forced_labour"
    assert "given_name" not in rows[0]
    entry = AuditEntry.objects.get(action="export")
    assert entry.object_ref == case.case_number
    assert entry.reason == "annual report to the coordinator"


def test_it_validates_ownership(case, police_officer):
    out = io.StringIO()
    assert export_cases_csv(police_officer, "curiosity", out, include_identity=True) == 0
    assert case.case_number not in out.getvalue()
    assert "Popescu" not in out.getvalue()


def test_identity_export_needs_a_role_that_may_see_identities(case, analyst):
    with pytest.raises(access.CaseAccessDenied):
        export_cases_csv(analyst, "research", io.StringIO(), include_identity=True)


def test_identity_export_includes_names_for_the_owning_agency(case, caseworker):
    out = io.StringIO()
    export_cases_csv(caseworker, "court order 12/2026", out, include_identity=True)
    assert "Popescu" in out.getvalue()


def test_an_export_without_a_reason_is_refused(case, caseworker):
    with pytest.raises(ValidationError) as error:
        export_cases_csv(caseworker, "  ", io.StringIO())
    assert "reason" in error.value.message_dict
    assert not AuditEntry.objects.filter(action="export").exists()
