"""The criminal-justice side of the NRM: the crime, not the victim.

A `CriminalCase` is held by the police or prosecution agency in charge of it (and by the
agencies it is shared with, see `access`). Its persons (`SuspectedPerson`) are recorded like
victims: identity encrypted, with a blind index of name and birth date so that a suspect who
also has a victim's case is found (non-punishment, CETS 197 art. 26), and sex, age and
citizenship in clear for the statistics. A victim is linked through `VictimLink`, which
keeps a `protection.CriminalProceeding` in the victim's case: the victim's caseworker sees
that proceedings exist and their stage there, never this file.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from opennrm.accounts.models import Agency
from opennrm.cases.models import Case
from opennrm.core import codelists
from opennrm.core.fields import EncryptedTextField


class CriminalCase(models.Model):
    """One criminal case (investigation file) about trafficking or a related offence."""

    agency_in_charge = models.ForeignKey(Agency, on_delete=models.PROTECT,
                                         related_name="criminal_cases")
    # The national file number at the police or prosecutor's office.
    national_reference = EncryptedTextField()
    legal_qualification = models.CharField(
        max_length=40, choices=codelists.choices("offence_qualifications"))
    exploitation_form = models.CharField(
        max_length=40, blank=True, choices=codelists.choices("exploitation_forms"))
    offence_from = models.DateField(null=True, blank=True)
    offence_to = models.DateField(null=True, blank=True)
    opened_on = models.DateField(help_text="The day the investigation was opened")
    stage = models.CharField(max_length=40, choices=codelists.choices("criminal_case_stages"))
    stage_reached_on = models.DateField()
    closure_reason = models.CharField(
        max_length=40, blank=True, choices=codelists.choices("no_prosecution_reasons"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-opened_on", "-id"]

    def __str__(self) -> str:
        return f"criminal case {self.pk} ({self.legal_qualification})"

    @property
    def audit_ref(self) -> str:
        """How the audit trail names the case (never by its national reference)."""
        return f"criminal-case-{self.pk}"

    @property
    def iccs(self) -> str:
        return codelists.entries("offence_qualifications").get(
            self.legal_qualification, {}).get("iccs", "")


class CriminalCaseStage(models.Model):
    """Each stage the criminal case reached, the first one included."""

    criminal_case = models.ForeignKey(CriminalCase, on_delete=models.CASCADE,
                                      related_name="stages")
    stage = models.CharField(max_length=40, choices=codelists.choices("criminal_case_stages"))
    reached_on = models.DateField()
    closure_reason = models.CharField(max_length=40, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["reached_on", "id"]

    def __str__(self) -> str:
        return f"{self.stage} on {self.reached_on}"


class CriminalCaseShare(models.Model):
    """Another police or prosecution agency working on the case (the prosecutor's office the
    police handed it to, a unit of a joint investigation): it sees and records as the agency
    in charge does, but cannot share further."""

    criminal_case = models.ForeignKey(CriminalCase, on_delete=models.CASCADE,
                                      related_name="shares")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    shared_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                  related_name="+")
    shared_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["criminal_case", "agency"],
                                               name="criminal_case_shared_once")]

    def __str__(self) -> str:
        return f"criminal case {self.criminal_case_id} shared with {self.agency_id}"


class SuspectedPerson(models.Model):
    """A person suspected, then perhaps prosecuted and convicted, in a criminal case."""

    criminal_case = models.ForeignKey(CriminalCase, on_delete=models.CASCADE,
                                      related_name="persons")
    given_name = EncryptedTextField(blank=True)
    family_name = EncryptedTextField(blank=True)
    birth_date = EncryptedTextField(blank=True, help_text="ISO date, encrypted")
    # The same keyed blind index as `cases.Person.name_index`: finds a suspect who also has
    # a victim's case without decrypting anyone.
    name_index = models.CharField(max_length=64, db_index=True, blank=True)
    gender = models.CharField(max_length=30, choices=codelists.choices("genders"))
    # Age when first suspected, in clear for the statistics (None: not known).
    age = models.PositiveSmallIntegerField(null=True, blank=True)
    citizenships = models.JSONField(default=list, blank=True)
    role = models.CharField(max_length=30, choices=codelists.choices("perpetrator_roles"))
    suspected_on = models.DateField()
    prosecuted_on = models.DateField(null=True, blank=True,
                                     help_text="The day the person was indicted")
    outcome = models.CharField(max_length=30, blank=True,
                               choices=codelists.choices("prosecution_outcomes"))
    outcome_on = models.DateField(null=True, blank=True)
    sentence_type = models.CharField(max_length=30, blank=True,
                                     choices=codelists.choices("sentence_types"))
    sentence_months = models.PositiveSmallIntegerField(null=True, blank=True)
    # Assets confiscated, in euro (None: none recorded).
    assets_confiscated_eur = models.DecimalField(max_digits=14, decimal_places=2, null=True,
                                                 blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["suspected_on", "id"]

    def __str__(self) -> str:
        return f"person {self.pk} in criminal case {self.criminal_case_id}"


class VictimLink(models.Model):
    """A victim of the criminal case: the victim's case (of whichever agency) and the
    `CriminalProceeding` this link keeps in it."""

    criminal_case = models.ForeignKey(CriminalCase, on_delete=models.CASCADE,
                                      related_name="victim_links")
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="+")
    proceeding = models.OneToOneField("protection.CriminalProceeding",
                                      on_delete=models.PROTECT, related_name="victim_link")
    linked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                  related_name="+")
    linked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["criminal_case", "case"],
                                               name="victim_linked_once")]

    def __str__(self) -> str:
        return f"victim case {self.case_id} in criminal case {self.criminal_case_id}"


class CooperationRequest(models.Model):
    """An international cooperation request, tracked here; the request itself travels on
    the police and judicial channels."""

    class Direction(models.TextChoices):
        SENT = "sent", "Sent"
        RECEIVED = "received", "Received"

    criminal_case = models.ForeignKey(CriminalCase, on_delete=models.CASCADE,
                                      related_name="cooperation_requests")
    kind = models.CharField(max_length=30,
                            choices=codelists.choices("cooperation_request_types"))
    direction = models.CharField(max_length=10, choices=Direction.choices)
    partner_country = models.CharField(max_length=2, help_text="ISO 3166-1 alpha-2")
    requested_on = models.DateField()
    state = models.CharField(max_length=30,
                             choices=codelists.choices("cooperation_request_states"))
    answered_on = models.DateField(null=True, blank=True)
    note = EncryptedTextField(blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-requested_on", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.direction} {self.partner_country}"


class NonPunishmentAlert(models.Model):
    """A suspect found to have a victim's case: alerted once per pair (CETS 197 art. 26)."""

    suspect = models.ForeignKey(SuspectedPerson, on_delete=models.CASCADE,
                                related_name="non_punishment_alerts")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="+")
    alerted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["suspect", "case"],
                                               name="non_punishment_alerted_once")]

    def __str__(self) -> str:
        return f"non-punishment alert {self.suspect_id}/{self.case_id}"
