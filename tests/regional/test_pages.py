"""The regional pages: the view and its PDF in the four languages, sending, schedules, and who
may open them."""

import subprocess
from datetime import date

import pytest
from django.urls import reverse
from django.utils import translation

from opennrm.accounts.models import Role
from opennrm.audit.models import AuditEntry
from opennrm.regional import services
from opennrm.regional.models import ReleaseSchedule, SentRelease
from opennrm.statistics import releases
from opennrm.transnational.models import OutboxMessage
from tests.factories import make_agency, make_user
from tests.regional.conftest import YEAR, seed

QUERY = {"table_set": "eurostat", "period": "2025"}


@pytest.fixture
def sent(coordinator, ua, ro):
    seed("MD", persons=200)
    return services.send_release(coordinator, [ua.partner, ro.partner], "eurostat", *YEAR,
                                 releases.policy_controls())


def pdf_text(content: bytes) -> str:
    return subprocess.run(["pdftotext", "-", "-"], input=content, capture_output=True,
                          check=True, timeout=60).stdout.decode("utf-8")


def test_the_regional_analyst_sees_the_releases_side_by_side(client, regional_analyst, sent):
    client.force_login(regional_analyst)
    response = client.get(reverse("regional:overview"), QUERY)
    assert response.status_code == 200
    page = response.content.decode()
    total = sent.sent[0].payload["persons"]["total"]
    assert f'id="regional-total">{total}<' in page  # MD alone: nothing to remove
    assert "Registered victims by sex and age group" in page
    assert "Test" not in page  # no name of a generated person


@pytest.mark.parametrize("language", ["en", "ro", "uk", "ru"])
def test_the_regional_pdf_is_in_each_of_the_four_languages(client, regional_analyst, sent,
                                                            language):
    client.force_login(regional_analyst)
    response = client.get(reverse("regional:report-pdf"), {**QUERY, "language": language})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "regional-eurostat-2025.pdf" in response["Content-Disposition"]
    text = " ".join(pdf_text(response.content).split())
    with translation.override(language):
        title = translation.gettext("Registered victims by sex and age group")
    assert title in text
    assert str(sent.sent[0].payload["persons"]["total"]) in text
    assert AuditEntry.objects.filter(object_type="regional_report",
                                     reason=f"pdf {language}").exists()


@pytest.mark.parametrize("role", [Role.CASEWORKER, Role.ANALYST, Role.AUDITOR])
def test_other_roles_cannot_open_the_regional_view(client, role):
    client.force_login(make_user(role, make_agency(f"a-{role}")))
    assert client.get(reverse("regional:overview"), QUERY).status_code == 403
    assert client.get(reverse("regional:report-pdf"), QUERY).status_code == 403
    assert client.get(reverse("regional:send")).status_code == 403


def test_the_regional_analyst_cannot_send(client, regional_analyst):
    client.force_login(regional_analyst)
    assert client.get(reverse("regional:send")).status_code == 403
    assert client.get(reverse("regional:schedules")).status_code == 403


def test_the_coordinator_sends_from_the_page(client, coordinator, ua):
    seed("MD", persons=100)
    client.force_login(coordinator)
    response = client.post(reverse("regional:send"), {
        "table_set": "eurostat", "period": "2025", "partners": [ua.partner.pk],
        "threshold": 5, "rounding": 0, "epsilon": "", "confirm": "on"})
    assert response.status_code == 302
    assert SentRelease.objects.get().partner == ua.partner
    assert OutboxMessage.objects.filter(message_type="statistics_release").count() == 1


def test_a_laxer_threshold_is_refused_on_its_field(client, coordinator, ua):
    client.force_login(coordinator)
    response = client.post(reverse("regional:send"), {
        "table_set": "eurostat", "period": "2025", "partners": [ua.partner.pk],
        "threshold": 2, "rounding": 0, "confirm": "on"})
    assert response.status_code == 200
    assert "minimum of 5" in response.context["form"].errors["threshold"][0]
    assert not OutboxMessage.objects.exists()


def test_a_quarterly_schedule_sends_the_quarter_that_ended(coordinator, ua, settings):
    seed("MD", persons=150)
    schedule = services.create_schedule(coordinator, "eurostat", "quarterly", [ua.partner])
    ReleaseSchedule.objects.filter(pk=schedule.pk).update(next_run_on=date(2025, 10, 1))
    done = services.run_due_schedules(today=date(2025, 10, 2))
    assert done and "sent" in done[0], done
    sent = SentRelease.objects.get()
    assert (sent.release.period_start, sent.release.period_end) == (date(2025, 7, 1),
                                                                     date(2025, 9, 30))
    assert sent.schedule == schedule
    schedule.refresh_from_db()
    assert schedule.next_run_on == date(2026, 1, 1) and schedule.last_error == ""
    assert services.run_due_schedules(today=date(2025, 10, 3)) == []  # nothing owed
