"""The competent authority decides formal identification of a case another agency owns,
when that agency referred the person to it for identification (with consent): as soon as it
is referred, or once the authority accepted it, as the node's policy says
(OPENNRM_IDENTIFICATION_QUEUE, "referred" by default).

The NGO that met the person keeps the case; the police (or a commission) decide; the
decision sets the victim status on the NGO's case. Without such a referral in force, the
authority cannot see or decide the case at all.
"""

from datetime import date

import pytest
from django.test import Client

from opennrm.accounts.models import Role
from opennrm.cases import access
from opennrm.cases import services as case_services
from opennrm.cases.models import Case
from opennrm.referrals import services as referrals
from opennrm.screening import services
from tests.factories import (
    COERCED,
    EXPLOITED,
    RECRUITED,
    make_agency,
    make_agency_service,
    make_screening,
    make_user,
)
from tests.helpers import ApiClient

pytestmark = pytest.mark.usefixtures("test_list")


@pytest.fixture
def decider(police):
    # The default configuration names police supervisors as deciders.
    return make_user(Role.SUPERVISOR, police, "police-supervisor")


@pytest.fixture
def screened(caseworker, case):
    make_screening(caseworker, case, RECRUITED | EXPLOITED | COERCED)
    return case


@pytest.fixture
def identification_referral(caseworker, screened, police):
    case_services.record_consent(caseworker, screened, "referral", date(2026, 3, 2))
    service = make_agency_service(police, "Formal identification", "formal_identification")
    return referrals.refer_case(caseworker, screened, service, ["gender", "needs"],
                                "Presumed victim of forced labour: please decide.")


@pytest.fixture
def accepted(identification_referral, decider):
    return referrals.accept_referral(decider, identification_referral)


def _decide(user, case):
    return services.decide_identification(user, case, "identified", date(2026, 4, 1),
                                          "Indicators of coercion confirmed at interview.")


def test_the_authority_decides_a_case_referred_to_it(accepted, decider, screened):
    assert list(services.awaiting_decision(decider)) == [screened]
    _decide(decider, screened)
    screened.refresh_from_db()
    assert screened.victim_status == "identified"
    assert screened.victim_status_decided_by_agency == decider.agency
    # The decision is the only thing the authority gets: the case stays the NGO's.
    with pytest.raises(access.CaseNotFound):
        access.get_visible_case(decider, screened.case_number)


def test_a_referral_opens_the_case_to_the_authority_as_soon_as_it_is_sent(
        identification_referral, decider, screened):
    assert identification_referral.state == "sent"
    assert list(services.awaiting_decision(decider)) == [screened]
    _decide(decider, screened)
    assert Case.objects.get(pk=screened.pk).victim_status == "identified"


def test_a_referral_not_yet_accepted_gives_nothing_when_the_policy_says_accepted(
        settings, identification_referral, decider, screened):
    settings.OPENNRM_IDENTIFICATION_QUEUE = "accepted"
    assert list(services.awaiting_decision(decider)) == []
    with pytest.raises(access.CaseAccessDenied):
        _decide(decider, screened)
    assert Case.objects.get(pk=screened.pk).victim_status == "presumed"
    referrals.accept_referral(decider, identification_referral)
    assert list(services.awaiting_decision(decider)) == [screened]


def test_a_declined_referral_gives_nothing(identification_referral, decider, screened):
    referrals.decline_referral(decider, identification_referral, "Not ours to decide.")
    assert list(services.awaiting_decision(decider)) == []
    with pytest.raises(access.CaseAccessDenied):
        _decide(decider, screened)


def test_a_referral_for_another_service_gives_nothing(caseworker, screened, police, decider):
    case_services.record_consent(caseworker, screened, "referral", date(2026, 3, 2))
    legal = make_agency_service(police, "Victim support unit", "legal_aid")
    referrals.accept_referral(decider, referrals.refer_case(caseworker, screened, legal))
    assert list(services.awaiting_decision(decider)) == []
    with pytest.raises(access.CaseAccessDenied):
        _decide(decider, screened)


def test_withdrawn_consent_ends_the_authoritys_access(accepted, caseworker, decider, screened):
    consent = screened.consents.get()
    case_services.withdraw_consent(caseworker, consent, date(2026, 3, 20))
    assert list(services.awaiting_decision(decider)) == []
    with pytest.raises(access.CaseAccessDenied):
        _decide(decider, screened)


