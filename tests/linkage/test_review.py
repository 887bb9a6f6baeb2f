"""Reviewing possible duplicates: the queue, a pair side by side, confirming (the persons
are counted as one), rejecting, deferring, reopening; and who may see which pair."""
# Fixtures imported from tests.linkage.node (and tests.e2e.browser) come back as arguments.
# ruff: noqa: F811

import pytest
from django.core.exceptions import ValidationError

from opennrm.accounts.models import Role
from opennrm.audit.models import AuditEntry
from opennrm.cases.models import Person, SamePersonLink
from opennrm.cases.same_person import counted_person_id, remove_same_person_link
from opennrm.linkage import review
from opennrm.linkage.models import CandidatePair, Origin, PairState
from tests.factories import make_user
from tests.helpers import as_user
from tests.linkage.node import (  # noqa: F401 - fixtures
    GREY,
    coordination,
    coordination_caseworker,
    coordinator,
    ngo_supervisor,
    police_supervisor,
    register_person,
)

QUEUE = "/linkage/"


def propose(case, other, probability=0.97) -> CandidatePair:
    """A pair as a run leaves it: pending, with the comparisons that decided."""
    first, second = sorted((case.person_id, other.person_id))
    return CandidatePair.objects.create(
        person_id=first, other_person_id=second, origin=Origin.RUN,
        match_probability=probability, match_weight=5.0,
        comparisons=[{"comparison": "given_name", "level": "a spelling in common",
                      "match_weight": 7.4},
                     {"comparison": "birth_date", "level": "birth date missing",
                      "match_weight": None}])


def persons_counted() -> int:
    """What the statistics count: COALESCE(statistical_person_id, id), distinct."""
    return len({counted_person_id(person) for person in Person.objects.all()})


@pytest.fixture
def own_pair(caseworker):
    """Two cases of the NGO that may be one person: its supervisor reviews them."""
    case, other = register_person(caseworker), register_person(caseworker, **GREY)
    return propose(case, other), case, other


@pytest.fixture
def mixed_pair(caseworker, police_officer):
    """A case of the NGO and one of the police."""
    case, other = register_person(caseworker), register_person(police_officer)
    return propose(case, other), case, other


def test_the_queue_lists_pending_pairs_first_then_deferred(client, coordinator, caseworker):
    cases = [register_person(caseworker, given_name=name)
             for name in ("Ana", "Ana", "Ion", "Ion", "Olga", "Olga")]
    low = propose(cases[0], cases[1], 0.6)
    high = propose(cases[2], cases[3], 0.99)
    deferred = propose(cases[4], cases[5], 0.999)
    review.defer_pair(coordinator, deferred)
    content = as_user(client, coordinator).get(QUEUE).content.decode()
    positions = [content.index(f'/linkage/pairs/{pair.pk}/"') for pair in (high, low, deferred)]
    assert positions == sorted(positions)
    assert "3 pairs waiting for review" in content


def test_the_pair_page_shows_both_persons_and_why(client, ngo_supervisor, own_pair):
    pair, case, other = own_pair
    response = as_user(client, ngo_supervisor).get(f"/linkage/pairs/{pair.pk}/")
    content = response.content.decode()
    assert response.status_code == 200
    assert case.case_number in content and other.case_number in content
    assert "Popescu" in content and "AB1234567" in content  # a supervisor sees identities
    assert "a spelling in common" in content and "7.4" in content
    assert "missing: neutral" in content
    reads = AuditEntry.objects.filter(action="read", reason="linkage review")
    assert {entry.object_ref for entry in reads} == {case.case_number, other.case_number}
    assert AuditEntry.objects.filter(action="read", object_type="candidate_pair",
                                     object_ref=str(pair.pk)).exists()


def test_confirming_links_the_persons_and_statistics_count_one(client, ngo_supervisor,
                                                               own_pair):
    pair, case, other = own_pair
    before = persons_counted()
    response = as_user(client, ngo_supervisor).post(f"/linkage/pairs/{pair.pk}/", {
        "decision": "confirm", "decision_note": "Same passport on the scan."})
    assert response.status_code == 302
    pair.refresh_from_db()
    assert pair.state == PairState.CONFIRMED and pair.decided_by == ngo_supervisor
    link = SamePersonLink.objects.get()
    assert pair.link == link and link.recorded_by == ngo_supervisor
    assert {link.case_id, link.same_as_case_id} == {case.pk, other.pk}
    assert persons_counted() == before - 1
    # The queue no longer lists it.
    assert f"/linkage/pairs/{pair.pk}/" not in client.get(QUEUE).content.decode()


def test_removing_the_link_later_splits_the_pair(client, ngo_supervisor, own_pair):
    pair = review.confirm_pair(ngo_supervisor, own_pair[0])
    remove_same_person_link(ngo_supervisor, pair.link, "Different mothers' names.")
    pair.refresh_from_db()
    assert pair.current_state == PairState.SPLIT
    content = as_user(client, ngo_supervisor).get(f"/linkage/pairs/{pair.pk}/").content
    assert "Split: the link was removed" in content.decode()
    with pytest.raises(ValidationError):
        review.confirm_pair(ngo_supervisor, pair)


