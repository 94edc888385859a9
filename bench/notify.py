"""notify_expiring for many customers, with the in-memory email backend."""

import random
import time
from datetime import datetime, timedelta

from django.core import mail

from bench.data import certificate_rows, insert_certificates, make_users
from bench.report import Row, step
from certificates.expiry_warnings import notify_expiring
from certificates.lifecycle import CertificateStatus as Status

NUMBERS_FROM = 20_000_000


def build(*, certificates: int, customers: int, brands: list[int], now: datetime) -> None:
    """`certificates` issued ones ending within 30 days, shared among `customers` with emails."""
    owners = make_users("notify", customers, with_email=True)
    rng = random.Random(7)

    def status_and_end(n: int) -> tuple[str, datetime]:
        return Status.ISSUED, now + timedelta(days=rng.uniform(0.1, 29.9))

    insert_certificates(
        certificate_rows(
            owners=owners,
            brands=brands,
            numbers=range(NUMBERS_FROM, NUMBERS_FROM + certificates),
            status_and_end=status_and_end,
            now=now,
        )
    )


def measure(*, certificates: int, customers: int) -> list[Row]:
    mail.outbox = []
    with step("notify_expiring"):
        first = timed_run()
    with step("notify_expiring again, nothing to send"):
        again = timed_run()
    result, seconds = first
    if result.certificates != certificates or len(mail.outbox) != customers:
        raise RuntimeError(
            f"expected {certificates} certificates in {customers} emails; "
            f"got {result.certificates} in {len(mail.outbox)}"
        )
    label = f"{certificates:,} certificates, {customers:,} customers"
    return [
        Row(
            "notify",
            f"notify_expiring, {label}",
            f"{seconds:.2f} s, {result.emails / seconds:,.0f} emails/s",
        ),
        Row("notify", "notify_expiring rerun, nothing to send", f"{again[1]:.2f} s"),
    ]


def timed_run():
    started = time.perf_counter()
    result = notify_expiring()
    return result, time.perf_counter() - started
