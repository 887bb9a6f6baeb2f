"""Notifications: what the node told a user, on the home page and by e-mail.

A notification never holds a person's name or other personal data: e-mail leaves the node.
It names the case by its pseudonymous number and says what is due.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from opennrm.core.dates import with_local_dates


class Notification(models.Model):
    """One message to one user. `key` makes it idempotent: the same event for the same user is
    stored (and e-mailed) once, however often the sweep or the event runs.

    A notification the sweep stored of a deadline has the date it is due (`due_on`); the
    others (a referral sent or answered) are news. Either leaves the user's list when the
    thing is done (`cleared_at`: the deadline met, the referral answered); news also once
    read.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="notifications")
    kind = models.CharField(max_length=40)
    key = models.CharField(max_length=200)
    # The English text with %(name)s placeholders, translated when shown (see `text`).
    message = models.TextField()
    params = models.JSONField(default=dict, blank=True)
    case_number = models.CharField(max_length=32, blank=True)
    link = models.CharField(max_length=300, blank=True)
    due_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Set when the user had an e-mail address: the worker sends it and clears the flag.
    email_pending = models.BooleanField(default=False)
    emailed_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    cleared_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["user", "key"],
                                               name="notification_once_per_user")]
        indexes = [
            # A user's list: only what is not done yet, however much they were told.
            models.Index(fields=["user", "read_at"], name="notification_open",
                         condition=models.Q(cleared_at__isnull=True)),
            # Clearing by key (a referral answered) and the sweep's look for known keys.
            models.Index(fields=["key"], name="notification_key"),
            # Only the few waiting to be sent: the worker's scan stays small however many
            # notifications users without an address have collected.
            models.Index(fields=["id"], name="notification_to_email",
                         condition=models.Q(email_pending=True)),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.user_id}"

    def text(self) -> str:
        """The message in the active language (English when the catalogue lacks it)."""
        from django.utils.translation import gettext

        try:
            return (gettext(self.message) % with_local_dates(self.params) if self.params
                    else gettext(self.message))
        except (KeyError, ValueError, TypeError):
            return self.message


class NotificationPreference(models.Model):
    """How one user wants to hear of their notifications by e-mail. A user without a row
    gets an e-mail per notification and no digest."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="notification_preference")
    # One e-mail a day with the day's list instead of one e-mail per notification.
    daily_digest = models.BooleanField(default=False)
    digest_sent_on = models.DateField(null=True, blank=True)

    def __str__(self) -> str:
        return f"notification preference of {self.user_id}"
