"""Signals of the audit trail, for the apps above it (this app imports none of them)."""

from django.dispatch import Signal

# Sent by `checkpoints.write_checkpoint` with `checkpoint` (an AuditCheckpoint), after the
# commit that stored it: the transnational channel sends it to the partner nodes, its
# witnesses. Receivers are called robustly: one that raises is logged, never the caller's
# failure.
checkpoint_written = Signal()
