"""Linkage across nodes: the agreements partners made (with their secret, encrypted here and
never sent), the rounds run under them, what travelled (encodings, group results, in chunks),
and what each node learnt: "this person is also known in country X".

A round is known on every node by its `round_id` (chosen by the host). Its record tokens are
random and per round; which person a token stands for is kept only on the node that chose it
(`RoundRecord`).
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from opennrm.core.fields import EncryptedJSONField, EncryptedTextField


class LinkageAgreement(models.Model):
    """Partners agreed, out of band, to link their registers under this name with these
    encoding parameters and a shared secret. The secret is encrypted at rest and never shown
    again: its fingerprint (a keyed hash) is what the coordinators compare by telephone."""

    name = models.CharField(max_length=100, unique=True)
    partners = models.ManyToManyField("transnational.Partner", related_name="linkage_agreements")
    parameters = models.JSONField()
    secret = EncryptedTextField()
    fingerprint = models.CharField(max_length=64)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+")
    created_at = models.DateTimeField()
    secret_set_at = models.DateTimeField()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class RoundState(models.TextChoices):
    # Host: waiting for the parties' encodings; then linking, linked.
    OPEN = "open", _("Waiting for encodings")
    # Participant: asked to join; encoding its persons; encodings sent, waiting for groups.
    INVITED = "invited", _("Invited, not yet joined")
    ENCODING = "encoding", _("Encoding")
    SENT = "sent", _("Encodings sent, waiting for the result")
    LINKING = "linking", _("Linking")
    LINKED = "linked", _("Linked")
    DECLINED = "declined", _("Declined")
    EXPIRED = "expired", _("Expired")


class LinkageRound(models.Model):
    class Role(models.TextChoices):
        HOST = "host", _("Host")
        PARTICIPANT = "participant", _("Participant")

    round_id = models.UUIDField(unique=True)
    role = models.CharField(max_length=12, choices=Role.choices)
    agreement = models.ForeignKey(LinkageAgreement, on_delete=models.PROTECT, null=True,
                                  blank=True, related_name="rounds")
    # The agreement's name as the host gave it (a participant may hold no such agreement).
    agreement_name = models.CharField(max_length=100)
    # The host node (None: this node is the host).
    host = models.ForeignKey("transnational.Partner", on_delete=models.PROTECT, null=True,
                             blank=True, related_name="+")
    parameters = models.JSONField()
    deadline = models.DateTimeField()
    state = models.CharField(max_length=10, choices=RoundState.choices, db_index=True)
    reason = models.TextField(blank=True)
    # The node ids of every party (this node's too), sorted and joined: rounds with the same
    # parties replace each other's marks.
    parties_key = models.TextField()
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                  null=True, blank=True, related_name="+")
    opened_at = models.DateTimeField()
    # When the work left for a background thread was handed to it (a sweep takes it up again
    # if the process died meanwhile).
    started_at = models.DateTimeField(null=True, blank=True)
    linked_at = models.DateTimeField(null=True, blank=True)
    records_sent = models.PositiveIntegerField(default=0)
    records_unreadable = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-opened_at"]

    def __str__(self) -> str:
        return f"linkage round {self.round_id}"

    @property
    def is_host(self) -> bool:
        return self.role == self.Role.HOST


class RoundParty(models.Model):
    """One party of a round (the host's own node too, when it takes part), as the host sees
    it: which chunks of encodings it has received from it."""

    class State(models.TextChoices):
        INVITED = "invited", _("Invited")
        DECLINED = "declined", _("Declined")
        RECEIVING = "receiving", _("Sending encodings")
        COMPLETE = "complete", _("All encodings received")

    round = models.ForeignKey(LinkageRound, on_delete=models.CASCADE, related_name="parties")
    node_id = models.UUIDField()
    country = models.CharField(max_length=2)
    # The partner (None: this node).
    partner = models.ForeignKey("transnational.Partner", on_delete=models.PROTECT, null=True,
                                blank=True, related_name="+")
    state = models.CharField(max_length=10, choices=State.choices, default=State.INVITED)
    reason = models.TextField(blank=True)
    chunks_expected = models.PositiveIntegerField(default=0)
    chunks_received = models.PositiveIntegerField(default=0)
    records = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["country"]
        constraints = [models.UniqueConstraint(fields=["round", "node_id"],
                                               name="crossborder_party_once")]

    def __str__(self) -> str:
        return f"{self.country} in {self.round}"


class ReceivedChunk(models.Model):
    """One chunk of a message split to stay under the channel's size limit: encodings a
    party sent to the host, or the group results the host sent back. Kept (encrypted) until
    all the chunks are in; a chunk received twice is kept once."""

    class Kind(models.TextChoices):
        ENCODINGS = "encodings", _("Encodings")
        GROUPS = "groups", _("Group results")

    round = models.ForeignKey(LinkageRound, on_delete=models.CASCADE, related_name="chunks")
    node_id = models.UUIDField()
    kind = models.CharField(max_length=10, choices=Kind.choices)
    index = models.PositiveIntegerField()
    count = models.PositiveIntegerField()
    content = EncryptedJSONField()
    received_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["round", "node_id", "kind", "index"],
                                               name="crossborder_chunk_once")]

    def __str__(self) -> str:
        return f"{self.kind} {self.index}/{self.count} of {self.round}"


class RoundRecord(models.Model):
    """Which person a round's record token stands for: this node's secret, never sent."""

    round = models.ForeignKey(LinkageRound, on_delete=models.CASCADE, related_name="records")
    token = models.CharField(max_length=40)
    person = models.ForeignKey("cases.Person", on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["round", "token"],
                                               name="crossborder_token_once")]

    def __str__(self) -> str:
        return f"token of {self.round}"  # never the person: this string may reach a log


class GroupMember(models.Model):
    """A record of a round's group of records linked across parties. The host keeps every
    party's members (tokens only); a participant its own, with the person. Regional
    statistics count persons across countries by group."""

    round = models.ForeignKey(LinkageRound, on_delete=models.CASCADE, related_name="members")
    group_id = models.CharField(max_length=40, db_index=True)
    node_id = models.UUIDField()
    country = models.CharField(max_length=2)
    token = models.CharField(max_length=40)
    person = models.ForeignKey("cases.Person", on_delete=models.CASCADE, null=True, blank=True,
                               related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["round", "node_id", "token"],
                                               name="crossborder_member_once")]

    def __str__(self) -> str:
        return f"{self.country} record of group {self.group_id}"


class PresenceAbroad(models.Model):
    """This node's person is also known in another country (a linkage round found a record
    of theirs there). A new round with the same parties replaces the earlier round's marks."""

    person = models.ForeignKey("cases.Person", on_delete=models.CASCADE,
                               related_name="presence_abroad")
    country = models.CharField(max_length=2)
    round = models.ForeignKey(LinkageRound, on_delete=models.CASCADE, related_name="presences")
    group_id = models.CharField(max_length=40)

    class Meta:
        ordering = ["country"]
        constraints = [models.UniqueConstraint(fields=["person", "country", "round"],
                                               name="crossborder_presence_once")]

    def __str__(self) -> str:
        return f"{self.person} also known in {self.country}"
