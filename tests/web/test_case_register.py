import re

from opennrm.audit.models import AuditEntry
from opennrm.cases.models import Case, Person
from tests.helpers import as_user, assert_no_inline_code

URL = "/cases/new/"


def form_data(**overrides) -> dict:
    data = {
        "given_name": "Elena", "family_name": "Popescu", "aliases": "Lena\nEla",
        "birth_date": "1998-04-12", "gender": "female", "citizenships": ["MD"],
        "languages": ["ro", "ru"], "phone": "+37369123456", "address": "Chișinău",
        "identity_documents_0": "passport", "identity_documents_1": "AB1234567",
        "identity_documents_2": "MD",
        "first_contact_on": "2026-03-02", "exploitation_forms": ["forced_labour"],
        "labour_sector": "A", "exploitation_countries": ["RU"],
        "notes": "Met at the bus station.",
    }
    data.update(overrides)
    return data


def test_it_shows_the_form(client, caseworker):
    response = as_user(client, caseworker).get(URL)
    assert response.status_code == 200
    content = response.content.decode()
    assert 'name="csrfmiddlewaretoken"' in content
    assert '<option value="forced_labour">Forced labour</option>' in content
    assert '<option value="MD">Moldova, Republic of</option>' in content
    assert_no_inline_code(response)


def test_every_control_has_a_label(client, caseworker):
    content = as_user(client, caseworker).get(URL).content.decode()
    ids = re.findall(r'<(?:input|select|textarea)[^>]*\bid="([^"]+)"', content)
    assert ids
    for control_id in ids:
        assert f'for="{control_id}"' in content, control_id


def test_it_works(client, caseworker):
    response = as_user(client, caseworker).post(URL, form_data())
    case = Case.objects.get()
    assert response.status_code == 302 and response.url == f"/cases/{case.case_number}/"
    assert case.owner_agency == caseworker.agency
    assert case.person.aliases == ["Lena", "Ela"]
    assert case.person.identity_documents == [
        {"document_type": "passport", "number": "AB1234567", "country": "MD"}]
    assert case.exploitation_forms == ["forced_labour"]
    assert AuditEntry.objects.filter(action="create", object_ref=case.case_number,
                                     channel="web").exists()


def test_bad_input_re_renders_with_field_errors_and_creates_nothing(client, caseworker):
    response = as_user(client, caseworker).post(URL, form_data(
        gender="", first_contact_on="", birth_date="2090-01-01",
        identity_documents_1="", notes="Keep this text"))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "gender" in errors and "first_contact_on" in errors and "birth_date" in errors
    assert "identity_documents" in errors
    content = response.content.decode()
    assert "There is a problem" in content and "Choose a gender" in content
    assert "Keep this text" in content and 'value="Elena"' in content
    assert Case.objects.count() == Person.objects.count() == 0
    assert not AuditEntry.objects.exists()
    assert_no_inline_code(response)


def test_an_unparseable_date_is_refused_next_to_the_field(client, caseworker):
    response = as_user(client, caseworker).post(URL, form_data(first_contact_on="2026-13-40"))
    assert response.context["form"].errors["first_contact_on"]
    assert 'value="2026-13-40"' in response.content.decode()
    assert Case.objects.count() == 0


def test_roles_that_cannot_register_are_refused(client, analyst):
    assert as_user(client, analyst).get(URL).status_code == 403
    assert client.post(URL, form_data()).status_code == 403
    assert Case.objects.count() == 0


def test_it_requires_login(client, db):
    assert client.get(URL).status_code == 302
