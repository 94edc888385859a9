"""Demo data: a customer, an operator, the brand table and a realistic mix of certificates.

Idempotent: users, brands and products are matched by name, and the demo
customer's certificates are only made when they have none.
"""

import random
from datetime import datetime, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction
from django.db.models import BigIntegerField, OuterRef, Subquery
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext_noop

from certificates import authority, services
from certificates.issuance_policy import IssuanceRefused
from certificates.lifecycle import CertificateStatus as Status
from certificates.lifecycle import RevocationStatus, transition
from certificates.models import (
    Application,
    AuditEvent,
    Brand,
    Certificate,
    DomainScope,
    Order,
    Product,
    RevocationReason,
    ValidationType,
)

DEMO_USERS = (
    # username, password, is_staff
    ("demo", "demo", False),
    ("operator", "operator", True),
)

BRANDS = (
    # name, slug, issuer match, DV price a year
    ("DigiCert", "digicert", "DigiCert", Decimal("299.00")),
    ("GeoTrust", "geotrust", "GeoTrust", Decimal("149.00")),
    ("GlobalSign", "globalsign", "GlobalSign", Decimal("249.00")),
    ("vTrus", "vtrus", "vTrus", Decimal("99.00")),
    ("CFCA", "cfca", "CFCA", Decimal("129.00")),
)
TYPE_FACTOR = {ValidationType.DV: 1, ValidationType.OV: 3, ValidationType.EV: 5}
SCOPE_FACTOR = {DomainScope.SINGLE: 1, DomainScope.MULTIPLE: 1, DomainScope.WILDCARD: 4}

# What the demo customer's overview shows. "issued_ran_out" are issued
# certificates past their end date that the batch job has not expired yet:
# they count and show as expired.
MIX = {
    "issued": 743,
    "will_expire": 2,
    Status.PENDING_APPLICATION: 74,
    Status.CHECK_FAIL: 50,
    "expired": 14,
    "issued_ran_out": 3,
    Status.VALIDATING: 8,
    Status.REVOKING: 3,
    Status.REVOKED: 4,
}
VALIDITY_DAYS = 199

WORDS = [
    "acme",
    "northwind",
    "bluepeak",
    "contoso",
    "fabrikam",
    "tailspin",
    "litware",
    "wingtip",
    "adventure",
    "proseware",
    "fourthcoffee",
    "margie",
    "alpine",
    "blueyonder",
    "coho",
    "lucerne",
    "humongous",
    "wideworld",
    "relecloud",
    "trey",
    "graphic",
    "datum",
    "southridge",
    "woodgrove",
    "fineart",
    "cloudnine",
    "brightpath",
    "silverline",
    "greenfield",
    "redwood",
    "ironbridge",
]
SUFFIXES = ("", "-tech", "-labs", "-group", "-online", "-shop", "-cloud", "-media")
TLDS = ("com", "net", "io", "cn", "com.cn", "org", "co", "dev")
SUBDOMAINS = ("www", "api", "shop", "mail", "portal", "m", "cdn", "admin", "pay", "app")
ORGANIZATIONS = (
    ("Northwind Traders Ltd.", "GB", "London"),
    ("Contoso Pharmaceuticals Inc.", "US", "Seattle"),
    ("Fabrikam Manufacturing Co., Ltd.", "CN", "Shanghai"),
    ("Tailspin Toys GmbH", "DE", "Berlin"),
    ("Wingtip Logistics Pte. Ltd.", "SG", "Singapore"),
    ("Blue Yonder Airlines Inc.", "US", "Chicago"),
    ("Lucerne Publishing AG", "CH", "Lucerne"),
    ("Woodgrove Bank Co., Ltd.", "CN", "Hangzhou"),
)
CONTACTS = ("Li Wei", "Anna Schmidt", "James Miller", "Chen Jing", "Sofia Rossi", "Kenji Sato")


