"""The overview's reads: its counters, tabs and filtered list, scoped to one owner."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.conf import settings
from django.db.models import Count, Q, QuerySet, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy, ngettext, pgettext

from certificates import counters
from certificates.lifecycle import CertificateStatus as Status
from certificates.models import Brand, Certificate, IssuedEndCount, ended, not_ended

WILL_EXPIRE = "will_expire"


@dataclass(frozen=True)
class Tab:
    key: str
    label: str


# The overview's counters, in order; each is also a tab of the list.
COUNTER_TABS = (
    Tab("", gettext_lazy("Total")),
    Tab(Status.ISSUED, Status.ISSUED.label),
    Tab(Status.PENDING_APPLICATION, Status.PENDING_APPLICATION.label),
    Tab(WILL_EXPIRE, gettext_lazy("Will Expire")),
    Tab(Status.CHECK_FAIL, Status.CHECK_FAIL.label),
    Tab(Status.EXPIRED, Status.EXPIRED.label),
)
# The keys of the counters' dict (certificate_counters).
COUNTER_KEYS = frozenset(str(tab.key) or "total" for tab in COUNTER_TABS)
# Everything the "All Status" filter offers.
STATUS_FILTERS = (
    *(Tab(value, label) for value, label in Status.choices),
    Tab(WILL_EXPIRE, gettext_lazy("Will Expire")),
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


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def certificate_counters(*, owner, now: datetime | None = None) -> dict[str, int]:
    """All of the overview's counters, in three small queries whatever the owner's size.

    The counts per status are kept (certificates.counters), and so are the
    issued certificates per end day (UTC). What depends on the time comes from
    those day rows: the whole days before today are past their end (shown as
    expired until the expiry job moves them), the whole days up to the "Will
    Expire" horizon will expire. Only the two days the instants fall within are
    counted from the certificates themselves: one day's end dates each, two
    bounded index range scans.
    """
    now = now or timezone.now()
    soon = now + timedelta(days=settings.CERTIFICATES_WILL_EXPIRE_DAYS)
    today, soon_day = now.astimezone(UTC).date(), soon.astimezone(UTC).date()
    stored = counters.stored_counts(owner)
    days = IssuedEndCount.objects.filter(owner=owner).aggregate(
        before_today=Sum("count", filter=Q(ends_on__lt=today), default=0),
        before_soon=Sum("count", filter=Q(ends_on__lt=soon_day), default=0),
    )
    # Issued ones ending today up to now, and on the horizon's day up to the horizon.
    ended_today = Q(not_after__gte=_day_start(today), not_after__lte=now)
    ending_that_day = Q(not_after__gte=_day_start(soon_day), not_after__lte=soon)
    partial = (
        Certificate.objects.owned_by(owner)
        .filter(ended_today | ending_that_day, status=Status.ISSUED)
        .aggregate(
            ended=Count("pk", filter=ended_today), ending=Count("pk", filter=ending_that_day)
        )
    )
    ended = days["before_today"] + partial["ended"]
    ending = days["before_soon"] + partial["ending"]
    return {
        "total": sum(stored.values()),
        Status.ISSUED: stored.get(Status.ISSUED, 0) - ended,
        Status.PENDING_APPLICATION: stored.get(Status.PENDING_APPLICATION, 0),
        WILL_EXPIRE: ending - ended,
        Status.CHECK_FAIL: stored.get(Status.CHECK_FAIL, 0),
        Status.EXPIRED: stored.get(Status.EXPIRED, 0) + ended,
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
        .select_related("brand", "order__product__brand")
    )
    if brand is not None:
        certificates = certificates.filter(brand=brand)
    if search:
        certificates = certificates.filter(Q(name__icontains=search) | Q(domains__icontains=search))
    return certificates.order_by("-created_at", "-id")


@dataclass(frozen=True)
class ListEntry:
    """One row of the overview's list, worked out once in Python.

    The template only prints these: resolving properties, filters and {% url %}
    in the template for every row was most of the page's time (the profile of
    `make bench`'s serve section).
    """

    pk: str
    name: str
    domains: list[str]  # the first three
    more_domains: int
    brand: str
    kind: str
    status: str
    status_label: str
    organization: str
    expires_on: str  # the end date in the console's time zone, or "" while there is none
    expiry_note: str  # "Expired", the days left while in use, or ""
    # What tells a pending certificate (no domain yet) apart: its order.
    order_pk: str
    order_product: str
    paid_on: str
    expired: bool
    details_url: str
    apply_url: str  # empty when it cannot be applied for now, as are the others
    download_url: str
    revoke_url: str
    delete_url: str
    deployable: bool  # offered in the "Deploy selected" form


# An id no certificate has, put in once per page and replaced in each row's URLs.
_PLACEHOLDER = 987654321987


def _urls(name: str) -> Callable[[int], str]:
    """The URL of `name` for any certificate id, from one reverse() per page."""
    prefix, _, suffix = reverse(name, args=[_PLACEHOLDER]).rpartition(str(_PLACEHOLDER))
    return lambda pk: f"{prefix}{pk}{suffix}"


def list_entries(certificates: Iterable[Certificate]) -> list[ListEntry]:
    """The rows of the list, in order, with the actions the rules allow each one."""
    details, apply, revoke, delete = (
        _urls(f"certificates:{name}") for name in ("detail", "apply", "revoke", "delete")
    )
    entries = []
    for certificate in certificates:
        pk = certificate.pk
        domains = certificate.domain_list
        status = certificate.display_status
        expired = status == Status.EXPIRED
        days = certificate.days_left
        order = certificate.order
        entries.append(
            ListEntry(
                pk=str(pk),
                name=certificate.name,
                domains=domains[:3],
                more_domains=max(len(domains) - 3, 0),
                brand=certificate.brand.name if certificate.brand else pgettext("brand", "Other"),
                kind=(
                    gettext("Uploaded")
                    if certificate.is_uploaded
                    else f"{certificate.validation_type} · {certificate.get_domain_scope_display()}"
                ),
                status=certificate.shown_status,
                status_label=certificate.get_display_status_display(),
                organization=certificate.organization,
                expires_on=(
                    f"{timezone.localtime(certificate.not_after):%Y-%m-%d}"
                    if certificate.not_after
                    else ""
                ),
                expiry_note=(
                    gettext("Expired")
                    if expired
                    else ngettext("%(days)s day left", "%(days)s days left", days) % {"days": days}
                    if certificate.shows_days_left
                    else ""
                ),
                order_pk=str(order.pk) if order else "",
                order_product=str(order.product) if order else "",
                paid_on=f"{timezone.localtime(order.paid_at):%Y-%m-%d}"
                if order and order.paid_at
                else "",
                expired=expired,
                details_url=details(pk),
                apply_url=apply(pk) if certificate.can_apply else "",
                download_url=f"{details(pk)}#download-heading" if certificate.can_download else "",
                revoke_url=revoke(pk) if certificate.can_revoke else "",
                delete_url=delete(pk) if certificate.offers_delete else "",
                deployable=certificate.offers_deploy,
            )
        )
    return entries
