"""The decision-makers' queue (/identification/queue/): the cases waiting for a formal
identification decision, the longest waiting first, with filters by agency, waiting time and
age; cases referred to the authority for identification are on it as the node's policy
says (OPENNRM_IDENTIFICATION_QUEUE)."""

import itertools
import re
from datetime import date, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from opennrm.accounts.models import Role
from opennrm.cases import services as case_services
from opennrm.referrals import services as referrals
from opennrm.screening import services
from tests.factories import (
    COERCED,
    EXPLOITED,
    RECRUITED,
    make_agency_service,
    make_case,
    make_screening,
    make_user,
)

pytestmark = pytest.mark.usefixtures("test_list")

PROBABLE = RECRUITED | EXPLOITED | COERCED
QUEUE = "/identification/queue/"


def _days_ago(days: int) -> date:
    return timezone.localdate() - timedelta(days=days)


@pytest.fixture
def decider(police):
    return make_user(Role.SUPERVISOR, police, "police-supervisor")


@pytest.fixture
def identification(police):
    return make_agency_service(police, "Formal identification", "formal_identification")


_people = itertools.count(1)


def _screened(actor, days_ago: int, **person):
    """A case of `actor`'s agency screened a probable victim `days_ago` days ago (each a
    different person)."""
    person.setdefault("family_name", f"Test-{next(_people)}")
    case = make_case(actor, first_contact_on=_days_ago(days_ago + 1), **person)
    if case.is_child:
        services.record_screening(actor, case, "test-child", "1",
                                  dict.fromkeys(PROBABLE, ""), _days_ago(days_ago))
    else:
        make_screening(actor, case, PROBABLE, on=_days_ago(days_ago))
    return case


def _referred(caseworker, identification, days_ago: int, **person):
    case = _screened(caseworker, days_ago, **person)
    case_services.record_consent(caseworker, case, "referral", _days_ago(days_ago))
    referral = referrals.refer_case(caseworker, case, identification, ["gender"],
                                    "Please decide formal identification.")
    return case, referral


def _queue(user, query: str = "") -> str:
    client = Client()
    client.force_login(user)
    response = client.get(QUEUE + query)
    assert response.status_code == 200
    return response.content.decode()


def _numbers_in(html: str) -> list[str]:
    """The case numbers of the queue's rows, in their order."""
    return re.findall(r"<tr>\s*<td>(?:<a [^>]*>)?(MD-[0-9]{2}-[0-9A-Z]{8})", html)


# --- the node's policy ---------------------------------------------------------------------

def test_a_referred_case_is_on_the_queue_without_accepting(caseworker, identification,
                                                           decider):
    case, referral = _referred(caseworker, identification, 3)
    assert referral.state == "sent"
    html = _queue(decider)
    assert _numbers_in(html) == [case.case_number]
    assert "Referred for identification" in html
    assert f'href="/cases/{case.case_number}/identification/new/"' in html
    assert f'href="/cases/{case.case_number}/"' not in html  # not theirs to open


def test_a_referred_case_waits_for_acceptance_when_the_policy_says_accepted(
        settings, caseworker, identification, decider):
    settings.OPENNRM_IDENTIFICATION_QUEUE = "accepted"
    case, referral = _referred(caseworker, identification, 3)
    assert _numbers_in(_queue(decider)) == []
    referrals.accept_referral(decider, referral)
    assert _numbers_in(_queue(decider)) == [case.case_number]


def test_a_referral_whose_consent_was_withdrawn_leaves_the_queue(caseworker, identification,
                                                                 decider):
    case, _referral = _referred(caseworker, identification, 3)
    case_services.withdraw_consent(caseworker, case.consents.get(), timezone.localdate())
    assert _numbers_in(_queue(decider)) == []


# --- order ---------------------------------------------------------------------------------

