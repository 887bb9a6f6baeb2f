from django.db import models
from django.utils.translation import pgettext_lazy


class Action(models.TextChoices):
    # The context "audit action" keeps these short words apart from buttons and
    # headings with the same English text: they name what someone did to a record.
    CREATE = "create", pgettext_lazy("audit action", "Create")
    # Translators: someone opened (read) a record; shown in the audit trail.
    READ = "read", pgettext_lazy("audit action", "Read")
    # Translators: someone displayed the hidden identity of a person; shown in the audit trail.
    REVEAL = "reveal", pgettext_lazy("audit action", "Reveal identity")
    UPDATE = "update", pgettext_lazy("audit action", "Update")
    EXPORT = "export", pgettext_lazy("audit action", "Export")
    SEARCH = "search", pgettext_lazy("audit action", "Search")
    LOGIN = "login", pgettext_lazy("audit action", "Log in")
    LOGIN_FAILED = "login_failed", pgettext_lazy("audit action", "Failed log in")
    KEY_ROTATION = "key_rotation", pgettext_lazy("audit action", "Key rotation")


class AuditEntry(models.Model):
    """One append-only entry of the hash-chained audit trail.

    `entry_hash` = HMAC-SHA-256, with the key ring's audit key, over the previous entry's
    hash and this entry's content, so an edited, inserted or deleted row breaks the chain
    (see `audit.services.verify_chain`), and no one without the key ring can recompute it.
    The database refuses UPDATE and DELETE of entries (triggers, `audit.guard`).
    """

    sequence = models.BigIntegerField(unique=True)
    at = models.DateTimeField()
    actor_id = models.BigIntegerField(null=True)
    actor_username = models.CharField(max_length=150)
    agency_id = models.BigIntegerField(null=True)
    action = models.CharField(max_length=20, choices=Action.choices)
    object_type = models.CharField(max_length=40)
    object_ref = models.CharField(max_length=64, blank=True, db_index=True)
    fields = models.JSONField(default=list)
    reason = models.TextField(blank=True)
    channel = models.CharField(max_length=10, blank=True, help_text="web, api, cli")
    previous_hash = models.CharField(max_length=64)
    entry_hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["sequence"]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"#{self.sequence} {self.action} {self.object_type} {self.object_ref}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise RuntimeError("audit entries are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise RuntimeError("audit entries are append-only")


class AuditHead(models.Model):
    """The single row that holds the end of the chain.

    Appending locks it (SELECT … FOR UPDATE), which orders concurrent writers, and it lets
    verification notice entries removed from the end of the chain.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_sequence = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="0" * 64)

    def __str__(self) -> str:
        return f"audit head at #{self.last_sequence}"


class AuditCheckpoint(models.Model):
    """A signed statement "the chain had `entry_hash` at entry `sequence`, at `signed_at`".

    `token` is a JWS (compact, Ed25519) by the node's signing key `key_id`; the columns
    repeat its payload for reading. Verification trusts only the token: a row edited or
    forged in the database fails its signature. Copies written elsewhere (a file, a log
    shipper, a partner node) survive a database administrator deleting these rows.
    """

    sequence = models.BigIntegerField()
    entry_hash = models.CharField(max_length=64)
    signed_at = models.DateTimeField()
    key_id = models.CharField(max_length=40)
    token = models.TextField()

    class Meta:
        ordering = ["sequence", "id"]

    def __str__(self) -> str:
        return f"audit checkpoint at #{self.sequence} ({self.signed_at:%Y-%m-%d %H:%M})"
