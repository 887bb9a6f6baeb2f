"""The deadline sweep, run by the background worker on a frozen clock: exactly the expected
notifications, to the responsible people, once — however often the worker runs."""

from datetime import date

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client

from opennrm.accounts.models import Role
from opennrm.cases import services as case_services
from opennrm.cases.models import Case
from opennrm.protection.models import ReflectionPeriod, ResidencePermit, SupportPlan
from opennrm.referrals.models import Referral
from opennrm.reminders.models import Notification
from opennrm.reminders.tasks import sweep_deadlines
from opennrm.services.models import Provider, Service
from tests.factories import make_agency, make_user, person_data

TODAY = date(2027, 3, 10)


def _case(owner, first_contact=date(2027, 1, 5)) -> Case:
    return case_services.register_case(owner, person_data(first_contact_on=first_contact))


def _period(case, owner, ends_on) -> ReflectionPeriod:
    return ReflectionPeriod.objects.create(
        case=case, starts_on=date(2027, 2, 1), ends_on=ends_on, original_ends_on=ends_on,
        decided_on=date(2027, 2, 1), recorded_by=owner)


def _permit(case, owner, expires_on, status="granted") -> ResidencePermit:
    return ResidencePermit.objects.create(
        case=case, permit_type="personal_situation", status=status, applied_on=date(2026, 3, 1),
        decided_on=date(2026, 4, 1), expires_on=expires_on, recorded_by=owner)


def _plan(case, owner, review_on, status="active") -> SupportPlan:
    return SupportPlan.objects.create(
        case=case, objectives="Safe housing", responsible_agency=owner.agency, status=status,
        next_review_on=review_on, agreed_on=date(2027, 1, 10), created_by=owner)


def _referral(case, owner, service, recipient, respond_by, state="sent") -> Referral:
    return Referral.objects.create(
        case=case, service=service, referring_agency=owner.agency, recipient_agency=recipient,
        referred_by=owner, state=state, respond_by=respond_by)


@pytest.fixture
def world(transactional_db):
    """An NGO with a caseworker and a supervisor, a shelter agency with its supervisor."""
    with time_machine.travel(date(2027, 1, 5)):
        ngo = make_agency("la-strada")
        shelter_agency = make_agency("shelter-balti", "social_services")
        caseworker = make_user(Role.CASEWORKER, ngo, "caseworker")
        ngo_supervisor = make_user(Role.SUPERVISOR, ngo, "ngo-supervisor")
        shelter_supervisor = make_user(Role.SUPERVISOR, shelter_agency, "shelter-supervisor")
        make_user(Role.CASEWORKER, shelter_agency, "shelter-caseworker")  # not responsible
        provider = Provider.objects.create(name="Shelter Bălți", agency=shelter_agency,
                                           organisation_type="social_services", country="MD")
        service = Service.objects.create(provider=provider, name="Emergency shelter",
                                         service_type="shelter", country="MD")
        assigned = _case(caseworker)
        unassigned = _case(caseworker)
        Case.objects.filter(pk=unassigned.pk).update(assigned_to=None)
        closed = _case(caseworker)
        case_services.close_case(caseworker, closed, "lost_contact")
    return {"caseworker": caseworker, "ngo_supervisor": ngo_supervisor,
            "shelter_supervisor": shelter_supervisor, "service": service,
            "shelter_agency": shelter_agency, "assigned": assigned,
            "unassigned": unassigned, "closed": closed}


