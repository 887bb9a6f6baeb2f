"""The node's linkage job: a run scores the register, links a clear pair automatically only
once the coordinator set a threshold, queues the grey zone, never proposes a decided pair
again, records what it did, and runs nightly when the policy says so."""
# Fixtures imported from tests.linkage.node (and tests.e2e.browser) come back as arguments.
# ruff: noqa: F811

import time as time_module
from datetime import datetime, time

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from opennrm.audit.models import AuditEntry
from opennrm.cases.models import Person
from opennrm.cases.same_person import counted_person_id, remove_same_person_link
from opennrm.linkage import access, node, register, review, tasks
from opennrm.linkage.models import CandidatePair, LinkageRun, PairState, RunStatus, Trigger
from tests.helpers import as_user
from tests.linkage.node import (  # noqa: F401 - fixtures
    GREY,
    coordination,
    coordination_caseworker,
    coordinator,
    ngo_supervisor,
    register_person,
)
from tests.linkage.node import register as filled_register  # noqa: F401 - a fixture


def counted_as_one(case, other) -> bool:
    return (counted_person_id(Person.objects.get(pk=case.person_id))
            == counted_person_id(Person.objects.get(pk=other.person_id)))


def pair_of(case, other) -> CandidatePair:
    first, second = sorted((case.person_id, other.person_id))
    return CandidatePair.objects.get(person_id=first, other_person_id=second)


def set_policy(coordinator, automatic=None, review_from=0.5, nightly=False):
    return node.set_policy(coordinator, automatic_link_from=automatic, review_from=review_from,
                           nightly=nightly)


@pytest.fixture
def clear_pair(caseworker, coordination_caseworker, filled_register):
    """Elena Popescu registered by the NGO and by the coordinator's own office."""
    return register_person(caseworker), register_person(coordination_caseworker)


def test_a_clear_pair_waits_until_the_coordinator_sets_a_threshold(coordinator, clear_pair):
    run = node.run_linkage(coordinator, Trigger.ON_DEMAND)
    assert run.status == RunStatus.FINISHED and run.linked_automatically == 0
    assert pair_of(*clear_pair).state == PairState.PENDING
    assert not counted_as_one(*clear_pair)

    set_policy(coordinator, automatic=0.9999)
    run = node.run_linkage(coordinator, Trigger.ON_DEMAND)
    pair = pair_of(*clear_pair)
    assert run.linked_automatically == 1 and pair.state == PairState.LINKED_AUTOMATICALLY
    assert counted_as_one(*clear_pair)
    assert pair.link.recorded_by == coordinator and pair.link.removed_at is None
    assert run.automatic_link_from == 0.9999 and run.model_version


def test_a_grey_pair_waits_for_review(coordinator, caseworker, coordination_caseworker,
                                      filled_register):
    grey = register_person(caseworker), register_person(coordination_caseworker, **GREY)
    set_policy(coordinator, automatic=0.9999)
    run = node.run_linkage(coordinator, Trigger.ON_DEMAND)
    pair = pair_of(*grey)
    assert 0.5 <= pair.match_probability < 0.9999
    assert pair.state == PairState.PENDING and run.sent_to_review >= 1
    assert not counted_as_one(*grey)
    # The reasons are levels and weights, never the values compared.
    assert {comparison["comparison"] for comparison in pair.comparisons} >= {
        "given_name", "family_name", "birth_date"}
    assert "Popescu" not in str(pair.comparisons) and "Elena" not in str(pair.comparisons)


def test_a_rejected_pair_never_comes_back(coordinator, clear_pair):
    node.run_linkage(coordinator, Trigger.ON_DEMAND)
    review.reject_pair(coordinator, pair_of(*clear_pair), "Sisters, checked by phone.")
    set_policy(coordinator, automatic=0.9999)
    run = node.run_linkage(coordinator, Trigger.ON_DEMAND)
    assert pair_of(*clear_pair).state == PairState.REJECTED
    assert run.linked_automatically == 0 and not counted_as_one(*clear_pair)
    assert CandidatePair.objects.count() == 1


def test_a_link_removed_later_splits_the_pair_for_good(coordinator, coordination_caseworker,
                                                      filled_register):
    both = (register_person(coordination_caseworker),
            register_person(coordination_caseworker))
    set_policy(coordinator, automatic=0.9999)
    node.run_linkage(coordinator, Trigger.ON_DEMAND)
    pair = pair_of(*both)
    remove_same_person_link(coordinator, pair.link, "Twins: different persons.")
    assert pair_of(*both).current_state == PairState.SPLIT
    run = node.run_linkage(coordinator, Trigger.ON_DEMAND)
    assert run.linked_automatically == 0 and not counted_as_one(*both)


def test_the_run_records_its_counts_and_one_audit_entry(coordinator, clear_pair):
    run = node.run_linkage(coordinator, Trigger.ON_DEMAND)
    assert run.persons_compared == Person.objects.count() == 32
    assert run.unreadable == 0 and run.pairs_scored >= 1 and run.sent_to_review == 1
    assert run.finished_at and run.review_from == 0.8 and run.automatic_link_from is None
    entries = AuditEntry.objects.filter(object_type="linkage_run")
    assert [(entry.action, entry.object_ref) for entry in entries] == [("read", str(run.pk))]
    assert "given_name" in entries.get().fields


