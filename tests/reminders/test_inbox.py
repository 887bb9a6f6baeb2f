"""A user's list: one entry per thing to do, opened and read, cleared when the thing is done,
the team's deadlines for a supervisor, the nearest deadline first."""

import pytest
from django.utils.translation import gettext_noop

from opennrm.cases.models import Case
from opennrm.protection.models import ReflectionPeriod, ResidencePermit
from opennrm.referrals import services as referral_services
from opennrm.reminders.inbox import Entry, by_case
from opennrm.reminders.models import Notification
from opennrm.reminders.services import notify
from tests.helpers import assert_no_inline_code
from tests.reminders.world import (
    build_world,
    in_days,
    reflection_period,
    residence_permit,
    signed_in,
    support_plan,
    sweep,
)

NEWS = gettext_noop("The referral of case %(case_number)s to %(service)s was accepted.")


@pytest.fixture
def world(db):
    return build_world()


@pytest.fixture
def three_deadlines(world):
    """The caseworker's case with a plan review overdue, a reflection period ending in three
    days and a permit expiring in twenty; the sweep has told them of each."""
    case = world.case()
    review = support_plan(case, review_in=-2)
    period = reflection_period(case, ends_in=3)
    permit = residence_permit(case, expires_in=20)
    assert sweep() == 3
    return {"case": case, "review": review, "period": period, "permit": permit}


def test_the_unread_count_is_the_things_to_do_not_the_deadlines_twice(world, three_deadlines):
    response = signed_in(world.caseworker).get("/")
    page = response.content.decode()
    assert response.context["unread_count"] == 3
    assert response.context["deadline_count"] == 3
    assert response.context["notification_count"] == 0  # not repeated as notifications
    assert page.count("The recovery and reflection period of case") == 1
    assert page.count("The residence permit of case") == 1
    assert page.count("The support plan of case") == 1
    assert "3 things are new to you." in page


def test_opening_a_notification_marks_it_read_and_goes_to_its_page(world, three_deadlines):
    client = signed_in(world.caseworker)
    notification = Notification.objects.get(kind="residence_permit_expiring")
    response = client.get(f"/notifications/{notification.pk}/")
    case_number = three_deadlines["case"].case_number
    assert response.status_code == 302
    assert response.url == f"/cases/{case_number}/#stage-protection"
    notification.refresh_from_db()
    assert notification.read_at is not None
    home = client.get("/")
    assert home.context["unread_count"] == 2
    # Read, the deadline is still to be met: still listed, no longer new.
    permit = next(entry for entry in home.context["deadlines"]
                  if entry.kind == "residence_permit_expiring")
    assert not permit.unread


def test_opening_a_piece_of_news_takes_it_off_the_home_page(world):
    case = world.case()
    notify([world.caseworker], "referral_accepted", NEWS, key="referral-accepted:1",
           case_number=case.case_number, link="/referrals/1/",
           params={"case_number": case.case_number, "service": "Women's shelter"})
    client = signed_in(world.caseworker)
    assert client.get("/").context["notification_count"] == 1
    client.get(f"/notifications/{Notification.objects.get().pk}/")
    home = client.get("/")
    assert home.context["notification_count"] == 0 and home.context["unread_count"] == 0


def test_answering_a_referral_clears_it_for_the_whole_agency(world):
    referral = world.refer(world.case())
    told = Notification.objects.filter(key=f"referral-sent:{referral.pk}")
    assert {n.user for n in told} == {world.shelter_worker, world.shelter_supervisor}
    referral_services.accept_referral(world.shelter_worker, referral)
    assert not told.filter(cleared_at__isnull=True).exists()
    # The supervisor never opened it: it is gone from their list all the same.
    listed = signed_in(world.shelter_supervisor).get("/notifications/").context["groups"]
    assert listed == []
    # The referrer is told of the answer.
    assert Notification.objects.get(key=f"referral-accepted:{referral.pk}").user == \
        world.caseworker


def test_a_met_deadline_leaves_the_list_and_the_sweep_clears_it(world, three_deadlines):
    ResidencePermit.objects.filter(pk=three_deadlines["permit"].pk).update(status="renewed")
    client = signed_in(world.caseworker)
    assert "The residence permit of case" not in client.get("/").content.decode()
    sweep()
    notification = Notification.objects.get(kind="residence_permit_expiring")
    assert notification.cleared_at is not None
    assert client.get("/").context["unread_count"] == 2


def test_a_new_end_date_is_one_entry_not_two(world, three_deadlines):
    ReflectionPeriod.objects.filter(pk=three_deadlines["period"].pk).update(ends_on=in_days(6))
    sweep()
    notifications = Notification.objects.filter(kind="reflection_period_ending")
    assert notifications.count() == 2
    assert notifications.filter(cleared_at__isnull=True).count() == 1
    page = signed_in(world.caseworker).get("/notifications/").content.decode()
    assert page.count("The recovery and reflection period of case") == 1


def test_a_closed_case_needs_nothing_any_more(world, three_deadlines):
    Case.objects.filter(pk=three_deadlines["case"].pk).update(status="closed")
    sweep()
    assert not Notification.objects.filter(cleared_at__isnull=True).exists()
    assert signed_in(world.caseworker).get("/").context["deadline_count"] == 0


