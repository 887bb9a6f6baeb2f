"""The protection timeline of a case (CETS 197 art. 13–16, 26) and the person's support plan.

Every step keeps who decided it (an agency on the platform and/or the name of an authority
that is not) and when, and who recorded it. Steps are never overwritten: an extension, a
renewal or a new stage is a new row or a linked record, so the timeline shows them all.
Free text that may describe the person is encrypted at rest.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from opennrm.accounts.models import Agency
from opennrm.cases.models import Case
from opennrm.core.fields import EncryptedTextField


class DecidedBy:
    """The `decided_by` text of a record with `deciding_agency` and `deciding_authority`."""

    @property
    def decided_by(self) -> str:
        """The deciding authority as people read it: the agency, the named authority, both."""
        names = [self.deciding_agency.name if self.deciding_agency_id else "",
                 self.deciding_authority]
        return " · ".join(name for name in names if name)


class DecidedStep(DecidedBy, models.Model):
    """Who decided a step and when, who recorded it and when."""

    deciding_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, null=True,
                                        blank=True, related_name="+")
    # An authority that has no account on the platform (a court, a migration office).
    deciding_authority = models.CharField(max_length=200, blank=True)
    decided_on = models.DateField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True


class ReflectionPeriod(DecidedStep):
    """The recovery and reflection period (CETS 197 art. 13): no removal while it runs."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="reflection_periods")
    starts_on = models.DateField()
    # Always the current end, extensions included; the end first granted stays below.
    ends_on = models.DateField()
    original_ends_on = models.DateField()
    # The latest extension (each one is also kept as a ReflectionPeriodExtension).
    extended_on = models.DateField(null=True, blank=True)
    extension_reason = models.CharField(max_length=40, blank=True,
                                        help_text="code from reflection_extension_reasons")

    class Meta:
        ordering = ["-starts_on", "-id"]

    def __str__(self) -> str:
        return f"{self.case.case_number} reflection {self.starts_on}–{self.ends_on}"

    def days_left(self, today) -> int | None:
        """Days until the period ends, counting today; None before it starts or after it ends."""
        if not self.starts_on <= today <= self.ends_on:
            return None
        return (self.ends_on - today).days + 1


class ReflectionPeriodExtension(DecidedStep):
    period = models.ForeignKey(ReflectionPeriod, on_delete=models.CASCADE,
                               related_name="extensions")
    previous_ends_on = models.DateField()
    new_ends_on = models.DateField()
    reason = models.CharField(max_length=40, help_text="code from reflection_extension_reasons")

    class Meta:
        ordering = ["decided_on", "id"]

    def __str__(self) -> str:
        return f"extension to {self.new_ends_on}"


class PermitStatus(models.TextChoices):
    APPLIED = "applied", _("Applied for")
    GRANTED = "granted", _("Granted")
    REFUSED = "refused", _("Refused")
    # Superseded by its renewal: the renewal is a new permit linked to this one.
    RENEWED = "renewed", _("Renewed")
    EXPIRED = "expired", _("Expired")


class ResidencePermit(DecidedBy, models.Model):
    """A residence permit (CETS 197 art. 14), from the application to its decision.

    The decision fields stay empty while the application is pending.
    """

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="residence_permits")
    permit_type = models.CharField(max_length=40, help_text="code from permit_types")
    status = models.CharField(max_length=10, choices=PermitStatus.choices,
                              default=PermitStatus.APPLIED)
    applied_on = models.DateField()
    decided_on = models.DateField(null=True, blank=True)
    deciding_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, null=True,
                                        blank=True, related_name="+")
    deciding_authority = models.CharField(max_length=200, blank=True)
    expires_on = models.DateField(null=True, blank=True)
    renews = models.OneToOneField("self", on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="renewal")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)
    decision_recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                             null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["-applied_on", "-id"]

    def __str__(self) -> str:
        return f"{self.case.case_number} permit {self.permit_type} {self.status}"