class Command(BaseCommand):
    help = "Create the demo customer, operator, brands, products and certificates (idempotent)."

    def handle(self, *args, **options) -> None:
        with transaction.atomic():
            users = {name: self.user(name, password, staff) for name, password, staff in DEMO_USERS}
            # Made by a migration (certificates 0008) with the permissions the work needs.
            users["operator"].groups.add(Group.objects.get(name="Operators"))
            products = self.products()
            demo = users["demo"]
            if Certificate.objects.filter(owner=demo).exists():
                self.stdout.write("Demo certificates already exist; nothing to add.")
            else:
                seeder = DemoCertificates(demo, products, random.Random(2026))
                made = seeder.make()
                self.stdout.write(f"Created {made} demo certificates.")
                if seeder.refused:
                    self.stderr.write(
                        f"{len(seeder.refused)} stayed in validation, refused by the issuance "
                        f"policy; the first: {seeder.refused[0]}"
                    )
        self.stdout.write(
            "Demo logins: customer demo / demo, operator operator / operator (admin at /admin/)"
        )

    def user(self, username: str, password: str, staff: bool):
        user, created = get_user_model().objects.get_or_create(
            username=username,
            defaults={"is_staff": staff, "email": f"{username}@example.com"},
        )
        if created:
            user.set_password(password)
            user.save(update_fields=["password"])
        return user

    def products(self) -> list[Product]:
        products = []
        for order, (name, slug, issuer_match, dv_price) in enumerate(BRANDS):
            brand, _ = Brand.objects.update_or_create(
                slug=slug,
                defaults={"name": name, "issuer_match": issuer_match, "display_order": order},
            )
            for vtype, type_factor in TYPE_FACTOR.items():
                for scope, scope_factor in SCOPE_FACTOR.items():
                    if vtype == ValidationType.EV and scope == DomainScope.WILDCARD:
                        continue  # not allowed by the CA/Browser Forum
                    price = dv_price * type_factor * scope_factor
                    extra = (price / 2).quantize(Decimal("1")) if scope == "multiple" else 0
                    product, _ = Product.objects.update_or_create(
                        brand=brand,
                        validation_type=vtype,
                        domain_scope=scope,
                        defaults={"price_per_year": price, "price_per_extra_domain": extra},
                    )
                    products.append(product)
        return products


