"""The partitioned CRL: publishing every shard of a CA with many revoked certificates, at
two sizes, and republishing after one revocation beside the whole CRL's rebuild.

The revoked certificates are generated rows (a certificate, its issued serial in its
shard, a completed revocation request each): on PostgreSQL by INSERT ... SELECT over
generate_series, on SQLite (small sizes) by plain inserts.
"""

import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction

from bench.data import insert_rows
from bench.report import Row, median, ms, timed, verdict
from bench.revocation import REQUEST_COLUMNS, REVOKED_COLUMNS, SERIAL_COLUMNS, Revocations
from certificates import authority, services
from certificates.lifecycle import CertificateStatus, RevocationStatus
from certificates.models import (
    Brand,
    Certificate,
    CertificateAuthority,
    CrlShard,
    IssuedSerial,
    RevocationRequest,
)
from certificates.pki import ca
from certificates.services.publication import mark_crl_shards_stale

# Serials as the CA makes them: the top bit of 159, then the row's number.
SERIAL_BASE = 1 << 158
# The targets (issue 18).
SCALE_TARGET = 12.0
ONE_REVOCATION_TARGET = 0.10


@dataclass
class ShardedCA:
    issuer: CertificateAuthority
    owner_id: int
    revoked: int = 0


def build(*, brands: list[int]) -> ShardedCA:
    """The second brand's CAs, with no revoked certificate yet."""
    issuer = authority.create_authorities(Brand.objects.get(pk=brands[1]))
    owner = get_user_model().objects.create(username="shard-bench", password="!")
    return ShardedCA(issuer=issuer, owner_id=owner.pk)


def add_revoked(sharded: ShardedCA, *, upto: int, now: datetime) -> None:
    """Revoked certificates numbered after the ones there, up to `upto` in all."""
    first, last = sharded.revoked + 1, upto
    if last < first:
        return
    if connection.vendor == "postgresql":
        _generate_on_postgresql(sharded, first, last, now)
    else:
        _insert_rows(sharded, first, last, now)
    sharded.revoked = upto


def _generate_on_postgresql(sharded: ShardedCA, first: int, last: int, now: datetime) -> None:
    issuer, shards = sharded.issuer, settings.CRL_SHARDS
    table = connection.ops.quote_name
    issued, ends = now - timedelta(days=10), now + timedelta(days=189)
    revoked_at = now - timedelta(days=1)
    # The serial in hex ("4" and 39 digits: SERIAL_BASE + n), and its shard, as
    # certificates.pki.ca.crl_shard computes it: (SERIAL_BASE + n) mod shards.
    serial_sql = "'4' || lpad(upper(to_hex(n)), 39, '0')"
    base_mod = SERIAL_BASE % shards
    columns = ", ".join(table(column) for column in REVOKED_COLUMNS)
    serial_columns = ", ".join(table(column) for column in SERIAL_COLUMNS)
    request_columns = ", ".join(table(column) for column in REQUEST_COLUMNS)
    # One statement, each insert feeding the next from what it returns: no join, no
    # plan to go wrong on tables without statistics yet.
    sql = (
        f"WITH c AS (INSERT INTO {table(Certificate._meta.db_table)} ({columns}) "
        "SELECT %(issued)s, %(issued)s, %(owner)s, 'issued', %(brand)s, 'DV', 'single', 1, "
        "'', %(revoked)s, %(issued)s, 's' || n || '.example.com', 's' || n || '.example.com', "
        f"'', 'CN=Bench', {serial_sql}, '', 'ECDSA P-256', %(issued)s, %(ends)s, '', '', '', "
        "true, '', %(authority)s FROM generate_series(%(first)s, %(last)s) AS n "
        # The row's number back from its common name ("s<n>.example.com").
        "RETURNING id, serial, split_part(substr(common_name, 2), '.', 1)::bigint AS n), "
        f"s AS (INSERT INTO {table(IssuedSerial._meta.db_table)} ({serial_columns}) "
        "SELECT id, %(authority)s, serial, (%(base)s + n %% %(shards)s) %% %(shards)s, "
        "%(issued)s, %(ends)s FROM c RETURNING certificate_id) "
        f"INSERT INTO {table(RevocationRequest._meta.db_table)} ({request_columns}) "
        "SELECT %(at)s, %(at)s, certificate_id, %(owner)s, "
        "(ARRAY[0, 1, 3, 4, 5])[1 + certificate_id %% 5], %(completed)s, %(at)s, '', %(at)s, '' "
        "FROM s"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            sql,
            {
                "issued": issued,
                "ends": ends,
                "at": revoked_at,
                "owner": sharded.owner_id,
                "brand": issuer.brand_id,
                "revoked": CertificateStatus.REVOKED,
                "completed": RevocationStatus.COMPLETED,
                "authority": issuer.pk,
                "base": base_mod,
                "shards": shards,
                "first": first,
                "last": last,
            },
        )


