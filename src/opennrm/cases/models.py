"""The person and the case.

A person (identity) may have several cases: one per episode of identification and
assistance, each owned by one agency. Statistics count persons, not cases.
"""

import uuid_utils.compat as uuid_compat
from django.conf import settings
from django.db import models
from django.db.models.functions import Greatest, Least
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from opennrm.accounts.models import Agency
from opennrm.cases.age import AgeUncertainty
from opennrm.core import codelists
from opennrm.core.fields import EncryptedJSONField, EncryptedTextField


def new_global_id():
    """A UUIDv7: unique across nodes, ordered by time (kind to indexes)."""
    return uuid_compat.uuid7()


class Person(models.Model):
    """Who the person is. Identity and contact data are encrypted at rest."""

    global_id = models.UUIDField(default=new_global_id, unique=True, editable=False)
    given_name = EncryptedTextField(blank=True)
    family_name = EncryptedTextField(blank=True)
    aliases = EncryptedJSONField(default=list, blank=True)
    birth_date = EncryptedTextField(blank=True, help_text="ISO date, encrypted")
    identity_documents = EncryptedJSONField(default=list, blank=True)
    phone = EncryptedTextField(blank=True)
    address = EncryptedTextField(blank=True)
    # HMAC of the normalised name and birth date: exact search without decrypting.
    name_index = models.CharField(max_length=64, db_index=True, blank=True)
    # Demographics, kept in clear for statistics.
    gender = models.CharField(max_length=30, choices=codelists.choices("genders"))
    birth_year = models.PositiveSmallIntegerField(null=True, blank=True)
    # Age not established: "possibly_child" (presumed a child) or "adult" (exact age
    # unknown); "" when it is not uncertain. See `cases.age`.
    age_uncertainty = models.CharField(max_length=20, blank=True,
                                       choices=AgeUncertainty.choices)
    citizenships = models.JSONField(default=list, blank=True)
    languages = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # The person counted for statistics: the smallest id among the persons joined to this
    # one by active same-person links (see `cases.same_person`); NULL when none is linked.
    # The statistics count COALESCE(statistical_person_id, id).
    statistical_person_id = models.BigIntegerField(null=True, blank=True, db_index=True)

    def __str__(self) -> str:
        # Never the name: this string ends up in logs and error reports.
        return f"person {self.global_id}"

    @property
    def age_uncertain(self) -> bool:
        """Age not established and the person presumed a child (the former yes/no field:
        true is "possibly a child")."""
        return self.age_uncertainty == AgeUncertainty.POSSIBLY_CHILD

    @age_uncertain.setter
    def age_uncertain(self, value: bool) -> None:
        if value:
            self.age_uncertainty = AgeUncertainty.POSSIBLY_CHILD
        elif self.age_uncertainty == AgeUncertainty.POSSIBLY_CHILD:
            self.age_uncertainty = ""


class VictimStatus(models.TextChoices):
    PRESUMED = "presumed", _("Presumed victim")
    IDENTIFIED = "identified", _("Formally identified victim")
    NOT_A_VICTIM = "not_a_victim", _("Not a victim")


class CaseStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    FOLLOW_UP = "follow_up", _("Follow-up")
    CLOSED = "closed", _("Closed")
    CLOSED_REFERRED = "closed_referred", _("Closed, referred")