class DemoCertificates:
    """Builds the demo customer's certificates through the console's own services.

    Issued, expired and revoked ones are real certificates signed by the brands'
    local CAs (ECC keys keep it fast), issued in the past so that their end dates
    put them in the right counter.
    """

    def __init__(self, owner, products: list[Product], rng: random.Random):
        self.owner = owner
        self.products = products
        self.rng = rng
        self.now = timezone.now()
        self.refused: list[str] = []
        self.order_ids: list[int] = []

    def make(self) -> int:
        for brand in {product.brand for product in self.products}:
            if not brand.authorities.exists():
                # Old enough to have signed the oldest demo certificate.
                authority.create_authorities(brand, now=self.now - timedelta(days=800))
        plan = [kind for kind, count in MIX.items() for _ in range(count)]
        self.rng.shuffle(plan)
        for kind in plan:
            issued_at = self.issued_at(kind)
            # DV revocations go straight to the CA; OV/EV ones would email the applicant.
            dv_only = kind in (Status.REVOKING, Status.REVOKED)
            self.advance(self.purchase(issued_at, dv_only=dv_only), kind, issued_at)
        self.backdate_orders()
        return len(plan)

    def domains_for(self, product: Product, count: int) -> list[str]:
        base = f"{self.rng.choice(WORDS)}{self.rng.choice(SUFFIXES)}.{self.rng.choice(TLDS)}"
        if product.domain_scope == DomainScope.WILDCARD:
            return [f"*.{base}"]
        subdomains = self.rng.sample(SUBDOMAINS, count)
        return [base if i == 0 else f"{sub}.{base}" for i, sub in enumerate(subdomains)]

    def issued_at(self, kind: str) -> datetime | None:
        """When a certificate of this kind was issued: its end date puts it in its counter."""
        days_left = {
            Status.PENDING_APPLICATION: None,
            Status.VALIDATING: None,
            Status.CHECK_FAIL: None,
            "will_expire": self.rng.randint(3, 25),
            "expired": -self.rng.randint(5, 300),
            "issued_ran_out": -self.rng.randint(1, 3),
        }.get(kind, self.rng.randint(45, VALIDITY_DAYS - 1))
        if days_left is None:
            return None
        hours = self.rng.randint(1, 20)
        return self.now + timedelta(days=days_left - VALIDITY_DAYS, hours=hours)

    def purchase(self, issued_at: datetime | None, *, dv_only: bool = False) -> Certificate:
        # EV needs the EV subject details; OV and DV make a more varied demo.
        types = ("DV",) if dv_only else ("DV", "OV")
        product = self.rng.choice([p for p in self.products if p.validation_type in types])
        years = self.rng.choice((1, 1, 2))
        domain_count = self.rng.randint(2, 5) if product.domain_scope == "multiple" else 1
        order = services.purchase(
            customer=self.owner,
            product=product,
            domain_count=domain_count,
            quantity=1,
            years=years,
        )
        # The service buys now; a demo certificate was bought a day before it was
        # issued (or in the last weeks, if not issued yet). The certificate moves back
        # at once, since issuance reads when its subscription ends (by the service's
        # own calendar years); the order, which nothing reads the date of, at the end.
        bought = (issued_at or self.now - timedelta(days=self.rng.randint(1, 60))) - timedelta(
            days=1
        )
        self.order_ids.append(order.pk)
        certificate = order.certificates.get()
        certificate.created_at = bought
        certificate.subscription_ends_at = services.subscription_end(bought, years)
        certificate.save(update_fields=["created_at", "subscription_ends_at"])
        return certificate

    def backdate_orders(self) -> None:
        """Date each order, and its "order.paid" event, when its certificate was bought.

        Two UPDATEs for all of them, each row taking the date from the row it belongs to.
        """
        bought = Certificate.objects.filter(order=OuterRef("pk")).values("created_at")[:1]
        Order.objects.filter(pk__in=self.order_ids).update(
            paid_at=Subquery(bought), created_at=Subquery(bought)
        )
        paid_at = Order.objects.filter(
            pk=Cast(OuterRef("object_id"), output_field=BigIntegerField())
        ).values("paid_at")[:1]
        AuditEvent.objects.filter(
            action="order.paid",
            object_type=Order._meta.label,
            object_id__in=[str(pk) for pk in self.order_ids],
        ).update(created_at=Subquery(paid_at))

    def advance(self, certificate: Certificate, kind: str, issued_at: datetime | None) -> None:
        if kind == Status.PENDING_APPLICATION:
            return
        self.submit(certificate, submitted_at=(issued_at or self.now) - timedelta(hours=2))
        if kind == Status.VALIDATING:
            return
        if kind == Status.CHECK_FAIL:
            reason = "The DNS TXT record _dnsauth was not found for the domain."
            if certificate.validation_type != "DV":
                reason = "The organization could not be verified from the documents given."
            services.reject_application(certificate=certificate, reason=reason, actor=None)
            return
        try:
            services.issue_certificate(certificate=certificate, actor=None, now=issued_at)
        except IssuanceRefused as refused:
            # The gate still decides (CAA needs a DNS server that answers): the certificate
            # stays in validation, and the command says why.
            self.refused.append(str(refused))
            return
        if kind == "expired":
            transition(certificate, Status.EXPIRED)
        elif kind in (Status.REVOKING, Status.REVOKED):
            self.revoke(certificate, issued_at=issued_at, complete=kind == Status.REVOKED)

    def submit(self, certificate: Certificate, *, submitted_at: datetime) -> None:
        domains = self.domains_for(certificate.order.product, certificate.domain_count)
        contact = self.rng.choice(CONTACTS)
        organization = None
        if certificate.validation_type != "DV":
            organization = self.rng.choice(ORGANIZATIONS)
        application = Application(
            domains="\n".join(domains),
            contact_name=contact,
            contact_email=f"{contact.split()[0].lower()}@{domains[0].removeprefix('*.')}",
            contact_phone="+86 571 8502 2088",
            organization_name=organization[0] if organization else "",
            organization_country=organization[1] if organization else "",
            organization_city=organization[2] if organization else "",
            organization_address="1 Demo Street" if organization else "",
            csr_source=Application.CsrSource.SYSTEM,
            key_type=Application.KeyType.EC_P256,
            validation_method=self.rng.choice(("dns", "file")),
        )
        services.save_application(
            certificate=certificate, application=application, submit=True, actor=self.owner
        )
        # Applied before it was issued, not at seeding time. The demo's names are not real
        # customers' domains: they are recorded as checked now, the one part of the issuance
        # gate the demo stands in for (CAA, the key policy and the lint still run).
        checked_at = self.now.isoformat()
        Application.objects.filter(pk=application.pk).update(
            submitted_at=submitted_at,
            check_results={
                domain: {"ok": True, "detail": gettext_noop("Demo data"), "checked_at": checked_at}
                for domain in domains
            },
            last_checked_at=self.now,
        )

    def revoke(self, certificate: Certificate, *, issued_at: datetime, complete: bool) -> None:
        """Revoked for real: on the CRL and "revoked" from OCSP once completed.

        Each request is dated in the past, so the CA's queue and the completed ones show
        their own due dates: still under way, asked in the last week (some overdue);
        completed, asked up to two months ago and completed a few days later.
        """
        # Key compromise is revoked at once, never left with the CA.
        reasons = [
            reason
            for reason in RevocationReason.values
            if complete or reason != RevocationReason.KEY_COMPROMISE
        ]
        days_ago = self.rng.randint(8, 60) if complete else self.rng.randint(0, 6)
        requested_at = max(self.now - timedelta(days=days_ago), issued_at + timedelta(hours=1))
        revocation = services.request_revocation(
            certificate=certificate,
            reason=self.rng.choice(reasons),
            actor=self.owner,
            now=requested_at,
        )
        if complete and revocation.status != RevocationStatus.COMPLETED:
            completed_at = requested_at + timedelta(days=self.rng.randint(1, 3), hours=2)
            services.complete_revocation(revocation=revocation, actor=None, now=completed_at)
