"""Reads for the console: counters and the filtered certificate list, scoped to one owner."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from cryptography.hazmat.primitives import hashes
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from certificates import domain_checks
from certificates.lifecycle import CertificateStatus as Status
from certificates.models import Brand, Certificate, DomainScope, Product
from certificates.pki import parsing

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
    ran_out = Q(status=Status.ISSUED, not_after__lte=now)
    if status == Status.ISSUED:
        return Q(status=Status.ISSUED, not_after__gt=now)
    if status == Status.EXPIRED:
        return Q(status=Status.EXPIRED) | ran_out
    if status == WILL_EXPIRE:
        soon = now + timedelta(days=settings.CERTIFICATES_WILL_EXPIRE_DAYS)
        return Q(status=Status.ISSUED, not_after__gt=now, not_after__lte=soon)
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
        .select_related("brand")
    )
    if brand is not None:
        certificates = certificates.filter(brand=brand)
    if search:
        certificates = certificates.filter(Q(name__icontains=search) | Q(domains__icontains=search))
    return certificates.order_by("-created_at", "-id")


def brands() -> QuerySet[Brand]:
    return Brand.objects.all()


@dataclass(frozen=True)
class ChainEntry:
    subject: str
    issuer: str
    not_after: datetime


@dataclass(frozen=True)
class CertificateDetails:
    """What the details page reads from the stored certificate itself."""

    subject: str
    fingerprint_sha1: str
    chain: tuple[ChainEntry, ...]


def certificate_details(certificate: Certificate) -> CertificateDetails | None:
    """The certificate and chain as X.509 objects say; None until there is a certificate."""
    if not certificate.certificate_pem:
        return None
    leaf, *_ = parsing.load_certificates(certificate.certificate_pem)
    chain = parsing.load_certificates(certificate.chain_pem) if certificate.chain_pem else []
    return CertificateDetails(
        subject=leaf.subject.rfc4514_string(),
        fingerprint_sha1=":".join(f"{b:02X}" for b in leaf.fingerprint(hashes.SHA1())),
        chain=tuple(
            ChainEntry(
                subject=cert.subject.rfc4514_string(),
                issuer=cert.issuer.rfc4514_string(),
                not_after=cert.not_valid_after_utc,
            )
            for cert in chain
        ),
    )


@dataclass(frozen=True)
class ValidationRow:
    domain: str
    record: str
    url: str
    result: str


def validation_rows(application) -> list[ValidationRow]:
    """What to publish for each domain, and what the last check found."""
    results = application.check_results or {}
    return [
        ValidationRow(
            domain=domain,
            record=domain_checks.dns_record_name(domain),
            url=f"http://{domain}{domain_checks.VALIDATION_FILE_PATH}",
            result=results.get(domain, {}).get("detail", "Not checked yet"),
        )
        for domain in application.domain_list
    ]


# Purchase: what is on sale and what it costs.

PURCHASE_YEARS = (1, 2)  # never more: see DESIGN.md, "Purchase"
PURCHASE_MAX_QUANTITY = 100
MULTIPLE_MIN_DOMAINS = 2
MULTIPLE_MAX_DOMAINS = 250


def brands_on_sale() -> QuerySet[Brand]:
    return Brand.objects.filter(is_active=True)


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
            errors["domain_count"] = (
                f"A multiple-domain certificate covers {MULTIPLE_MIN_DOMAINS} to "
                f"{MULTIPLE_MAX_DOMAINS} domains."
            )
    elif domain_count != 1:
        errors["domain_count"] = "Only a multiple-domain certificate covers more than one domain."
    if not 1 <= quantity <= PURCHASE_MAX_QUANTITY:
        errors["quantity"] = f"Buy 1 to {PURCHASE_MAX_QUANTITY} certificates at a time."
    if years not in PURCHASE_YEARS:
        errors["years"] = "A certificate is bought for 1 or 2 years, never more."
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