class Case(models.Model):
    """One episode of identification and assistance of a person, owned by one agency."""

    global_id = models.UUIDField(default=new_global_id, unique=True, editable=False)
    case_number = models.CharField(max_length=32, unique=True)
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="cases")
    owner_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="cases")
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="assigned_cases",
    )
    first_contact_on = models.DateField()
    # Where the person was first met (a region or locality) and who brought them to the
    # mechanism: codes of the lists first_contact_places and referral_sources.
    first_contact_place = models.CharField(max_length=40, blank=True)
    referral_source = models.CharField(max_length=40, blank=True)
    registered_at = models.DateTimeField(default=timezone.now)
    age_band = models.CharField(max_length=8, blank=True, help_text="Age at first contact")
    # `cases.age.statistical_age` at first contact (exact, or the youngest the birth year
    # allows); NULL when no birth date or year is recorded.
    age_at_first_contact = models.PositiveSmallIntegerField(null=True, blank=True)
    is_child = models.BooleanField(default=False)

    victim_status = models.CharField(
        max_length=20, choices=VictimStatus.choices, default=VictimStatus.PRESUMED
    )
    victim_status_decided_on = models.DateField(null=True, blank=True)
    victim_status_decided_by_agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    victim_status_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="+",
    )

    exploitation_forms = models.JSONField(default=list, blank=True)
    labour_sector = models.CharField(max_length=1, blank=True)
    recruitment_countries = models.JSONField(default=list, blank=True)
    transit_countries = models.JSONField(default=list, blank=True)
    exploitation_countries = models.JSONField(default=list, blank=True)
    exploitation_started_on = models.DateField(null=True, blank=True)
    exploitation_ended_on = models.DateField(null=True, blank=True)
    means_of_control = models.JSONField(default=list, blank=True)
    recruiter_relation = models.CharField(max_length=30, blank=True)
    notes = EncryptedTextField(blank=True)

    status = models.CharField(max_length=20, choices=CaseStatus.choices,
                              default=CaseStatus.ACTIVE)
    closure_reason = models.CharField(max_length=40, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-registered_at", "-id"]
        indexes = [
            # The statistics read a period of first contacts and of closures.
            models.Index(fields=["first_contact_on"], name="case_first_contact_on"),
            models.Index(fields=["closed_at"], name="case_closed_at"),
            models.Index(fields=["owner_agency", "-registered_at", "-id"],
                         name="case_agency_recent"),
            models.Index(fields=["owner_agency", "status"], name="case_agency_status"),
            # The case list sorted by first contact walks this index and stops after a page.
            models.Index(fields=["owner_agency", "-first_contact_on", "-id"],
                         name="case_agency_first_contact"),
            # Children (the list's age filter) in that order: the count and page of a
            # filtered list read the agency's child cases, not all of them.
            models.Index(fields=["owner_agency", "is_child", "-first_contact_on", "-id"],
                         name="case_agency_child_contact"),
        ]

    def __str__(self) -> str:
        return self.case_number

    @property
    def is_closed(self) -> bool:
        return self.status in (CaseStatus.CLOSED, CaseStatus.CLOSED_REFERRED)


class ConsentQuerySet(models.QuerySet):
    def in_force(self) -> "ConsentQuerySet":
        """The consents in force: given and not withdrawn."""
        return self.filter(Consent.in_force_condition())


class Consent(models.Model):
    """The person's consent for one purpose, as given; withdrawal is recorded on it."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="consents")
    purpose = models.CharField(max_length=30, choices=codelists.choices("consent_purposes"))
    recipient_agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recipient_node = models.CharField(
        max_length=2, blank=True, help_text="Country code of a partner node (TRM)"
    )
    given_on = models.DateField()
    recorded_at = models.DateTimeField(default=timezone.now)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    withdrawn_on = models.DateField(null=True, blank=True)
    withdrawal_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="+",
    )

    objects = ConsentQuerySet.as_manager()

    class Meta:
        ordering = ["recorded_at", "id"]

    def __str__(self) -> str:
        return f"consent to {self.purpose} ({self.case_id})"

    @staticmethod
    def in_force_condition(through: str = "") -> models.Q:
        """The one rule for "consent in force" (a consent holds until it is withdrawn), as a
        filter; `through` names the relation when filtering another model ("consent")."""
        prefix = f"{through}__" if through else ""
        return models.Q(**{f"{prefix}withdrawn_on__isnull": True})

    @property
    def is_active(self) -> bool:
        """In force: not withdrawn (the same rule as `in_force_condition`)."""
        return self.withdrawn_on is None


class SamePersonLink(models.Model):
    """A caseworker's statement that two cases are about the same person, though they were
    registered as separate persons (an NGO, the police and the social service often each
    register the person). A wrong link is removed, never deleted: the history stays."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="same_person_links")
    same_as_case = models.ForeignKey(Case, on_delete=models.PROTECT,
                                     related_name="same_person_links_to")
    # Why the caseworker thinks so; it may describe the person, so it is encrypted.
    reason = EncryptedTextField(blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)
    removed_at = models.DateTimeField(null=True, blank=True)
    removed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   null=True, blank=True, related_name="+")
    removal_reason = EncryptedTextField(blank=True)

    class Meta:
        ordering = ["recorded_at", "id"]
        constraints = [
            # One active link per pair of cases, whichever side it was recorded from.
            models.UniqueConstraint(Least("case", "same_as_case"),
                                    Greatest("case", "same_as_case"),
                                    condition=models.Q(removed_at__isnull=True),
                                    name="same_person_link_active_pair"),
            models.CheckConstraint(condition=~models.Q(case=models.F("same_as_case")),
                                   name="same_person_link_not_to_itself"),
        ]

    def __str__(self) -> str:
        return f"same person: case {self.case_id} and case {self.same_as_case_id}"

    @property
    def is_active(self) -> bool:
        return self.removed_at is None


