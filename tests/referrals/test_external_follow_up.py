"""The follow-up deadline of a referral outside OpenNRM: in the caseworker's deadlines (and
their supervisor's) from a week before, until the outcome is recorded."""

from datetime import timedelta

import pytest
from django.utils import timezone

from opennrm.accounts.models import Role
from opennrm.cases import services as case_services
from opennrm.referrals import services
from opennrm.reminders.deadlines import deadlines_for, open_deadlines
from opennrm.reminders.models import Notification
from opennrm.reminders.services import reminder_sweep
from tests.factories import make_user
from tests.helpers import as_user
from tests.referrals.outside import make_legal_aid, record

FOLLOW_UP = "referral_follow_up"


@pytest.fixture
def today():
    return timezone.localdate()


@pytest.fixture
def external(caseworker, case, consent, today):
    return record(caseworker, case, make_legal_aid(), follow_up_on=today + timedelta(days=3))


def follow_ups(user, on):
    return [deadline for deadline in deadlines_for(user, on) if deadline.kind == FOLLOW_UP]


def test_it_appears_in_the_caseworkers_deadlines(external, caseworker, case, today):
    [deadline] = follow_ups(caseworker, today)
    assert deadline.case_number == case.case_number
    assert deadline.due_on == today + timedelta(days=3) and not deadline.overdue
    assert deadline.link == f"/referrals/{external.pk}/"
    assert "Follow up the referral of case" in deadline.text()
    assert "Lawyer for victims in criminal proceedings" in deadline.text()


def test_it_is_overdue_after_the_follow_up_day(external, caseworker, today):
    [deadline] = follow_ups(caseworker, today + timedelta(days=4))
    assert deadline.overdue


def test_it_is_announced_a_week_ahead(caseworker, case, consent, today):
    record(caseworker, case, make_legal_aid(), follow_up_on=today + timedelta(days=30))
    assert follow_ups(caseworker, today) == []
    assert len(follow_ups(caseworker, today + timedelta(days=23))) == 1


@pytest.mark.parametrize("outcome", ["accepted", "assistance_delivered", "declined",
                                     "no_answer"])
def test_it_disappears_when_the_outcome_is_recorded(external, caseworker, today, outcome):
    services.record_referral_outcome(caseworker, external, outcome)
    assert follow_ups(caseworker, today + timedelta(days=10)) == []


def test_cancelling_ends_it_too(external, caseworker, today):
    services.cancel_referral(caseworker, external, "She found a lawyer herself.")
    assert follow_ups(caseworker, today) == []


def test_the_caseworkers_supervisor_sees_it_with_their_team(external, ngo, today):
    supervisor = make_user(Role.SUPERVISOR, ngo)
    assert len(follow_ups(supervisor, today)) == 1


def test_another_agency_does_not_see_it(external, police_officer, shelter_worker, today):
    police_supervisor = make_user(Role.SUPERVISOR, police_officer.agency)
    for user in (police_officer, police_supervisor, shelter_worker):
        assert follow_ups(user, today) == []


def test_it_is_not_an_unanswered_referral_of_a_receiving_agency(external, today):
    kinds = {deadline.kind for deadline in open_deadlines(today + timedelta(days=30))}
    assert kinds == {FOLLOW_UP}


def test_a_closed_case_has_no_follow_up(external, caseworker, case, today):
    case_services.close_case(caseworker, case, "lost_contact")
    assert follow_ups(caseworker, today) == []


def test_if_the_caseworker_left_whoever_answers_for_the_case_follows_up(external, caseworker,
                                                                       ngo, today):
    supervisor = make_user(Role.SUPERVISOR, ngo)
    caseworker.is_active = False
    caseworker.save()
    [deadline] = [d for d in open_deadlines(today) if d.kind == FOLLOW_UP]
    assert deadline.responsible == [supervisor]


def test_the_sweep_reminds_and_the_outcome_clears_the_reminder(external, caseworker, today):
    reminder_sweep(today)
    reminder = Notification.objects.get(user=caseworker, kind=FOLLOW_UP)
    assert reminder.cleared_at is None
    services.record_referral_outcome(caseworker, external, "accepted")
    reminder.refresh_from_db()
    assert reminder.cleared_at is not None


def test_the_home_page_lists_it(client, external, caseworker, case):
    page = as_user(client, caseworker).get("/")
    text = page.content.decode()
    assert "Follow up the referral of case" in text and case.case_number in text
