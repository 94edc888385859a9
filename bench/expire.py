"""expire_certificates over a large table, beside one raw UPDATE of the same rows."""

import io
import os
import re
import secrets
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from bench.data import (
    analyze,
    certificate_rows,
    count_certificates,
    insert_certificates,
    make_users,
)
from bench.report import Row, step, verdict
from certificates.lifecycle import CertificateStatus as Status
from certificates.models import AuditEvent, Certificate

ROOT = Path(__file__).resolve().parent.parent
POPULATION_OWNERS = 1000


def build(*, total: int, due: int, brands: list[int], now: datetime) -> None:
    """`total` issued certificates, `due` of them (spread evenly) past their end date.

    The others end more than 31 days from now, beyond the expiry warnings' reach.
    """
    owners = make_users("population", POPULATION_OWNERS)
    every = max(total // max(due, 1), 1)

    def status_and_end(n: int) -> tuple[str, datetime]:
        if n % every == 0 and n // every < due:
            return Status.ISSUED, now - timedelta(days=1 + n % 300, seconds=n % 86400)
        return Status.ISSUED, now + timedelta(days=31 + n % 370, seconds=n % 86400)

    insert_certificates(
        certificate_rows(
            owners=owners,
            brands=brands,
            numbers=range(total),
            status_and_end=status_and_end,
            now=now,
        )
    )


def reset(since: datetime) -> None:
    """Put back what a run expired, and clear the audit log, for the next measurement.

    This sets the benchmark's world up again, as the test factories do; it is
    not a change of status in the console's sense, so it bypasses lifecycle.
    """
    Certificate.objects.filter(status=Status.EXPIRED, status_changed_at__gte=since).update(
        status=Status.ISSUED
    )
    AuditEvent.objects.all().delete()
    count_certificates()
    analyze()


def raw_update() -> int:
    """The yardstick: one UPDATE of every due row, no batches, no locks, no audit log."""
    now = timezone.now()
    table = connection.ops.quote_name(Certificate._meta.db_table)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET status = %s, status_changed_at = %s, updated_at = %s "
            "WHERE status = %s AND not_after <= %s",
            [Status.EXPIRED, now, now, Status.ISSUED, now],
        )
        return cursor.rowcount


# Runs manage.py as cron would, then reports the process's peak resident memory.
# VmHWM is read rather than getrusage's maxrss: on Linux a child's maxrss
# starts from the RSS of the parent it was forked from, here the benchmark.
_MEASURED_RUN = """
import atexit, resource, runpy, sys

def report_peak():
    try:
        with open("/proc/self/status") as status:
            kib = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    except OSError:  # no /proc: fall back to maxrss (bytes on macOS)
        kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        kib = kib // 1024 if sys.platform == "darwin" else kib
    print(f"peak-kib={kib}", file=sys.stderr)

atexit.register(report_peak)
sys.argv = ["manage.py", "expire_certificates"]
runpy.run_path("manage.py", run_name="__main__")
"""


def command_in_a_process(database_url: str) -> tuple[float, float, str]:
    """Run the command in a fresh interpreter; return (seconds, peak RSS in MB, its output)."""
    from cryptography.fernet import Fernet

    env = dict(
        os.environ,
        DATABASE_URL=database_url,
        DEBUG="false",  # as in production; DEBUG would also keep the last queries in memory
        SECRET_KEY=secrets.token_urlsafe(50),
        KEY_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
    )
    started = time.perf_counter()
    process = subprocess.run(
        [sys.executable, "-c", _MEASURED_RUN], cwd=ROOT, env=env, capture_output=True, text=True
    )
    seconds = time.perf_counter() - started
    if process.returncode != 0:
        raise RuntimeError(f"expire_certificates failed: {process.stdout}{process.stderr}")
    peak_kib = int(re.search(r"peak-kib=(\d+)", process.stderr).group(1))
    return seconds, peak_kib / 1024, process.stdout.strip()


def timed_raw_update() -> tuple[int, float]:
    started = timezone.now()
    clock = time.perf_counter()
    rows = raw_update()
    seconds = time.perf_counter() - clock
    reset(started)
    return rows, seconds


def measure(*, total: int, due: int, database_url: str) -> list[Row]:
    # Each run leaves dead rows and grown indexes behind, even once reset and
    # vacuumed, so the raw UPDATE is timed before and after the command and
    # the two averaged: the command sees neither the freshest nor the most
    # worn table.
    with step("raw UPDATE, then reset"):
        raw_rows, raw_before = timed_raw_update()
    with step("expire_certificates, then reset"):
        started = timezone.now()
        clock = time.perf_counter()
        call_command("expire_certificates", stdout=io.StringIO())
        command_seconds = time.perf_counter() - clock
        expired = Certificate.objects.filter(status_changed_at__gte=started).count()
        reset(started)
    with step("raw UPDATE again, then reset"):
        _, raw_after = timed_raw_update()
    raw_seconds = (raw_before + raw_after) / 2
    with step("expire_certificates in a process of its own, for its memory"):
        process_seconds, peak_mb, output = command_in_a_process(database_url)
        idle_seconds, idle_mb, _ = command_in_a_process(database_url)
    counted = int(re.search(r"Expired ([\d,]+)", output).group(1).replace(",", ""))

    if raw_rows != due or expired != due or counted != due:
        raise RuntimeError(f"expected {due} due rows; raw {raw_rows}, command {expired}, {counted}")
    ratio = command_seconds / raw_seconds
    on_postgresql = connection.vendor == "postgresql"
    label = f"{due:,} due of {total:,}"
    return [
        Row(
            "expire",
            f"raw UPDATE, {label}",
            f"{raw_seconds:.2f} s, {due / raw_seconds:,.0f} rows/s "
            f"(mean of {raw_before:.2f} s before and {raw_after:.2f} s after)",
        ),
        Row(
            "expire",
            f"expire_certificates, {label}",
            f"{command_seconds:.2f} s, {due / command_seconds:,.0f} rows/s",
        ),
        Row(
            "expire",
            "expire_certificates / raw UPDATE",
            f"{ratio:.2f}x",
            "<= 2x on PostgreSQL",
            verdict(ratio <= 2) if on_postgresql else "",
        ),
        Row(
            "expire",
            "peak RSS of the command's process (VmHWM)",
            f"{peak_mb:.0f} MB ({idle_mb:.0f} MB with nothing due)",
            "< 300 MB",
            verdict(peak_mb < 300),
        ),
        Row(
            "expire",
            "the command's process, wall clock",
            f"{process_seconds:.2f} s ({idle_seconds:.2f} s with nothing due)",
        ),
    ]
