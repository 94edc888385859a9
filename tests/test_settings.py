import os
import re
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


def test_asyncssh_logs_only_warnings_while_the_console_logs_info():
    # asyncssh logs every SSH connection and channel at INFO.
    script = (
        "import logging, django; django.setup(); import asyncssh; "
        "asyncssh.logging.logger.info('a channel opened'); "
        "asyncssh.logging.logger.warning('a warning'); "
        "logging.getLogger('deployments').info('a deployment')"
    )
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG"}}
    env.update(DJANGO_SETTINGS_MODULE="console.settings", LOG_LEVEL="INFO")
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert "a channel opened" not in result.stderr
    assert "a warning" in result.stderr
    assert "a deployment" in result.stderr


def test_revocation_holidays_are_read_as_iso_dates():
    result = start_with(REVOCATION_HOLIDAYS="2026-10-01, 2026-10-02")
    assert result.returncode == 0, result.stderr

    result = start_with(REVOCATION_HOLIDAYS="2026-10-01,1 October")
    assert result.returncode != 0
    assert "REVOCATION_HOLIDAYS must be comma-separated ISO dates" in result.stderr


@pytest.mark.parametrize(
    ("variable", "value", "reason"),
    [
        ("CERTIFICATES_PAGE_SIZE", "abc", "Not a valid integer"),
        ("CERTIFICATES_PAGE_SIZE", "0", "greater than or equal to 1"),
        ("DEBUG", "maybe", "Not a valid boolean"),
        ("KEY_ENCRYPTION_KEYS", "not-a-fernet-key", "must be comma-separated Fernet keys"),
        ("KEY_ENCRYPTION_KEYS", "notakey", "must be comma-separated Fernet keys"),
        # A good key first does not let a bad one after it through.
        ("KEY_ENCRYPTION_KEYS", f"{'A' * 43}=,notakey", "must be comma-separated Fernet keys"),
        ("REVOCATION_HOLIDAYS", "2026-13-01", "must be comma-separated ISO dates"),
        ("DATABASE_URL", "postgres://user:pass@host:port/certs", "Not a valid database URL"),
        ("DATABASE_URL", "nonsense", "Not a valid database URL"),
        ("DV_CHECK_TIMEOUT", "soon", "Not a valid number"),
        ("DV_DNS_PORT", "70000", "less than or equal to 65535"),
        ("DV_NAMESERVERS", "192.0.2.53,ns.example.com", "must be comma-separated IP addresses"),
        ("DV_ALLOWED_NETWORKS", "127.0.0.0/8,localhost", "networks in CIDR form"),
        ("SIGNIN_TRUSTED_PROXIES", "-1", "greater than or equal to 0"),
        ("TIME_ZONE", "Mars/Olympus_Mons", "Not a time zone"),
        ("LOG_LEVEL", "loud", "Not a valid log level"),
    ],
)
def test_a_malformed_value_stops_start_up_naming_the_variable(variable, value, reason):
    result = start_with(**{variable: value})
    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith("django.core.exceptions.ImproperlyConfigured: ")
    assert variable in last_line
    assert reason in last_line
    # No parser's own ValueError traceback above it either.
    assert "ValueError" not in result.stderr


def test_check_deploy_refuses_a_key_that_is_not_a_fernet_key():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=ROOT,
        env={
            **os.environ,
            "DEBUG": "false",
            "SECRET_KEY": "a-real-secret-" * 4,
            "KEY_ENCRYPTION_KEYS": "notakey",
        },
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "ImproperlyConfigured: KEY_ENCRYPTION_KEYS must be comma-separated Fernet keys" in (
        result.stderr
    )
    assert "notakey" not in result.stderr


def test_every_malformed_value_is_named_at_once_and_none_is_shown():
    # The values may be secrets: the message says what is wrong, never what was given.
    result = start_with(
        EMAIL_PORT="twenty-five",
        DATABASE_URL="postgres://certs:s3cret-password@db.example.com:port/certs",
        KEY_ENCRYPTION_KEYS="s3cret-but-short",
    )
    assert result.returncode != 0
    assert "EMAIL_PORT" in result.stderr
    assert "DATABASE_URL" in result.stderr
    assert "KEY_ENCRYPTION_KEYS" in result.stderr
    assert "s3cret" not in result.stderr


def test_lists_ignore_spaces_around_their_items():
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from django.conf import settings as s; "
            "print(s.ALLOWED_HOSTS, s.DV_NAMESERVERS, len(s.KEY_ENCRYPTION_KEYS))",
        ],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "console.settings",
            "ALLOWED_HOSTS": "certs.example.com, admin.example.com",
            "DV_NAMESERVERS": "192.0.2.53, 2001:db8::53",
            "KEY_ENCRYPTION_KEYS": f"{'A' * 43}=, {'B' * 43}=",
        },
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[0] == (
        "['certs.example.com', 'admin.example.com'] ['192.0.2.53', '2001:db8::53'] 2"
    )


def test_every_variable_of_the_readmes_table_is_read_by_the_settings():
    readme = (ROOT / "README.md").read_text()
    table = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    documented = {name for row in rows for name in re.findall(r"`([A-Z_]+)`", row.split("|")[1])}
    source = (ROOT / "console" / "settings.py").read_text()
    read = set(re.findall(r'env\.\w+\(\s*"([A-Z_]+)"', source))
    assert len(documented) > 30
    assert documented == read
