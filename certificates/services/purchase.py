"""Purchase: pay for certificates (simulated) and create them, pending their application."""

import uuid
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from certificates import selectors
from certificates.audit import record_event
from certificates.errors import ActionNotAllowed
from certificates.lifecycle import create_certificates
from certificates.models import Certificate, Order, Product, Source


def subscription_end(paid_at: datetime, years: int) -> datetime:
    """The same date `years` later; 29 February becomes 28 February."""
    try:
        return paid_at.replace(year=paid_at.year + years)
    except ValueError:
        return paid_at.replace(year=paid_at.year + years, day=28)


def purchase(
    *,
    customer,
    product: Product,
    domain_count: int,
    quantity: int,
    years: int,
    idempotency_key: uuid.UUID | None = None,
) -> Order:
    """Pay for certificates (the payment is simulated) and create them, pending their application.

    The price is selectors.quote's, from the product as it is now in the database.
    With an idempotency key (the purchase page sends one per page view), a repeat of
    a purchase already made (a double click, a retried request, parallel requests)
    pays nothing and returns the order that was made, with `repeated` set on it.
    """
    if idempotency_key is not None:
        earlier = _earlier_order(customer, idempotency_key, product, domain_count, quantity, years)
        if earlier is not None:
            return earlier
    try:
        return _pay(
            customer=customer,
            product=product,
            domain_count=domain_count,
            quantity=quantity,
            years=years,
            idempotency_key=idempotency_key,
        )
    except IntegrityError:
        # A parallel request with the same key committed its order first.
        if idempotency_key is None:
            raise
        earlier = _earlier_order(customer, idempotency_key, product, domain_count, quantity, years)
        if earlier is None:
            raise
        return earlier


def _earlier_order(
    customer, key: uuid.UUID, product: Product, domain_count: int, quantity: int, years: int
) -> Order | None:
    earlier = Order.objects.filter(customer=customer, idempotency_key=key).first()
    if earlier is None:
        return None
    asked = (product.pk, domain_count, quantity, years)
    if (earlier.product_id, earlier.domain_count, earlier.quantity, earlier.years) != asked:
        raise ActionNotAllowed(
            _(
                "This purchase was already made as order %(pk)s, with other options. Open the "
                "purchase page again to buy more."
            )
            % {"pk": earlier.pk}
        )
    earlier.repeated = True
    return earlier


def _pay(
    *,
    customer,
    product: Product,
    domain_count: int,
    quantity: int,
    years: int,
    idempotency_key: uuid.UUID | None,
) -> Order:
    with transaction.atomic():
        # The product may have been withdrawn, or repriced, since the page was shown.
        product = (
            Product.objects.select_related("brand")
            .filter(pk=product.pk, is_active=True, brand__is_active=True)
            .first()
        )
        if product is None:
            raise ActionNotAllowed(_("This certificate is no longer on sale."))
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
            idempotency_key=idempotency_key,
        )
        warnings = selectors.expiry_warnings_default(customer=customer)
        # A new certificate starts in the default status, pending_application:
        # that is its creation, not a transition.
        certificates = create_certificates(
            Certificate(
                owner=customer,
                source=Source.CONSOLE,
                order=order,
                brand=product.brand,
                validation_type=product.validation_type,
                domain_scope=product.domain_scope,
                domain_count=domain_count,
                subscription_ends_at=subscription_end(paid_at, years),
                expiry_warnings_enabled=warnings,
            )
            for _number in range(quantity)
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
    order.repeated = False
    return order
