import os
import subprocess
import sys
from pathlib import Path

import pytest

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


@pytest.mark.parametrize(
    ("name", "good", "bad", "message"),
    [
        (
            "REVOCATION_HOLIDAYS",
            "2026-10-01, 2026-10-02",
            "2026-10-01,1 October",
            "REVOCATION_HOLIDAYS must be comma-separated ISO dates",
        ),
        (
            "DV_ALLOWED_NETWORKS",
            "127.0.0.0/8, ::1/128",
            "127.0.0.0/8,localhost",
            "DV_ALLOWED_NETWORKS must be comma-separated networks in CIDR form",
        ),
    ],
)
def test_list_settings_are_read_or_refused_at_start_up(name, good, bad, message):
    result = start_with(**{name: good})
    assert result.returncode == 0, result.stderr

    result = start_with(**{name: bad})
    assert result.returncode != 0
    assert message in result.stderr
