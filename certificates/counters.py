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
from datetime import UTC, date, datetime

from django.db import connection, transaction
from django.db.models import Count, Q
from django.db.models.functions import TruncDate

from certificates.lifecycle import CertificateStatus
from certificates.models import Certificate, CertificateCount, IssuedEndCount


@dataclass(frozen=True, order=True)
class Key:
    """Where a live certificate counts: its owner, its status and, while issued, its end day."""

    owner_id: int
    status: str
    ends_on: date | None = None


# Rows per upsert statement: bounded, however many certificates a batch moves.
CHUNK = 500


def end_day(status: str, not_after: datetime | None) -> date | None:
    """The UTC day an issued certificate ends on; None for any other status."""
    if status != CertificateStatus.ISSUED or not_after is None:
        return None
    return not_after.astimezone(UTC).date()


def key_of(certificate: Certificate) -> Key | None:
    """Where `certificate` counts as it is in memory; None once it is deleted."""
    if certificate.deleted_at is not None:
        return None
    status = certificate.status
    return Key(certificate.owner_id, status, end_day(status, certificate.not_after))


def record_moves(moves: Iterable[tuple[Key | None, Key | None]]) -> None:
    """Apply certificates moving from one key to another (None: created, or deleted).

    Every (owner, status) row a move touches is written, even when it nets to
    nothing (a reissue moves only the end day): that row is what `find_drift`
    locks to hold an owner's changes back.
    """
    statuses: Counter[tuple[int, str]] = Counter()
    days: Counter[tuple[int, date]] = Counter()
    for before, after in moves:
        if before == after:
            continue
        for key, sign in ((before, -1), (after, 1)):
            if key is None:
                continue
            statuses[(key.owner_id, key.status)] += sign
            if key.ends_on is not None:
                days[(key.owner_id, key.ends_on)] += sign
    _add(CertificateCount, "status", dict(statuses))
    _add(IssuedEndCount, "ends_on", {key: delta for key, delta in days.items() if delta})


def _add(model, column: str, deltas: dict[tuple, int]) -> None:
    """Add each delta to its count row, creating missing rows, in (owner, `column`) order.

    One INSERT ... ON CONFLICT DO UPDATE (PostgreSQL and SQLite alike) per
    chunk: it creates or adds in one statement and locks the rows in the
    order of its VALUES. Status rows are always written before day rows.
    """
    rows = sorted(deltas.items())
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    owner, other, count = (quote(name) for name in ("owner_id", column, "count"))
    with connection.cursor() as cursor:
        for start in range(0, len(rows), CHUNK):
            chunk = rows[start : start + CHUNK]
            values = ", ".join(["(%s, %s, %s)"] * len(chunk))
            cursor.execute(
                f"INSERT INTO {table} ({owner}, {other}, {count}) VALUES {values} "
                f"ON CONFLICT ({owner}, {other}) "
                f"DO UPDATE SET {count} = {table}.{count} + excluded.{count}",
                [value for (owner_id, part), delta in chunk for value in (owner_id, part, delta)],
            )


def stored_counts(owner) -> dict[str, int]:
    """The owner's counts per status, as kept (statuses with none left out)."""
    return dict(CertificateCount.objects.filter(owner=owner).values_list("status", "count"))


@dataclass(frozen=True)
class Drift:
    owner_id: int
    # A status, or for the issued certificates ending on a day, "issued ending <day>".
    what: str
    stored: int
    counted: int


def _counted(certificates) -> dict[tuple, int]:
    """Recounts keyed (owner, status) and (owner, end day)."""
    live = certificates.filter(deleted_at__isnull=True).order_by()
    by_status = live.values_list("owner_id", "status").annotate(n=Count("pk"))
    by_day = (
        live.filter(status=CertificateStatus.ISSUED, not_after__isnull=False)
        .annotate(day=TruncDate("not_after", tzinfo=UTC))
        .values_list("owner_id", "day")
        .annotate(n=Count("pk"))
    )
    return {(owner_id, part): n for rows in (by_status, by_day) for owner_id, part, n in rows}


def _stored(owners: Q) -> dict[tuple, int]:
    return {
        (owner_id, part): n
        for model, column in ((CertificateCount, "status"), (IssuedEndCount, "ends_on"))
        for owner_id, part, n in model.objects.filter(owners).values_list(
            "owner_id", column, "count"
        )
    }


def find_drift(*, repair: bool = False) -> list[Drift]:
    """Every count that differs from a recount of the certificates; with `repair`, fixed.

    A first pass compares all counts with one aggregate and no lock, so it may
    see a change half-way (a certificate committed after the recount read).
    Each owner it suspects is then checked again in a transaction that first
    holds every one of the owner's status rows: a change of theirs writes one
    of those first and so waits, and the recount then sees exactly the
    committed changes the counts include. Only what is still wrong is drift.
    """
    counted = _counted(Certificate.objects.all())
    stored = _stored(Q())
    wrong = {
        key for key in counted.keys() | stored.keys() if counted.get(key, 0) != stored.get(key, 0)
    }
    drifts = []
    for owner_id in sorted({owner_id for owner_id, _ in wrong}):
        drifts += _check_owner(owner_id, repair=repair)
    return drifts


def _check_owner(owner_id: int, *, repair: bool) -> list[Drift]:
    with transaction.atomic():
        # Adding nothing to every status row of the owner makes the missing ones
        # and locks them all, in the order every change takes them.
        _add(
            CertificateCount,
            "status",
            {(owner_id, status): 0 for status in CertificateStatus.values},
        )
        counted = _counted(Certificate.objects.filter(owner_id=owner_id))
        stored = _stored(Q(owner_id=owner_id))
        wrong = sorted(
            (
                key
                for key in counted.keys() | stored.keys()
                if counted.get(key, 0) != stored.get(key, 0)
            ),
            key=lambda key: (isinstance(key[1], date), str(key[1])),
        )
        drifts = [
            Drift(
                owner_id,
                f"issued ending {part}" if isinstance(part, date) else part,
                stored.get((owner_id, part), 0),
                counted.get((owner_id, part), 0),
            )
            for owner_id, part in wrong
        ]
        if repair:
            for owner_id, part in wrong:
                model, column = (
                    (IssuedEndCount, "ends_on")
                    if isinstance(part, date)
                    else (CertificateCount, "status")
                )
                model.objects.update_or_create(
                    owner_id=owner_id,
                    **{column: part},
                    defaults={"count": counted.get((owner_id, part), 0)},
                )
    return drifts
