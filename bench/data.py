"""Benchmark data, written fast: COPY on PostgreSQL, executemany in large chunks on SQLite.

Rows are plain tuples made by generators, never model instances, so a
million certificates take seconds and little memory.
"""

import itertools
import random
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import connection, transaction

from certificates.lifecycle import CertificateStatus as Status
from certificates.management.commands.seed_demo import WORDS
from certificates.models import Brand, Certificate

CHUNK = 50_000

TLDS = ("com", "net", "org", "io", "cn", "de", "co.uk")

# Roughly the demo customer's mix (DESIGN.md: 901 certificates, 745 issued...).
OVERVIEW_MIX = (
    (Status.ISSUED, 0.83),
    (Status.PENDING_APPLICATION, 0.08),
    (Status.CHECK_FAIL, 0.055),
    (Status.EXPIRED, 0.02),
    (Status.VALIDATING, 0.009),
    (Status.REVOKING, 0.003),
    (Status.REVOKED, 0.003),
)

CERTIFICATE_COLUMNS = (
    "created_at",
    "updated_at",
    "owner_id",
    "source",
    "brand_id",
    "validation_type",
    "domain_scope",
    "domain_count",
    "name",
    "status",
    "status_changed_at",
    "common_name",
    "domains",
    "organization",
    "issuer",
    "serial",
    "fingerprint_sha256",
    "key_algorithm",
    "not_before",
    "not_after",
    "certificate_pem",
    "chain_pem",
    "private_key_encrypted",
    "expiry_warnings_enabled",
    # Not null without a database default: raw inserts must name it.
    "public_key_sha256",
)


def insert_rows(table: str, columns: Sequence[str], rows: Iterable[Sequence]) -> int:
    """Insert `rows` (tuples in `columns` order) as fast as the database allows; count them."""
    quoted = ", ".join(connection.ops.quote_name(column) for column in columns)
    table = connection.ops.quote_name(table)
    count = 0
    if connection.vendor == "postgresql":
        with (
            transaction.atomic(),
            connection.cursor() as cursor,
            cursor.cursor.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
                count += 1
        return count
    placeholders = ", ".join("?" for _ in columns)
    sql = f"INSERT INTO {table} ({quoted}) VALUES ({placeholders})"
    rows = iter(rows)
    while chunk := list(itertools.islice(rows, CHUNK)):
        with transaction.atomic():
            connection.connection.executemany(sql, chunk)
        count += len(chunk)
    return count


def analyze() -> None:
    """Fresh planner statistics (and, on PostgreSQL, a visibility map for index-only scans)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("VACUUM ANALYZE")
        else:
            cursor.execute("ANALYZE")


def make_brands() -> list[int]:
    brands = []
    for name in ("DigiCert", "GeoTrust", "GlobalSign", "vTrus", "CFCA"):
        brand, _ = Brand.objects.get_or_create(
            slug=name.lower(), defaults={"name": name, "issuer_match": name}
        )
        brands.append(brand.pk)
    return brands


def make_users(prefix: str, count: int, *, with_email: bool = False) -> list[int]:
    """`count` users named prefix0, prefix1...; returns their ids in that order."""
    users = get_user_model().objects
    users.bulk_create(
        (
            get_user_model()(
                username=f"{prefix}{n}",
                email=f"{prefix}{n}@example.com" if with_email else "",
                password="!",  # unusable: the benchmark signs in with force_login
            )
            for n in range(count)
        ),
        batch_size=5000,
    )
    ids = dict(users.filter(username__startswith=prefix).values_list("username", "pk"))
    return [ids[f"{prefix}{n}"] for n in range(count)]


def domain_for(n: int) -> str:
    return f"{WORDS[n % len(WORDS)]}{n}.{TLDS[n % len(TLDS)]}"


def name_for(n: int) -> str:
    return f"uploaded_{WORDS[(n * 7) % len(WORDS)]}_{n}"


def certificate_rows(
    *,
    owners: Sequence[int],
    brands: Sequence[int],
    numbers: range,
    status_and_end: Callable[[int], tuple[str, datetime | None]],
    now: datetime,
) -> Iterator[tuple]:
    """A certificate row for each of `numbers` (which also names its domain), owners in turn.

    Every fifth certificate is an uploaded one with a name; the rest are the
    console's own, a fifth of them with a second domain.
    """
    adapt = connection.ops.adapt_datetimefield_value
    for n in numbers:
        status, ends = status_and_end(n)
        created = adapt(now - timedelta(days=400) + timedelta(seconds=n % (400 * 86400)))
        domain = domain_for(n)
        extra = n % 5 == 1
        uploaded = n % 5 == 0
        yield (
            created,
            created,
            owners[n % len(owners)],
            "uploaded" if uploaded else "issued",
            brands[n % len(brands)],
            "DV" if n % 3 else "OV",
            "multiple" if extra else "single",
            2 if extra else 1,
            name_for(n) if uploaded else "",
            status,
            created,
            domain,
            f"{domain}\nwww.{domain}" if extra else domain,
            "" if n % 3 else "Example Org",
            "CN=Bench CA",
            f"{n:032x}",
            "",
            "ECDSA P-256",
            adapt(ends - timedelta(days=199)) if ends else None,
            adapt(ends) if ends else None,
            "",
            "",
            "",
            True,
            "",
        )


def customer_mix(*, now: datetime, seed: int) -> Callable[[int], tuple[str, datetime | None]]:
    """Statuses in the demo customer's proportions, with end dates that fit them.

    No issued certificate is past its end date, so the expiry benchmark's
    count of due certificates stays exact.
    """
    rng = random.Random(seed)
    statuses, weights = zip(*OVERVIEW_MIX, strict=True)

    def pick(n: int) -> tuple[str, datetime | None]:
        [status] = rng.choices(statuses, weights)
        if status in (Status.PENDING_APPLICATION, Status.CHECK_FAIL, Status.VALIDATING):
            return status, None
        if status == Status.EXPIRED:
            return status, now - timedelta(days=rng.uniform(1, 300))
        return status, now + timedelta(days=rng.uniform(1, 400))

    return pick


def insert_certificates(rows: Iterable[tuple]) -> int:
    return insert_rows(Certificate._meta.db_table, CERTIFICATE_COLUMNS, rows)
