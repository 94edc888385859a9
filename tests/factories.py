"""Test data, made directly in the database.

Fixtures put rows straight into a status (that is setting up a world, not
changing one); the code under test changes statuses only through
certificates.lifecycle. Certificates are made with lifecycle.create_certificates
all the same, so their owners' counts are right from the start.
"""

import importlib
from datetime import timedelta
from decimal import Decimal
from itertools import count

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.utils import timezone

from certificates.lifecycle import CertificateStatus as Status
from certificates.lifecycle import create_certificates
from certificates.models import Brand, Certificate, Order, Product

_sequence = count(1)


def make_user(username: str | None = None, *, password: str = "pw", **fields):
    username = username or f"user{next(_sequence)}"
    return get_user_model().objects.create_user(username, password=password, **fields)


def operators_group() -> Group:
    """The Operators group that migration certificates 0008 makes.

    A transactional test starts from a flushed database, where the data migration's
    rows are gone (the permissions come back, the group does not): it is made again
    here from the migration's own list.
    """
    migration = importlib.import_module("certificates.migrations.0008_operators_group")
    group, created = Group.objects.get_or_create(name=migration.GROUP)
    if created:
        codenames = [
            f"{action}_{model}"
            for model, actions in migration.PERMISSIONS.items()
            for action in actions
        ]
        group.permissions.set(
            Permission.objects.filter(
                content_type__app_label="certificates", codename__in=codenames
            )
        )
    return group


def make_brand(name: str = "DigiCert") -> Brand:
    brand, _ = Brand.objects.get_or_create(
        slug=name.lower(), defaults={"name": name, "issuer_match": name}
    )
    return brand


def make_product(brand: Brand | None = None, validation_type="DV", domain_scope="single"):
    product, _ = Product.objects.get_or_create(
        brand=brand or make_brand(),
        validation_type=validation_type,
        domain_scope=domain_scope,
        defaults={"price_per_year": Decimal("100.00")},
    )
    return product


def make_order(customer, product: Product | None = None) -> Order:
    return Order.objects.create(
        customer=customer,
        product=product or make_product(),
        quantity=1,
        years=1,
        unit_price=Decimal("100.00"),
        amount=Decimal("100.00"),
        paid_at=timezone.now(),
    )


def certificate_fields(owner, *, status=Status.ISSUED, days_left: int | None = 100, **fields):
    """The fields of a certificate in `status`, ending `days_left` days from now."""
    now = timezone.now()
    issued_like = status in (Status.ISSUED, Status.EXPIRED, Status.REVOKING, Status.REVOKED)
    domain = fields.pop("domain", f"site{next(_sequence)}.example.com")
    values = {
        "owner": owner,
        "status": status,
        "brand": fields.pop("brand", None) or make_brand(),
        "validation_type": "DV",
        "domain_scope": "single",
        "common_name": domain,
        "domains": domain,
    }
    if issued_like and days_left is not None:
        values["not_after"] = now + timedelta(days=days_left, hours=1)
        values["not_before"] = values["not_after"] - timedelta(days=199)
    values.update(fields)
    return values


def make_certificate(owner, **kwargs) -> Certificate:
    [certificate] = create_certificates([Certificate(**certificate_fields(owner, **kwargs))])
    return certificate


def make_certificates(owner, number: int, **kwargs) -> list[Certificate]:
    brand = kwargs.pop("brand", None) or make_brand()
    return create_certificates(
        Certificate(**certificate_fields(owner, brand=brand, **kwargs)) for _ in range(number)
    )
