"""The home page's worklists put the cases with the nearest deadline first, then the newest."""

from datetime import timedelta

import pytest
from django.utils import timezone

from opennrm.cases.models import Case
from opennrm.workspace.worklists import ITEMS_SHOWN
from tests.reminders.world import build_world, reflection_period, signed_in, support_plan


@pytest.fixture
def world(db):
    return build_world()


def _worklist(response, key):
    return next(item for item in response.context["worklists"] if item.key == key)


def _registered(case, days_ago):
    Case.objects.filter(pk=case.pk).update(
        registered_at=timezone.now() - timedelta(days=days_ago))


def test_the_cases_with_the_nearest_deadline_come_first(world):
    newest, middle, oldest = world.case(), world.case(), world.case()
    for case, days_ago in ((newest, 1), (middle, 2), (oldest, 3)):
        _registered(case, days_ago)
    reflection_period(oldest, ends_in=5)
    support_plan(middle, review_in=1)
    new = _worklist(signed_in(world.caseworker).get("/"), "new")
    assert new.cases == [middle, oldest, newest]


def test_a_case_with_a_deadline_is_shown_however_many_newer_ones_there_are(world):
    old = world.case()
    _registered(old, 10)
    support_plan(old, review_in=3)
    for _ in range(ITEMS_SHOWN + 2):
        world.case()
    new = _worklist(signed_in(world.caseworker).get("/"), "new")
    assert new.total == ITEMS_SHOWN + 3
    assert new.cases[0] == old and len(new.cases) == ITEMS_SHOWN


def test_a_supervisor_sees_unassigned_cases_with_a_deadline_first(world):
    recent, waiting = world.case(), world.case()
    Case.objects.filter(pk__in=[recent.pk, waiting.pk]).update(assigned_to=None)
    _registered(waiting, 5)
    reflection_period(waiting, ends_in=2)
    unassigned = _worklist(signed_in(world.supervisor).get("/"), "unassigned")
    assert unassigned.cases == [waiting, recent]
