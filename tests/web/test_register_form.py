"""The register form (issue 17): lists sorted in the user's language, place of first contact
and referral source, and every error at once in the caseworker's words."""

from django.utils import translation

from opennrm.cases.forms import CaseForm
from opennrm.cases.models import Case
from tests.helpers import as_user

URL = "/cases/new/"


def form_data(**overrides) -> dict:
    data = {"given_name": "Elena", "family_name": "Popescu", "gender": "female",
            "first_contact_on": "2026-03-02", "citizenships": ["MD"]}
    data.update(overrides)
    return data


def test_it_shows_every_error_at_once_in_the_services_words(client, caseworker):
    response = as_user(client, caseworker).post(URL, form_data(
        birth_year="1850", gender="", first_contact_on="", exploitation_started_on="2026-05-01",
        exploitation_ended_on="2026-04-01", phone="12"))
    errors = response.context["form"].errors
    assert set(errors) >= {"birth_year", "gender", "first_contact_on", "exploitation_ended_on",
                           "phone"}
    assert errors["birth_year"] == [errors["birth_year"][0]]
    assert errors["birth_year"][0].startswith("Enter a year between 1900 and")
    assert "greater than or equal" not in response.content.decode()
    assert Case.objects.count() == 0


def test_a_year_that_is_not_a_number_gets_the_services_message(client, caseworker):
    response = as_user(client, caseworker).post(URL, form_data(birth_year="19x4"))
    assert response.context["form"].errors["birth_year"] == ["Enter a year such as 1994."]


def test_first_contact_before_the_birth_is_shown_with_the_other_errors(client, caseworker):
    response = as_user(client, caseworker).post(URL, form_data(
        birth_date="2010-01-01", first_contact_on="2009-06-01", gender=""))
    errors = response.context["form"].errors
    assert "gender" in errors and "first_contact_on" in errors


def test_it_records_the_place_of_first_contact_and_the_referral_source(client, caseworker):
    response = as_user(client, caseworker).post(URL, form_data(
        first_contact_place="MD-BA", referral_source="consulate"))
    case = Case.objects.get()
    assert response.status_code == 302
    assert (case.first_contact_place, case.referral_source) == ("MD-BA", "consulate")
    page = client.get(f"/cases/{case.case_number}/").content.decode()
    assert "Bălți (municipality)" in page and "Consulate or embassy" in page


def test_an_unknown_place_is_refused(client, caseworker):
    response = as_user(client, caseworker).post(URL, form_data(first_contact_place="XX-99"))
    assert response.context["form"].errors["first_contact_place"]
    assert Case.objects.count() == 0


def test_countries_are_sorted_by_their_name_in_the_users_language(client, caseworker):
    as_user(client, caseworker)
    client.post("/language/", {"language": "uk"})
    content = client.get(URL).content.decode()
    # Ukrainian puts І between И and К (by code point it would come before А or after Я).
    assert content.index(">Естонія<") < content.index(">Ірландія<") < content.index(">Казахстан<")


def test_the_lists_are_sorted_in_english_too():
    with translation.override("en"):
        labels = [str(label) for _code, label in CaseForm().fields["citizenships"].choices]
    assert labels[:3] == ["Afghanistan", "Åland Islands", "Albania"]


def test_multiple_choices_are_marked_for_the_combobox(client, caseworker):
    content = as_user(client, caseworker).get(URL).content.decode()
    assert 'name="citizenships"' in content and "data-combobox" in content
    assert "data-combobox-hint" in content
