from opennrm.audit.models import AuditEntry
from opennrm.cases import services
from opennrm.cases.models import Case
from tests.helpers import as_user, assert_no_inline_code


def url(case) -> str:
    return f"/cases/{case.case_number}/edit/"


def unchanged_form(client, case) -> dict:
    """The edit form's fields as the page fills them, ready to post back."""
    data = {}
    for field in client.get(url(case)).context["form"]:
        value = field.value()
        if field.name == "identity_documents":
            data.update({f"identity_documents_{i}": part for i, part in enumerate(value)})
        elif value is True:
            data[field.name] = "on"
        elif value not in (None, False):
            data[field.name] = value
    return data


def test_it_shows_the_case_filled_in(client, caseworker, case):
    response = as_user(client, caseworker).get(url(case))
    assert response.status_code == 200
    content = response.content.decode()
    assert 'value="Elena"' in content and 'value="1998-04-12"' in content
    assert 'value="AB1234567"' in content
    assert_no_inline_code(response)


def test_it_saves_only_the_changed_fields(client, caseworker, case):
    as_user(client, caseworker)
    data = unchanged_form(client, case)
    data["phone"] = "+37369000000"
    response = client.post(url(case), data)
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.person.phone == "+37369000000"
    entry = AuditEntry.objects.filter(action="update", object_ref=case.case_number).get()
    assert entry.fields == ["phone"] and entry.channel == "web"


def test_bad_input_keeps_what_was_typed(client, caseworker, case):
    as_user(client, caseworker)
    data = unchanged_form(client, case)
    data.update(phone="+37369000000", exploitation_started_on="2026-02-01",
                exploitation_ended_on="2026-01-01")
    response = client.post(url(case), data)
    assert response.status_code == 200
    assert response.context["form"].errors["exploitation_ended_on"]
    assert 'value="+37369000000"' in response.content.decode()
    case.refresh_from_db()
    assert case.person.phone == "+37369123456"


def test_it_validates_ownership(client, police_officer, case):
    as_user(client, police_officer)
    response = client.get(url(case))
    assert response.status_code == 404 and "Popescu" not in response.content.decode()
    response = client.post(url(case), {"given_name": "Mallory", "gender": "female",
                                       "first_contact_on": "2026-03-02"})
    assert response.status_code == 404
    assert Case.objects.get().person.given_name == "Elena"


def test_a_closed_case_is_not_edited(client, caseworker, case):
    services.close_case(caseworker, case, "lost_contact")
    as_user(client, caseworker)
    assert b"This case is closed" in client.get(url(case)).content
    response = client.post(url(case), {"phone": "1", "gender": "female",
                                       "first_contact_on": "2026-03-02"})
    assert b"closed" in response.content
    case.refresh_from_db()
    assert case.person.phone == "+37369123456"
