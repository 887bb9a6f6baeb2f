"""Referral pages: the case's referrals, the inbox of the receiving agency."""


def referral_context(user, case) -> dict:
    """What the case page's referral list shows to `user`."""
    return {}
