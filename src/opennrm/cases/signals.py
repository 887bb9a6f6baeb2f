"""Signals of the cases app, for apps above it that must react to a change of a case.

They are sent inside the transaction of the change, so a receiver's writes commit or roll
back with it.
"""

from django.dispatch import Signal

# Sent by `services.withdraw_consent` with `consent`, `actor` and `channel`: whatever rests on
# that consent (referrals, sharing) must stop at once.
consent_withdrawn = Signal()

# Sent by `assignment.assign_cases` with `cases` (those whose caseworker changed),
# `caseworker`, `actor` and `channel`: `reminders` tells the new caseworker.
case_assigned = Signal()

# Sent by `transfer` with `transfer` (its new state), `actor` and `channel` when a transfer is
# requested, accepted or declined: `reminders` tells the other side, and on acceptance
# `referrals` hands the case's open referrals to the new owner.
transfer_changed = Signal()

# Sent by `services.register_cases` with `cases` (the new cases), `actor` and `channel`: they
# are written with `bulk_create`, which sends no `post_save`; `justice` checks whether the new
# victims were recorded as suspects (non-punishment).
cases_registered = Signal()
