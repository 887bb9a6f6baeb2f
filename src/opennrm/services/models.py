"""The service directory: providers and the services they offer (Open Referral HSDS shape).

A provider is an HSDS *organization*; a service is an HSDS *service* with its location,
eligibility (sex, age, languages) and capacity. A provider that takes part in the NRM as an
agency of this node receives referrals in OpenNRM (`agency`); others are contacted outside
it (e-mail, phone) and the referral is recorded here all the same.
"""

import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from opennrm.accounts.models import Agency
from opennrm.core import codelists


class Provider(models.Model):
    """An organisation that offers services: a shelter, a clinic, a legal-aid office, …"""

    hsds_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False,
                               help_text="The HSDS organization id, kept across exports")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    organisation_type = models.CharField(max_length=40,
                                         choices=codelists.choices("agency_types"))
    agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, null=True, blank=True, related_name="providers",
        help_text="The agency of this node that receives referrals for this provider",
    )
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=50, blank=True)
    website = models.URLField(blank=True)
    country = models.CharField(max_length=2, help_text="ISO 3166-1 alpha-2")
    is_active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class ContactChannel(models.TextChoices):
    IN_SYSTEM = "in_system", _("Referral in OpenNRM")
    EMAIL = "email", _("E-mail")
    PHONE = "phone", _("Telephone")


class Service(models.Model):
    """One service a provider offers, where, for whom and how many at once."""

    hsds_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False,
                               help_text="The HSDS service id, kept across exports")
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="services")
    name = models.CharField(max_length=200)
    service_type = models.CharField(max_length=40, choices=codelists.choices("service_types"))
    description = models.TextField(blank=True)
    # Where: the HSDS location, reduced to what a caseworker chooses by.
    address = models.CharField(max_length=300, blank=True)
    city = models.CharField(max_length=100, blank=True)
    region = models.CharField(max_length=100, blank=True)
    country = models.CharField(max_length=2, help_text="ISO 3166-1 alpha-2")
    # For whom (HSDS eligibility and languages); empty lists mean "everyone".
    genders = models.JSONField(default=list, blank=True, help_text="Codes of `genders`")
    min_age = models.PositiveSmallIntegerField(null=True, blank=True)
    max_age = models.PositiveSmallIntegerField(null=True, blank=True)
    languages = models.JSONField(default=list, blank=True, help_text="ISO 639 codes")
    # How many people at once (HSDS service_capacity maximum); null = not limited.
    capacity = models.PositiveIntegerField(null=True, blank=True)
    # How many places are free today, as the provider's staff last said (HSDS
    # service_capacity available/updated); null = not reported.
    places_available = models.PositiveIntegerField(null=True, blank=True)
    capacity_updated_at = models.DateTimeField(null=True, blank=True)
    contact_channel = models.CharField(max_length=20, choices=ContactChannel.choices,
                                       default=ContactChannel.IN_SYSTEM)
    # The time the provider agreed to answer a referral in.
    response_days = models.PositiveSmallIntegerField(default=5)
    is_active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["service_type", "is_active"],
                                name="service_type_active")]

    def __str__(self) -> str:
        return f"{self.name} ({self.provider})"


class HsdsRecord(models.Model):
    """A row of an imported HSDS 3.0 table, kept as it was read so that the export gives it
    back: the fields of organisations and services we do not model, and the tables we do not
    model at all (programs, schedules, contacts, service areas, funding, other taxonomies, …).

    A row belongs to the service or the provider it describes (a schedule to its service, a
    location to its organisation, …), or to the directory as a whole (taxonomies, metadata,
    rows that point at nothing in the file). On export, the provider's and service's own
    fields are written over the kept values they come from.
    """

    table = models.CharField(max_length=40, help_text="The HSDS 3.0 resource name")
    row_id = models.CharField(max_length=64, help_text="The row's HSDS id")
    values = models.JSONField(default=dict, help_text="The row as read: column → text")
    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, null=True, blank=True,
                                 related_name="hsds_records")
    service = models.ForeignKey(Service, on_delete=models.CASCADE, null=True, blank=True,
                                related_name="hsds_records")

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["table", "row_id"],
                                               name="hsds_record_table_row")]

    def __str__(self) -> str:
        return f"{self.table} {self.row_id}"
