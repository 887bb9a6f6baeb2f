"""Reading the protection measures' encrypted details: file numbers, protection measures
and notes of proceedings, risk assessments of returns, the support plan. Each read of them
is recorded in the audit trail here, for the pages and the API alike."""

from dataclasses import dataclass
from typing import TYPE_CHECKING

from opennrm.audit.models import Action
from opennrm.audit.services import AuditEvent, record_events
from opennrm.cases import access
from opennrm.cases.models import Case
from opennrm.protection.models import (
    CompensationClaim,
    CriminalProceeding,
    ReflectionPeriod,
    ResidencePermit,
    ReturnPlan,
    SupportPlan,
)

if TYPE_CHECKING:
    from opennrm.accounts.models import User

# The encrypted fields of each measure, as the audit trail names them.
PROCEEDING_SECRETS = ("case_reference", "protection_measures", "non_punishment_note")
RETURN_SECRETS = ("risk_summary", "no_assessment_reason", "reintegration_follow_up")
SUPPORT_SECRETS = ("objectives", "actions.description", "reviews.note")


def _record_read(user: "User", object_type: str, case: Case, fields: tuple[str, ...],
                 channel: str) -> None:
    record_events(user, [AuditEvent(Action.READ, object_type, case.case_number, fields)],
                  channel)


@dataclass(frozen=True)
class ProtectionRecord:
    """Every protection measure of a case, oldest first, with who decided and recorded it."""

    reflection_periods: list[ReflectionPeriod]
    residence_permits: list[ResidencePermit]
    proceedings: list[CriminalProceeding]
    compensation_claims: list[CompensationClaim]
    return_plans: list[ReturnPlan]


def read_protection_record(user: "User", case: Case, channel: str = "") -> ProtectionRecord:
    """The whole protection record of `case`, encrypted details included; reading the
    proceedings' and the return plans' details is audited (when the case has any)."""
    access.ensure_visible(user, case)
    proceedings = list(case.proceedings.select_related("deciding_agency", "recorded_by"))
    returns = list(case.return_plans.select_related("deciding_agency", "recorded_by"))
    if proceedings:
        _record_read(user, "criminal_proceeding", case, PROCEEDING_SECRETS, channel)
    if returns:
        _record_read(user, "return_plan", case, RETURN_SECRETS, channel)
    return ProtectionRecord(
        reflection_periods=list(case.reflection_periods.select_related("deciding_agency",
                                                                        "recorded_by")),
        residence_permits=list(case.residence_permits.select_related("deciding_agency",
                                                                      "recorded_by")),
        proceedings=proceedings,
        compensation_claims=list(case.compensation_claims.select_related("deciding_agency",
                                                                          "recorded_by")),
        return_plans=returns)


def read_proceeding(user: "User", case: Case, proceeding_id: int, *,
                    fields: tuple[str, ...] = PROCEEDING_SECRETS,
                    channel: str = "") -> CriminalProceeding | None:
    """One proceedings of `case` (None if it has no such), reading `fields` audited."""
    access.ensure_visible(user, case)
    proceeding = case.proceedings.filter(pk=proceeding_id).first()
    if proceeding is not None:
        _record_read(user, "criminal_proceeding", case, fields, channel)
    return proceeding


def read_return_plan(user: "User", case: Case, plan_id: int, *,
                     fields: tuple[str, ...] = RETURN_SECRETS,
                     channel: str = "") -> ReturnPlan | None:
    """One return plan of `case` (None if it has no such), reading `fields` audited."""
    access.ensure_visible(user, case)
    plan = case.return_plans.filter(pk=plan_id).first()
    if plan is not None:
        _record_read(user, "return_plan", case, fields, channel)
    return plan


def read_support_plan(user: "User", case: Case, *, fields: tuple[str, ...] = SUPPORT_SECRETS,
                      channel: str = "") -> SupportPlan | None:
    """The support plan of `case` (None while it has none), reading `fields` audited."""
    access.ensure_visible(user, case)
    plan = SupportPlan.objects.filter(case=case).select_related(
        "responsible_agency", "created_by").first()
    if plan is not None:
        _record_read(user, "support_plan", case, fields, channel)
    return plan
