"""Each agency's home page: "waiting for your answer", one entry per referral, gone once
answered; the transnational offers for the national focal point."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from opennrm.accounts.models import Role
from opennrm.referrals import services as referral_services
from opennrm.referrals.models import Referral
from opennrm.transnational.models import Partner, TransnationalReferral
from tests.factories import make_agency, make_user
from tests.reminders.world import build_world, signed_in, sweep


@pytest.fixture
def world(db):
    return build_world()


def test_the_shelter_sees_the_referral_waiting_for_its_answer(world):
    case = world.case()
    referral = world.refer(case)
    response = signed_in(world.shelter_worker).get("/")
    waiting = response.context["waiting"]
    assert waiting.total == 1
    [entry] = waiting.entries
    assert entry.text == (f"Referral of case {case.case_number} to Women's shelter, "
                          "from La Strada")
    assert entry.due_on == referral.respond_by and not entry.overdue
    # The notification that told of it is this entry, not a second one.
    assert entry.unread and entry.url.startswith("/notifications/")
    assert response.context["notification_count"] == 0
    assert response.context["unread_count"] == 1
    assert "Elena" not in response.content.decode()


def test_answering_it_takes_it_off_the_home_page(world):
    referral = world.refer(world.case())
    referral_services.decline_referral(world.shelter_supervisor, referral, "No bed free.")
    response = signed_in(world.shelter_worker).get("/")
    assert response.context["waiting"].total == 0
    assert response.context["unread_count"] == 0
    assert "Nothing waits for your agency" in response.content.decode()


def test_a_late_referral_is_one_entry_not_three(world):
    case = world.case()
    referral = world.refer(case)
    Referral.objects.filter(pk=referral.pk).update(
        respond_by=timezone.localdate() - timedelta(days=2))
    sweep()  # the shelter's supervisor and the referring caseworker are reminded
    response = signed_in(world.shelter_supervisor).get("/")
    [entry] = response.context["waiting"].entries
    assert entry.overdue and entry.unread
    assert response.context["deadline_count"] == 0
    assert response.context["notification_count"] == 0
    assert response.context["unread_count"] == 1
    assert response.content.decode().count(case.case_number) == 1
    # The referring caseworker waits for the shelter: for them it is a deadline to chase.
    referrer = signed_in(world.caseworker).get("/").context
    assert [entry.kind for entry in referrer["deadlines"]] == ["referral_unanswered"]
    assert referrer["waiting"].total == 0


def test_the_referring_agency_and_others_see_nothing_waiting(world):
    world.refer(world.case())
    for user in (world.caseworker, world.supervisor, world.officer, world.police_supervisor):
        assert signed_in(user).get("/").context["waiting"].total == 0


def test_the_nearest_answer_by_date_comes_first(world):
    first, second = world.refer(world.case()), world.refer(world.case())
    Referral.objects.filter(pk=second.pk).update(
        respond_by=first.respond_by - timedelta(days=1))
    entries = signed_in(world.shelter_worker).get("/").context["waiting"].entries
    assert [entry.link for entry in entries] == [f"/referrals/{second.pk}/",
                                                 f"/referrals/{first.pk}/"]


def _offer(status=TransnationalReferral.Status.OFFERED) -> TransnationalReferral:
    partner = Partner.objects.create(
        node_id=uuid.uuid4(), country="UA", name="Ukraine NRM", endpoint="https://ua.example",
        valid_until=timezone.now(), card={}, keys={}, fingerprint="0" * 64)
    return TransnationalReferral.objects.create(
        direction="in", partner=partner, global_case_id=uuid.uuid4(),
        stage="first_assistance", mode="shared", preview={"sex": "female"}, status=status,
        created_at=timezone.now())


def test_the_focal_point_sees_offers_from_partner_nodes(world):
    offer = _offer()
    coordinator = make_user(Role.NATIONAL_COORDINATOR, make_agency("coordination"),
                            "coordinator")
    [entry] = signed_in(coordinator).get("/").context["waiting"].entries
    assert entry.link == f"/transnational/referrals/{offer.pk}/"
    assert "Ukraine NRM" in entry.text
    assert signed_in(world.caseworker).get("/").context["waiting"].total == 0


def test_a_decided_offer_waits_no_more(world):
    _offer(TransnationalReferral.Status.ACCEPTED)
    coordinator = make_user(Role.NATIONAL_COORDINATOR, make_agency("coordination"))
    assert signed_in(coordinator).get("/").context["waiting"].total == 0
