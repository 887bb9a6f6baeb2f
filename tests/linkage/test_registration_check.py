"""A new registration is scored against the register before it is saved: a person the
registering user may see is shown (case number, probability, agreeing fields) until they
confirm it is a new person; another agency's person is never shown or counted to them, and
waits for the coordinator's review as a pair once the case is saved."""
# Fixtures imported from tests.linkage.node (and tests.e2e.browser) come back as arguments.
# ruff: noqa: F811

import time

from opennrm.audit.models import AuditEntry
from opennrm.cases import views
from opennrm.cases.models import Case, Person
from opennrm.linkage.models import CandidatePair, Origin, PairState
from opennrm.linkage.registration import check_registration
from tests.factories import person_data
from tests.helpers import as_user
from tests.linkage.node import register as filled_register  # noqa: F401 - a fixture
from tests.linkage.node import register_person

URL = "/cases/new/"
PANEL = "The linkage model finds these cases alike"


def form_data(**overrides) -> dict:
    """Elena Popescu as typed on the form, under her married name: the person search (name
    and birth date, here with day and month swapped) does not call her a duplicate; her
    passport and phone tell the model."""
    data = {"given_name": "Elena", "family_name": "Ionescu", "birth_date": "1998-12-04",
            "gender": "female", "citizenships": ["MD"], "phone": "+373 69 123 456",
            "identity_documents_0": "passport", "identity_documents_1": "AB1234567",
            "identity_documents_2": "MD",
            "first_contact_on": "2026-03-02", "exploitation_forms": ["forced_labour"]}
    data.update(overrides)
    return data


def test_a_match_the_user_may_see_is_shown_until_confirmed(client, caseworker,
                                                          filled_register):
    known = register_person(caseworker)
    response = as_user(client, caseworker).post(URL, form_data())
    content = response.content.decode()
    assert response.status_code == 200 and PANEL in content
    assert known.case_number in content and "Document number" in content
    assert Case.objects.count() == 31  # nothing saved yet
    # "None of them: register a new person" answers the person search's panel and this one.
    response = client.post(URL, form_data(new_person="1"))
    assert response.status_code == 302 and Case.objects.count() == 32
    # Seen and answered by the registrant: nothing is queued for review.
    assert not CandidatePair.objects.exists()


def test_alone_the_panel_asks_to_tick_the_box(client, caseworker, filled_register,
                                              monkeypatch):
    # The person search finds no one (a name it would not call alike): only the model's panel.
    monkeypatch.setattr(views, "_possible_duplicates", lambda user, data: [])
    known = register_person(caseworker)
    as_user(client, caseworker)
    content = client.post(URL, form_data()).content.decode()
    assert PANEL in content and known.case_number in content
    assert "I checked these cases: register a new person" in content
    response = client.post(URL, form_data(matches_shown="1"))
    assert "Tick the box once you checked these cases" in response.content.decode()
    assert Case.objects.count() == 31
    response = client.post(URL, form_data(matches_shown="1", new_person="1"))
    assert response.status_code == 302 and Case.objects.count() == 32


def test_another_agencys_match_is_not_shown_but_queued(client, caseworker, police_officer,
                                                      filled_register):
    known = register_person(caseworker)
    response = as_user(client, police_officer).post(URL, form_data())
    assert response.status_code == 302  # saved at once: nothing to show
    new = Case.objects.get(case_number=response.url.strip("/").rsplit("/", 1)[1])
    assert new.owner_agency == police_officer.agency
    pair = CandidatePair.objects.get()
    assert {pair.person_id, pair.other_person_id} == {known.person_id, new.person_id}
    assert pair.origin == Origin.REGISTRATION and pair.state == PairState.PENDING
    assert pair.match_probability >= 0.8
    page = client.get(response.url).content.decode()
    assert known.case_number not in page and PANEL not in page
    assert AuditEntry.objects.filter(object_type="candidate_pair", action="create").exists()


def test_a_registration_like_no_one_is_saved_at_once(client, caseworker, filled_register):
    response = as_user(client, caseworker).post(URL, form_data(
        given_name="Tatiana", family_name="Grosu", birth_date="1960-10-10",
        identity_documents_1="ZZ7654321", phone="+373 79 000 111"))
    assert response.status_code == 302 and not CandidatePair.objects.exists()


def test_a_decided_pair_is_not_queued_again(caseworker, police_officer, filled_register):
    known, again = register_person(caseworker), register_person(police_officer)
    first, second = sorted((known.person_id, again.person_id))
    CandidatePair.objects.create(person_id=first, other_person_id=second, origin=Origin.RUN,
                                 match_probability=0.99, match_weight=9.0,
                                 state=PairState.REJECTED)
    check = check_registration(police_officer, person_data())
    assert [match.case_numbers for match in check.matches] == [(again.case_number,)]
    check.record(again)
    assert CandidatePair.objects.get().state == PairState.REJECTED


def test_the_check_is_quick_on_a_small_register(caseworker, filled_register):
    register_person(caseworker)
    started = time.perf_counter()
    check = check_registration(caseworker, person_data())
    seconds = time.perf_counter() - started
    assert len(check.matches) == 1 and "Given name" in check.matches[0].agreeing
    assert seconds < 10, f"scoring one registration took {seconds:.1f} s"
    assert Person.objects.count() == 31
