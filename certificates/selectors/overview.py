"""The overview's reads: its counters, tabs and filtered list, scoped to one owner."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

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
    """All of the overview's counters, in one aggregate query."""
    now = now or timezone.now()
    counts = {
        str(tab.key) or "total": Count("pk", filter=status_condition(tab.key, now=now))
        for tab in COUNTER_TABS
    }
    return Certificate.objects.owned_by(owner).aggregate(**counts)


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
        .select_related("brand", "order__product__brand")
    )
    if brand is not None:
        certificates = certificates.filter(brand=brand)
    if search:
        certificates = certificates.filter(Q(name__icontains=search) | Q(domains__icontains=search))
    return certificates.order_by("-created_at", "-id")
