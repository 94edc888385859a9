"""Each admin list costs the same number of queries whatever the number of rows it shows."""

from datetime import timedelta
from decimal import Decimal
from itertools import count

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from certificates import authority
from certificates.audit import build_event
from certificates.lifecycle import CertificateStatus as Status
from certificates.lifecycle import RevocationStatus
from certificates.models import (
    Application,
    AuditEvent,
    Brand,
    Certificate,
    IssuedSerial,
    Order,
    Product,
    RevocationRequest,
)
from tests.admin_support import changelist_url
from tests.factories import certificate_fields, make_brand, make_product

pytestmark = pytest.mark.django_db

_numbers = count(1)

CHANGELISTS = [
    changelist_url("application"),
    changelist_url("application") + "?queue=all",
    changelist_url("revocationrequest"),
    changelist_url("revocationrequest") + "?overdue=yes",
    changelist_url("order"),
    changelist_url("order") + "?refund=with_ca",
    changelist_url("certificate"),
    changelist_url("certificate") + "?status=issued",
    changelist_url("auditevent"),
    changelist_url("brand"),
    changelist_url("product"),
    changelist_url("certificateauthority"),
]


def add_rows(number: int, customer, operator) -> None:
    """`number` rows of every list, linked as the real ones are, in a few bulk inserts:
    OV applications waiting (with DV-style check results), and certificates being
    revoked, each with its order, issued serial and (half of them overdue) request."""
    now = timezone.now()
    brand = make_brand()
    issuing = authority.issuing_authority(brand)
    product = make_product(brand, validation_type="OV")
    n = [next(_numbers) for _ in range(number)]

    orders = Order.objects.bulk_create(
        Order(
            customer=customer,
            product=product,
            quantity=1,
            years=1,
            unit_price=Decimal("300.00"),
            amount=Decimal("300.00"),
            paid_at=now - timedelta(days=i % 40),
            created_at=now - timedelta(days=i % 400),
        )
        for i in n
    )
    waiting = Certificate.objects.bulk_create(
        Certificate(
            **certificate_fields(
                customer,
                status=Status.VALIDATING,
                days_left=None,
                domain=f"waiting{i}.example.com",
                brand=brand,
                validation_type="OV",
                order=order,
            )
        )
        for i, order in zip(n, orders, strict=True)
    )
    Application.objects.bulk_create(
        Application(
            certificate=certificate,
            domains=certificate.domains,
            organization_name="Example Shop Ltd",
            organization_country="CN",
            organization_city="Hangzhou",
            submitted_at=now - timedelta(hours=i),
            check_results={certificate.domains: {"ok": False, "detail": "No TXT record."}},
        )
        for i, certificate in zip(n, waiting, strict=True)
    )
    revoking = Certificate.objects.bulk_create(
        Certificate(
            **certificate_fields(
                customer,
                status=Status.REVOKING,
                days_left=100,
                domain=f"revoking{i}.example.com",
                brand=brand,
                order=order,
                authority=issuing,
                serial=f"{i:040X}",
                fingerprint_sha256=f"{i:064X}",
            )
        )
        for i, order in zip(n, orders, strict=True)
    )
    IssuedSerial.objects.bulk_create(
        IssuedSerial(
            certificate=certificate,
            authority=issuing,
            serial=certificate.serial,
            not_before=certificate.not_before,
            not_after=certificate.not_after,
        )
        for certificate in revoking
    )
    RevocationRequest.objects.bulk_create(
        RevocationRequest(
            certificate=certificate,
            requested_by=customer,
            reason=1,
            status=RevocationStatus.PENDING,
            submitted_to_ca_at=now,
            due_date=timezone.localdate() + timedelta(days=-3 if i % 2 else 3),
            processed_by=operator,
        )
        for i, certificate in zip(n, revoking, strict=True)
    )
    AuditEvent.objects.bulk_create(
        build_event(actor=operator, action="certificate.status", target=c, details={"to": "x"})
        for c in revoking
    )
    brands = Brand.objects.bulk_create(Brand(name=f"Brand {i}", slug=f"brand-{i}") for i in n)
    Product.objects.bulk_create(
        Product(brand=b, validation_type="DV", domain_scope="single", price_per_year=10)
        for b in brands
    )


def queries_for(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries)


def test_each_changelist_costs_the_same_queries_with_10_and_500_rows(
    customer, operator, operator_client
):
    add_rows(10, customer, operator)
    small = {url: queries_for(operator_client, url) for url in CHANGELISTS}
    shown = len(operator_client.get(changelist_url("certificate")).context["cl"].result_list)

    add_rows(490, customer, operator)
    large = {url: queries_for(operator_client, url) for url in CHANGELISTS}
    shown_large = len(operator_client.get(changelist_url("certificate")).context["cl"].result_list)

    assert (shown, shown_large) == (20, 100)  # a full page of rows, not just more in the table
    assert large == small