def test_a_supervisor_sees_the_team_deadlines(world, three_deadlines):
    response = signed_in(world.supervisor).get("/")
    entries = response.context["deadlines"]
    assert [entry.kind for entry in entries] == [
        "support_plan_review", "reflection_period_ending", "residence_permit_expiring"]
    assert all(entry.assignees == ("caseworker",) for entry in entries)
    assert "<th scope=\"col\">Who</th>" in response.content.decode()
    # Seen, not told: the caseworker answers for them, the supervisor gets no notification.
    assert not Notification.objects.filter(user=world.supervisor).exists()
    assert response.context["unread_count"] == 0
    assert signed_in(world.supervisor).get("/deadlines/").context["deadline_count"] == 3


def test_a_supervisor_still_answers_for_cases_nobody_is_assigned_to(world):
    case = world.case()
    Case.objects.filter(pk=case.pk).update(assigned_to=None)
    reflection_period(case, ends_in=2)
    sweep()
    entry = signed_in(world.supervisor).get("/").context["deadlines"][0]
    assert entry.assignees == () and entry.unread


def test_another_agency_sees_nothing_of_the_deadlines(world, three_deadlines):
    for user in (world.police_supervisor, world.officer, world.shelter_supervisor):
        response = signed_in(user).get("/notifications/")
        assert response.context["entry_count"] == 0
        assert three_deadlines["case"].case_number not in response.content.decode()


def test_the_nearest_deadline_comes_first_on_the_notification_list(world):
    later = world.case()
    residence_permit(later, expires_in=25)
    sooner = world.case()
    support_plan(sooner, review_in=4)
    sweep()
    # Sixty newer notifications of other cases do not push the deadlines to a later page.
    for number in range(60):
        notify([world.caseworker], "referral_accepted", NEWS, key=f"referral-accepted:{number}",
               case_number=f"MD-26-NEWS{number:04d}", link=f"/referrals/{number}/",
               params={"case_number": f"MD-26-NEWS{number:04d}", "service": "Shelter"})
    response = signed_in(world.caseworker).get("/notifications/")
    groups = response.context["groups"]
    assert [case_number for case_number, _entries in groups[:2]] == [
        sooner.case_number, later.case_number]
    assert groups[1][1][0].kind == "residence_permit_expiring"
    assert response.context["entry_count"] == 62
    assert "Page 1 of 2" in response.content.decode()


def test_the_home_page_lists_the_nearest_deadline_first(world):
    for days in (9, 4, 0):
        reflection_period(world.case(), ends_in=days)
    support_plan(world.case(), review_in=-1)
    due = [entry.due_on for entry in signed_in(world.caseworker).get("/").context["deadlines"]]
    assert due == [in_days(-1), in_days(0), in_days(4)]  # ending in 9 days: not yet


def test_entries_are_grouped_by_case_in_the_order_of_their_first_entry():
    entries = [Entry("a", "MD-2", "x", "/"), Entry("b", "MD-1", "y", "/"),
               Entry("c", "MD-2", "z", "/")]
    assert [(number, [entry.kind for entry in group]) for number, group in by_case(entries)] \
        == [("MD-2", ["a", "c"]), ("MD-1", ["b"])]


def test_mark_all_as_read_returns_to_the_notification_list(world, three_deadlines):
    client = signed_in(world.caseworker)
    response = client.post("/notifications/read/", {"next": "/notifications/"})
    assert response.status_code == 302 and response.url == "/notifications/"
    assert client.get("/").context["unread_count"] == 0
    # Read is not done: the deadlines stay until they are met.
    assert client.get("/").context["deadline_count"] == 3


def test_it_does_not_send_the_browser_elsewhere(world, three_deadlines):
    client = signed_in(world.caseworker)
    response = client.post("/notifications/read/", {"next": "https://example.org/"})
    assert response.url == "/"
    notification = Notification.objects.filter(user=world.caseworker).first()
    Notification.objects.filter(pk=notification.pk).update(link="https://example.org/")
    assert client.get(f"/notifications/{notification.pk}/").url == "/notifications/"


def test_it_validates_ownership(world, three_deadlines):
    notification = Notification.objects.filter(user=world.caseworker).first()
    response = signed_in(world.officer).get(f"/notifications/{notification.pk}/")
    assert response.status_code == 404
    notification.refresh_from_db()
    assert notification.read_at is None


def test_the_pages_need_a_sign_in(client, db):
    for path in ("/notifications/", "/notifications/1/", "/notifications/settings/",
                 "/deadlines/"):
        response = client.get(path)
        assert response.status_code == 302 and response.url.startswith("/login/")


def test_opening_is_a_plain_link_not_a_form(world, three_deadlines):
    notification = Notification.objects.filter(user=world.caseworker).first()
    response = signed_in(world.caseworker).post(f"/notifications/{notification.pk}/")
    assert response.status_code == 405


def test_news_of_one_referral_is_one_entry_the_newest(world):
    case = world.case()
    referral = world.refer(case)
    referral_services.accept_referral(world.shelter_worker, referral)
    referral_services.record_assistance(world.shelter_worker, referral, "shelter", "A room.",
                                        in_days(0))
    referral_services.complete_referral(world.shelter_worker, referral)
    client = signed_in(world.caseworker)
    [entry] = client.get("/").context["notifications"]
    assert entry.kind == "referral_completed"
    client.get(entry.url)  # opening it reads the older word on the referral too
    assert not Notification.objects.filter(user=world.caseworker, read_at__isnull=True).exists()
    assert client.get("/").context["notification_count"] == 0


def test_the_pages_hold_no_inline_code(world, three_deadlines):
    client = signed_in(world.supervisor)
    for path in ("/", "/notifications/", "/notifications/settings/", "/deadlines/"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert_no_inline_code(response)
