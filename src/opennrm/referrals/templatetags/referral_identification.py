"""The referral page's way to the formal identification decision, for the authority a case
was referred to for identification (`referrals.access`, identification by referral)."""

from django import template

from opennrm.cases.access import can_decide_identification
from opennrm.referrals.access import (
    IDENTIFICATION_SERVICE_TYPE,
    identification_queue_states,
    is_referral_recipient,
)
from opennrm.referrals.models import ReferralState

register = template.Library()

DECIDE, ACCEPT_FIRST = "decide", "accept_first"


@register.simple_tag(takes_context=True)
def identification_step(context, referral) -> str:
    """What the referral page offers the signed-in user on a referral for formal
    identification: `DECIDE` when they may record the decision now, `ACCEPT_FIRST` when the
    node's policy lets them once the referral is accepted, "" otherwise (another kind of
    referral, the referring side, a user who does not decide, a closed referral)."""
    user = context.get("user")
    if (referral.service.service_type != IDENTIFICATION_SERVICE_TYPE
            or not is_referral_recipient(user, referral)):
        return ""
    if can_decide_identification(user, referral.case):
        return DECIDE
    if (referral.state == ReferralState.SENT
            and ReferralState.SENT not in identification_queue_states()
            and can_decide_identification(user)):
        return ACCEPT_FIRST
    return ""
