"""Purchase: pay for certificates (simulated) and create them, pending their application."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from certificates import selectors
from certificates.audit import record_event
from certificates.errors import ActionNotAllowed
from certificates.models import Certificate, Order, Product, Source


def subscription_end(paid_at: datetime, years: int) -> datetime:
    """The same date `years` later; 29 February becomes 28 February."""
    try:
        return paid_at.replace(year=paid_at.year + years)
    except ValueError:
        return paid_at.replace(year=paid_at.year + years, day=28)


def purchase(*, customer, product: Product, domain_count: int, quantity: int, years: int) -> Order:
    """Pay for certificates (the payment is simulated) and create them, pending their application.

    The price is selectors.quote's, from the product as it is now in the database.
    """
    with transaction.atomic():
        # The product may have been withdrawn, or repriced, since the page was shown.
        product = (
            Product.objects.select_related("brand")
            .filter(pk=product.pk, is_active=True, brand__is_active=True)
            .first()
        )
        if product is None:
            raise ActionNotAllowed("This certificate is no longer on sale.")
        quote = selectors.quote(product, domain_count=domain_count, quantity=quantity, years=years)
        paid_at = timezone.now()
        order = Order.objects.create(
            customer=customer,
            product=product,
            quantity=quantity,
            years=years,
            domain_count=domain_count,
            unit_price=quote.unit_price,
            amount=quote.amount,
            paid_at=paid_at,
        )
        # A new certificate starts in the default status, pending_application:
        # that is its creation, not a transition.
        certificates = Certificate.objects.bulk_create(
            Certificate(
                owner=customer,
                source=Source.CONSOLE,
                order=order,
                brand=product.brand,
                validation_type=product.validation_type,
                domain_scope=product.domain_scope,
                domain_count=domain_count,
                subscription_ends_at=subscription_end(paid_at, years),
            )
            for _ in range(quantity)
        )
        record_event(
            actor=customer,
            action="order.paid",
            target=order,
            details={
                "product": str(product),
                "domain_count": domain_count,
                "quantity": quantity,
                "years": years,
                "unit_price": str(quote.unit_price),
                "amount": str(quote.amount),
                "certificates": [certificate.pk for certificate in certificates],
            },
        )
    return order