def test_the_longest_waiting_comes_first(caseworker, identification, decider, police_officer):
    recent, _ = _referred(caseworker, identification, 2)
    oldest = _screened(police_officer, 40)
    middle, _ = _referred(caseworker, identification, 10)
    html = _queue(decider)
    assert _numbers_in(html) == [oldest.case_number, middle.case_number, recent.case_number]
    assert "40 days" in html and "10 days" in html and "2 days" in html


def test_pages_keep_the_filters(settings, caseworker, identification, decider, ngo,
                                monkeypatch):
    monkeypatch.setattr("opennrm.screening.views.QUEUE_PER_PAGE", 1)
    for days in (5, 6):
        _referred(caseworker, identification, days)
    html = _queue(decider, f"?agency={ngo.pk}")
    assert f"?agency={ngo.pk}&amp;page=2" in html


# --- filters -------------------------------------------------------------------------------

def test_it_filters_by_agency(caseworker, identification, decider, police_officer, ngo, police):
    referred, _ = _referred(caseworker, identification, 5)
    own = _screened(police_officer, 5)
    html = _queue(decider)
    # The filter offers the agencies whose cases are on the queue, by name.
    assert re.search(rf'<option value="{ngo.pk}">{ngo.name}</option>', html)
    assert re.search(rf'<option value="{police.pk}">{police.name}</option>', html)
    assert _numbers_in(_queue(decider, f"?agency={ngo.pk}")) == [referred.case_number]
    assert _numbers_in(_queue(decider, f"?agency={police.pk}")) == [own.case_number]


def test_the_agency_filter_never_widens_the_queue(caseworker, decider, ngo):
    """Filtering by an agency that did not refer a case shows none of its cases."""
    _screened(caseworker, 5)  # the NGO's, not referred
    html = _queue(decider, f"?agency={ngo.pk}")
    assert _numbers_in(html) == []
    assert "Choose an agency from the list." in html


def test_it_filters_by_waiting_time(caseworker, identification, decider):
    long_waiting, _ = _referred(caseworker, identification, 31)
    _referred(caseworker, identification, 30)
    _referred(caseworker, identification, 3)
    assert _numbers_in(_queue(decider, "?waiting_over=30")) == [long_waiting.case_number]
    assert len(_numbers_in(_queue(decider, "?waiting_over=0"))) == 3


def test_it_filters_children_and_adults(caseworker, identification, decider):
    adult, _ = _referred(caseworker, identification, 5)
    child, _ = _referred(caseworker, identification, 4, given_name="Ion",
                         birth_date=_days_ago(365 * 15))
    assert _numbers_in(_queue(decider, "?child=child")) == [child.case_number]
    assert _numbers_in(_queue(decider, "?child=adult")) == [adult.case_number]


def test_a_wrong_filter_is_explained_and_filters_nothing(caseworker, identification, decider):
    case, _ = _referred(caseworker, identification, 5)
    html = _queue(decider, "?waiting_over=many")
    assert "Give a number of days, such as 30." in html
    assert _numbers_in(html) == [case.case_number]


def test_filters_that_match_nothing_say_so(caseworker, identification, decider):
    _referred(caseworker, identification, 5)
    html = _queue(decider, "?waiting_over=100")
    assert "No case waiting for a formal identification decision matches these filters." in html


def test_the_service_filters_as_the_page_does(caseworker, identification, decider, ngo):
    case, _ = _referred(caseworker, identification, 8)
    assert list(services.awaiting_decision(decider, agency_id=ngo.pk, waiting_over=7,
                                           child=services.ADULTS)) == [case]
    assert list(services.awaiting_decision(decider, waiting_over=8)) == []
    assert services.agencies_awaiting_decision(decider) == [(ngo.pk, ngo.name)]


# --- who may see it --------------------------------------------------------------------------

def test_it_validates_ownership(caseworker, identification, police_officer):
    """A police caseworker (not a decision-maker) gets no queue; the NGO's caseworker
    neither."""
    _referred(caseworker, identification, 5)
    for user in (police_officer, caseworker):
        client = Client()
        client.force_login(user)
        assert client.get(QUEUE).status_code == 403
