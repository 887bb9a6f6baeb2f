"""Exports of case data. An export needs a stated reason, and every exported case is
recorded in the audit trail with that reason."""

import csv
from typing import TextIO

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from opennrm.audit.models import Action
from opennrm.audit.services import AuditEvent, record_events
from opennrm.cases import access
from opennrm.core.spreadsheets import safe_text

CASE_COLUMNS = [
    "case_number", "global_id", "status", "closure_reason", "victim_status",
    "victim_status_decided_on", "first_contact_on", "age_band", "is_child",
    "exploitation_forms", "labour_sector", "recruitment_countries", "transit_countries",
    "exploitation_countries", "means_of_control", "recruiter_relation",
]
PERSON_DEMOGRAPHIC_COLUMNS = ["gender", "birth_year", "citizenships", "languages"]
PERSON_IDENTITY_COLUMNS = ["given_name", "family_name", "birth_date", "phone"]


def _cell(value) -> str:
    """A value as CSV text that no spreadsheet runs as a formula."""
    if isinstance(value, list):
        return safe_text(";".join(str(v) for v in value))
    return "" if value is None else safe_text(str(value))


def export_cases_csv(actor, reason: str, out: TextIO, *, include_identity: bool = False,
                     channel: str = "") -> int:
    """Write the cases `actor` may see as CSV to `out`; returns how many were written."""
    if not reason.strip():
        raise ValidationError({"reason": [_("Say why the data is exported.")]})
    if include_identity and not access.can_see_identity(actor):
        raise access.CaseAccessDenied(_("Your role may not export identity data."))
    columns = CASE_COLUMNS + PERSON_DEMOGRAPHIC_COLUMNS
    if include_identity:
        columns += PERSON_IDENTITY_COLUMNS
    person_fields = PERSON_DEMOGRAPHIC_COLUMNS + (PERSON_IDENTITY_COLUMNS if include_identity
                                                  else [])
    cases = (access.cases_visible_to(actor).select_related("person")
             .only(*CASE_COLUMNS, *(f"person__{f}" for f in person_fields))
             .order_by("id"))
    writer = csv.writer(out)
    writer.writerow(columns)
    exported = []
    with transaction.atomic():
        for case in cases.iterator(chunk_size=2000):
            writer.writerow(
                [_cell(getattr(case, c)) for c in CASE_COLUMNS]
                + [_cell(getattr(case.person, c)) for c in person_fields]
            )
            exported.append(case.case_number)
        record_events(actor, [
            AuditEvent(Action.EXPORT, "case", number, tuple(person_fields), reason.strip())
            for number in exported
        ], channel)
    return len(exported)


__all__ = ["export_cases_csv"]
