"""The home page: what needs the signed-in user today."""

from datetime import date, timedelta

from django.utils import timezone

from opennrm.cases import services
from opennrm.cases.models import Case
from tests.factories import person_data
from tests.helpers import as_user, assert_no_inline_code


def worklist(response, key):
    return next(item for item in response.context["worklists"] if item.key == key)


def test_it_requires_login(client):
    response = client.get("/")
    assert response.status_code == 302 and response.url.startswith("/login/")


def test_it_lists_new_cases_assigned_to_me(client, caseworker, case):
    response = as_user(client, caseworker).get("/")
    assert response.status_code == 200
    assert worklist(response, "new").cases == [case]
    assert case.case_number in response.content.decode()
    assert "Elena" not in response.content.decode()
    assert_no_inline_code(response)


def test_a_case_stops_being_new_after_two_weeks(client, caseworker, case):
    Case.objects.filter(pk=case.pk).update(registered_at=timezone.now() - timedelta(days=15))
    assert worklist(as_user(client, caseworker).get("/"), "new").total == 0


def test_it_lists_cases_whose_consent_is_missing_until_it_is_given(client, caseworker, case):
    assert worklist(as_user(client, caseworker).get("/"), "consent").cases == [case]
    consent = services.record_consent(caseworker, case, "assistance", date(2026, 3, 2))
    assert worklist(client.get("/"), "consent").total == 0
    services.withdraw_consent(caseworker, consent, date(2026, 3, 3))
    assert worklist(client.get("/"), "consent").cases == [case]


def test_closed_cases_need_nothing(client, caseworker, case):
    services.close_case(caseworker, case, "assistance_completed")
    response = as_user(client, caseworker).get("/")
    assert all(item.total == 0 for item in response.context["worklists"])


def test_it_shows_only_my_own_cases_to_a_caseworker(client, caseworker, supervisor, case):
    services.register_case(supervisor, person_data(given_name="Ana"))
    response = as_user(client, caseworker).get("/")
    assert worklist(response, "new").total == 1
    assert {item.key for item in response.context["worklists"]} == {"new", "consent"}


def test_a_supervisor_sees_cases_nobody_is_assigned_to(client, supervisor, case):
    Case.objects.filter(pk=case.pk).update(assigned_to=None)
    response = as_user(client, supervisor).get("/")
    assert worklist(response, "unassigned").cases == [case]


def test_another_agency_sees_nothing_of_it(client, police_officer, case):
    response = as_user(client, police_officer).get("/")
    assert case.case_number not in response.content.decode()
    assert all(item.total == 0 for item in response.context["worklists"])


def test_roles_without_case_access_get_an_explanation(client, analyst, case):
    response = as_user(client, analyst).get("/")
    assert response.status_code == 200 and response.context["worklists"] == []
    assert case.case_number not in response.content.decode()
    assert "does not give access to individual cases" in response.content.decode()


def test_the_see_all_link_opens_the_same_selection_in_the_list(client, caseworker):
    services.register_cases(caseworker, [services.Registration(person_data())] * 10)
    response = as_user(client, caseworker).get("/")
    consent = worklist(response, "consent")
    assert consent.total == 10 and len(consent.cases) == 8
    listed = client.get(consent.list_url)
    assert listed.context["page"].paginator.count == 10
