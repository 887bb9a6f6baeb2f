from datetime import timedelta

from django.test import Client
from django.utils import timezone

from opennrm.accounts.models import ApiToken
from opennrm.cases.models import Case
from tests.factories import person_data
from tests.helpers import ApiClient, as_json, assert_problem

SESSION_BACKEND = "opennrm.accounts.backends.AgencyModelBackend"
CSRF_SECRET = "a" * 32


def test_it_works_with_a_token(api, case):
    response = api.get("/api/cases")
    assert response.status_code == 200
    assert response.json()["count"] == 1


def test_it_keeps_answers_out_of_caches(api, case):
    response = api.get(f"/api/cases/{case.case_number}")
    assert response["Cache-Control"] == "no-store"


def test_it_requires_a_token(case):
    response = ApiClient().get("/api/cases")
    problem = assert_problem(response, 401)
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert "Popescu" not in problem["detail"]


def test_it_rejects_an_unknown_token(case):
    assert_problem(ApiClient(secret=ApiToken.PREFIX + "x" * 43).get("/api/cases"), 401)
    assert_problem(ApiClient(secret="not-a-token").get("/api/cases"), 401)


def test_it_rejects_a_revoked_token(caseworker, case):
    token, secret = ApiToken.issue(caseworker, "laptop")
    token.revoked_at = timezone.now()
    token.save()
    assert_problem(ApiClient(secret=secret).get("/api/cases"), 401)


def test_it_rejects_an_expired_token(caseworker, case):
    _, secret = ApiToken.issue(caseworker, "laptop",
                               expires_at=timezone.now() - timedelta(seconds=1))
    assert_problem(ApiClient(secret=secret).get("/api/cases"), 401)


def test_it_accepts_a_token_until_it_expires(caseworker, case):
    _, secret = ApiToken.issue(caseworker, "laptop",
                               expires_at=timezone.now() + timedelta(days=1))
    assert ApiClient(secret=secret).get("/api/cases").status_code == 200


def test_a_found_token_is_the_stored_one_with_its_user(caseworker):
    token, secret = ApiToken.issue(caseworker, "laptop",
                                   expires_at=timezone.now() + timedelta(days=1))
    found = ApiToken.find(secret)
    stored = ApiToken.objects.get(pk=token.pk)
    assert [(getattr(found, f.attname)) for f in ApiToken._meta.concrete_fields] == [
        getattr(stored, f.attname) for f in ApiToken._meta.concrete_fields]
    assert found.user == caseworker and found.user.agency_id == caseworker.agency_id
    assert found.expires_at.tzinfo is not None
    assert ApiToken.find(secret + "x") is None


def test_it_rejects_the_token_of_an_inactive_user(caseworker, case):
    _, secret = ApiToken.issue(caseworker, "laptop")
    caseworker.is_active = False
    caseworker.save()
    assert_problem(ApiClient(secret=secret).get("/api/cases"), 401)


def test_unauthenticated_changes_change_nothing(case):
    response = ApiClient().post("/api/cases", as_json(person_data()))
    assert_problem(response, 401)
    assert Case.objects.count() == 1


def test_it_records_last_use_at_most_once_a_minute(caseworker):
    token, secret = ApiToken.issue(caseworker, "laptop")
    client = ApiClient(secret=secret)
    client.get("/api/cases")
    token.refresh_from_db()
    first_use = token.last_used_at
    assert first_use is not None

    client.get("/api/cases")
    token.refresh_from_db()
    assert token.last_used_at == first_use

    ApiToken.objects.filter(pk=token.pk).update(last_used_at=first_use - timedelta(minutes=2))
    client.get("/api/cases")
    token.refresh_from_db()
    assert token.last_used_at > first_use


def test_it_accepts_the_browser_session_for_reading(caseworker, case):
    client = Client(enforce_csrf_checks=True)
    client.force_login(caseworker, backend=SESSION_BACKEND)
    response = client.get(f"/api/cases/{case.case_number}")
    assert response.status_code == 200
    assert response.json()["identity"]["family_name"] == "Popescu"


def test_session_changes_need_the_csrf_token(caseworker):
    client = Client(enforce_csrf_checks=True)
    client.force_login(caseworker, backend=SESSION_BACKEND)
    response = client.post("/api/cases", as_json(person_data()),
                           content_type="application/json")
    assert_problem(response, 403)
    assert Case.objects.count() == 0

    client.cookies["csrftoken"] = CSRF_SECRET
    response = client.post("/api/cases", as_json(person_data()),
                           content_type="application/json",
                           headers={"X-CSRFToken": CSRF_SECRET})
    assert response.status_code == 201
    assert Case.objects.count() == 1


# --- read-only tokens ----------------------------------------------------------------------

def test_a_read_only_token_reads(caseworker, case):
    _, secret = ApiToken.issue(caseworker, "reports", read_only=True)
    client = ApiClient(secret=secret)
    assert client.get("/api/cases").status_code == 200
    assert client.get(f"/api/cases/{case.case_number}").status_code == 200


def test_a_read_only_token_searches_with_post(caseworker, case):
    _, secret = ApiToken.issue(caseworker, "reports", read_only=True)
    response = ApiClient(secret=secret).post("/api/cases/search", {
        "given_name": "Elena", "family_name": "Popescu", "birth_date": "1998-04-12"})
    assert response.status_code == 200, response.content


def test_a_read_only_token_changes_nothing(caseworker, case):
    _, secret = ApiToken.issue(caseworker, "reports", read_only=True)
    client = ApiClient(secret=secret)
    problem = assert_problem(client.post("/api/cases", as_json(person_data())), 403)
    assert "read-only" in problem["detail"]
    assert_problem(client.patch(f"/api/cases/{case.case_number}", {"notes": "x"}), 403)
    assert_problem(client.post(f"/api/cases/{case.case_number}/close", {}), 403)
    assert Case.objects.count() == 1


def test_a_token_with_write_scope_still_writes(caseworker):
    _, secret = ApiToken.issue(caseworker, "script")
    response = ApiClient(secret=secret).post("/api/cases", as_json(person_data()))
    assert response.status_code == 201
