"""The daily digest e-mail: off unless chosen; then one e-mail a day with the day's list, by
case number, with nothing of another agency's cases and no person's name."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from opennrm.reminders.digest import send_digests, set_daily_digest
from opennrm.reminders.models import Notification, NotificationPreference
from opennrm.reminders.services import send_pending_emails
from opennrm.reminders.tasks import DIGEST_HOUR, sweep_deadlines
from tests.reminders.world import (
    build_world,
    reflection_period,
    residence_permit,
    signed_in,
    support_plan,
    sweep,
)


def _with_address(*users):
    for user in users:
        user.email = f"{user.username}@example.org"
        user.save()


@pytest.fixture
def world(db):
    world = build_world()
    _with_address(world.caseworker, world.supervisor, world.officer)
    return world


@pytest.fixture
def day(world):
    """The caseworker's day: a plan review overdue and a permit expiring (their case), a
    referral waiting at the shelter; the police officer has a deadline of their own."""
    case = world.case()
    support_plan(case, review_in=-1)
    residence_permit(case, expires_in=12)
    world.refer(case)
    police_case = world.case(world.officer, given_name="Ana", family_name="Rusu")
    reflection_period(police_case, ends_in=2)
    sweep()
    return {"case": case, "police_case": police_case}


def test_it_is_off_by_default(world, day):
    assert send_digests(timezone.localdate()) == 0
    assert mail.outbox == []
    # Without the digest, each notification is e-mailed as before.
    assert send_pending_emails() == 3


def test_it_lists_the_days_items_by_case_number_and_names_nobody(world, day):
    set_daily_digest(world.caseworker, True)
    assert send_digests(timezone.localdate()) == 1
    [message] = mail.outbox
    number = day["case"].case_number
    assert message.to == ["caseworker@example.org"]
    assert message.subject == "[OpenNRM] Your day: 2 things to see"
    body = message.body
    review = body.index(f"The support plan of case {number} is due for review")
    permit = body.index(f"The residence permit of case {number} expires")
    assert review < permit  # the nearest deadline first
    assert "(overdue)" in body
    # Each links to its notification, which opening marks read.
    permit_notice = Notification.objects.get(user=world.caseworker,
                                             kind="residence_permit_expiring")
    assert f"http://127.0.0.1:8000/notifications/{permit_notice.pk}/" in body
    assert "/notifications/settings/" in body
    assert day["police_case"].case_number not in body
    for name in ("Elena", "Popescu", "Ana", "Rusu", "AB1234567", "+37369123456"):
        assert name not in body and name not in message.subject


def test_a_supervisor_gets_the_team_deadlines(world, day):
    set_daily_digest(world.supervisor, True)
    send_digests(timezone.localdate())
    [message] = mail.outbox
    assert day["case"].case_number in message.body and "(caseworker)" in message.body
    assert day["police_case"].case_number not in message.body


def test_it_is_sent_once_a_day(world, day):
    set_daily_digest(world.caseworker, True)
    today = timezone.localdate()
    assert send_digests(today) == 1
    assert send_digests(today) == 0
    assert send_digests(today + timedelta(days=1)) == 1
    assert len(mail.outbox) == 2


def test_a_day_with_nothing_on_the_list_sends_nothing(world):
    set_daily_digest(world.caseworker, True)
    assert send_digests(timezone.localdate()) == 0
    assert mail.outbox == []


def test_who_chose_the_digest_gets_no_email_per_notification(world):
    set_daily_digest(world.caseworker, True)
    support_plan(world.case(), review_in=2)
    sweep()
    assert not Notification.objects.get(user=world.caseworker).email_pending
    assert send_pending_emails() == 0


def test_the_settings_page_turns_it_on_and_off(world):
    client = signed_in(world.caseworker)
    page = client.get("/notifications/settings/")
    assert page.status_code == 200 and not page.context["form"]["daily_digest"].value()
    response = client.post("/notifications/settings/", {"daily_digest": "on"})
    assert response.status_code == 302
    assert NotificationPreference.objects.get(user=world.caseworker).daily_digest
    assert client.get("/notifications/settings/").context["form"]["daily_digest"].value()
    client.post("/notifications/settings/", {})
    assert not NotificationPreference.objects.get(user=world.caseworker).daily_digest


def test_the_settings_page_says_when_there_is_no_address(world):
    page = signed_in(world.shelter_worker).get("/notifications/settings/").content.decode()
    assert "Your account has no e-mail address" in page


@pytest.mark.django_db(transaction=True)
def test_the_worker_sends_it_in_the_morning():
    world = build_world()
    _with_address(world.caseworker)
    set_daily_digest(world.caseworker, True)
    support_plan(world.case(), review_in=1)
    zone = ZoneInfo(settings.TIME_ZONE)
    today = timezone.localdate()
    with time_machine.travel(datetime(today.year, today.month, today.day, DIGEST_HOUR - 1,
                                      30, tzinfo=zone), tick=False):
        sweep_deadlines.enqueue()
        call_command("db_worker", batch=True, reload=False, verbosity=0)
    assert mail.outbox == []  # before the morning: told, not yet e-mailed
    with time_machine.travel(datetime(today.year, today.month, today.day, DIGEST_HOUR, 30,
                                      tzinfo=zone), tick=False):
        # The next hourly sweep, queued by the first, is due now.
        call_command("db_worker", batch=True, reload=False, verbosity=0)
    assert [message.subject for message in mail.outbox] == [
        "[OpenNRM] Your day: 1 thing to see"]
