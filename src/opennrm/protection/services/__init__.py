"""The one write path for the protection measures and the support plan, one module a measure.

Every function checks that the actor may change the case (`access.ensure_can_edit`),
validates, writes and records the audit trail in one transaction: bad input changes
nothing. Audit entries name the case number; free text that may describe the person is
encrypted, and reading it is audited by the read functions (`reads`) that the pages and
routes call.

Callers import this package (`from opennrm.protection import services`); the case's
timeline, which reads every app, is in `opennrm.workspace.timeline`.
"""

from opennrm.protection.services.common import UNCHANGED
from opennrm.protection.services.compensation import (
    record_compensation_claim,
    record_compensation_outcome,
)
from opennrm.protection.services.proceedings import record_proceeding, update_proceeding_stage
from opennrm.protection.services.reads import (
    PROCEEDING_SECRETS,
    RETURN_SECRETS,
    SUPPORT_SECRETS,
    ProtectionRecord,
    read_proceeding,
    read_protection_record,
    read_return_plan,
    read_support_plan,
)
from opennrm.protection.services.reflection_period import (
    CONVENTION_MINIMUM_DAYS,
    extend_reflection_period,
    grant_reflection_period,
    minimum_reflection_days,
)
from opennrm.protection.services.residence_permits import (
    decide_residence_permit,
    expire_residence_permits,
    record_residence_permit,
    renew_residence_permit,
)
from opennrm.protection.services.returns import (
    CHILD_RETURN_NEEDS_ASSESSMENT,
    plan_return,
    record_return,
)
from opennrm.protection.services.support_plan import (
    add_support_action,
    complete_support_action,
    create_support_plan,
    record_support_review,
    update_support_plan,
)

__all__ = [
    "CHILD_RETURN_NEEDS_ASSESSMENT",
    "CONVENTION_MINIMUM_DAYS",
    "PROCEEDING_SECRETS",
    "RETURN_SECRETS",
    "SUPPORT_SECRETS",
    "ProtectionRecord",
    "UNCHANGED",
    "add_support_action",
    "complete_support_action",
    "create_support_plan",
    "decide_residence_permit",
    "expire_residence_permits",
    "extend_reflection_period",
    "grant_reflection_period",
    "minimum_reflection_days",
    "plan_return",
    "read_proceeding",
    "read_protection_record",
    "read_return_plan",
    "read_support_plan",
    "record_compensation_claim",
    "record_compensation_outcome",
    "record_proceeding",
    "record_residence_permit",
    "record_return",
    "record_support_review",
    "renew_residence_permit",
    "update_proceeding_stage",
    "update_support_plan",
]