class NameToken(models.Model):
    """One keyed digest of a word of a person's names or of their birth date: the index the
    person search (`cases.person_search`) looks words up in without decrypting anyone.

    The digest is a keyed HMAC (the key ring's index key) of a normalised form, truncated to
    64 bits; no name, spelling or date is stored in clear. `kind` says which field the word
    belongs to and which form of it was hashed (as written, a transliteration, a key of
    similar spellings), so that a match can say why it matched. Derived data: written only
    by `person_search.index_persons` (the registration and update of a person) and rebuilt
    by `opennrm manage reindex_persons`.
    """

    class Kind(models.IntegerChoices):
        GIVEN_NAME = 10, _("given name")
        GIVEN_NAME_SPELLING = 11, _("given name, transliterated")
        GIVEN_NAME_SOUND = 12, _("given name, similar spelling")
        FAMILY_NAME = 20, _("family name")
        FAMILY_NAME_SPELLING = 21, _("family name, transliterated")
        FAMILY_NAME_SOUND = 22, _("family name, similar spelling")
        OTHER_NAME = 30, _("other name")
        OTHER_NAME_SPELLING = 31, _("other name, transliterated")
        OTHER_NAME_SOUND = 32, _("other name, similar spelling")
        BIRTH_DATE = 40, _("birth date")
        BIRTH_DATE_SWAPPED = 41, _("birth date, day and month swapped")
        BIRTH_MONTH = 42, _("birth month and year")

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="name_tokens")
    kind = models.PositiveSmallIntegerField(choices=Kind.choices)
    digest = models.BigIntegerField()

    class Meta:
        indexes = [
            # A search looks digests up and reads the person and kind from the index alone.
            models.Index(fields=["digest", "person", "kind"], name="name_token_digest"),
        ]

    def __str__(self) -> str:
        return f"name token of person {self.person_id}"


class TransferState(models.TextChoices):
    REQUESTED = "requested", _("Waiting for the receiving agency")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")


class CaseTransfer(models.Model):
    """A case handed to another agency of the node, with the person's consent: requested by
    the owning agency's supervisor, accepted or declined by the receiving agency's. On
    acceptance the case changes owner and keeps its history; this row is what the former
    owner keeps of it (`cases.transfer`)."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="transfers")
    from_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    to_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    # The consent to transfer the request rests on (purpose "transfer", naming `to_agency`).
    consent = models.ForeignKey(Consent, on_delete=models.PROTECT, related_name="transfers")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    state = models.CharField(max_length=20, choices=TransferState.choices,
                             default=TransferState.REQUESTED)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   null=True, blank=True, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    # Why the receiving agency declined; it may describe the person, so it is encrypted.
    reason = EncryptedTextField(blank=True)

    class Meta:
        ordering = ["requested_at", "id"]
        constraints = [
            # One request at a time per case.
            models.UniqueConstraint(fields=["case"],
                                    condition=models.Q(state="requested"),
                                    name="case_transfer_one_open"),
        ]

    def __str__(self) -> str:
        return f"transfer of case {self.case_id} ({self.state})"
