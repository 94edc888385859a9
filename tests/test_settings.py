import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def start_with(**environment: str) -> subprocess.CompletedProcess:
    """Load the settings in a fresh interpreter, as `manage.py check` would."""
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG"}}
    env.update(environment, DJANGO_SETTINGS_MODULE="console.settings")
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )


def test_local_defaults_work_with_no_environment():
    assert start_with().returncode == 0


def test_production_refuses_to_start_without_a_real_secret_key():
    result = start_with(DEBUG="false", KEY_ENCRYPTION_KEYS="x" * 43 + "=")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_refuses_the_development_key_encryption_key():
    result = start_with(DEBUG="false", SECRET_KEY="a-real-secret-" * 4)
    assert result.returncode != 0
    assert "KEY_ENCRYPTION_KEYS must be set" in result.stderr


def test_production_starts_with_real_secrets():
    from cryptography.fernet import Fernet

    result = start_with(
        DEBUG="false",
        SECRET_KEY="a-real-secret-" * 4,
        KEY_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
    )
    assert result.returncode == 0, result.stderr


def test_revocation_holidays_are_read_as_iso_dates():
    result = start_with(REVOCATION_HOLIDAYS="2026-10-01, 2026-10-02")
    assert result.returncode == 0, result.stderr

    result = start_with(REVOCATION_HOLIDAYS="2026-10-01,1 October")
    assert result.returncode != 0
    assert "REVOCATION_HOLIDAYS must be comma-separated ISO dates" in result.stderr
