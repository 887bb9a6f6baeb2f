"""Who sees criminal cases: the agency in charge and the agencies it shared the case with,
their investigators, prosecutors and supervisors; no one else, and a case they may not see
answers as one that does not exist."""

from datetime import date

import pytest
from django.test import Client
from django.urls import reverse

from opennrm.accounts.models import Role
from opennrm.justice import access, services
from tests.factories import make_agency, make_user

# Everyone who is not police or prosecution staff: (role, agency type or None).
OUTSIDERS = [
    (Role.CASEWORKER, "ngo"),
    (Role.SUPERVISOR, "ngo"),
    (Role.CASEWORKER, "social_services"),
    (Role.CASEWORKER, "labour_inspection"),
    (Role.ANALYST, "ngo"),
    (Role.ANALYST, "law_enforcement"),
    (Role.AUDITOR, None),
    (Role.ADMINISTRATOR, "ngo"),
    (Role.ADMINISTRATOR, "law_enforcement"),
    (Role.NATIONAL_COORDINATOR, "central_government"),
    (Role.NATIONAL_COORDINATOR, "law_enforcement"),
]


def _pages(criminal_case, suspect) -> list[str]:
    pk = criminal_case.pk
    return [reverse("criminal-case", args=[pk]),
            reverse("suspect-detail", args=[pk, suspect.pk]),
            reverse("suspect-new", args=[pk]),
            reverse("cooperation-request-new", args=[pk])]


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _listed(user) -> list:
    return list(services.criminal_cases_for(user))


@pytest.mark.parametrize(("role", "agency_type"), OUTSIDERS,
                         ids=[f"{role}-{kind}" for role, kind in OUTSIDERS])
def test_outsiders_see_no_criminal_case(role, agency_type, criminal_case, suspect):
    agency = make_agency(f"agency-{agency_type}", agency_type) if agency_type else None
    outsider = make_user(role, agency)
    assert not access.works_on_criminal_cases(outsider)
    assert _listed(outsider) == []
    with pytest.raises(access.CriminalCaseNotFound):
        services.read_criminal_case(outsider, criminal_case.pk)
    client = _client(outsider)
    response = client.get(reverse("criminal-case-list"))
    assert response.status_code == 200
    assert "No criminal case." in response.content.decode()
    assert f"Criminal case {criminal_case.pk}<" not in response.content.decode()
    for url in _pages(criminal_case, suspect):
        assert client.get(url).status_code == 404, url
    assert client.get(reverse("criminal-case-new")).status_code == 403


def test_an_investigator_of_another_police_agency_sees_it_only_while_shared(
        police_officer, criminal_case, suspect, other_officer, other_police):
    client = _client(other_officer)
    assert _listed(other_officer) == []
    assert all(client.get(url).status_code == 404 for url in _pages(criminal_case, suspect))

    share = services.share_criminal_case(police_officer, criminal_case, other_police.code)
    assert _listed(other_officer) == [criminal_case]
    assert all(client.get(url).status_code == 200 for url in _pages(criminal_case, suspect))

    services.withdraw_share(police_officer, share)
    assert _listed(other_officer) == []
    assert all(client.get(url).status_code == 404 for url in _pages(criminal_case, suspect))


def test_the_supervisor_of_the_agency_in_charge_sees_it(police, criminal_case):
    supervisor = make_user(Role.SUPERVISOR, police)
    assert _listed(supervisor) == [criminal_case]
    assert access.is_in_charge(supervisor, criminal_case)


def test_a_deactivated_investigator_sees_nothing(police_officer, criminal_case):
    police_officer.is_active = False
    police_officer.save()
    assert _listed(police_officer) == []


def test_only_the_agency_in_charge_shares_from_the_page(police_officer, criminal_case,
                                                        prosecutor, prosecution,
                                                        other_police):
    services.share_criminal_case(police_officer, criminal_case, prosecution.code)
    client = _client(prosecutor)
    page = client.get(reverse("criminal-case", args=[criminal_case.pk]))
    assert page.status_code == 200
    assert "Share the case" not in page.content.decode()
    answer = client.post(reverse("criminal-case-share", args=[criminal_case.pk]),
                         {"share-agency": other_police.code})
    assert answer.status_code == 403
    share = criminal_case.shares.get()
    answer = client.post(reverse("criminal-case-share-withdraw",
                                 args=[criminal_case.pk, share.pk]))
    assert answer.status_code == 403
    assert list(criminal_case.shares.values_list("agency__code", flat=True)) == [
        prosecution.code]


def test_a_shared_agency_records_stages_like_the_agency_in_charge(police_officer,
                                                                  criminal_case, prosecutor,
                                                                  prosecution):
    services.share_criminal_case(police_officer, criminal_case, prosecution.code)
    answer = _client(prosecutor).post(
        reverse("criminal-case-stage-new", args=[criminal_case.pk]),
        {"stage-stage": "indictment", "stage-reached_on": "2026-05-02"})
    assert answer.status_code == 302
    criminal_case.refresh_from_db()
    assert criminal_case.stage == "indictment"


def test_a_person_of_another_criminal_case_is_not_found_under_this_one(
        police_officer, criminal_case, suspect, other_officer):
    own = services.open_criminal_case(other_officer, "B-1", "thb", date(2026, 3, 1))
    client = _client(other_officer)
    assert client.get(reverse("suspect-detail", args=[own.pk, suspect.pk])).status_code == 404
    answer = client.post(reverse("suspect-indictment", args=[own.pk, suspect.pk]),
                         {"indictment-prosecuted_on": "2026-05-01"})
    assert answer.status_code == 404
    suspect.refresh_from_db()
    assert suspect.prosecuted_on is None
