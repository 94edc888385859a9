"""The overview's reads: its counters, tabs and filtered list, scoped to one owner."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from certificates import counters
from certificates.lifecycle import CertificateStatus as Status
from certificates.models import Brand, Certificate, ended, not_ended

WILL_EXPIRE = "will_expire"


@dataclass(frozen=True)
class Tab:
    key: str
    label: str


# The overview's counters, in order; each is also a tab of the list.
COUNTER_TABS = (
    Tab("", "Total"),
    Tab(Status.ISSUED, "Issued"),
    Tab(Status.PENDING_APPLICATION, "Pending Application"),
    Tab(WILL_EXPIRE, "Will Expire"),
    Tab(Status.CHECK_FAIL, "Check Fail"),
    Tab(Status.EXPIRED, "Expired"),
)
# The keys of the counters' dict (certificate_counters).
COUNTER_KEYS = frozenset(str(tab.key) or "total" for tab in COUNTER_TABS)
# Everything the "All Status" filter offers.
STATUS_FILTERS = (
    *(Tab(value, label) for value, label in Status.choices),
    Tab(WILL_EXPIRE, "Will Expire"),
)


def status_condition(status: str, *, now: datetime) -> Q:
    """The filter for a status as the customer sees it.

    A certificate past its end date is expired even while its row still says
    issued (the batch job may not have run yet), so "issued" and "expired" look
    at the end date as well as the stored status.
    """
    if status == Status.ISSUED:
        return Q(not_ended(now), status=Status.ISSUED)
    if status == Status.EXPIRED:
        return Q(status=Status.EXPIRED) | Q(ended(now), status=Status.ISSUED)
    if status == WILL_EXPIRE:
        soon = now + timedelta(days=settings.CERTIFICATES_WILL_EXPIRE_DAYS)
        return Q(not_ended(now), status=Status.ISSUED, not_after__lte=soon)
    if status in Status.values:
        return Q(status=status)
    return Q()


def certificate_counters(*, owner, now: datetime | None = None) -> dict[str, int]:
    """All of the overview's counters, in two queries whatever the owner's size.

    The counts per status are kept (certificates.counters). What depends on the
    time comes from one index range scan over the issued certificates ending
    by the "Will Expire" horizon: the ones ending within it, and the ones past
    their end the expiry job has not reached yet (they show as expired). That
    range holds a window of end dates, never the customer's whole list.
    """
    now = now or timezone.now()
    stored = counters.stored_counts(owner)
    soon = now + timedelta(days=settings.CERTIFICATES_WILL_EXPIRE_DAYS)
    window = (
        Certificate.objects.owned_by(owner)
        .filter(status=Status.ISSUED, not_after__lte=soon)
        .aggregate(ending=Count("pk"), ended=Count("pk", filter=ended(now)))
    )
    return {
        "total": sum(stored.values()),
        Status.ISSUED: stored.get(Status.ISSUED, 0) - window["ended"],
        Status.PENDING_APPLICATION: stored.get(Status.PENDING_APPLICATION, 0),
        WILL_EXPIRE: window["ending"] - window["ended"],
        Status.CHECK_FAIL: stored.get(Status.CHECK_FAIL, 0),
        Status.EXPIRED: stored.get(Status.EXPIRED, 0) + window["ended"],
    }


def certificate_list(
    *,
    owner,
    status: str = "",
    brand: Brand | None = None,
    search: str = "",
    now: datetime | None = None,
) -> QuerySet[Certificate]:
    """The owner's certificates, newest first, filtered as the overview asks."""
    now = now or timezone.now()
    certificates = (
        Certificate.objects.owned_by(owner)
        .filter(status_condition(status, now=now))
        .select_related("brand")
    )
    if brand is not None:
        certificates = certificates.filter(brand=brand)
    if search:
        certificates = certificates.filter(Q(name__icontains=search) | Q(domains__icontains=search))
    return certificates.order_by("-created_at", "-id")
