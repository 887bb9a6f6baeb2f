"""Signals of the cases app, for apps above it that must react to a change of a case.

They are sent inside the transaction of the change, so a receiver's writes commit or roll
back with it.
"""

from django.dispatch import Signal

# Sent by `services.withdraw_consent` with `consent`, `actor` and `channel`: whatever rests on
# that consent (referrals, sharing) must stop at once.
consent_withdrawn = Signal()
