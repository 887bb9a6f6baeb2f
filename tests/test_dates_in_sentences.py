"""A date inside a sentence is written the way the reader's language writes dates (02.03.2026
in Romanian, Ukrainian and Russian; 2026-03-02 in English), never as ISO text in a
localised sentence: stored notifications and deadlines, service messages, the case's
timeline and the period of a statistical table."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from opennrm.core.dates import with_local_dates
from opennrm.protection import services as protection
from opennrm.reminders.deadlines import Deadline
from opennrm.reminders.models import Notification
from opennrm.reports.tables import TableSetResult
from opennrm.workspace.timeline import timeline

EXPIRES = ("The residence permit of case %(case_number)s expires on %(due_on)s.",
           {"case_number": "MD-26-7K3QX9AB", "due_on": "2026-03-02"})


@pytest.mark.parametrize(("language", "shown"), [("en", "2026-03-02"), ("ro", "02.03.2026"),
                                                 ("uk", "02.03.2026"), ("ru", "02.03.2026")])
def test_a_stored_notification_shows_its_date_in_the_readers_format(language, shown):
    message, params = EXPIRES
    with translation.override(language):
        text = Notification(message=message, params=params).text()
    assert shown in text and "MD-26-7K3QX9AB" in text
    if language != "en":
        assert "2026-03-02" not in text


def test_a_deadline_shows_its_date_in_the_readers_format():
    message, params = EXPIRES
    deadline = Deadline("residence_permit_expiring", "key", "MD-26-7K3QX9AB",
                        date(2026, 3, 2), message, params, "/cases/MD-26-7K3QX9AB/")
    with translation.override("ro"):
        assert "02.03.2026" in deadline.text()


def test_only_dates_are_reformatted():
    with translation.override("ro"):
        assert with_local_dates({"case_number": "MD-26-7K3QX9AB", "impossible": "2026-02-30",
                                 "count": 3, "day": date(2026, 3, 2),
                                 "text": "since 2026-03-02"}) == {
            "case_number": "MD-26-7K3QX9AB", "impossible": "2026-02-30", "count": 3,
            "day": "02.03.2026", "text": "since 2026-03-02"}


def test_a_service_message_writes_its_date_in_the_readers_format(caseworker, case):
    with translation.override("ro"), pytest.raises(ValidationError) as refused:
        protection.grant_reflection_period(caseworker, case, date(2026, 3, 3),
                                           date(2026, 3, 20), date(2026, 3, 3),
                                           deciding_authority="National coordinator")
    message = " ".join(refused.value.message_dict["ends_on"])
    assert "02.04.2026" in message and "2026-04-02" not in message


def test_the_timeline_writes_its_dates_in_the_readers_format(caseworker, case):
    protection.grant_reflection_period(caseworker, case, date(2026, 3, 3), date(2026, 4, 2),
                                       date(2026, 3, 3),
                                       deciding_authority="National coordinator")
    with translation.override("ro"):
        labels = [entry.label for entry in timeline(case)
                  if entry.kind == "reflection_period_granted"]
    assert len(labels) == 1
    assert "03.03.2026" in labels[0] and "02.04.2026" in labels[0]


def test_a_tables_period_is_written_in_the_readers_format():
    result = TableSetResult(key="eurostat", title="Eurostat", period_start=date(2025, 4, 1),
                            period_end=date(2025, 6, 30), tables=[])
    with translation.override("ro"):
        assert result.period_label == "01.04.2025 – 30.06.2025"
    with translation.override("en"):
        assert result.period_label == "2025-04-01 – 2025-06-30"
    whole_year = TableSetResult(key="eurostat", title="Eurostat", period_start=date(2025, 1, 1),
                                period_end=date(2025, 12, 31), tables=[])
    assert whole_year.period_label == "2025"
