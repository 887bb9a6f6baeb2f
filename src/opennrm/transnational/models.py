"""This node's identity, its partners, and the messages sent (outbox) and received (inbox).

Personal data at rest stays encrypted with the key ring: the signed message a sender keeps as
evidence and the payload a receiver holds until its predecessor arrives. The sealed envelope
(a JWE to the partner's key) is stored as it went over the wire: its digest is what the
partner's signed receipt names.
"""

from django.db import models

from opennrm.core.fields import EncryptedJSONField, EncryptedTextField


class Node(models.Model):
    """This node (one row, written by `opennrm node init`). Its keys are in the key ring."""

    node_id = models.UUIDField(unique=True)
    country = models.CharField(max_length=2)
    name = models.CharField(max_length=200)
    endpoint = models.URLField(max_length=300)
    valid_from = models.DateTimeField()
    valid_until = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.country}, {self.node_id})"


class Partner(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended"

    node_id = models.UUIDField(unique=True)
    country = models.CharField(max_length=2)
    name = models.CharField(max_length=200)
    endpoint = models.URLField(max_length=300)
    valid_until = models.DateTimeField()
    # The card as imported, its public keys (a JWKS) and the fingerprint compared out of band.
    card = models.JSONField()
    keys = models.JSONField()
    fingerprint = models.CharField(max_length=64)
    # Keys the partner revoked ({kid, use, revoked_at, reason}): a message signed with one is
    # refused as "revoked_key", even if an old card still lists it.
    revoked_keys = models.JSONField(default=list)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    allowed_types = models.JSONField(default=list)
    imported_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.country})"


class OutboxMessage(models.Model):
    """A message to a partner, written in the transaction of the change that causes it."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENT = "sent", "Sent"
        RECEIPT = "receipt_received", "Receipt received"
        ANSWERED = "answered", "Answered"
        FAILED = "failed", "Failed"
        ABANDONED = "abandoned", "Abandoned"

    message_id = models.UUIDField(unique=True)
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="outbox")
    message_type = models.CharField(max_length=60)
    schema_version = models.CharField(max_length=10)
    case_id = models.UUIDField(null=True, blank=True)
    sequence = models.PositiveIntegerField(null=True, blank=True)
    consent_ref = models.CharField(max_length=100, blank=True)
    in_reply_to = models.UUIDField(null=True, blank=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    # The JWS the node signed (evidence; encrypted at rest) and the JWE sent on the wire.
    signed = EncryptedTextField()
    sealed = models.TextField()
    digest = models.CharField(max_length=64)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED,
                              db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(db_index=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    reason_code = models.CharField(max_length=40, blank=True)
    reason_text = models.TextField(blank=True)
    receipt = models.TextField(blank=True)
    receipt_status = models.CharField(max_length=20, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(
            fields=["partner", "case_id", "sequence"], name="trm_outbox_case_sequence")]

    def __str__(self) -> str:
        return f"{self.message_type} {self.message_id} → {self.partner_id}"


class DeliveryAttempt(models.Model):
    """One attempt to deliver an outbox message, with what the partner answered (every
    receipt is kept, a duplicate's too)."""

    message = models.ForeignKey(OutboxMessage, on_delete=models.CASCADE,
                                related_name="deliveries")
    at = models.DateTimeField()
    http_status = models.PositiveIntegerField(null=True, blank=True)
    outcome = models.CharField(max_length=20)  # receipt, rejected, retry
    code = models.CharField(max_length=40, blank=True)
    text = models.TextField(blank=True)
    receipt = models.TextField(blank=True)
    milliseconds = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["at"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.outcome} {self.code}".rstrip()


class InboxMessage(models.Model):
    """A message received (applied, waiting for its predecessor, or rejected).

    `message_id` is set only for accepted messages and is unique: it is written in the same
    transaction as the message's effect, so a message is applied once. A rejection keeps the
    id it claimed in `claimed_message_id` (a rejected message may come again, valid)."""

    class Status(models.TextChoices):
        APPLIED = "applied", "Applied"
        PENDING = "pending", "Waiting for an earlier message"
        REJECTED = "rejected", "Rejected"

    message_id = models.UUIDField(unique=True, null=True, blank=True)
    claimed_message_id = models.CharField(max_length=64, blank=True)
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, null=True, blank=True,
                                related_name="inbox")
    message_type = models.CharField(max_length=60, blank=True)
    schema_version = models.CharField(max_length=10, blank=True)
    case_id = models.UUIDField(null=True, blank=True)
    sequence = models.PositiveIntegerField(null=True, blank=True)
    in_reply_to = models.UUIDField(null=True, blank=True)
    consent_ref = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, db_index=True)
    reason_code = models.CharField(max_length=40, blank=True)
    reason_text = models.TextField(blank=True)
    digest = models.CharField(max_length=64)
    size = models.PositiveIntegerField(default=0)
    received_at = models.DateTimeField()
    applied_at = models.DateTimeField(null=True, blank=True)
    signed = EncryptedTextField(blank=True)
    # The verified claims and payload, kept while the message waits for its predecessor.
    pending = EncryptedJSONField(null=True, blank=True)
    receipt = models.TextField()

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.message_type} {self.message_id or self.claimed_message_id} {self.status}"