def test_rejecting_needs_a_note_and_can_be_reopened(client, ngo_supervisor, own_pair):
    pair = own_pair[0]
    as_user(client, ngo_supervisor)
    response = client.post(f"/linkage/pairs/{pair.pk}/", {"decision": "reject"})
    assert response.status_code == 200
    assert "Say why these are different persons." in response.content.decode()
    pair.refresh_from_db()
    assert pair.state == PairState.PENDING
    client.post(f"/linkage/pairs/{pair.pk}/", {"decision": "reject",
                                               "decision_note": "Mother and daughter."})
    pair.refresh_from_db()
    assert pair.state == PairState.REJECTED and pair.decision_note == "Mother and daughter."
    assert not SamePersonLink.objects.exists()
    client.post(f"/linkage/pairs/{pair.pk}/", {"decision": "reopen"})
    pair.refresh_from_db()
    assert pair.state == PairState.PENDING


def test_deferring_keeps_the_pair_waiting(ngo_supervisor, own_pair):
    pair = review.defer_pair(ngo_supervisor, own_pair[0], "Ask the shelter first.")
    assert pair.state == PairState.DEFERRED
    assert list(review.review_queue(ngo_supervisor)) == [pair]


def test_it_validates_ownership(client, police_supervisor, ngo_supervisor, mixed_pair,
                               own_pair):
    """A supervisor sees only pairs of two persons whose cases their agency sees."""
    pair = mixed_pair[0]
    for supervisor in (police_supervisor, ngo_supervisor):
        as_user(client, supervisor)
        assert client.get(f"/linkage/pairs/{pair.pk}/").status_code == 404
        response = client.post(f"/linkage/pairs/{pair.pk}/", {"decision": "confirm"})
        assert response.status_code == 404
        assert f"/linkage/pairs/{pair.pk}/" not in client.get(QUEUE).content.decode()
    pair.refresh_from_db()
    assert pair.state == PairState.PENDING and not SamePersonLink.objects.exists()
    assert not AuditEntry.objects.filter(object_type="candidate_pair").exists()
    # The police supervisor does not see the NGO's own pair either.
    as_user(client, police_supervisor)
    assert client.get(f"/linkage/pairs/{own_pair[0].pk}/").status_code == 404


def test_a_caseworker_is_refused(client, caseworker, own_pair):
    as_user(client, caseworker)
    assert client.get(QUEUE).status_code == 403
    assert client.get(f"/linkage/pairs/{own_pair[0].pk}/").status_code == 404
    assert "Possible duplicates" not in client.get("/").content.decode()


def test_the_menu_offers_the_queue_to_reviewers(client, ngo_supervisor, coordinator):
    for user in (ngo_supervisor, coordinator):
        assert 'href="/linkage/"' in as_user(client, user).get("/").content.decode()


def test_the_coordinator_confirms_a_pair_with_a_case_of_its_office(
        coordinator, caseworker, coordination_caseworker):
    case, other = register_person(caseworker), register_person(coordination_caseworker)
    pair = review.confirm_pair(coordinator, propose(case, other))
    assert pair.state == PairState.CONFIRMED and pair.link.recorded_by == coordinator
    assert counted_person_id(Person.objects.get(pk=case.person_id)) == counted_person_id(
        Person.objects.get(pk=other.person_id))


def test_the_coordinator_confirms_a_pair_of_two_other_agencies(coordinator, mixed_pair):
    pair = review.confirm_pair(coordinator, mixed_pair[0])
    assert pair.state == PairState.CONFIRMED


def test_the_coordinator_decides_another_agencys_pair_without_its_names(
        client, coordinator, mixed_pair):
    pair = mixed_pair[0]
    persons = Person.objects.filter(pk__in=[pair.person_id, pair.other_person_id])
    as_user(client, coordinator)
    response = client.get(f"/linkage/pairs/{pair.pk}/")
    page = response.content.decode()
    assert response.status_code == 200 and "Birth year" in page
    for person in persons:
        assert person.given_name and person.given_name not in page
        assert person.family_name and person.family_name not in page


def test_an_analyst_sees_no_pair(client, ngo, own_pair):
    analyst = make_user(Role.ANALYST, ngo)
    as_user(client, analyst)
    assert client.get(QUEUE).status_code == 403
    assert client.get(f"/linkage/pairs/{own_pair[0].pk}/").status_code == 404


def test_the_coordinator_splits_a_pair_of_two_other_agencies_it_linked(
        client, coordinator, mixed_pair):
    """A link made from the queue is reversible by whoever made it, even between two
    agencies the coordinator does not belong to: the persons are counted apart again, the
    removal is audited with its reason, and the pair is never linked again."""
    pair, case, other = mixed_pair
    before = persons_counted()
    review.confirm_pair(coordinator, pair)
    assert persons_counted() == before - 1
    as_user(client, coordinator)
    response = client.post(f"/linkage/pairs/{pair.pk}/", {"decision": "split",
                                                          "decision_note": ""})
    assert response.status_code == 200  # the reason is required
    assert "reason" in response.content.decode().lower()
    response = client.post(f"/linkage/pairs/{pair.pk}/", {
        "decision": "split", "decision_note": "Different mothers' names in the files"})
    assert response.status_code == 302
    pair.refresh_from_db()
    assert pair.current_state == PairState.SPLIT
    assert persons_counted() == before
    assert AuditEntry.objects.filter(object_type="candidate_pair", object_ref=str(pair.pk),
                                     reason=PairState.SPLIT).exists()
    with pytest.raises(ValidationError):
        review.confirm_pair(coordinator, pair)
