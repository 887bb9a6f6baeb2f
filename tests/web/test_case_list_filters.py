"""The case list's filters, sort order and HTMX partial."""

from datetime import date

import pytest

from opennrm.cases import services
from tests.factories import person_data
from tests.helpers import as_user

LIST = "/cases/"


@pytest.fixture
def cases(caseworker):
    """Three cases: an adult in forced labour, a child in sexual exploitation, a closed one."""
    adult = services.register_case(caseworker, person_data(first_contact_on=date(2025, 5, 1)))
    child = services.register_case(caseworker, person_data(
        given_name="Ana", birth_date=date(2011, 2, 3), first_contact_on=date(2026, 1, 10),
        exploitation_forms=["sexual_exploitation"], labour_sector=""))
    closed = services.register_case(caseworker, person_data(
        given_name="Ion", first_contact_on=date(2024, 9, 9)))
    services.close_case(caseworker, closed, "assistance_completed")
    return adult, child, closed


def listed(client, **filters) -> list[str]:
    response = client.get(LIST, filters)
    assert response.status_code == 200
    return [case.case_number for case in response.context["page"].object_list]


def test_it_filters_by_status(client, caseworker, cases):
    adult, child, closed = cases
    as_user(client, caseworker)
    assert set(listed(client, status="open")) == {adult.case_number, child.case_number}
    assert listed(client, status="closed") == [closed.case_number]


def test_it_filters_by_age_band_and_children(client, caseworker, cases):
    adult, child, _closed = cases
    as_user(client, caseworker)
    assert listed(client, age_band="child") == [child.case_number]
    assert listed(client, age_band=adult.age_band) == [
        c.case_number for c in cases if c.age_band == adult.age_band][::-1]


def test_it_filters_by_form_of_exploitation(client, caseworker, cases):
    _adult, child, _closed = cases
    as_user(client, caseworker)
    assert listed(client, exploitation_form="sexual_exploitation") == [child.case_number]
    assert len(listed(client, exploitation_form="forced_labour")) == 2
    assert listed(client, exploitation_form="organ_removal") == []


def test_it_filters_by_date_of_first_contact(client, caseworker, cases):
    adult, child, closed = cases
    as_user(client, caseworker)
    assert listed(client, first_contact_from="2025-01-01", first_contact_to="2025-12-31") == [
        adult.case_number]
    assert set(listed(client, first_contact_from="2025-01-01")) == {
        adult.case_number, child.case_number}


def test_an_impossible_date_range_is_explained(client, caseworker, cases):
    response = as_user(client, caseworker).get(LIST, {"first_contact_from": "2026-01-01",
                                                      "first_contact_to": "2025-01-01"})
    assert "The end date is before the start date." in response.content.decode()
    # The part that makes sense (from 2026-01-01) still applies; the impossible end does not.
    assert [c.case_number for c in response.context["page"].object_list] == [
        cases[1].case_number]


def test_an_unknown_filter_value_is_refused_not_ignored_silently(client, caseworker, cases):
    response = as_user(client, caseworker).get(LIST, {"exploitation_form": "nonsense"})
    assert "Select a valid choice" in response.content.decode()


def test_it_sorts_and_reverses(client, caseworker, cases):
    adult, child, closed = cases
    as_user(client, caseworker)
    oldest_first = [closed.case_number, adult.case_number, child.case_number]
    assert listed(client, sort="first_contact") == oldest_first
    assert listed(client, sort="-first_contact") == oldest_first[::-1]
    content = client.get(LIST, {"sort": "first_contact"}).content.decode()
    assert 'aria-sort="ascending"' in content and "sort=-first_contact" in content


def test_filters_narrow_but_never_widen_what_a_user_sees(client, police_officer, cases):
    as_user(client, police_officer)
    assert listed(client) == []
    assert listed(client, status="open", assigned="nobody") == []


def test_assigned_to_me_and_consent_missing(client, caseworker, supervisor, cases):
    adult, child, _closed = cases
    services.record_consent(caseworker, adult, "assistance", date(2026, 3, 2))
    as_user(client, caseworker)
    assert listed(client, status="open", consent="missing") == [child.case_number]
    other = services.register_case(supervisor, person_data(given_name="Vera"))
    assert other.case_number not in listed(client, assigned="me")
    assert other.case_number in listed(client)


def test_htmx_gets_only_the_results(client, caseworker, cases):
    response = as_user(client, caseworker).get(
        LIST, {"status": "closed"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="case-results")
    content = response.content.decode()
    assert content.startswith('<div id="case-results"') and "<html" not in content
    assert cases[2].case_number in content and cases[0].case_number not in content


def test_a_filtered_page_shows_what_it_is_filtered_by(client, caseworker, cases):
    content = as_user(client, caseworker).get(LIST, {"status": "closed"}).content.decode()
    assert "1 case" in content and "filtered by" in content and "Status: Closed" in content


def test_no_filter_puts_personal_data_in_the_url(client, caseworker, cases):
    content = as_user(client, caseworker).get(LIST).content.decode()
    for name in ("given_name", "family_name", "birth_date"):
        assert f'name="{name}"' in content
    assert 'method="get" action="/cases/" class="filters"' in content
    form_start = content.index('class="filters"')
    assert "given_name" not in content[form_start:content.index("</form>", form_start)]


def test_it_stays_on_few_queries_with_many_cases(client, caseworker, django_assert_max_num_queries):
    services.register_cases(caseworker, [services.Registration(person_data())] * 60)
    as_user(client, caseworker).get(LIST)  # session and user warm-up
    # 10: the page's queries, plus one for the names of the page's persons (the name labels)
    # and one for the audit entry of showing them; the same for 60 cases as for 6.
    with django_assert_max_num_queries(10):
        client.get(LIST, {"status": "open", "sort": "-first_contact"})