def _expected_deadlines(world):
    caseworker, assigned, unassigned = world["caseworker"], world["assigned"], world["unassigned"]
    service, shelter = world["service"], world["shelter_agency"]
    overdue = _referral(assigned, caseworker, service, shelter, date(2027, 3, 5))
    _referral(assigned, caseworker, service, shelter, date(2027, 3, 5), state="accepted")
    _referral(assigned, caseworker, service, shelter, date(2027, 3, 10))  # due today: not late
    ending = _period(assigned, caseworker, date(2027, 3, 17))  # in 7 days
    _period(assigned, caseworker, date(2027, 3, 18))  # in 8 days: not yet
    _period(world["closed"], caseworker, date(2027, 3, 12))  # closed case: no deadline
    expiring = _permit(unassigned, caseworker, date(2027, 4, 9))  # in 30 days
    _permit(unassigned, caseworker, date(2027, 4, 1), status="renewed")
    _permit(unassigned, caseworker, date(2027, 4, 11))  # in 32 days: not yet
    review = _plan(assigned, caseworker, date(2027, 3, 8))  # overdue review
    _plan(unassigned, caseworker, date(2027, 3, 11), status="closed")
    return {
        ("referral_unanswered", overdue.pk): {"caseworker", "shelter-supervisor"},
        ("reflection_period_ending", ending.pk): {"caseworker"},
        # Nobody assigned: the owning agency's supervisor answers for it.
        ("residence_permit_expiring", expiring.pk): {"ngo-supervisor"},
        ("support_plan_review", review.pk): {"caseworker"},
    }


def _run_worker():
    sweep_deadlines.enqueue()
    call_command("db_worker", batch=True, reload=False, verbosity=0)


def _notified():
    found = {}
    for notification in Notification.objects.select_related("user"):
        kind, pk = notification.kind, int(notification.key.split(":")[1])
        found.setdefault((kind, pk), set()).add(notification.user.username)
    return found


def test_the_worker_notifies_exactly_the_responsible_people_once(world):
    with time_machine.travel(TODAY, tick=False):
        expected = _expected_deadlines(world)
        _run_worker()
        assert _notified() == expected
        count = Notification.objects.count()
        _run_worker()
        assert Notification.objects.count() == count


def test_a_new_end_date_is_a_new_reminder(world):
    with time_machine.travel(TODAY, tick=False):
        caseworker = world["caseworker"]
        period = _period(world["assigned"], caseworker, date(2027, 3, 12))
        _run_worker()
        assert Notification.objects.filter(kind="reflection_period_ending").count() == 1
        ReflectionPeriod.objects.filter(pk=period.pk).update(ends_on=date(2027, 3, 14))
        _run_worker()
        assert Notification.objects.filter(kind="reflection_period_ending").count() == 2


def test_the_home_page_lists_the_users_deadlines(world):
    with time_machine.travel(TODAY, tick=False):
        _expected_deadlines(world)
        client = Client()
        client.force_login(world["caseworker"])
        page = client.get("/").content.decode()
        assert "The recovery and reflection period of case " in page
        assert "was not answered by 2027-03-05" in page
        assert "Overdue" in page
        # Not the caseworker's: the unassigned case's permit goes to the supervisor.
        assert "residence permit" not in page
        client.force_login(world["ngo_supervisor"])
        assert "The residence permit of case" in client.get("/").content.decode()


def test_deadlines_of_another_agency_do_not_show(world):
    with time_machine.travel(TODAY, tick=False):
        _expected_deadlines(world)
        police = make_agency("police", "law_enforcement")
        client = Client()
        client.force_login(make_user(Role.SUPERVISOR, police))
        page = client.get("/").content.decode()
        assert world["assigned"].case_number not in page
        assert world["unassigned"].case_number not in page


def test_the_home_page_shows_the_most_urgent_and_links_to_all(world):
    with time_machine.travel(TODAY, tick=False):
        caseworker, case = world["caseworker"], world["assigned"]
        for day in range(12):
            _plan(_case(caseworker), caseworker, date(2027, 3, 1 + day))
        client = Client()
        client.force_login(caseworker)
        page = client.get("/").content.decode()
        assert page.count("is due for review on") == 10
        assert "See all 12 deadlines" in page
        assert "is due for review on 2027-03-01" in page  # the most overdue first
        everything = client.get("/deadlines/").content.decode()
        assert everything.count("is due for review on") == 12
        assert case.case_number not in everything  # nothing is due on that case


def test_the_deadline_page_needs_a_sign_in(client, db):
    assert client.get("/deadlines/").status_code == 302
