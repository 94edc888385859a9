"""The statuses of certificates and revocation requests, and the only way to change them.

Each table below lists, for every status, the statuses it may move to. The
function `transition` is the one place a status is written: it locks the row,
checks the table against the status the database holds (not a stale copy),
applies the change and records it in the audit log, all in one transaction.
`transition_batch` does the same for many certificates at once, for the batch
jobs: one locking read, one UPDATE and one insert of audit events per batch.
`create_certificates` is the one way certificate rows come into being. All
three move the owners' counts per status (certificates.counters) in the same
transaction.
"""

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from certificates.errors import ActionNotAllowed


class CertificateStatus(models.TextChoices):
    PENDING_APPLICATION = "pending_application", _("Pending Application")
    VALIDATING = "validating", _("Validating")
    CHECK_FAIL = "check_fail", _("Check Fail")
    ISSUED = "issued", _("Issued")
    REVOKING = "revoking", _("Revoking")
    REVOKED = "revoked", _("Revoked")
    EXPIRED = "expired", _("Expired")


class RevocationStatus(models.TextChoices):
    AWAITING_CONFIRMATION = "awaiting_confirmation", _("Awaiting email confirmation")
    PENDING = "pending", _("With the CA")
    COMPLETED = "completed", _("Completed")
    REJECTED = "rejected", _("Rejected")
    CANCELLED = "cancelled", _("Cancelled")


_C = CertificateStatus
CERTIFICATE_TRANSITIONS: Mapping[str, frozenset[str]] = {
    # Submitting an application; a withdrawn one goes back to pending.
    _C.PENDING_APPLICATION: frozenset({_C.VALIDATING}),
    _C.VALIDATING: frozenset({_C.ISSUED, _C.CHECK_FAIL, _C.PENDING_APPLICATION}),
    # A failed check can be corrected and resubmitted, or withdrawn.
    _C.CHECK_FAIL: frozenset({_C.VALIDATING, _C.PENDING_APPLICATION}),
    # A reissue whose domain checks are too old to reuse goes back to validation; the
    # certificate signed before stays valid meanwhile.
    _C.ISSUED: frozenset({_C.REVOKING, _C.EXPIRED, _C.VALIDATING}),
    # The CA completes the revocation, or it is rejected/cancelled and the
    # certificate is issued again (or has run out meanwhile).
    _C.REVOKING: frozenset({_C.REVOKED, _C.ISSUED, _C.EXPIRED}),
    _C.REVOKED: frozenset(),
    _C.EXPIRED: frozenset(),
}

_R = RevocationStatus
REVOCATION_TRANSITIONS: Mapping[str, frozenset[str]] = {
    _R.AWAITING_CONFIRMATION: frozenset({_R.PENDING, _R.CANCELLED}),
    _R.PENDING: frozenset({_R.COMPLETED, _R.REJECTED}),
    _R.COMPLETED: frozenset(),
    _R.REJECTED: frozenset(),
    _R.CANCELLED: frozenset(),
}

# The models whose statuses certificates.counters counts.
_COUNTED = frozenset({"certificates.Certificate"})

_TABLES: Mapping[str, tuple[Mapping[str, frozenset[str]], type[models.TextChoices]]] = {
    "certificates.Certificate": (CERTIFICATE_TRANSITIONS, CertificateStatus),
    "certificates.RevocationRequest": (REVOCATION_TRANSITIONS, RevocationStatus),
}


def create_certificates(certificates: Iterable[models.Model]) -> list[models.Model]:
    """Insert new certificates, each in the status it holds, and count them.

    The only code that creates certificate rows (a guard test holds every other
    module to it): a certificate counted in its owner's counts from the moment
    it exists. Its first status is its creation, not a transition, so there is
    nothing to check or audit here.
    """
    from certificates import counters  # counters imports the models, which import us

    certificates = list(certificates)
    if not certificates:
        return []
    with transaction.atomic():
        created = type(certificates[0])._default_manager.bulk_create(certificates)
        counters.record_moves((None, counters.key_of(certificate)) for certificate in created)
    return created


def start_uploaded(certificate: models.Model) -> models.Model:
    """Keep a new uploaded certificate: it arrives issued, or already over."""
    certificate.status = _C.EXPIRED if certificate.has_ended else _C.ISSUED
    [created] = create_certificates([certificate])
    return created


class TransitionNotAllowed(ActionNotAllowed):
    """The status table does not allow this change; nothing was changed."""

    def __init__(self, message: str, *, current: str, target: str):
        super().__init__(message)
        self.current = current
        self.target = target


class BatchChangedUnderneath(Exception):
    """Rows of a batch changed between being read and being updated; the batch was undone."""


def can_transition(obj: models.Model, to: str) -> bool:
    """Whether the table allows `obj` to move to `to` from the status it holds in memory."""
    table, _choices = _TABLES[obj._meta.label]
    return to in table[obj.status]


