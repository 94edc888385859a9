"""Purchase: what is on sale, the numbers that can be bought, and what they cost."""

from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from certificates.models import Brand, DomainScope, Product

PURCHASE_YEARS = (1, 2)  # never more: see DESIGN.md, "Purchase"
PURCHASE_MAX_QUANTITY = 100
MULTIPLE_MIN_DOMAINS = 2
MULTIPLE_MAX_DOMAINS = 250


def products_on_sale(brand: Brand) -> dict[tuple[str, str], Product]:
    """The brand's active products, by (validation type, domain scope)."""
    products = Product.objects.filter(brand=brand, is_active=True).select_related("brand")
    return {(product.validation_type, product.domain_scope): product for product in products}


@dataclass(frozen=True)
class Quote:
    """What a purchase costs. unit_price is one certificate for one year."""

    price_per_year: Decimal
    price_per_extra_domain: Decimal
    extra_domains: int
    unit_price: Decimal
    domain_count: int
    years: int
    quantity: int
    amount: Decimal

    @property
    def extra_domains_price(self) -> Decimal:
        return self.price_per_extra_domain * self.extra_domains


def check_purchase(*, domain_scope: str, domain_count: int, quantity: int, years: int) -> None:
    """Refuse numbers that cannot be bought, each with its message on its field."""
    errors = {}
    if domain_scope == DomainScope.MULTIPLE:
        if not MULTIPLE_MIN_DOMAINS <= domain_count <= MULTIPLE_MAX_DOMAINS:
            errors["domain_count"] = _(
                "A multiple-domain certificate covers %(minimum)s to %(maximum)s domains."
            ) % {"minimum": MULTIPLE_MIN_DOMAINS, "maximum": MULTIPLE_MAX_DOMAINS}
    elif domain_count != 1:
        errors["domain_count"] = _(
            "Only a multiple-domain certificate covers more than one domain."
        )
    if not 1 <= quantity <= PURCHASE_MAX_QUANTITY:
        errors["quantity"] = _("Buy 1 to %(maximum)s certificates at a time.") % {
            "maximum": PURCHASE_MAX_QUANTITY
        }
    if years not in PURCHASE_YEARS:
        errors["years"] = _("A certificate is bought for 1 or 2 years, never more.")
    if errors:
        raise ValidationError(errors)


def quote(product: Product, *, domain_count: int, quantity: int, years: int) -> Quote:
    """The price of a purchase, or ValidationError for numbers that cannot be bought.

    The live price on the page and the amount paid both come from here, so they
    cannot disagree. Pure: no query, only the product's scope and prices.
    """
    check_purchase(
        domain_scope=product.domain_scope,
        domain_count=domain_count,
        quantity=quantity,
        years=years,
    )
    extra_domains = domain_count - 1
    unit_price = product.price_per_year + product.price_per_extra_domain * extra_domains
    return Quote(
        price_per_year=product.price_per_year,
        price_per_extra_domain=product.price_per_extra_domain,
        extra_domains=extra_domains,
        unit_price=unit_price,
        domain_count=domain_count,
        years=years,
        quantity=quantity,
        amount=unit_price * years * quantity,
    )
