"""The daily digest: one e-mail a morning with a user's list, for those who chose it.

Off unless the user turns it on (`set_daily_digest`); then it replaces the e-mail per
notification (`services.tell` leaves theirs unsent). The worker's task
(`tasks.send_daily_digests`) sends each user at most one a day, even with two workers. The
digest lists exactly what the user's home page lists (`inbox.inbox_for`): their deadlines and
unread notifications, by case number, never a person's name.
"""

from datetime import date

from django.conf import settings
from django.core.mail import send_mail
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import ngettext

from opennrm.reminders.inbox import Inbox, inbox_for
from opennrm.reminders.models import NotificationPreference


def wants_daily_digest(user) -> bool:
    return NotificationPreference.objects.filter(user=user, daily_digest=True).exists()


def set_daily_digest(user, daily_digest: bool) -> None:
    """Turn `user`'s daily digest on or off."""
    NotificationPreference.objects.update_or_create(
        user=user, defaults={"daily_digest": daily_digest})


def send_digests(today: date) -> int:
    """E-mail today's digest to every user who chose it and has not had it yet; return how
    many were sent. A user with nothing on their list gets none."""
    sent = 0
    due = (NotificationPreference.objects
           .filter(daily_digest=True, user__is_active=True, user__agency__isnull=False)
           .exclude(user__email="")
           .filter(Q(digest_sent_on__isnull=True) | Q(digest_sent_on__lt=today))
           .select_related("user"))
    for preference in due:
        # Claimed by the update that moves the date: of two workers, one sends it.
        claimed = NotificationPreference.objects.filter(
            pk=preference.pk, digest_sent_on=preference.digest_sent_on).update(
            digest_sent_on=today)
        if not claimed:
            continue
        inbox = inbox_for(preference.user, today)
        if not inbox.entries:
            continue
        try:
            _send(preference.user, inbox, today)
        except OSError:
            # The mail server is down: release the claim so a later run tries again.
            NotificationPreference.objects.filter(pk=preference.pk).update(
                digest_sent_on=preference.digest_sent_on)
            raise
        sent += 1
    return sent


def _send(user, inbox: Inbox, today: date) -> None:
    base_url = settings.OPENNRM_BASE_URL.rstrip("/")
    with translation.override(settings.LANGUAGE_CODE):
        count = len(inbox.entries)
        subject = ngettext("[OpenNRM] Your day: %(count)d thing to see",
                           "[OpenNRM] Your day: %(count)d things to see", count) % {
            "count": count}
        body = render_to_string("reminders/digest.txt", {
            "inbox": inbox, "today": today, "base_url": base_url,
            "settings_url": base_url + reverse("notification-settings")})
        send_mail(subject, body, None, [user.email])

