"""The Orders page: a customer's orders, their certificates and the refunds made; and, for
the API, the orders with their refunds and the audit events of the customer's certificates."""

from django.db.models import CharField, Count, Prefetch, Q, QuerySet
from django.db.models.functions import Cast

from certificates.lifecycle import RevocationStatus
from certificates.models import AuditEvent, Certificate, Order, RevocationRequest
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


def customer_orders(*, customer) -> QuerySet[Order]:
    """The API's orders: newest first by creation (its cursor's order), with their
    certificates and completed refunds."""
    return (
        Order.objects.filter(customer=customer)
        .select_related("product__brand")
        .prefetch_related(
            Prefetch("certificates", queryset=Certificate.objects.only("pk", "order_id")),
            Prefetch(
                "certificates__revocation_requests",
                queryset=RevocationRequest.objects.filter(status=RevocationStatus.COMPLETED),
                to_attr="completed_revocations",
            ),
        )
        .order_by("-created_at", "-id")
    )


def certificate_events(*, owner, certificate: Certificate | None = None) -> QuerySet[AuditEvent]:
    """The audit events of the owner's certificates (deleted ones too) and their revocations."""
    certificates = Certificate.objects.filter(owner=owner)
    if certificate is not None:
        certificates = certificates.filter(pk=certificate.pk)
    revocations = RevocationRequest.objects.filter(certificate__in=certificates)
    return AuditEvent.objects.filter(
        Q(
            object_type=Certificate._meta.label,
            object_id__in=certificates.values(text=Cast("pk", CharField())),
        )
        | Q(
            object_type=RevocationRequest._meta.label,
            object_id__in=revocations.values(text=Cast("pk", CharField())),
        )
    ).order_by("-created_at", "-id")
