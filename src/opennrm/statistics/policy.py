"""The node's disclosure policy: the floor under everything that leaves the statistics pages.

The smallest published count (threshold), the smallest rounding base and the smallest k
of the research extract are the node's, not the analyst's. The national coordinator or
the administrator sets them (the policy page, `opennrm stats policy set`); each change is
recorded in the audit trail. Without a saved policy the settings give the defaults:
`OPENNRM_DISCLOSURE_THRESHOLD` (5), `OPENNRM_DISCLOSURE_ROUNDING` (0: no rounding) and
`OPENNRM_EXTRACT_MINIMUM_K` (11).

An analyst may ask for stricter values, never for laxer ones: a lower threshold, a finer
rounding or a smaller k is refused with a message naming the node's minimum
(`PolicyError`), never silently raised. Rounding: with a policy base b > 1, a release must
round to a base of b or more (no rounding is laxer than any rounding).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from opennrm.audit.models import Action
from opennrm.audit.services import AuditEvent, record_event
from opennrm.statistics.access import ensure_can_set_disclosure_policy
from opennrm.statistics.models import DisclosurePolicy

if TYPE_CHECKING:
    from opennrm.accounts.models import User

# Bounds of what a policy may say (the same as the API's and the forms').
LARGEST_THRESHOLD = 100
LARGEST_ROUNDING = 100
LARGEST_K = 1000


class PolicyError(ValueError):
    """Controls laxer than the node's policy, or a policy that cannot be (message for the
    user; `field` is the control it is about)."""

    def __init__(self, message: str, field: str):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Policy:
    threshold: int
    rounding: int
    minimum_k: int

    def to_dict(self) -> dict:
        return {"threshold": self.threshold, "rounding": self.rounding,
                "minimum_k": self.minimum_k}


def default_policy() -> Policy:
    """The policy of the settings, before the coordinator saved one."""
    return Policy(threshold=int(getattr(settings, "OPENNRM_DISCLOSURE_THRESHOLD", 5)),
                  rounding=int(getattr(settings, "OPENNRM_DISCLOSURE_ROUNDING", 0)),
                  minimum_k=int(getattr(settings, "OPENNRM_EXTRACT_MINIMUM_K", 11)))


def current_policy() -> Policy:
    saved = DisclosurePolicy.objects.filter(pk=1).first()
    if saved is None:
        return default_policy()
    return Policy(threshold=saved.threshold, rounding=saved.rounding,
                  minimum_k=saved.minimum_k)


def _validate(policy: Policy) -> None:
    if not 1 <= policy.threshold <= LARGEST_THRESHOLD:
        raise PolicyError(f"The threshold must be from 1 to {LARGEST_THRESHOLD}.", "threshold")
    if not 0 <= policy.rounding <= LARGEST_ROUNDING:
        raise PolicyError(f"The rounding base must be from 0 to {LARGEST_ROUNDING}.",
                          "rounding")
    if not 2 <= policy.minimum_k <= LARGEST_K:
        raise PolicyError(f"k must be from 2 to {LARGEST_K}.", "minimum_k")


def set_policy(user: User | None, *, threshold: int | None = None,
               rounding: int | None = None, minimum_k: int | None = None,
               reason: str = "", channel: str = "web") -> Policy:
    """Change the node's policy (the values not given stay). `user` None is the operator on
    the server (the command line). The change, old and new values, is audited."""
    if user is not None:
        ensure_can_set_disclosure_policy(user)
    with transaction.atomic():
        before = current_policy()
        after = Policy(threshold=before.threshold if threshold is None else threshold,
                       rounding=before.rounding if rounding is None else rounding,
                       minimum_k=before.minimum_k if minimum_k is None else minimum_k)
        _validate(after)
        DisclosurePolicy.objects.update_or_create(pk=1, defaults={
            **after.to_dict(), "updated_at": timezone.now(), "updated_by": user})
        changes = ", ".join(f"{name} {old} → {new}" for (name, old), new
                            in zip(before.to_dict().items(), after.to_dict().values(),
                                   strict=True) if old != new) or "no change"
        record_event(user, AuditEvent(Action.UPDATE, "disclosure_policy", "1",
                                      reason=f"{changes}; {reason}" if reason else changes),
                     channel=channel)
    return after


# --- what an analyst may ask -------------------------------------------------------------

def check_threshold(threshold: int, policy: Policy | None = None) -> None:
    policy = policy or current_policy()
    if threshold < policy.threshold:
        raise PolicyError(
            f"The threshold cannot be lower than the node's minimum of {policy.threshold} "
            f"(asked: {threshold}). The national coordinator sets the minimum.", "threshold")


def check_rounding(rounding: int, policy: Policy | None = None) -> None:
    policy = policy or current_policy()
    if policy.rounding > 1 and rounding < policy.rounding:
        raise PolicyError(
            f"Counts must be rounded to a base of at least the node's minimum of "
            f"{policy.rounding} (asked: {rounding or 'no rounding'}). The national "
            f"coordinator sets the minimum.", "rounding")


def check_k(k: int, policy: Policy | None = None) -> None:
    policy = policy or current_policy()
    if k < policy.minimum_k:
        raise PolicyError(
            f"k cannot be lower than the node's minimum of {policy.minimum_k} (asked: {k}). "
            f"The national coordinator sets the minimum.", "k")