def test_an_authority_may_not_set_other_statuses(accepted, decider, screened):
    with pytest.raises(access.CaseNotFound):
        case_services.decide_victim_status(decider, screened, "presumed", date(2026, 4, 1))


def test_a_non_decider_of_the_authority_cannot_decide(accepted, police, screened):
    officer = make_user(Role.CASEWORKER, police, "police-officer")
    with pytest.raises(access.CaseAccessDenied):
        _decide(officer, screened)


def test_the_decision_page_and_queue_work_for_the_referred_authority(accepted, decider,
                                                                       screened):
    client = Client()
    client.force_login(decider)
    queue = client.get("/identification/queue/").content.decode()
    assert screened.case_number in queue
    assert f'href="/cases/{screened.case_number}/"' not in queue  # not theirs to open
    page = client.get(f"/cases/{screened.case_number}/identification/new/")
    assert page.status_code == 200
    assert "Elena" not in page.content.decode()
    response = client.post(f"/cases/{screened.case_number}/identification/new/", {
        "decision": "identified", "decided_on": "2026-04-01",
        "grounds": "Coercion confirmed.", "appeal": ""})
    assert response.status_code == 302 and response.url == "/identification/queue/"
    assert Case.objects.get(pk=screened.pk).victim_status == "identified"


def test_it_validates_ownership(settings, identification_referral, police, screened):
    """Before acceptance where the policy waits for it, and for agencies the case was not
    referred to, the decision page and the API answer 404."""
    settings.OPENNRM_IDENTIFICATION_QUEUE = "accepted"
    decider = make_user(Role.SUPERVISOR, police, "police-supervisor-2")
    client = Client()
    client.force_login(decider)
    assert client.get(f"/cases/{screened.case_number}/identification/new/").status_code == 404
    response = ApiClient(decider).post(
        f"/api/cases/{screened.case_number}/identification-decisions",
        {"decision": "identified", "decided_on": "2026-04-01", "grounds": "x"})
    assert response.status_code == 404


def test_the_api_decision_works_for_the_referred_authority(accepted, decider, screened):
    response = ApiClient(decider).post(
        f"/api/cases/{screened.case_number}/identification-decisions",
        {"decision": "identified", "decided_on": "2026-04-01", "grounds": "Confirmed."})
    assert response.status_code == 201, response.content
    assert Case.objects.get(pk=screened.pk).victim_status == "identified"


def test_another_authority_gets_nothing(identification_referral, screened):
    elsewhere = make_agency("police-balti", "law_enforcement")
    decider = make_user(Role.SUPERVISOR, elsewhere, "balti-supervisor")
    assert list(services.awaiting_decision(decider)) == []
    client = Client()
    client.force_login(decider)
    assert client.get(f"/cases/{screened.case_number}/identification/new/").status_code == 404


# --- deciding from the referral page ---------------------------------------------------------

DECIDE_LINK = "Decide formal identification"


def _referral_page(user, referral) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(f"/referrals/{referral.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def test_the_decision_maker_decides_from_the_referral(identification_referral, decider,
                                                       screened):
    page = _referral_page(decider, identification_referral)
    assert DECIDE_LINK in page
    assert f'href="/cases/{screened.case_number}/identification/new/"' in page


def test_the_referral_asks_to_accept_first_when_the_policy_says_accepted(
        settings, identification_referral, decider):
    settings.OPENNRM_IDENTIFICATION_QUEUE = "accepted"
    page = _referral_page(decider, identification_referral)
    assert DECIDE_LINK not in page
    assert "Accept the referral to record the formal identification decision." in page
    referrals.accept_referral(decider, identification_referral)
    assert DECIDE_LINK in _referral_page(decider, identification_referral)


def test_only_decision_makers_of_the_recipient_see_the_decide_link(
        identification_referral, police, caseworker):
    officer = make_user(Role.CASEWORKER, police, "police-officer")
    assert DECIDE_LINK not in _referral_page(officer, identification_referral)
    assert DECIDE_LINK not in _referral_page(caseworker, identification_referral)


def test_a_referral_for_another_service_has_no_decide_link(caseworker, screened, police,
                                                           decider):
    case_services.record_consent(caseworker, screened, "referral", date(2026, 3, 2))
    legal = make_agency_service(police, "Victim support unit", "legal_aid")
    referral = referrals.refer_case(caseworker, screened, legal)
    assert DECIDE_LINK not in _referral_page(decider, referral)