def _insert_rows(sharded: ShardedCA, first: int, last: int, now: datetime) -> None:
    issuer, shards = sharded.issuer, settings.CRL_SHARDS
    adapt = connection.ops.adapt_datetimefield_value
    issued, ends = adapt(now - timedelta(days=10)), adapt(now + timedelta(days=189))
    revoked_at = adapt(now - timedelta(days=1))
    numbers = range(first, last + 1)
    after = _last_certificate_id(sharded)
    insert_rows(
        Certificate._meta.db_table,
        REVOKED_COLUMNS,
        (
            (issued, issued, sharded.owner_id, "issued", issuer.brand_id, "DV", "single", 1)
            + ("", CertificateStatus.REVOKED, issued, f"s{n}.example.com")
            + (f"s{n}.example.com", "", "CN=Bench", format(SERIAL_BASE + n, "X"), "")
            + ("ECDSA P-256", issued, ends, "", "", "", True, "", issuer.pk)
            for n in numbers
        ),
    )
    rows = list(
        Certificate.objects.filter(authority=issuer, pk__gt=after)
        .values_list("pk", "serial")
        .iterator(chunk_size=10_000)
    )
    insert_rows(
        IssuedSerial._meta.db_table,
        SERIAL_COLUMNS,
        (
            (pk, issuer.pk, serial, ca.crl_shard(int(serial, 16), shards), issued, ends)
            for pk, serial in rows
        ),
    )
    insert_rows(
        RevocationRequest._meta.db_table,
        REQUEST_COLUMNS,
        (
            (revoked_at, revoked_at, pk, sharded.owner_id, (0, 1, 3, 4, 5)[pk % 5])
            + (RevocationStatus.COMPLETED, revoked_at, "", revoked_at, "")
            for pk, _ in rows
        ),
    )


def _last_certificate_id(sharded: ShardedCA) -> int:
    last = IssuedSerial.objects.filter(authority=sharded.issuer).order_by("-certificate_id")
    return last.values_list("certificate_id", flat=True).first() or 0


def publish_every_shard(issuer: CertificateAuthority) -> float:
    """Seconds to publish every shard of the CA, all of them stale."""
    CrlShard.objects.filter(authority=issuer).update(stale=True)
    started = time.perf_counter()
    built = services.publish_crl_shards(issuer=issuer)
    seconds = time.perf_counter() - started
    assert built == settings.CRL_SHARDS, built
    return seconds


def measure_scaling(sharded: ShardedCA, *, revoked: int, now: datetime, step) -> list[Row]:
    """Every shard published at revoked / 10 and at `revoked` revoked certificates."""
    small = max(revoked // 10, 1)
    with step(f"insert {small:,} revoked certificates in shards"):
        add_revoked(sharded, upto=small, now=now)
    with step(f"publish every CRL shard at {small:,} revoked"):
        publish_every_shard(sharded.issuer)  # once to warm up
        at_small = publish_every_shard(sharded.issuer)
    with step(f"insert up to {revoked:,} revoked certificates in shards"):
        add_revoked(sharded, upto=revoked, now=now)
    with step(f"publish every CRL shard at {revoked:,} revoked"):
        at_full = publish_every_shard(sharded.issuer)
    listed = sum(
        _entries(bytes(der))
        for der in CrlShard.objects.filter(authority=sharded.issuer).values_list("der", flat=True)
    )
    assert listed == revoked, (listed, revoked)
    ratio = at_full / at_small
    shards = settings.CRL_SHARDS
    return [
        Row("crl shards", f"publish all {shards} shards, {small:,} revoked", f"{at_small:.2f} s"),
        Row(
            "crl shards",
            f"publish all {shards} shards, {revoked:,} revoked (ratio)",
            f"{at_full:.2f} s ({ratio:.1f}x)",
            f"<= {SCALE_TARGET:.0f}x",
            verdict(ratio <= SCALE_TARGET),
        ),
    ]


def _entries(der: bytes) -> int:
    from cryptography import x509

    return len(x509.load_der_x509_crl(der))


def measure_one_revocation(revocations: Revocations, *, repeat: int) -> list[Row]:
    """After one revocation in the CA of Revocations (its whole CRL is today's path):
    republishing its one stale shard, beside rebuilding the whole CRL."""
    issuer = revocations.issuer
    services.publish_crl_shards(issuer=issuer)
    certificate_id = (
        IssuedSerial.objects.filter(authority=issuer, certificate__status="revoked")
        .values_list("certificate_id", flat=True)
        .first()
    )

    def republish_one() -> None:
        with transaction.atomic():
            mark_crl_shards_stale(certificate_id=certificate_id)
        assert services.publish_crl_shards(issuer=issuer) == 1

    def rebuild_whole() -> None:
        CertificateAuthority.objects.filter(pk=issuer.pk).update(crl_refresh_at=None)
        services.current_crl(issuer=CertificateAuthority.objects.get(pk=issuer.pk))

    shard = median(timed(republish_one, repeat))
    whole = median(timed(rebuild_whole, repeat))
    share = shard / whole
    return [
        Row(
            "crl shards",
            f"republish after one revocation, {revocations.revoked:,} revoked: "
            f"one shard vs the whole CRL ({ms(whole)})",
            f"{ms(shard)} ({share:.0%})",
            f"< {ONE_REVOCATION_TARGET:.0%}",
            verdict(share < ONE_REVOCATION_TARGET),
        )
    ]
