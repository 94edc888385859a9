"""Real certificates for tests: bought, applied for and signed by the brand's local CA.

Through the console's own services, so what the tests revoke is exactly what customers
get: a certificate with a serial, an issuing CA and an order to refund.
"""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from certificates import services
from certificates.domain_checks import dns_record_name
from certificates.lifecycle import CertificateStatus as Status
from certificates.models import Application, Certificate, Order
from tests.dns_server import shared_server
from tests.factories import make_certificate, make_product

ORGANIZATION = {
    "organization_name": "Example Shop Ltd",
    "organization_country": "CN",
    "organization_city": "Hangzhou",
    "organization_address": "1 West Lake Road",
}
EV_SUBJECT = {
    "business_category": "Private Organization",
    "jurisdiction_country": "CN",
    "registration_number": "91330100MA27X",
}


def issue_real_certificate(
    owner,
    validation_type: str = "DV",
    *,
    domain: str = "shop.example.com",
    contact_email: str = "li@example.com",
    amount: Decimal = Decimal("300.00"),
    quantity: int = 1,
) -> Certificate:
    """An issued certificate signed now by the local CA, from an order of `amount`."""
    certificate = submit_application(
        owner,
        validation_type,
        domain=domain,
        contact_email=contact_email,
        amount=amount,
        quantity=quantity,
    )
    if validation_type == "DV":
        prove_domain_control(certificate)
    else:
        services.approve_application(certificate=certificate, actor=None)
    return Certificate.objects.get(pk=certificate.pk)


def prove_domain_control(certificate: Certificate) -> None:
    """Publish each name's DNS TXT record on the tests' DNS server and press Verify: a DV
    certificate is issued, an OV/EV one waits for the operator with every name checked."""
    certificate.refresh_from_db()
    application = certificate.application
    server = shared_server()
    for domain in application.domain_list:
        server.set_txt(dns_record_name(domain), application.validation_token)
    services.verify_domains(certificate=certificate, actor=None)
    certificate.refresh_from_db()


def submit_application(
    owner,
    validation_type: str = "OV",
    *,
    domain: str = "shop.example.com",
    contact_email: str = "li@example.com",
    amount: Decimal = Decimal("300.00"),
    quantity: int = 1,
    key_type: str = Application.KeyType.EC_P256,
    prove_control: bool | None = None,
) -> Certificate:
    """A bought certificate whose application was submitted: validating, OV/EV waiting for
    an operator with every name's control proven (unless `prove_control` is false).
    `domain` may name several domains, one per line."""
    product = make_product(validation_type=validation_type)
    order = Order.objects.create(
        customer=owner,
        product=product,
        quantity=quantity,
        years=1,
        unit_price=amount / quantity,
        amount=amount,
        paid_at=timezone.now(),
    )
    certificate = make_certificate(
        owner,
        status=Status.PENDING_APPLICATION,
        days_left=None,
        domain="",
        domains="",
        order=order,
        brand=product.brand,
        validation_type=validation_type,
        subscription_ends_at=timezone.now() + timedelta(days=365),
    )
    application = Application(
        domains=domain,
        contact_name="Li Wei",
        contact_email=contact_email,
        contact_phone="+86 571 0000 0000",
        csr_source=Application.CsrSource.SYSTEM,
        key_type=key_type,
        validation_method="dns",
        **(ORGANIZATION if validation_type != "DV" else {}),
        **(EV_SUBJECT if validation_type == "EV" else {}),
    )
    services.save_application(
        certificate=certificate, application=application, submit=True, actor=owner
    )
    if prove_control if prove_control is not None else validation_type != "DV":
        prove_domain_control(certificate)
    return Certificate.objects.get(pk=certificate.pk)
