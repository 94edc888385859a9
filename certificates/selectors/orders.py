"""Orders and the audit events a customer may read: their own, and nobody else's."""

from django.db.models import CharField, Prefetch, Q, QuerySet
from django.db.models.functions import Cast

from certificates.lifecycle import RevocationStatus
from certificates.models import AuditEvent, Certificate, Order, RevocationRequest


def customer_orders(*, customer) -> QuerySet[Order]:
    """The customer's orders, newest first, with their certificates and completed refunds."""
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