class InboundSequence(models.Model):
    """The last message applied per (sender, case): the next one applies, a later one waits."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE)
    case_id = models.UUIDField()
    last_applied = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["partner", "case_id"],
                                               name="trm_inbound_sequence")]

    def __str__(self) -> str:
        return f"{self.partner_id} {self.case_id} #{self.last_applied}"


# --- the referral workflows (workflows.py) ---------------------------------------------------

class TransnationalReferral(models.Model):
    """A case referred to a partner node (out) or by one (in). Both sides know it by the
    sender's global case id; the receiver's own case (created on acceptance, through its
    `register_case`) is `case` on its side."""

    class Direction(models.TextChoices):
        OUT = "out", "Sent"
        IN = "in", "Received"

    class Status(models.TextChoices):
        OFFERED = "offered", "Offered"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        ACTIVE = "active", "Identity shared, case open"
        CLOSED = "closed", "Closed"
        WITHDRAWN = "withdrawn", "Consent withdrawn"
        ERASED = "erased", "Identity erased"

    class Mode(models.TextChoices):
        HANDOVER = "handover", "Handover"
        SHARED = "shared", "Shared"

    direction = models.CharField(max_length=3, choices=Direction.choices)
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="referrals")
    global_case_id = models.UUIDField(db_index=True)
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, null=True, blank=True,
                             related_name="transnational_referrals")
    consent = models.ForeignKey("cases.Consent", on_delete=models.PROTECT, null=True,
                                blank=True, related_name="+")
    # The sending agency (out) or the agency the focal point assigned (in).
    agency = models.ForeignKey("accounts.Agency", on_delete=models.PROTECT, null=True,
                               blank=True, related_name="+")
    stage = models.CharField(max_length=30)
    mode = models.CharField(max_length=10, choices=Mode.choices)
    shared_fields = models.JSONField(default=list)
    # The pseudonymised preview, as sent or received (no name, birth date or case number).
    preview = models.JSONField(default=dict)
    risk_assessment = EncryptedTextField(blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OFFERED)
    decision_reason = models.TextField(blank=True)
    offer_message_id = models.UUIDField(null=True, blank=True)
    withdrawal_message_id = models.UUIDField(null=True, blank=True)
    created_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, null=True,
                                   blank=True, related_name="+")
    decided_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, null=True,
                                   blank=True, related_name="+")
    created_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)
    erased_at = models.DateTimeField(null=True, blank=True)
    erasure_confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(
            fields=["direction", "partner", "global_case_id"], name="trm_referral_per_case")]

    def __str__(self) -> str:
        return f"{self.direction} referral {self.global_case_id} ({self.partner_id})"


class ReferralEvent(models.Model):
    """One step of a transnational referral on this side: a message sent or received (its
    delivery state is the outbox's), with what it said."""

    referral = models.ForeignKey(TransnationalReferral, on_delete=models.CASCADE,
                                 related_name="events")
    direction = models.CharField(max_length=3)  # out, in
    message_type = models.CharField(max_length=60)
    message_id = models.UUIDField(null=True, blank=True)
    code = models.CharField(max_length=40, blank=True)
    note = EncryptedTextField(blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.direction} {self.message_type} {self.code}".rstrip()


# --- partners as witnesses of the audit trail (witness.py) -----------------------------------

class WitnessedCheckpoint(models.Model):
    """A partner node's signed audit checkpoint, kept by this node as a witness of the
    partner's audit trail ("its chain had `entry_hash` at entry `sequence`, at `signed_at`").

    `token` is the partner's JWS, verified with its card's signing key `key_id` on receipt;
    the partner's administrator checks its own chain against these tokens. `conflict`
    describes how this checkpoint contradicts one the partner signed before (its trail
    rewritten or cut), or is empty."""

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT,
                                related_name="witnessed_checkpoints")
    sequence = models.BigIntegerField()
    entry_hash = models.CharField(max_length=64)
    signed_at = models.DateTimeField()
    key_id = models.CharField(max_length=100)
    token = models.TextField()
    received_at = models.DateTimeField()
    conflict = models.TextField(blank=True)

    class Meta:
        ordering = ["-signed_at", "-id"]
        indexes = [models.Index(fields=["partner", "sequence"], name="trm_witnessed_sequence")]

    def __str__(self) -> str:
        return f"{self.partner_id} checkpoint at #{self.sequence} ({self.signed_at:%Y-%m-%d %H:%M})"
