"""The console's use cases. Each is a keyword-only function that runs in one transaction."""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from certificates import keystore, selectors
from certificates.audit import record_event
from certificates.lifecycle import status_for_upload
from certificates.models import Brand, Certificate, Order, Product, Source
from certificates.pki.parsing import CertificateBundle


def brand_for_issuer(issuer_organization: str, issuer_common_name: str) -> Brand | None:
    """The known brand an issuer names, e.g. "DigiCert Inc" -> DigiCert."""
    issuer = f"{issuer_organization} {issuer_common_name}".lower()
    for brand in Brand.objects.exclude(issuer_match=""):
        if brand.issuer_match.lower() in issuer:
            return brand
    return None


def upload_certificate(*, owner, name: str, bundle: CertificateBundle) -> Certificate:
    """Keep a certificate bought elsewhere, with its chain and its key encrypted."""
    info = bundle.info
    try:
        with transaction.atomic():
            certificate = Certificate.objects.create(
                owner=owner,
                source=Source.UPLOADED,
                name=name,
                status=status_for_upload(info.not_after, timezone.now()),
                brand=brand_for_issuer(info.issuer_organization, info.issuer_common_name),
                common_name=info.common_name,
                domains="\n".join(info.domains),
                domain_count=len(info.domains),
                organization=info.organization,
                issuer=info.issuer,
                serial=info.serial,
                fingerprint_sha256=info.fingerprint_sha256,
                key_algorithm=info.key_description,
                not_before=info.not_before,
                not_after=info.not_after,
                certificate_pem=bundle.leaf_pem,
                chain_pem=bundle.chain_pem,
                private_key_encrypted=keystore.encrypt_private_key(bundle.private_key_pem),
            )
            record_event(
                actor=owner,
                action="certificate.upload",
                target=certificate,
                details={"fingerprint_sha256": info.fingerprint_sha256, "serial": info.serial},
            )
    except IntegrityError:
        # Two uploads raced past the form's checks; the constraints decide.
        raise ValidationError(
            "A certificate with this name or this fingerprint was just uploaded."
        ) from None
    return certificate


def delete_certificate(*, certificate: Certificate, actor) -> None:
    """Remove a certificate from its owner's console; the audit log keeps the fact."""
    with transaction.atomic():
        locked = Certificate.objects.select_for_update().get(pk=certificate.pk)
        if locked.delete_refusal:
            raise ValidationError(locked.delete_refusal)
        locked.deleted_at = timezone.now()
        locked.save(update_fields=["deleted_at", "updated_at"])
        record_event(
            actor=actor,
            action="certificate.delete",
            target=locked,
            details={
                "domains": locked.domain_list,
                "fingerprint_sha256": locked.fingerprint_sha256,
            },
        )


def set_expiry_warnings(*, certificate: Certificate, enabled: bool, actor) -> None:
    with transaction.atomic():
        certificate.expiry_warnings_enabled = enabled
        certificate.save(update_fields=["expiry_warnings_enabled", "updated_at"])
        record_event(
            actor=actor,
            action="certificate.expiry_warnings",
            target=certificate,
            details={"enabled": enabled},
        )


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
            raise ValidationError("This certificate is no longer on sale.")
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
                source=Source.ISSUED,
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
