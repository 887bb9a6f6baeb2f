"""Screenings against the ILO/EC indicators, and formal identification decisions.

Both are kept as history: a new screening or decision never overwrites an earlier one.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from opennrm.accounts.models import Agency
from opennrm.cases.models import Case
from opennrm.core.fields import EncryptedJSONField, EncryptedTextField


class Outcome(models.TextChoices):
    PROBABLE = "probable", _("Probable victim — refer")
    POSSIBLE = "possible", _("Possible victim — gather more information")
    NOT_MET = "not_met", _("Indicators not met")


class Screening(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="screenings")
    # The list and its version as used: later versions of a list never change old results.
    indicator_set = models.CharField(max_length=60)
    indicator_set_version = models.CharField(max_length=20)
    screened_on = models.DateField()
    age_at_screening = models.PositiveSmallIntegerField(null=True, blank=True)
    age_uncertain = models.BooleanField(default=False)
    treated_as_child = models.BooleanField(default=False)
    observed = models.JSONField(default=list, help_text="indicator codes observed")
    # What the screener wrote beside each indicator: may describe the person, so encrypted.
    notes = EncryptedJSONField(default=dict, blank=True)
    # Why a list for the other age group was used (the person may be a child and an
    # adults' list was used, or the reverse); "" when the list fits the person. May
    # describe the person, so encrypted; recording it is audited.
    age_group_override = EncryptedTextField(blank=True, default="")
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    present_dimensions = models.JSONField(default=list)
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    screened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-screened_on", "-id"]

    def __str__(self) -> str:
        return f"{self.case.case_number} {self.indicator_set} {self.outcome}"


class Decision(models.TextChoices):
    IDENTIFIED = "identified", _("Identified as a victim of trafficking")
    NOT_IDENTIFIED = "not_identified", _("Not identified as a victim")


class IdentificationDecision(models.Model):
    """The formal (conclusive) identification decision of an authorised authority."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE,
                             related_name="identification_decisions")
    decision = models.CharField(max_length=20, choices=Decision.choices)
    decided_on = models.DateField()
    deciding_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    grounds = EncryptedTextField()
    appeal = EncryptedTextField(blank=True, help_text="appeal lodged, by whom, outcome")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["decided_on"], name="decision_decided_on")]
        ordering = ["-decided_on", "-id"]

    def __str__(self) -> str:
        return f"{self.case.case_number} {self.decision} {self.decided_on}"
