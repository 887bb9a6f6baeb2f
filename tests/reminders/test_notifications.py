"""Notifications: stored once per user and key, e-mailed once, shown on the home page."""

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.utils.translation import gettext_noop

from opennrm.reminders.models import Notification
from opennrm.reminders.services import notify, send_pending_emails
from tests.factories import make_user

MESSAGE = gettext_noop("The residence permit of case %(case_number)s expires on %(due_on)s.")
PARAMS = {"case_number": "MD-26-TEST0001", "due_on": "2026-12-01"}


@pytest.fixture
def worker_with_email(caseworker):
    caseworker.email = "worker@example.org"
    caseworker.save()
    return caseworker


def test_it_tells_each_user_once_per_key(caseworker, ngo):
    colleague = make_user("supervisor", ngo)
    assert notify([caseworker, colleague], "test", MESSAGE, key="k1", params=PARAMS) == 2
    assert notify([caseworker, colleague], "test", MESSAGE, key="k1", params=PARAMS) == 0
    assert notify([caseworker], "test", MESSAGE, key="k2", params=PARAMS) == 1
    assert Notification.objects.count() == 3


def test_it_does_not_tell_deactivated_users(caseworker):
    caseworker.is_active = False
    caseworker.save()
    assert notify([caseworker], "test", MESSAGE, key="k1", params=PARAMS) == 0


def test_the_email_is_sent_once_and_names_no_person(worker_with_email):
    notify([worker_with_email], "test", MESSAGE, key="k1", params=PARAMS,
           link="/cases/MD-26-TEST0001/")
    assert send_pending_emails() == 1
    assert send_pending_emails() == 0
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["worker@example.org"]
    assert "MD-26-TEST0001" in message.body and "2026-12-01" in message.body
    assert "http://127.0.0.1:8000/cases/MD-26-TEST0001/" in message.body


def test_users_without_an_address_still_see_it_on_the_home_page(caseworker):
    notify([caseworker], "test", MESSAGE, key="k1", params=PARAMS)
    assert send_pending_emails() == 0
    client = Client()
    client.force_login(caseworker)
    page = client.get("/").content.decode()
    assert "The residence permit of case MD-26-TEST0001 expires on 2026-12-01." in page


@pytest.mark.django_db(transaction=True)
def test_the_worker_sends_the_queued_email(worker_with_email):
    # Committed for real: the worker's own transactions see it, as in production.
    notify([worker_with_email], "test", MESSAGE, key="k1", params=PARAMS)
    call_command("db_worker", batch=True, reload=False, verbosity=0)
    assert len(mail.outbox) == 1
    call_command("db_worker", batch=True, reload=False, verbosity=0)
    assert len(mail.outbox) == 1


def test_mark_as_read_takes_it_off_the_home_page(caseworker):
    notify([caseworker], "test", MESSAGE, key="k1", params=PARAMS)
    notification = Notification.objects.get()
    client = Client()
    client.force_login(caseworker)
    response = client.post(f"/notifications/{notification.pk}/read/")
    assert response.status_code == 302
    assert "MD-26-TEST0001" not in client.get("/").content.decode()


def test_it_validates_ownership(caseworker, police_officer):
    notify([caseworker], "test", MESSAGE, key="k1", params=PARAMS)
    notification = Notification.objects.get()
    client = Client()
    client.force_login(police_officer)
    client.post(f"/notifications/{notification.pk}/read/")
    notification.refresh_from_db()
    assert notification.read_at is None


def test_it_translates_the_message_when_shown(caseworker):
    notify([caseworker], "test", MESSAGE, key="k1", params=PARAMS)
    client = Client()
    client.force_login(caseworker)
    client.post("/language/", {"language": "uk", "next": "/"})
    page = client.get("/").content.decode()
    assert "MD-26-TEST0001" in page
    assert "The residence permit of case" not in page


@pytest.mark.django_db(transaction=True)
def test_many_notifications_queue_one_email_job(ngo):
    from django.db import transaction
    from django_tasks_db.models import DBTaskResult

    users = [make_user("caseworker", ngo) for _ in range(3)]
    for user in users:
        user.email = f"{user.username}@example.org"
        user.save()
    with transaction.atomic():
        for number in range(5):
            notify(users, "test", MESSAGE, key=f"k{number}", params=PARAMS)
    assert DBTaskResult.objects.filter(status="READY").count() == 1
    call_command("db_worker", batch=True, reload=False, verbosity=0)
    assert len(mail.outbox) == 15


def test_the_home_page_shows_the_newest_and_marks_all_read(caseworker):
    for number in range(7):
        notify([caseworker], "test", MESSAGE, key=f"k{number}",
               params={**PARAMS, "case_number": f"MD-26-TEST000{number}"})
    client = Client()
    client.force_login(caseworker)
    page = client.get("/").content.decode()
    assert "MD-26-TEST0006" in page and "MD-26-TEST0000" not in page  # newest five
    assert "7 unread notifications" in page
    client.post("/notifications/read/")
    assert "MD-26-TEST0006" not in client.get("/").content.decode()
    assert Notification.objects.filter(read_at__isnull=True).count() == 0
