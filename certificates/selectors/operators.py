"""The operators' reads: what waits for them, and what completing a revocation refunds.

The admin's lists and filters and the admin index's queues read the same conditions, so a
queue's count is the length of the list it links to. Completing a revocation records the
refund `refund_on` gives, the amount the admin shows beforehand.
"""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.db.models import F, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from certificates import refunds
from certificates.lifecycle import CertificateStatus, RevocationStatus
from certificates.models import Certificate, IssuedSerial, Order, RevocationRequest, ValidationType
from certificates.selectors.revocation import certificate_price, refund_terms, refund_terms_from

# DV is checked by the console; these wait for an operator's review.
REVIEWED_TYPES = (ValidationType.OV, ValidationType.EV)

# Never loaded for an operator's page: nothing there shows them, and a key not read can't leak.
CERTIFICATE_BULK_FIELDS = ("certificate_pem", "chain_pem", "private_key_encrypted")


def application_waiting_for_review() -> Q:
    """The applications an operator has to decide: OV/EV ones whose certificate is validating."""
    return Q(
        certificate__status=CertificateStatus.VALIDATING,
        certificate__validation_type__in=REVIEWED_TYPES,
    )


def is_waiting_for_review(certificate: Certificate) -> bool:
    """The same rule for one certificate already read."""
    return (
        certificate.status == CertificateStatus.VALIDATING
        and certificate.validation_type in REVIEWED_TYPES
    )


def revocation_with_the_ca(path: str = "") -> Q:
    """The revocation requests the CA has to complete or reject; `path` is the lookup
    from another model's rows to them, e.g. "revocation_requests__" for certificates."""
    return Q(**{f"{path}status": RevocationStatus.PENDING})


def revocation_overdue(*, today: date | None = None) -> Q:
    """Those still with the CA after their due date (today's, unless another day is given)."""
    return revocation_with_the_ca() & Q(due_date__lt=today or timezone.localdate())


def order_with_a_revocation_with_the_ca() -> Q:
    """The orders a completion by the CA may still refund."""
    with_the_ca = RevocationRequest.objects.filter(revocation_with_the_ca())
    return Q(pk__in=with_the_ca.values("certificate__order"))


def first_issued_at(certificate_path: str = "") -> Coalesce:
    """When a certificate was first issued (its refund days count from then), as an
    annotation for a list: its earliest issued serial, else its own start date.

    `certificate_path` is the lookup from the list's rows to the certificate, e.g.
    "certificate" for revocation requests; "" for certificates themselves.
    """
    prefix = f"{certificate_path}__" if certificate_path else ""
    earliest = (
        IssuedSerial.objects.filter(certificate=OuterRef(certificate_path or "pk"))
        .order_by("not_before")
        .values("not_before")[:1]
    )
    return Coalesce(Subquery(earliest), F(f"{prefix}not_before"))


@dataclass(frozen=True)
class Refund:
    amount: Decimal
    # The last day a completion refunds; None when there is no order, so nothing to refund.
    deadline: date | None


def refund_on(
    *, certificate: Certificate, completed_on: date, first_issued_at: datetime | None = None
) -> Refund:
    """What a revocation of this certificate completed on that day refunds.

    Completing a revocation records this amount and the admin previews it, so the two
    cannot differ. A list that annotated `first_issued_at()` passes the time in, which
    saves a query per row; otherwise it is read here.
    """
    if certificate.order is None:
        return Refund(amount=refunds.NO_REFUND, deadline=None)
    if first_issued_at is None:
        terms = refund_terms(certificate=certificate)
    else:
        terms = refund_terms_from(first_issued_at)
    amount = refunds.refund_amount(
        terms, price=certificate_price(certificate=certificate), completed_on=completed_on
    )
    return Refund(amount=amount, deadline=terms.refund_deadline)


def with_revocations_with_the_ca(orders: QuerySet[Order]) -> QuerySet[Order]:
    """The orders, each with `with_the_ca`: its certificates under revocation with the CA,
    annotated with `first_issued_at`. One query for the whole page, whatever its rows."""
    certificates = (
        Certificate.objects.filter(revocation_with_the_ca("revocation_requests__"))
        .defer(*CERTIFICATE_BULK_FIELDS)
        .annotate(first_issued_at=first_issued_at())
    )
    return orders.prefetch_related(Prefetch("certificates", certificates, to_attr="with_the_ca"))


def refund_due(order: Order, *, completed_on: date) -> Decimal:
    """What completing all of an order's revocations with the CA on that day would refund;
    the order comes from `with_revocations_with_the_ca`."""
    return sum(
        (
            refund_on(
                certificate=certificate,
                completed_on=completed_on,
                first_issued_at=certificate.first_issued_at,
            ).amount
            for certificate in order.with_the_ca
        ),
        refunds.NO_REFUND,
    )
