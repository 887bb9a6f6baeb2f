"""What this node sent to its partners as regional statistics, what it received from them,
and the schedules it sends on.

A release sent or received is kept as the exact payload that travelled (disclosure-controlled
aggregates only: no row about a person), so that the regional view and its PDF show what the
partners published, and an administrator can show what left the node. Neither is changed
after it is written.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class _Immutable(models.Model):
    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise RuntimeError(f"a {self._meta.verbose_name} cannot be changed")
        super().save(*args, **kwargs)


class SentRelease(_Immutable):
    """A statistics release sent to one partner: the release it froze, the payload as sent,
    and the ε it spent from that partner's budget for the period (the ledger row itself is a
    `statistics.PrivacyBudgetSpend` whose dataset names the partner)."""

    release = models.ForeignKey("nrm_statistics.Release", on_delete=models.PROTECT,
                                related_name="+")
    partner = models.ForeignKey("transnational.Partner", on_delete=models.PROTECT,
                                related_name="+")
    message_id = models.UUIDField(unique=True)
    schedule = models.ForeignKey("ReleaseSchedule", on_delete=models.SET_NULL, null=True,
                                 blank=True, related_name="sent")
    payload = models.JSONField()
    epsilon = models.FloatField(null=True, blank=True)
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                related_name="+")
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-sent_at", "-id"]

    def __str__(self) -> str:
        return f"release {self.release_id} sent to {self.partner_id}"


class ReceivedRelease(_Immutable):
    """A partner's statistics release, as received over the channel (one per message)."""

    partner = models.ForeignKey("transnational.Partner", on_delete=models.PROTECT,
                                related_name="+")
    message_id = models.UUIDField(unique=True)
    country = models.CharField(max_length=2)
    table_set = models.CharField(max_length=20)
    period_start = models.DateField()
    period_end = models.DateField()
    definitions_version = models.CharField(max_length=20)
    published_at = models.DateTimeField()
    payload = models.JSONField()
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-published_at", "-id"]
        indexes = [models.Index(fields=["table_set", "period_start", "period_end"],
                                name="regional_received_period")]

    def __str__(self) -> str:
        return f"{self.country} {self.table_set} {self.period_start}–{self.period_end}"


class Frequency(models.TextChoices):
    MONTHLY = "monthly", _("Each month")
    QUARTERLY = "quarterly", _("Each quarter")
    YEARLY = "yearly", _("Each year")


class ReleaseSchedule(models.Model):
    """Send a table set to chosen partners after each period ends (its last complete month,
    quarter or year), with these controls, in the name of the coordinator who set it up."""

    table_set = models.CharField(max_length=20)
    frequency = models.CharField(max_length=10, choices=Frequency.choices)
    partners = models.ManyToManyField("transnational.Partner", related_name="+")
    threshold = models.PositiveSmallIntegerField(null=True, blank=True)
    rounding = models.PositiveSmallIntegerField(null=True, blank=True)
    epsilon = models.FloatField(null=True, blank=True)
    # The first day after which the next period is sent: the day after its end.
    next_run_on = models.DateField()
    active = models.BooleanField(default=True)
    last_error = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["table_set", "frequency", "id"]

    def __str__(self) -> str:
        return f"{self.table_set} {self.frequency}"