def transition(
    obj: models.Model,
    to: str,
    *,
    actor: Any = None,
    changes: Mapping[str, Any] | None = None,
    details: Mapping[str, Any] | None = None,
) -> models.Model:
    """Move `obj` to status `to`, with any other field `changes`, and audit it.

    The row is locked with SELECT ... FOR UPDATE and its status re-read, so two
    requests racing to change one certificate cannot both succeed. `obj` is
    updated in place and also returned.
    """
    from certificates import counters  # both import the models, which import us
    from certificates.audit import record_event

    label = obj._meta.label
    table, choices = _TABLES[label]
    model = type(obj)
    with transaction.atomic():
        locked = model._default_manager.select_for_update().get(pk=obj.pk)
        current = locked.status
        if to not in table[current]:
            noun = obj._meta.verbose_name
            raise TransitionNotAllowed(
                _("A %(noun)s that is %(status)s cannot become %(target)s.")
                % {"noun": noun, "status": choices(current).label, "target": choices(to).label},
                current=current,
                target=to,
            )
        before = counters.key_of(locked) if label in _COUNTED else None
        fields = dict(changes or {})
        fields["status"] = to
        fields["status_changed_at"] = timezone.now()
        for name, value in fields.items():
            setattr(locked, name, value)
            setattr(obj, name, value)
        locked.save(update_fields=[*fields, "updated_at"])
        obj.updated_at = locked.updated_at
        if label in _COUNTED:
            counters.record_moves([(before, counters.key_of(locked))])
        record_event(
            actor=actor,
            action=f"{obj._meta.model_name}.status",
            target=locked,
            details={"from": current, "to": to, **(details or {})},
        )
    return obj


def transition_batch(
    candidates: models.QuerySet,
    to: str,
    *,
    limit: int,
    actor: Any = None,
    details: Mapping[str, Any] | None = None,
) -> list[int]:
    """Move up to `limit` certificates of `candidates`, lowest id first, to status `to`.

    One transaction: the rows are locked and their status re-read, the ones
    the table lets move to `to` change in a single UPDATE (with
    status_changed_at), the kept counts move in one grouped statement, and their
    audit events ("certificate.status", from and to, as `transition` writes them)
    go in with one INSERT ... SELECT per status moved from. Rows the
    table does not let move are left out rather than refused, so a batch takes
    what it may. Returns the ids moved, ascending: the caller pages on with
    `pk__gt` the last of them, and stops when none is returned.

    Certificates only: the rows are read as tuples of the columns the counts need,
    never as model instances, and the events' names come from the rows in SQL.
    """
    from certificates import counters  # both import us via the models
    from certificates.audit import record_status_events

    model = candidates.model
    table, _choices = _TABLES[model._meta.label]
    sources = [status for status, targets in table.items() if to in targets]
    with transaction.atomic():
        # skip_locked: rows another run (another cron host) has locked are that
        # run's to move. Waiting for them would only find them moved already;
        # skipping means two runs at once split the work between them instead
        # of queueing behind each other, and since a row is only read once it
        # is locked (and PostgreSQL re-checks the WHERE on the latest version
        # before returning a locked row), no certificate is moved twice.
        # SQLite has no row locks and ignores this: it lets one writer in at a
        # time. Plain tuples, not model instances: a batch is thousands of rows.
        locked = list(
            candidates.filter(status__in=sources)
            .order_by("pk")
            .select_for_update(skip_locked=True)
            .values_list("pk", "status", "owner_id", "deleted_at", "not_after")[:limit]
        )
        if not locked:
            return []
        ids = [row[0] for row in locked]
        now = timezone.now()
        moved = model._default_manager.filter(pk__in=ids, status__in=sources).update(
            status=to, status_changed_at=now, updated_at=now
        )
        if moved != len(ids):
            # Only a database without row locks could let another writer in
            # between; roll back rather than audit a change that did not happen.
            raise BatchChangedUnderneath(
                f"{len(ids) - moved} of {len(ids)} rows changed while the batch held them; "
                "the batch was undone, run it again."
            )
        counters.record_moves(
            (
                None
                if deleted_at
                else counters.Key(owner_id, status, counters.end_day(status, not_after)),
                None if deleted_at else counters.Key(owner_id, to, counters.end_day(to, not_after)),
            )
            for _, status, owner_id, deleted_at, not_after in locked
        )
        # One INSERT ... SELECT per status moved from, as `transition` would write them.
        by_source: dict[str, list[int]] = {}
        for pk, status, *_ in locked:
            by_source.setdefault(status, []).append(pk)
        for status, moved_ids in by_source.items():
            record_status_events(
                model=model,
                ids=moved_ids,
                actor=actor,
                details={"from": status, "to": to, **(details or {})},
                created_at=now,
            )
    return ids
