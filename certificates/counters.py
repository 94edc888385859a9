"""Each customer's certificates counted per status, moved with the changes that move them.

The overview shows a customer's counts on every page; counting their rows
each time costs as much as they have certificates. Instead CertificateCount
keeps one row per customer and status, and every change that moves a live
certificate into or out of a status (creation, `lifecycle.transition`,
`lifecycle.transition_batch`, deletion) calls `record_moves` in its own
transaction, so a count is never ahead of or behind the rows it counts.

Locks: the upsert locks the count rows it touches, in (owner, status) order,
and the callers do so after locking the certificate rows they change. Every
transaction thus takes its locks in one global order (certificates first,
then counts in order), so single transitions and batches across many
customers cannot deadlock on each other.

`find_drift` recounts from the certificates and, with `repair`, puts the
counts right (the check_counters command).
"""

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Count

from certificates.lifecycle import CertificateStatus
from certificates.models import Certificate, CertificateCount

# (owner id, status) of a live certificate; None for one that is deleted or not there.
Key = tuple[int, str]

# Rows per upsert statement: bounded, however many certificates a batch moves.
CHUNK = 500


def key_of(certificate: Certificate) -> Key | None:
    """Where `certificate` counts as it is in memory: its owner and status, unless deleted."""
    if certificate.deleted_at is not None:
        return None
    return (certificate.owner_id, certificate.status)


def record_moves(moves: Iterable[tuple[Key | None, Key | None]]) -> None:
    """Apply certificates moving from one key to another (None: created, or deleted)."""
    deltas: Counter[Key] = Counter()
    for before, after in moves:
        if before == after:
            continue
        if before is not None:
            deltas[before] -= 1
        if after is not None:
            deltas[after] += 1
    _add({key: delta for key, delta in deltas.items() if delta})


def _add(deltas: dict[Key, int]) -> None:
    """Add each delta to its count row, creating missing rows, in (owner, status) order.

    One INSERT ... ON CONFLICT DO UPDATE (PostgreSQL and SQLite alike) per
    chunk: it creates or adds in one statement and locks the rows in the
    order of its VALUES.
    """
    rows = sorted(deltas.items())
    quote = connection.ops.quote_name
    table = quote(CertificateCount._meta.db_table)
    owner, status, count = (quote(name) for name in ("owner_id", "status", "count"))
    with connection.cursor() as cursor:
        for start in range(0, len(rows), CHUNK):
            chunk = rows[start : start + CHUNK]
            values = ", ".join(["(%s, %s, %s)"] * len(chunk))
            cursor.execute(
                f"INSERT INTO {table} ({owner}, {status}, {count}) VALUES {values} "
                f"ON CONFLICT ({owner}, {status}) "
                f"DO UPDATE SET {count} = {table}.{count} + excluded.{count}",
                [value for (owner_id, state), delta in chunk for value in (owner_id, state, delta)],
            )


def stored_counts(owner) -> dict[str, int]:
    """The owner's counts per status, as kept (statuses with none left out)."""
    return dict(CertificateCount.objects.filter(owner=owner).values_list("status", "count"))


@dataclass(frozen=True)
class Drift:
    owner_id: int
    status: str
    stored: int
    counted: int


def _counted(certificates) -> dict[Key, int]:
    rows = (
        certificates.filter(deleted_at__isnull=True)
        .order_by()
        .values_list("owner_id", "status")
        .annotate(n=Count("pk"))
    )
    return {(owner_id, status): n for owner_id, status, n in rows}


def find_drift(*, repair: bool = False) -> list[Drift]:
    """Every count that differs from a recount of the certificates; with `repair`, fixed.

    A first pass compares all counts with one aggregate and no lock, so it may
    see a change half-way (a certificate committed after the recount read).
    Each owner it suspects is then checked again in a transaction that first
    holds every one of the owner's count rows: a change of theirs waits for
    that, so the recount then sees exactly the committed changes the counts
    include. Only what is still wrong then is drift.
    """
    counted = _counted(Certificate.objects.all())
    stored = {
        (owner_id, status): n
        for owner_id, status, n in CertificateCount.objects.values_list(
            "owner_id", "status", "count"
        )
    }
    wrong = {
        key for key in counted.keys() | stored.keys() if counted.get(key, 0) != stored.get(key, 0)
    }
    suspects = sorted({owner_id for owner_id, _ in wrong})
    drifts = []
    for owner_id in suspects:
        drifts += _check_owner(owner_id, repair=repair)
    return drifts


def _check_owner(owner_id: int, *, repair: bool) -> list[Drift]:
    with transaction.atomic():
        # Adding nothing to every status row of the owner makes the missing ones
        # and locks them all, in the order every change takes them.
        _add({(owner_id, status): 0 for status in CertificateStatus.values})
        counted = _counted(Certificate.objects.filter(owner_id=owner_id))
        stored = dict(
            CertificateCount.objects.filter(owner_id=owner_id).values_list("status", "count")
        )
        drifts = [
            Drift(owner_id, status, stored.get(status, 0), counted.get((owner_id, status), 0))
            for status in sorted(CertificateStatus.values)
            if stored.get(status, 0) != counted.get((owner_id, status), 0)
        ]
        if repair:
            for drift in drifts:
                CertificateCount.objects.filter(owner_id=owner_id, status=drift.status).update(
                    count=drift.counted
                )
    return drifts
