"""The node's own linkage job: its policy, its runs, and the pairs of persons it proposes.

Inside a node the controller may see identifiers, so the job decrypts identities in memory,
scores every pair of persons with the register model (`register.dedupe`) and keeps only
what a reviewer needs: which two persons, how likely they are one, and which comparison
levels decided it (never the values compared). A clear pair is linked automatically only
from a probability the national coordinator chose; the grey zone waits for a person. Every
link is an ordinary same-person link (`cases.same_person`), so it is reversible and audited
like one a caseworker made.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from opennrm.cases.models import Person, SamePersonLink
from opennrm.core.fields import EncryptedTextField


class LinkagePolicy(models.Model):
    """The national coordinator's choices for the job (one row, `current()`).

    Nothing is linked automatically until the coordinator sets `automatic_link_from`: a
    wrong link merges two victims in the statistics, and how many false joins the node
    accepts is a decision, not a default. `review_from` is where the grey zone starts; the
    model writes no pair below 0.5, so it cannot be lower."""

    automatic_link_from = models.FloatField(
        null=True, blank=True,
        help_text="Match probability from which a pair is linked automatically; "
                  "empty: never")
    review_from = models.FloatField(
        default=0.8, help_text="Match probability from which a pair is sent to review")
    nightly = models.BooleanField(default=False,
                                  help_text="Run the job every night at 02:00")
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   null=True, blank=True, related_name="+")
    changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "linkage policies"

    def __str__(self) -> str:
        return "linkage policy"

    @classmethod
    def current(cls) -> "LinkagePolicy":
        policy, _created = cls.objects.get_or_create(pk=1)
        return policy


class Trigger(models.TextChoices):
    NIGHTLY = "nightly", _("Nightly")
    ON_DEMAND = "on_demand", _("On demand")


class RunStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    FINISHED = "finished", _("Finished")
    FAILED = "failed", _("Failed")


class LinkageRun(models.Model):
    """One pass of the job over the register, kept so the coordinator can see what it did
    and with which model and thresholds: a link made automatically must be explainable
    long after the policy changed."""

    trigger = models.CharField(max_length=20, choices=Trigger.choices)
    status = models.CharField(max_length=20, choices=RunStatus.choices,
                              default=RunStatus.RUNNING)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   null=True, blank=True, related_name="+")
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    persons_compared = models.PositiveIntegerField(default=0)
    # Persons the model could not read at all (no name): left out, counted, never dropped
    # silently.
    unreadable = models.PositiveIntegerField(default=0)
    pairs_scored = models.PositiveIntegerField(default=0)
    linked_automatically = models.PositiveIntegerField(default=0)
    sent_to_review = models.PositiveIntegerField(default=0)
    model_version = models.PositiveIntegerField(null=True, blank=True)
    review_from = models.FloatField()
    automatic_link_from = models.FloatField(null=True, blank=True)
    failure_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"linkage run {self.pk} ({self.status})"


class Origin(models.TextChoices):
    RUN = "run", _("Linkage run")
    REGISTRATION = "registration", _("Registration")


class PairState(models.TextChoices):
    PENDING = "pending", _("Waiting for review")
    DEFERRED = "deferred", _("Deferred")
    CONFIRMED = "confirmed", _("Confirmed: the same person")
    REJECTED = "rejected", _("Rejected: different persons")
    LINKED_AUTOMATICALLY = "linked_automatically", _("Linked automatically")
    # Never stored: a confirmed or automatic pair whose link was removed later
    # (`CandidatePair.current_state`). `remove_same_person_link` updates links in bulk,
    # without signals, so the state is read from the link itself.
    SPLIT = "split", _("Split: the link was removed")


UNDECIDED = (PairState.PENDING, PairState.DEFERRED)
# Decided as one person, by a reviewer or by the run: the pair's link may be split.
LINKED = (PairState.CONFIRMED, PairState.LINKED_AUTOMATICALLY)


class CandidatePair(models.Model):
    """Two persons the model scored as possibly one, and what became of them.

    One row per pair of persons (`person_id` < `other_person_id`), whichever run or
    registration found it, so a decision holds: a rejected pair, or one whose link was
    removed, is never proposed or linked again. `comparisons` keeps the level and weight of
    each comparison ({comparison, level, match_weight}), the reasons a reviewer reads;
    never the values compared."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    other_person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    origin = models.CharField(max_length=20, choices=Origin.choices)
    run = models.ForeignKey(LinkageRun, on_delete=models.SET_NULL, null=True, blank=True,
                            related_name="pairs")
    match_probability = models.FloatField()
    match_weight = models.FloatField()
    comparisons = models.JSONField(default=list)
    state = models.CharField(max_length=30, choices=PairState.choices,
                             default=PairState.PENDING)
    found_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   null=True, blank=True, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    # Why the reviewer decided so; it may describe the person, so it is encrypted.
    decision_note = EncryptedTextField(blank=True)
    link = models.ForeignKey(SamePersonLink, on_delete=models.PROTECT, null=True, blank=True,
                             related_name="+")

    class Meta:
        ordering = ["-match_probability", "id"]
        constraints = [
            models.UniqueConstraint(fields=["person", "other_person"],
                                    name="candidate_pair_once"),
            models.CheckConstraint(condition=models.Q(person__lt=models.F("other_person")),
                                   name="candidate_pair_ordered"),
        ]

    def __str__(self) -> str:
        return f"candidate pair {self.pk}: persons {self.person_id} and {self.other_person_id}"

    @property
    def current_state(self) -> str:
        """The state, or "split" once the link made from this pair was removed."""
        if self.link_id is not None and self.link.removed_at is not None:
            return PairState.SPLIT
        return self.state

    def get_current_state_display(self) -> str:
        return PairState(self.current_state).label