def test_persons_already_counted_as_one_are_not_proposed(coordinator, clear_pair):
    node.run_linkage(coordinator, Trigger.ON_DEMAND)
    review.confirm_pair(coordinator, pair_of(*clear_pair))
    run = node.run_linkage(coordinator, Trigger.ON_DEMAND)
    assert run.sent_to_review == 0 and run.linked_automatically == 0


def test_a_failed_run_is_recorded_and_shown(client, coordinator, clear_pair, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("DuckDB ran out of memory")

    monkeypatch.setattr(register, "dedupe", broken)
    response = as_user(client, coordinator).post("/linkage/runs/new/", follow=True)
    run = LinkageRun.objects.get()
    assert run.status == RunStatus.FAILED and "out of memory" in run.failure_reason
    assert "The linkage run failed" in response.content.decode()
    # Another run may start: a failed one is not "under way".
    monkeypatch.undo()
    assert node.run_linkage(coordinator, Trigger.ON_DEMAND).status == RunStatus.FINISHED


def test_only_the_coordinator_starts_a_run_or_sets_the_policy(client, ngo_supervisor,
                                                              caseworker):
    with pytest.raises(access.LinkageAccessDenied):
        node.run_linkage(ngo_supervisor, Trigger.ON_DEMAND)
    with pytest.raises(access.LinkageAccessDenied):
        set_policy(ngo_supervisor, automatic=0.99)
    for user in (ngo_supervisor, caseworker):
        as_user(client, user)
        assert client.post("/linkage/runs/new/").status_code == 403
        assert client.post("/linkage/policy/", {"review_from": "0.6"}).status_code == 403
    assert not LinkageRun.objects.exists()


def test_the_policy_keeps_the_thresholds_in_order(client, coordinator):
    with pytest.raises(ValidationError) as refused:
        set_policy(coordinator, automatic=0.7, review_from=0.9)
    assert "automatic_link_from" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        set_policy(coordinator, review_from=0.3)
    assert "review_from" in refused.value.message_dict
    response = as_user(client, coordinator).post("/linkage/policy/", {
        "review_from": "0.9", "automatic_link_from": "0.8"})
    assert response.status_code == 200
    assert "Link automatically only above the review threshold" in response.content.decode()
    response = client.post("/linkage/policy/", {"review_from": "0.7",
                                                "automatic_link_from": "0.995",
                                                "nightly": "on"})
    assert response.status_code == 302
    policy = node.LinkagePolicy.current()
    assert (policy.review_from, policy.automatic_link_from, policy.nightly) == (0.7, 0.995, True)
    assert policy.changed_by == coordinator


def test_the_night_runs_only_when_the_policy_says_so(coordinator, clear_pair):
    from django_tasks_db.models import DBTaskResult

    assert tasks.nightly_linkage.call() is None and not LinkageRun.objects.exists()
    waiting = DBTaskResult.objects.get(status="READY",
                                       task_path=tasks.nightly_linkage.module_path)
    at = timezone.localtime(waiting.run_after)
    assert at.time() == time(2, 0) and at > timezone.now()
    assert not tasks.schedule_nightly_linkage()  # one night at a time

    set_policy(coordinator, nightly=True)
    run_id = tasks.nightly_linkage.call()
    run = LinkageRun.objects.get(pk=run_id)
    assert run.trigger == Trigger.NIGHTLY and run.started_by is None
    assert run.status == RunStatus.FINISHED and pair_of(*clear_pair).state == PairState.PENDING


def test_the_next_night_is_tomorrow_after_two_oclock():
    evening = timezone.make_aware(datetime(2026, 3, 5, 23, 30))
    assert timezone.localtime(tasks.next_night(evening)).date().day == 6
    early = timezone.make_aware(datetime(2026, 3, 5, 1, 0))
    assert timezone.localtime(tasks.next_night(early)).replace(tzinfo=None) == datetime(
        2026, 3, 5, 2, 0)


def test_the_demo_has_pairs_for_the_coordinator_and_a_supervisor(db):
    from opennrm.accounts.models import User
    from opennrm.cases.demo import generate_demo
    from opennrm.linkage.demo import create_demo_linkage

    generate_demo(300, seed=2026)
    started = time_module.perf_counter()
    waiting = create_demo_linkage()
    seconds = time_module.perf_counter() - started
    print(f"demo linkage run: {seconds:.1f} s, {waiting} pairs waiting")
    run = LinkageRun.objects.get()
    assert run.status == RunStatus.FINISHED and run.persons_compared >= 290
    assert waiting >= 2 and run.linked_automatically == 0
    supervisor = User.objects.get(username="ngo-supervisor")
    assert review.review_queue(supervisor).paginator.count >= 2
    assert create_demo_linkage() == 0  # once
