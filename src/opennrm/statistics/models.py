"""Published statistical releases and the privacy budget they spend.

A release is immutable once saved: it keeps the tables as published, the parameters of
disclosure control, and the de-identified input it was computed from (a Parquet snapshot
of the statistical frames, no identity field), so that it can be recomputed and checked
later even after the cases behind it were corrected.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone


class Release(models.Model):
    table_set = models.CharField(max_length=20)
    period_start = models.DateField()
    period_end = models.DateField()
    title = models.CharField(max_length=200)
    published_at = models.DateTimeField(default=timezone.now)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     related_name="+")
    # Disclosure control: {"threshold": 5, "rounding": 0, "epsilon": 0.5, ...}
    controls = models.JSONField(default=dict)
    # The tables as published (`TableSetResult.to_dict()`), suppressed cells as null.
    result = models.JSONField()
    # What it was computed from: engine and definition versions, frame row counts.
    inputs = models.JSONField(default=dict)
    # SHA-256 of the input snapshot, and the snapshot itself (Parquet files in a zip).
    input_digest = models.CharField(max_length=64)
    input_snapshot = models.BinaryField()
    # The tables before noise and rounding, to check a recomputation against (never shown).
    exact_digest = models.CharField(max_length=64)
    epsilon_spent = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["-published_at", "-id"]

    def __str__(self) -> str:
        return f"release {self.pk} {self.table_set} {self.period_start}–{self.period_end}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise RuntimeError("a published release cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise RuntimeError("a published release cannot be deleted")


class PrivacyBudgetSpend(models.Model):
    """One spending of differential-privacy budget (ε) on a dataset and period."""

    dataset = models.CharField(max_length=40, help_text="table set or extract")
    period_start = models.DateField()
    period_end = models.DateField()
    epsilon = models.FloatField()
    release = models.ForeignKey(Release, on_delete=models.PROTECT, null=True, blank=True,
                                related_name="budget_spends")
    purpose = models.CharField(max_length=200, blank=True)
    spent_at = models.DateTimeField(default=timezone.now)
    spent_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                 related_name="+")

    class Meta:
        ordering = ["spent_at", "id"]
        indexes = [models.Index(fields=["dataset", "period_start", "period_end"],
                                name="budget_dataset_period")]

    def __str__(self) -> str:
        return f"ε {self.epsilon} on {self.dataset} {self.period_start}–{self.period_end}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise RuntimeError("the privacy budget ledger is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise RuntimeError("the privacy budget ledger is append-only")


class DisclosurePolicy(models.Model):
    """The node's disclosure rules: the floor under every table, export and extract.

    One row (pk 1), owned by the national coordinator and the administrator. Analysts may
    ask for stricter values (a higher threshold, a coarser rounding, a larger k), never
    for laxer ones. Without a row, the settings' defaults apply
    (`statistics.policy.current_policy`). Each change is recorded in the audit trail.
    """

    threshold = models.PositiveSmallIntegerField(
        help_text="Smallest count published: counts from 1 to one less are suppressed.")
    rounding = models.PositiveSmallIntegerField(
        default=0, help_text="Smallest rounding base of published counts (0: none).")
    minimum_k = models.PositiveSmallIntegerField(
        help_text="Smallest k of the k-anonymous research extract.")
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+", null=True, blank=True)

    def __str__(self) -> str:
        return (f"disclosure policy: threshold {self.threshold}, rounding {self.rounding}, "
                f"k {self.minimum_k}")
