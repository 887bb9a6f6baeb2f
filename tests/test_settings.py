"""Production configuration, checked in a fresh process with a production environment."""

import os
import secrets
import subprocess
import sys


def _run(args, tmp_path, **extra_env):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("OPENNRM_")
           and k not in ("DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE")}
    env.update({
        "DJANGO_SETTINGS_MODULE": "opennrm.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'prod.sqlite3'}",
        "OPENNRM_KEYRING": str(tmp_path / "keyring.json"),
        **extra_env,
    })
    return subprocess.run([sys.executable, *args], env=env, capture_output=True, text=True,
                          timeout=120)


def test_check_deploy_is_clean_in_production_mode(tmp_path):
    result = _run(["-m", "django", "check", "--deploy", "--fail-level", "WARNING"], tmp_path,
                  OPENNRM_SECRET_KEY=secrets.token_urlsafe(50),
                  OPENNRM_ALLOWED_HOSTS="nrm.example.org")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_debug_is_off_unless_asked_for(tmp_path):
    result = _run(["-c", "import django; django.setup(); from django.conf import settings; "
                         "print(settings.DEBUG, settings.SESSION_COOKIE_SECURE)"], tmp_path,
                  OPENNRM_SECRET_KEY=secrets.token_urlsafe(50))
    assert result.stdout.split() == ["False", "True"], result.stderr


def test_a_missing_secret_key_stops_the_server_with_a_clear_message(tmp_path):
    result = _run(["-m", "django", "check"], tmp_path)
    assert result.returncode != 0
    assert "OPENNRM_SECRET_KEY is not set" in result.stderr


def test_production_hashes_passwords_with_argon2(tmp_path):
    result = _run(["-c", "import django; django.setup(); "
                         "from django.contrib.auth.hashers import make_password; "
                         "print(make_password('a passphrase of some length').split('$')[0])"],
                  tmp_path, OPENNRM_SECRET_KEY=secrets.token_urlsafe(50))
    assert result.stdout.strip() == "argon2", result.stderr


def test_an_unknown_identification_queue_policy_stops_the_server(tmp_path):
    result = _run(["-m", "django", "check"], tmp_path,
                  OPENNRM_SECRET_KEY=secrets.token_urlsafe(50),
                  OPENNRM_IDENTIFICATION_QUEUE="whenever")
    assert result.returncode != 0
    assert 'OPENNRM_IDENTIFICATION_QUEUE must be "referred" or "accepted"' in result.stderr
