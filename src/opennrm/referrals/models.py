"""Referrals of a case to a service of another agency, and the assistance delivered.

A referral rests on the person's consent: the recipient sees the fields the referring
caseworker chose to share, and only while the referral is open and that consent is in force.
Every change of state is kept in `ReferralEvent`, so the history of a referral is complete.

A referral to a service outside OpenNRM (`external`: no agency of this node receives it) is
recorded by the referring caseworker, who contacts the provider with the referral letter and
records what became of it (`outcome`); it goes through the same states.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from opennrm.accounts.models import Agency
from opennrm.cases.models import Case, Consent
from opennrm.core import codelists
from opennrm.core.fields import EncryptedTextField
from opennrm.services.models import Service


class ReferralState(models.TextChoices):
    SENT = "sent", _("Waiting for an answer")
    ACCEPTED = "accepted", _("Accepted, in progress")
    DECLINED = "declined", _("Declined by the receiving agency")
    CANCELLED = "cancelled", _("Cancelled by the referring agency")
    WITHDRAWN = "withdrawn", _("Withdrawn by the receiving agency")
    COMPLETED = "completed", _("Completed: assistance delivered")
    STOPPED = "stopped", _("Stopped: consent withdrawn")


# The states in which the recipient works on the referral (and may see what it shares).
OPEN_STATES = (ReferralState.SENT, ReferralState.ACCEPTED)
# The code list of what became of a referral outside OpenNRM.
EXTERNAL_OUTCOMES = "external_referral_outcomes"


class Referral(models.Model):
    """One case referred to one service; the recipient is the service provider's agency."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="referrals")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="referrals")
    referring_agency = models.ForeignKey(Agency, on_delete=models.PROTECT,
                                         related_name="referrals_sent")
    # Empty for a referral to a service outside OpenNRM (`external`).
    recipient_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, null=True,
                                         blank=True, related_name="referrals_received")
    # To a service outside OpenNRM: recorded here, the provider is contacted by the referring
    # caseworker, who records the outcome.
    external = models.BooleanField(default=False)
    referred_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+")
    # The consent the referral rests on; empty when a supervisor overrode a missing consent.
    consent = models.ForeignKey(Consent, on_delete=models.PROTECT, null=True, blank=True,
                                related_name="referrals")
    consent_override_reason = EncryptedTextField(blank=True)
    # Codes of `services.SHARED_FIELDS`: what the recipient may see (need to know).
    shared_fields = models.JSONField(default=list, blank=True)
    # What the person needs from the service, in the caseworker's words.
    needs = EncryptedTextField(blank=True)
    state = models.CharField(max_length=20, choices=ReferralState.choices,
                             default=ReferralState.SENT)
    sent_at = models.DateTimeField(default=timezone.now)
    respond_by = models.DateField(help_text="Sent date + the service's agreed answer time; "
                                            "outside OpenNRM, the day to follow it up")
    answered_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    # Outside OpenNRM: what the referring caseworker learnt became of it, a code of
    # `external_referral_outcomes` (empty until recorded, and for referrals in OpenNRM).
    outcome = models.CharField(max_length=40, blank=True)

    class Meta:
        ordering = ["-sent_at", "-id"]
        indexes = [
            # The statistics read the referrals sent in a period.
            models.Index(fields=["sent_at"], name="referral_sent_at"),
            # The recipient's inbox: awaiting an answer / in progress, nearest deadline first.
            models.Index(fields=["recipient_agency", "state", "respond_by", "id"],
                         name="referral_inbox"),
            # Everything the agency received (the API without a state), by deadline.
            models.Index(fields=["recipient_agency", "respond_by", "id"],
                         name="referral_received"),
            # The referring agency's list in one state, the newest first.
            models.Index(fields=["referring_agency", "state", "-sent_at", "-id"],
                         name="referral_outbox"),
            # Everything the agency sent (the inbox's third table), the newest first.
            models.Index(fields=["referring_agency", "-sent_at", "-id"],
                         name="referral_sent"),
            # The referrals outside OpenNRM still to be followed up, by date (a reminder rule).
            models.Index(fields=["respond_by"], name="referral_follow_up",
                         condition=models.Q(external=True, state="sent")),
            # The statistics read the assistance delivered outside OpenNRM in a period.
            models.Index(fields=["ended_at"], name="referral_delivered_outside",
                         condition=models.Q(external=True, state="completed")),
        ]
        constraints = [
            # Received by an agency of this node, or outside OpenNRM: never both, never none.
            models.CheckConstraint(
                condition=(models.Q(external=False, recipient_agency__isnull=False)
                           | models.Q(external=True, recipient_agency__isnull=True)),
                name="referral_recipient_or_external"),
        ]

    def __str__(self) -> str:
        return f"referral {self.pk} ({self.state})"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def recipient_name(self) -> str:
        """Who receives it: the receiving agency, or the provider outside OpenNRM."""
        if self.external:
            return self.service.provider.name
        return self.recipient_agency.name

    @property
    def status_label(self) -> str:
        """The state, or outside OpenNRM the outcome the caseworker recorded."""
        if self.outcome:
            return codelists.label(EXTERNAL_OUTCOMES, self.outcome)
        return self.get_state_display()


class ReferralEvent(models.Model):
    """One change of a referral's state: from, to, who, when and why."""

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="events")
    from_state = models.CharField(max_length=20, choices=ReferralState.choices, blank=True)
    to_state = models.CharField(max_length=20, choices=ReferralState.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                              null=True, blank=True, related_name="+")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, null=True, blank=True,
                               related_name="+")
    at = models.DateTimeField(default=timezone.now)
    # A reason may describe the person ("she left the shelter after …"): encrypted.
    reason = EncryptedTextField(blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"referral {self.referral_id}: {self.from_state or '-'} → {self.to_state}"


class Assistance(models.Model):
    """Assistance the receiving agency delivered under a referral: what, when, by whom."""

    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="assistance")
    service_type = models.CharField(max_length=40, choices=codelists.choices("service_types"))
    description = EncryptedTextField()
    delivered_on = models.DateField()
    delivered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     related_name="+")
    delivering_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["delivered_on"], name="assistance_delivered_on")]
        ordering = ["-delivered_on", "-id"]
        verbose_name_plural = "assistance"

    def __str__(self) -> str:
        return f"assistance {self.pk} under referral {self.referral_id}"
