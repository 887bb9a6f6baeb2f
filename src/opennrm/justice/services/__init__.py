"""The one write path of the criminal-justice side: criminal cases and their stages and
shares, the persons suspected, prosecuted and convicted, and international cooperation
requests. The web pages (and any other client) call these functions; each validates every
field, checks access, writes and records the audit entry in one transaction, so bad input
changes nothing. Linking victims is `justice.victims`."""

from opennrm.justice.services.common import audit_ref
from opennrm.justice.services.cooperation import (
    read_cooperation_request,
    record_cooperation_request,
    update_cooperation_request,
)
from opennrm.justice.services.criminal_cases import (
    criminal_cases_for,
    open_criminal_case,
    read_criminal_case,
    record_stage,
    share_criminal_case,
    withdraw_share,
)
from opennrm.justice.services.persons import (
    read_suspect,
    record_indictment,
    record_outcome,
    record_suspect,
    update_suspect_identity,
)

__all__ = [
    "audit_ref",
    "criminal_cases_for",
    "open_criminal_case",
    "read_cooperation_request",
    "read_criminal_case",
    "read_suspect",
    "record_cooperation_request",
    "record_indictment",
    "record_outcome",
    "record_stage",
    "record_suspect",
    "share_criminal_case",
    "update_cooperation_request",
    "update_suspect_identity",
    "withdraw_share",
]
