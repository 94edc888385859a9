"""Expiring issued certificates whose end date has passed (the expire_certificates job).

The work goes in batches, each its own transaction (lifecycle.transition_batch),
so a run that dies loses at most the batch in hand and the next run finishes.
Memory stays flat however many certificates are due: a batch holds ids and
names, never whole rows, and nothing is collected across batches.
"""

from collections.abc import Callable
from datetime import datetime

from django.db.models import QuerySet

from certificates.lifecycle import CertificateStatus as Status
from certificates.lifecycle import transition_batch
from certificates.models import Certificate

DEFAULT_BATCH_SIZE = 1000


def due_for_expiry(*, now: datetime) -> QuerySet[Certificate]:
    """Issued certificates whose end date is at or before `now` (deleted ones too)."""
    return Certificate.objects.filter(status=Status.ISSUED).ended(now)


def expire_due(
    *,
    now: datetime,
    batch_size: int = DEFAULT_BATCH_SIZE,
    on_batch: Callable[[int], None] | None = None,
) -> int:
    """Expire every certificate due at `now`, batch by batch; return how many this run expired.

    `now` is fixed for the whole run, so it ends even while more certificates
    come due. Batches follow the ids upwards (keyset pagination: each batch
    starts after the last id of the one before, never with an OFFSET), so a
    batch never rereads what earlier ones went through, including rows another
    run held locked and is expiring itself. `on_batch` is called after each
    committed batch with the running total.
    """
    due = due_for_expiry(now=now)
    expired = 0
    last_id = 0
    while ids := transition_batch(due.filter(pk__gt=last_id), Status.EXPIRED, limit=batch_size):
        last_id = ids[-1]
        expired += len(ids)
        if on_batch is not None:
            on_batch(expired)
    return expired
