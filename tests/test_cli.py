"""The `opennrm` command, run in-process against the test database."""

from django.db import connection
from typer.testing import CliRunner

from opennrm.accounts.models import ApiToken, User
from opennrm.cli import app

runner = CliRunner()


def test_createuser_creates_a_user_with_role_and_agency(ngo, monkeypatch):
    monkeypatch.setenv("OPENNRM_PASSWORD", "a long enough passphrase 42")
    result = runner.invoke(app, ["createuser", "maria", "--role", "caseworker",
                                 "--agency", ngo.code])
    assert result.exit_code == 0, result.output
    user = User.objects.get(username="maria")
    assert user.agency == ngo and user.role == "caseworker"
    assert user.check_password("a long enough passphrase 42")


def test_createuser_explains_bad_input_and_creates_nothing(monkeypatch, db):
    monkeypatch.setenv("OPENNRM_PASSWORD", "short")
    result = runner.invoke(app, ["createuser", "maria", "--role", "caseworker",
                                 "--agency", "nope"])
    assert result.exit_code == 1
    assert "No agency with code 'nope'" in result.output
    assert "password" in result.output
    assert not User.objects.filter(username="maria").exists()


def test_createuser_with_totp_prints_an_otpauth_uri(monkeypatch, db):
    monkeypatch.setenv("OPENNRM_PASSWORD", "a long enough passphrase 42")
    result = runner.invoke(app, ["createuser", "coord", "--role", "auditor", "--totp"])
    assert result.exit_code == 0, result.output
    assert "otpauth://totp/" in result.output


def test_tokens_create_prints_a_secret_that_is_stored_hashed(caseworker):
    result = runner.invoke(app, ["tokens", "create", caseworker.username])
    assert result.exit_code == 0, result.output
    secret = result.output.strip().splitlines()[-1]
    assert secret.startswith("onrm_")
    token = ApiToken.objects.get(user=caseworker)
    assert token.digest == ApiToken.digest_of(secret)
    assert secret not in token.digest


def test_audit_verify_passes_then_fails_after_an_sql_edit(case):
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "intact" in result.output
    from opennrm.audit.guard import guard_lifted

    with guard_lifted(connection), connection.cursor() as cursor:  # as a DBA would
        cursor.execute("UPDATE audit_auditentry SET fields = %s", ['["nothing"]'])
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 1
    assert "BROKEN" in result.output


def test_keys_rotate_then_retire_old_keys(case):
    result = runner.invoke(app, ["keys", "rotate", "--retire-old"])
    assert result.exit_code == 0, result.output
    assert "Re-encrypted" in result.output and "Retired" in result.output
    case.person.refresh_from_db()
    assert case.person.family_name == "Popescu"
    status = runner.invoke(app, ["keys", "status"])
    assert status.exit_code == 0


def test_keys_retire_refuses_a_key_in_use(case):
    from opennrm.core.keyring import get_keyring

    result = runner.invoke(app, ["keys", "retire", get_keyring().active_key_id])
    assert result.exit_code == 1


def test_demo_refuses_a_production_node(db):
    result = runner.invoke(app, ["demo", "--cases", "5"])
    assert result.exit_code == 1
    assert "published passwords" in result.output
    assert not User.objects.exists()


def test_demo_registers_cases_and_prints_working_logins(db, monkeypatch):
    monkeypatch.setenv("OPENNRM_ALLOW_DEMO", "1")
    result = runner.invoke(app, ["demo", "--cases", "20", "--seed", "1"])
    assert result.exit_code == 0, result.output
    assert "Registered 20 demo cases" in result.output
    caseworker = User.objects.filter(role="caseworker").first()
    assert caseworker.username in result.output


def test_tokens_created_on_the_command_line_are_audited_and_expire(caseworker):
    from opennrm.audit.models import AuditEntry

    result = runner.invoke(app, ["tokens", "create", caseworker.username, "--days", "30"])
    assert result.exit_code == 0, result.output
    token = ApiToken.objects.get(user=caseworker)
    assert token.expires_at is not None
    entry = AuditEntry.objects.get(object_type="api_token")
    assert entry.channel == "cli" and entry.action == "create"


def test_reminders_sweep_notifies_once_and_says_how_many(caseworker, case):
    from datetime import date

    from opennrm.protection.services import grant_reflection_period

    grant_reflection_period(caseworker, case, date(2026, 3, 3), date(2026, 4, 2),
                            date(2026, 3, 3), deciding_authority="National coordinator")
    result = runner.invoke(app, ["reminders", "sweep", "--today", "2026-03-30"])
    assert result.exit_code == 0, result.output
    assert "1 new notifications" in result.output
    again = runner.invoke(app, ["reminders", "sweep", "--today", "2026-03-30"])
    assert "0 new notifications" in again.output
    assert runner.invoke(app, ["reminders", "sweep", "--today", "30.03.2026"]).exit_code == 1


def test_services_export_then_import_round_trips(tmp_path, db):
    from opennrm.accounts.models import Role
    from opennrm.services.demo import create_demo_directory
    from opennrm.services.models import Service
    from tests.factories import make_agency, make_user

    coordinator = make_user(Role.NATIONAL_COORDINATOR, make_agency("coordination"), "coord")
    create_demo_directory()
    path = tmp_path / "directory.zip"
    result = runner.invoke(app, ["services", "export", str(path), "--as", coordinator.username])
    assert result.exit_code == 0, result.output
    services = Service.objects.count()
    result = runner.invoke(app, ["services", "import", str(path), "--as", coordinator.username])
    assert result.exit_code == 0, result.output
    assert Service.objects.count() == services
    refused = runner.invoke(app, ["services", "export", str(path), "--as", "nobody"])
    assert refused.exit_code == 1 and "nobody" in refused.output
