"""Who may read the audit trail: the auditors, and no one else (not even administrators)."""

from opennrm.core.access import Staff, has_role
from opennrm.core.roles import Role


class AuditAccessDenied(Exception):
    pass


def can_read_audit_trail(user: Staff | None) -> bool:
    return has_role(user, Role.AUDITOR)


def ensure_can_read_audit_trail(user: Staff | None) -> None:
    if not can_read_audit_trail(user):
        raise AuditAccessDenied("Only auditors may read the audit trail.")