class CriminalProceeding(DecidedBy, models.Model):
    """Criminal proceedings in which the person takes part, led by `deciding_agency` or the
    named authority (a prosecutor's office, a court)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="proceedings")
    opened_on = models.DateField()
    # The file number at the prosecutor's office or court: identifies the person's case.
    case_reference = EncryptedTextField(blank=True)
    stage = models.CharField(max_length=40, help_text="code from proceeding_stages")
    role = models.CharField(max_length=40, help_text="code from proceeding_roles")
    protection_measures = EncryptedTextField(blank=True)
    # CETS 197 art. 26: not punished for offences the person was compelled to commit.
    non_punishment_considered = models.BooleanField(default=False)
    non_punishment_note = EncryptedTextField(blank=True)
    deciding_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, null=True,
                                        blank=True, related_name="+")
    deciding_authority = models.CharField(max_length=200, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)
    # Kept by a criminal case of the police or prosecution (`justice.VictimLink`): its stage
    # follows that case, and the victim's caseworker cannot change it.
    kept_by_criminal_case = models.BooleanField(default=False)

    class Meta:
        ordering = ["-opened_on", "-id"]

    def __str__(self) -> str:
        return f"{self.case.case_number} proceeding {self.stage}"


class ProceedingStageChange(DecidedStep):
    """Each stage the proceedings reached, the first one included."""

    proceeding = models.ForeignKey(CriminalProceeding, on_delete=models.CASCADE,
                                   related_name="stage_changes")
    stage = models.CharField(max_length=40)

    class Meta:
        ordering = ["decided_on", "id"]

    def __str__(self) -> str:
        return f"stage {self.stage} on {self.decided_on}"


class CompensationOutcome(models.TextChoices):
    PENDING = "pending", _("Pending")
    AWARDED = "awarded", _("Awarded")
    REFUSED = "refused", _("Refused")
    PAID = "paid", _("Paid")


class CompensationClaim(DecidedBy, models.Model):
    """A claim for compensation (CETS 197 art. 15) and its outcome."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="compensation_claims")
    source = models.CharField(max_length=40, help_text="code from compensation_sources")
    filed_on = models.DateField()
    amount_claimed = models.DecimalField(max_digits=14, decimal_places=2, null=True,
                                         blank=True)
    currency = models.CharField(max_length=3, help_text="ISO 4217")
    outcome = models.CharField(max_length=10, choices=CompensationOutcome.choices,
                               default=CompensationOutcome.PENDING)
    amount_awarded = models.DecimalField(max_digits=14, decimal_places=2, null=True,
                                         blank=True)
    decided_on = models.DateField(null=True, blank=True)
    paid_on = models.DateField(null=True, blank=True)
    deciding_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, null=True,
                                        blank=True, related_name="+")
    deciding_authority = models.CharField(max_length=200, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)
    outcome_recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                            null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["-filed_on", "-id"]

    def __str__(self) -> str:
        return f"{self.case.case_number} claim {self.source} {self.outcome}"



class RiskLevel(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")


class ReturnPlan(DecidedStep):
    """A return to the country of origin or residence (CETS 197 art. 16), decided on
    `decided_on`. A child's return needs a documented risk
    assessment that does not find a high risk; an adult's return without one needs a reason.
    """

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="return_plans")
    destination_country = models.CharField(max_length=2, help_text="ISO 3166-1 alpha-2")
    voluntary = models.BooleanField()
    risk_assessed_on = models.DateField(null=True, blank=True)
    risk_assessed_by = models.CharField(max_length=200, blank=True,
                                        help_text="agency or person that assessed the risk")
    risk_level = models.CharField(max_length=10, choices=RiskLevel.choices, blank=True)
    risk_summary = EncryptedTextField(blank=True)
    no_assessment_reason = EncryptedTextField(blank=True)
    planned_return_on = models.DateField(null=True, blank=True)
    returned_on = models.DateField(null=True, blank=True)
    return_recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                           null=True, blank=True, related_name="+")
    reintegration_follow_up = EncryptedTextField(blank=True)
    follow_up_on = models.DateField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["returned_on"], name="return_returned_on")]
        ordering = ["-decided_on", "-id"]

    def __str__(self) -> str:
        return f"{self.case.case_number} return to {self.destination_country}"

    @property
    def has_risk_assessment(self) -> bool:
        return self.risk_assessed_on is not None


class SupportPlanStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    CLOSED = "closed", _("Closed")


class SupportPlan(models.Model):
    """The person's individual support plan with this agency: one per case."""

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="support_plan")
    objectives = EncryptedTextField()
    responsible_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, choices=SupportPlanStatus.choices,
                              default=SupportPlanStatus.ACTIVE)
    next_review_on = models.DateField(null=True, blank=True)
    agreed_on = models.DateField()
    closed_on = models.DateField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.case.case_number} support plan"

    @property
    def is_active(self) -> bool:
        return self.status == SupportPlanStatus.ACTIVE


class SupportAction(models.Model):
    plan = models.ForeignKey(SupportPlan, on_delete=models.CASCADE, related_name="actions")
    description = EncryptedTextField()
    responsible_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    due_on = models.DateField(null=True, blank=True)
    done_on = models.DateField(null=True, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["done_on", "due_on", "id"]

    def __str__(self) -> str:
        return f"action {self.pk} of {self.plan}"

    @property
    def is_done(self) -> bool:
        return self.done_on is not None


class SupportReview(models.Model):
    plan = models.ForeignKey(SupportPlan, on_delete=models.CASCADE, related_name="reviews")
    reviewed_on = models.DateField()
    note = EncryptedTextField(blank=True)
    next_review_on = models.DateField(null=True, blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-reviewed_on", "-id"]

    def __str__(self) -> str:
        return f"review of {self.plan} on {self.reviewed_on}"
