"""The node's disclosure policy: analysts may raise the controls, never lower them."""

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from typer.testing import CliRunner

from opennrm.accounts.models import Role
from opennrm.audit.models import AuditEntry
from opennrm.cli import app
from opennrm.statistics import policy, releases
from opennrm.statistics.models import Release
from tests.factories import make_agency, make_user
from tests.helpers import ApiClient, assert_problem

YEAR = (date(2025, 1, 1), date(2025, 12, 31))


@pytest.fixture
def coordinator(db):
    return make_user(Role.NATIONAL_COORDINATOR, make_agency("policy-coord", "central_government"))


@pytest.fixture
def analyst_api(analyst_user):
    return ApiClient(analyst_user)


def test_an_analyst_cannot_lower_the_threshold_or_k_until_the_coordinator_does(
        analyst_api, analyst_user, coordinator):
    problem = assert_problem(analyst_api.get("/api/statistics/eurostat",
                                             {"period": "2025", "threshold": 1}), 422)
    assert "node's minimum of 5" in problem["detail"]
    assert problem["errors"][0]["field"] == "threshold"
    problem = assert_problem(analyst_api.get("/api/statistics-extracts/ctdc",
                                             {"period": "2025", "k": 2}), 422)
    assert "node's minimum of 11" in problem["detail"]
    assert problem["errors"][0]["field"] == "k"
    problem = assert_problem(analyst_api.post("/api/releases", {
        "table_set": "eurostat", "period": "2025", "threshold": 2}), 422)
    assert "node's minimum of 5" in problem["detail"]
    assert not Release.objects.exists()
    # An analyst cannot change the policy.
    with pytest.raises(PermissionDenied):
        policy.set_policy(analyst_user, threshold=1)

    policy.set_policy(coordinator, threshold=1, minimum_k=2, reason="methodology test")
    entry = AuditEntry.objects.get(object_type="disclosure_policy")
    assert "threshold 5 → 1" in entry.reason and "minimum_k 11 → 2" in entry.reason
    assert analyst_api.get("/api/statistics/eurostat",
                           {"period": "2025", "threshold": 1}).status_code == 200
    assert analyst_api.get("/api/statistics-extracts/ctdc",
                           {"period": "2025", "k": 2}).status_code == 200


def test_an_analyst_may_raise_the_controls_and_the_policy_is_the_default(analyst_api,
                                                                        coordinator):
    body = analyst_api.get("/api/statistics/eurostat", {"period": "2025", "threshold": 7})
    assert body.status_code == 200
    assert body.json()["controls"]["threshold"] == 7
    policy.set_policy(coordinator, threshold=6, rounding=5)
    body = analyst_api.get("/api/statistics/eurostat", {"period": "2025"}).json()
    assert body["controls"]["threshold"] == 6 and body["controls"]["rounding"] == 5
    problem = assert_problem(analyst_api.get("/api/statistics/eurostat",
                                             {"period": "2025", "rounding": 0}), 422)
    assert problem["errors"][0]["field"] == "rounding"
    assert analyst_api.get("/api/statistics/eurostat",
                           {"period": "2025", "rounding": 10}).status_code == 200


def test_every_way_out_keeps_to_the_policy(analyst_user, coordinator):
    policy.set_policy(coordinator, threshold=8)
    with pytest.raises(releases.ReleaseError, match="minimum of 8"):
        releases.preview(analyst_user, "eurostat", *YEAR, releases.Controls(threshold=5))
    with pytest.raises(releases.ReleaseError, match="minimum of 8"):
        releases.publish_release(analyst_user, "eurostat", *YEAR,
                                 releases.Controls(threshold=5))
    with pytest.raises(releases.ReleaseError, match="minimum of 8"):
        releases.report(["glotip"], *YEAR, releases.Controls(threshold=5))
    with pytest.raises(releases.ReleaseError, match="minimum of 11"):
        releases.research_extract(analyst_user, *YEAR, k=5)
    assert releases.preview(analyst_user, "eurostat", *YEAR).controls["threshold"] == 8
    # A release made under a laxer policy still verifies after the policy changed.
    policy.set_policy(coordinator, threshold=5)
    release = releases.publish_release(analyst_user, "eurostat", *YEAR, releases.Controls())
    policy.set_policy(coordinator, threshold=9)
    assert releases.verify_release(release).ok


def test_a_policy_outside_its_bounds_is_refused(coordinator):
    with pytest.raises(policy.PolicyError):
        policy.set_policy(coordinator, threshold=0)
    with pytest.raises(policy.PolicyError):
        policy.set_policy(coordinator, minimum_k=1)
    assert policy.current_policy() == policy.default_policy()


def test_the_policy_page_is_for_the_coordinator_and_the_administrator(client, coordinator,
                                                                      analyst_user):
    url = reverse("statistics-policy")
    client.force_login(analyst_user)
    assert client.get(url).status_code == 403
    assert client.post(url, {"threshold": "1", "rounding": "0",
                             "minimum_k": "2"}).status_code == 403
    administrator = make_user(Role.ADMINISTRATOR, make_agency("policy-admin",
                                                              "central_government"))
    for user in (coordinator, administrator):
        client.force_login(user)
        assert client.get(url).status_code == 200
    response = client.post(url, {"threshold": "7", "rounding": "5", "minimum_k": "15",
                                 "reason": "new national guidance"})
    assert response.status_code == 302
    assert policy.current_policy() == policy.Policy(threshold=7, rounding=5, minimum_k=15)
    assert AuditEntry.objects.filter(object_type="disclosure_policy",
                                     actor_id=administrator.pk).exists()


def test_the_release_form_says_the_node_minimum(client, analyst_user):
    client.force_login(analyst_user)
    response = client.post(reverse("statistics-releases"), {
        "table_set": "eurostat", "period": "2025", "threshold": "2", "rounding": "0",
        "epsilon": "", "confirm": "on"})
    assert response.status_code == 200
    assert "node&#x27;s minimum of 5" in response.content.decode()
    assert "threshold" in response.context["form"].errors
    assert not Release.objects.exists()


def test_the_command_line_shows_sets_and_keeps_to_the_policy(dataset, tmp_path):
    runner = CliRunner()
    shown = runner.invoke(app, ["stats", "policy"])
    assert shown.exit_code == 0 and "threshold 5" in shown.output
    refused = runner.invoke(app, ["stats", "report", "--period", "2025", "--format", "csv",
                                  "--table-set", "glotip", "--threshold", "2",
                                  "--output", str(tmp_path / "x.csv")])
    assert refused.exit_code == 1 and "minimum of 5" in refused.output
    changed = runner.invoke(app, ["stats", "policy", "--threshold", "2", "--reason", "test"])
    assert changed.exit_code == 0 and "threshold 2" in changed.output
    assert AuditEntry.objects.filter(object_type="disclosure_policy", channel="cli").exists()
    allowed = runner.invoke(app, ["stats", "report", "--period", "2025", "--format", "csv",
                                  "--table-set", "glotip", "--threshold", "2",
                                  "--output", str(tmp_path / "x.csv")])
    assert allowed.exit_code == 0, allowed.output
