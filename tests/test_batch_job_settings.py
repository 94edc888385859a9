import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def setting_with(name: str, **environment: str) -> subprocess.CompletedProcess:
    """Print a setting as a fresh interpreter loads it from `environment`."""
    env = {key: value for key, value in os.environ.items() if key not in {"SECRET_KEY", "DEBUG"}}
    env.update(environment, DJANGO_SETTINGS_MODULE="console.settings")
    return subprocess.run(
        [sys.executable, "-c", f"from django.conf import settings; print(settings.{name})"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )


def test_expiry_warning_days_default_to_30_15_7_and_1(monkeypatch):
    monkeypatch.delenv("CERTIFICATES_EXPIRY_WARNING_DAYS", raising=False)
    assert setting_with("CERTIFICATES_EXPIRY_WARNING_DAYS").stdout.strip() == "(30, 15, 7, 1)"


def test_expiry_warning_days_are_read_from_the_environment_largest_first():
    result = setting_with(
        "CERTIFICATES_EXPIRY_WARNING_DAYS", CERTIFICATES_EXPIRY_WARNING_DAYS="7, 60,1"
    )
    assert result.stdout.strip() == "(60, 7, 1)"


@pytest.mark.parametrize("days", ["30,0", "30,soon", ""])
def test_expiry_warning_days_must_be_whole_days_of_one_or_more(days):
    result = setting_with("CERTIFICATES_EXPIRY_WARNING_DAYS", CERTIFICATES_EXPIRY_WARNING_DAYS=days)
    assert result.returncode != 0
    assert "CERTIFICATES_EXPIRY_WARNING_DAYS must list whole numbers" in result.stderr


def test_console_base_url_is_read_without_a_trailing_slash():
    result = setting_with("CONSOLE_BASE_URL", CONSOLE_BASE_URL="https://certs.example.com/")
    assert result.stdout.strip() == "https://certs.example.com"


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="pg_trgm is PostgreSQL's")
def test_search_has_trigram_indexes_on_postgresql():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s",
            ["certificates_certificate"],
        )
        indexes = dict(cursor.fetchall())
    assert "USING gin (upper((name)::text) gin_trgm_ops)" in indexes["cert_name_trgm"]
    assert "USING gin (upper(domains) gin_trgm_ops)" in indexes["cert_domains_trgm"]
