"""`opennrm tokens` on the server: the operator may create a token for any active user,
privileged ones too, without a one-time code; every such token expires."""

from datetime import timedelta

import pytest
from django.utils import timezone
from typer.testing import CliRunner

from opennrm.accounts.models import ApiToken
from opennrm.cli import app

runner = CliRunner()


def days_left(token: ApiToken) -> int:
    return round((token.expires_at - token.created_at) / timedelta(days=1))


def test_the_operator_creates_a_token_for_a_privileged_user_and_it_expires(administrator):
    result = runner.invoke(app, ["tokens", "create", administrator.username])
    assert result.exit_code == 0, result.output
    token = ApiToken.objects.get(user=administrator)
    assert days_left(token) == 90 and not token.read_only


def test_the_default_lifetime_is_a_setting(caseworker, settings):
    settings.OPENNRM_API_TOKEN_DAYS = 14
    assert runner.invoke(app, ["tokens", "create", caseworker.username]).exit_code == 0
    assert days_left(ApiToken.objects.get()) == 14


@pytest.mark.parametrize("days", ["0", "366"])
def test_a_token_that_never_expires_is_refused(caseworker, days):
    result = runner.invoke(app, ["tokens", "create", caseworker.username, "--days", days])
    assert result.exit_code == 1
    assert not ApiToken.objects.exists()


def test_a_read_only_token(caseworker):
    result = runner.invoke(app, ["tokens", "create", caseworker.username, "--read-only"])
    assert result.exit_code == 0, result.output
    assert ApiToken.objects.get().read_only


def test_tokens_list_shows_last_use_and_no_secret(caseworker):
    token, secret = ApiToken.issue(caseworker, "laptop", read_only=True)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    result = runner.invoke(app, ["tokens", "list", caseworker.username])
    assert result.exit_code == 0, result.output
    assert "laptop" in result.output and "read only" in result.output
    assert timezone.now().strftime("%Y-%m-%d") in result.output
    assert secret not in result.output and token.digest not in result.output
