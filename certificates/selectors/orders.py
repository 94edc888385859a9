"""The Orders page: a customer's orders, their certificates and the refunds made."""

from django.db.models import Count, Prefetch, Q, QuerySet

from certificates.lifecycle import RevocationStatus
from certificates.models import Certificate, Order, RevocationRequest
from certificates.selectors.operators import CERTIFICATE_BULK_FIELDS


def order_list(*, customer) -> QuerySet[Order]:
    """The customer's paid orders, newest first, each with its number of certificates."""
    return (
        Order.objects.filter(customer=customer, paid_at__isnull=False)
        .select_related("product__brand")
        .annotate(
            certificate_count=Count("certificates"),
            deleted_count=Count("certificates", filter=Q(certificates__deleted_at__isnull=False)),
        )
        .order_by("-paid_at", "-id")
    )


def order_detail(*, customer, pk: int) -> Order | None:
    """One of the customer's orders with its certificates and their completed revocations
    (the refunds), in three queries; None when it is not theirs."""
    refunds = RevocationRequest.objects.filter(status=RevocationStatus.COMPLETED).order_by(
        "completed_at"
    )
    certificates = (
        Certificate.objects.select_related("brand")
        .defer(*CERTIFICATE_BULK_FIELDS)
        .prefetch_related(Prefetch("revocation_requests", refunds, to_attr="completed"))
        .order_by("id")
    )
    return (
        Order.objects.filter(customer=customer, pk=pk)
        .select_related("product__brand")
        .prefetch_related(Prefetch("certificates", certificates, to_attr="certificate_rows"))
        .first()
    )
