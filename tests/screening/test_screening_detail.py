"""One screening (/cases/<number>/screenings/<id>/): whoever may see the case reads it, and
so do the decision-makers of the authority the case was referred to for formal
identification ("Open the screening" on the decision form). Nobody else: not the
authority's other staff, another authority, or the authority once the referral no longer
opens the case."""

from datetime import date

import pytest
from django.test import Client
from django.utils import timezone

from opennrm.accounts.models import Role
from opennrm.audit.models import AuditEntry
from opennrm.cases import access
from opennrm.cases import services as case_services
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

pytestmark = pytest.mark.usefixtures("test_list")


@pytest.fixture
def decider(police):
    return make_user(Role.SUPERVISOR, police, "police-supervisor")


@pytest.fixture
def screening(caseworker, case):
    return make_screening(caseworker, case, RECRUITED | EXPLOITED | COERCED)


@pytest.fixture
def referral(caseworker, case, screening, police):
    case_services.record_consent(caseworker, case, "referral", date(2026, 3, 2))
    service = make_agency_service(police, "Formal identification", "formal_identification")
    return referrals.refer_case(caseworker, case, service, ["gender"],
                                "Please decide formal identification.")


def _get(user, case, screening):
    client = Client()
    client.force_login(user)
    return client.get(f"/cases/{case.case_number}/screenings/{screening.pk}/")


def test_the_owning_agency_reads_it(caseworker, case, screening):
    response = _get(caseworker, case, screening)
    assert response.status_code == 200
    assert "Back to the case" in response.content.decode()


def test_the_decision_maker_of_a_pending_referral_reads_it(referral, decider, case,
                                                           screening):
    assert referral.state == "sent"
    response = _get(decider, case, screening)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Probable victim" in html
    # Not a way into the case: back to the decision, never to the case page.
    assert f'href="/cases/{case.case_number}/"' not in html
    assert f'href="/cases/{case.case_number}/identification/new/"' in html
    assert "Elena" not in html and "Popescu" not in html


def test_the_decision_makers_read_is_audited_with_its_reason(referral, decider, case,
                                                             screening):
    _get(decider, case, screening)
    entry = AuditEntry.objects.filter(actor_id=decider.pk, object_type="screening").get()
    assert entry.action == "read" and entry.object_ref == case.case_number
    assert entry.reason == "formal identification by referral"


def test_the_decision_form_links_to_a_screening_the_decision_maker_can_open(
        referral, decider, case, screening):
    client = Client()
    client.force_login(decider)
    form = client.get(f"/cases/{case.case_number}/identification/new/").content.decode()
    link = f'href="/cases/{case.case_number}/screenings/{screening.pk}/"'
    assert link in form
    assert client.get(f"/cases/{case.case_number}/screenings/{screening.pk}/").status_code \
        == 200


def test_it_validates_ownership(referral, police, case, screening):
    """The authority's caseworker (not a decision-maker) and another authority's
    decision-maker get 404, in the page and in the service."""
    officer = make_user(Role.CASEWORKER, police, "police-officer")
    elsewhere = make_user(Role.SUPERVISOR, make_agency("police-balti", "law_enforcement"),
                          "balti-supervisor")
    for user in (officer, elsewhere):
        assert _get(user, case, screening).status_code == 404
        with pytest.raises(access.CaseNotFound):
            services.read_screening(user, case, screening.pk)
    assert not AuditEntry.objects.filter(object_type="screening", action="read").exists()


def test_the_decision_maker_waits_for_acceptance_when_the_policy_says_accepted(
        settings, referral, decider, case, screening):
    settings.OPENNRM_IDENTIFICATION_QUEUE = "accepted"
    assert _get(decider, case, screening).status_code == 404
    referrals.accept_referral(decider, referral)
    assert _get(decider, case, screening).status_code == 200


@pytest.mark.parametrize("end", ["declined", "consent withdrawn", "decided and completed"])
def test_the_access_ends_with_the_referral(end, referral, decider, caseworker, case,
                                           screening):
    if end == "declined":
        referrals.decline_referral(decider, referral, "Not ours to decide.")
    elif end == "consent withdrawn":
        case_services.withdraw_consent(caseworker, case.consents.get(), date(2026, 3, 20))
    else:
        services.decide_identification(decider, case, "identified", timezone.localdate(),
                                       "Coercion confirmed.")
        referrals.accept_referral(decider, referral)
        referrals.record_assistance(decider, referral, "formal_identification",
                                    "Identification interview held.", timezone.localdate())
        referrals.complete_referral(decider, referral)
    assert _get(decider, case, screening).status_code == 404


def test_a_decision_maker_reads_no_screening_of_a_case_never_referred(decider, case,
                                                                      screening):
    assert _get(decider, case, screening).status_code == 404
