import pytest

from opennrm.audit.models import AuditEntry
from opennrm.cases import services
from tests.helpers import as_user, assert_no_inline_code


def url(case) -> str:
    return f"/cases/{case.case_number}/"


def test_it_works(client, caseworker, case):
    response = as_user(client, caseworker).get(url(case))
    assert response.status_code == 200
    content = response.content.decode()
    assert "Presumed victim" in content and "Forced labour" in content
    for stage in ("Identification", "Assistance", "Protection", "Proceedings", "Closure"):
        assert f">{stage}</h2>" in content
    assert_no_inline_code(response)


def test_the_identity_is_masked_until_shown(client, caseworker, case):
    content = as_user(client, caseworker).get(url(case)).content.decode()
    assert "Elena" not in content and "Popescu" not in content and "AB1234567" not in content
    assert "Show identity" in content
    response = client.post(f"{url(case)}identity/")
    content = response.content.decode()
    assert "Elena Popescu" in content and "AB1234567" in content
    assert response["Cache-Control"] == "no-store"


def test_showing_the_identity_with_htmx_returns_only_the_panel(client, caseworker, case):
    response = as_user(client, caseworker).post(f"{url(case)}identity/", HTTP_HX_REQUEST="true")
    content = response.content.decode()
    assert content.startswith('<section id="identity"') and "Elena Popescu" in content
    hidden = client.get(f"{url(case)}identity/", HTTP_HX_REQUEST="true").content.decode()
    assert "Elena" not in hidden and "Show identity" in hidden


def test_a_read_is_audited_without_the_masked_identity(client, caseworker, case):
    as_user(client, caseworker).get(url(case))
    entry = AuditEntry.objects.get(action="read", object_ref=case.case_number)
    assert entry.channel == "web" and entry.actor_id == caseworker.pk
    assert "given_name" not in entry.fields and "exploitation_forms" in entry.fields
    assert not AuditEntry.objects.filter(action="reveal").exists()


def test_showing_the_identity_is_audited(client, caseworker, case):
    as_user(client, caseworker).post(f"{url(case)}identity/")
    entry = AuditEntry.objects.get(action="reveal", object_ref=case.case_number)
    assert entry.actor_id == caseworker.pk and entry.channel == "web"
    assert "given_name" in entry.fields and "identity_documents" in entry.fields


def test_another_agency_cannot_show_the_identity(client, police_officer, case):
    response = as_user(client, police_officer).post(f"{url(case)}identity/")
    assert response.status_code == 404 and "Popescu" not in response.content.decode()
    assert not AuditEntry.objects.filter(action="reveal").exists()


def test_it_validates_ownership(client, police_officer, case):
    response = as_user(client, police_officer).get(url(case))
    assert response.status_code == 404
    content = response.content.decode()
    assert "Popescu" not in content and case.case_number not in content
    assert not AuditEntry.objects.filter(action="read").exists()


@pytest.mark.parametrize("role", ["analyst", "auditor", "administrator"])
def test_roles_without_case_access_get_no_case_and_no_identity(client, case, role, request):
    response = as_user(client, request.getfixturevalue(role)).get(url(case))
    assert response.status_code == 404
    assert "Popescu" not in response.content.decode()


@pytest.mark.parametrize("role", ["caseworker", "supervisor"])
def test_it_shows_the_name_to_case_handling_roles(client, case, role, request):
    response = as_user(client, request.getfixturevalue(role)).post(f"{url(case)}identity/")
    assert "Popescu" in response.content.decode()


def test_it_handles_a_missing_case(client, caseworker):
    assert as_user(client, caseworker).get("/cases/MD-26-NOTHERE0/").status_code == 404


def test_it_shows_withdraw_buttons_for_active_consents(client, caseworker, case):
    consent = services.record_consent(caseworker, case, "assistance", "2026-03-02")
    content = as_user(client, caseworker).get(url(case)).content.decode()
    assert f"/cases/{case.case_number}/consents/{consent.pk}/withdraw/" in content
    assert "Receive assistance" in content


def test_it_knows_which_lists_of_a_case_hold_rows(caseworker, case):
    lists = ("consents", "referrals", "reflection_periods", "support_plan")
    assert services.relations_with_rows(case, lists) == frozenset()
    services.record_consent(caseworker, case, "assistance", "2026-03-02")
    assert services.relations_with_rows(case, lists) == {"consents"}
    assert services.relations_with_rows(case, ()) == frozenset()


def test_an_empty_case_page_reads_only_what_it_shows(client, caseworker, case,
                                                     django_assert_max_num_queries):
    """Session, user, case, the audit entry and one query for all the empty lists."""
    as_user(client, caseworker).get(url(case))  # warm-up
    with django_assert_max_num_queries(10):
        response = client.get(url(case))
    assert response.status_code == 200
