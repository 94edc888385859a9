"""The console's use cases. Each is a keyword-only function that runs in one transaction."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography.hazmat.primitives import serialization
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from certificates import authority, domain_checks, keystore, selectors
from certificates.audit import record_event
from certificates.lifecycle import CertificateStatus, status_for_upload, transition
from certificates.models import (
    Application,
    Brand,
    Certificate,
    Order,
    Product,
    Source,
    ValidationType,
)
from certificates.pki import bundles, ca, csr
from certificates.pki.bundles import BundleNeedsKeyError
from certificates.pki.parsing import (
    CertificateBundle,
    certificate_to_pem,
    describe_certificate,
    load_certificates,
    load_private_key,
    private_key_to_pem,
)


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


# --- Apply, validate, issue ---------------------------------------------------------------


def save_application(
    *, certificate: Certificate, application: Application, submit: bool, actor
) -> Application:
    """Keep the request information as a draft, or submit it for validation.

    Submitting with a system-generated CSR makes the key here and keeps it
    encrypted; with a manual CSR the console never sees a key.
    """
    with transaction.atomic():
        application.certificate = certificate
        if not submit:
            application.save()
            record_event(actor=actor, action="application.draft", target=certificate)
            return application
        key_pem = ""
        if application.csr_source == Application.CsrSource.SYSTEM:
            key = csr.generate_private_key(application.key_type)
            request = csr.build_csr(key, application.domain_list)
            application.csr_pem = request.public_bytes(serialization.Encoding.PEM).decode()
            key_pem = keystore.encrypt_private_key(private_key_to_pem(key))
        if certificate.validation_type != ValidationType.DV:
            application.validation_method = Application.ValidationMethod.REVIEW
        application.validation_token = domain_checks.new_token()
        application.submitted_at = timezone.now()
        application.check_results = {}
        application.rejection_reason = ""
        application.save()
        transition(
            certificate,
            CertificateStatus.VALIDATING,
            actor=actor,
            changes={
                "domains": "\n".join(application.domain_list),
                "common_name": application.domain_list[0],
                "organization": application.organization_name,
                "private_key_encrypted": key_pem,
            },
        )
    return application


def withdraw_application(*, certificate: Certificate, actor) -> None:
    """Take a submitted application back: the certificate waits for a new one."""
    transition(certificate, CertificateStatus.PENDING_APPLICATION, actor=actor)


def verify_domains(*, certificate: Certificate, actor) -> list[domain_checks.CheckResult]:
    """Check every domain's DNS record or file now; all found issues the certificate."""
    if certificate.status != CertificateStatus.VALIDATING or certificate.validation_type != "DV":
        raise ValidationError("Only a DV certificate in validation can be verified.")
    application = certificate.application
    resolver = domain_checks.Resolver(
        nameservers=tuple(settings.DV_NAMESERVERS),
        port=settings.DV_DNS_PORT,
        timeout=settings.DV_CHECK_TIMEOUT,
    )
    # The network checks run outside any transaction: they can take seconds.
    results = [
        domain_checks.check_domain(
            application.validation_method,
            domain,
            application.validation_token,
            resolver=resolver,
            http_port=settings.DV_HTTP_PORT,
            http_timeout=settings.DV_CHECK_TIMEOUT,
        )
        for domain in application.domain_list
    ]
    application.check_results = {r.domain: {"ok": r.ok, "detail": r.detail} for r in results}
    application.last_checked_at = timezone.now()
    application.save(update_fields=["check_results", "last_checked_at", "updated_at"])
    if all(result.ok for result in results):
        issue_certificate(certificate=certificate, actor=actor)
    elif application.submitted_at < timezone.now() - timedelta(
        days=settings.DV_CHECK_FAIL_AFTER_DAYS
    ):
        failed = "; ".join(result.detail for result in results if not result.ok)
        reject_application(
            certificate=certificate,
            reason=f"Domain validation did not succeed within "
            f"{settings.DV_CHECK_FAIL_AFTER_DAYS} days: {failed}",
            actor=actor,
        )
    return results


def approve_application(*, certificate: Certificate, actor) -> Certificate:
    """An operator found the organization real: issue the OV/EV certificate."""
    if certificate.validation_type == ValidationType.DV:
        raise ValidationError("DV certificates are issued by their domain validation.")
    return issue_certificate(certificate=certificate, actor=actor)


def reject_application(*, certificate: Certificate, reason: str, actor) -> None:
    """The check failed: "Check Fail" with the reason, which the customer sees."""
    if not reason.strip():
        raise ValidationError("Give the reason the customer will see.")
    with transaction.atomic():
        transition(
            certificate, CertificateStatus.CHECK_FAIL, actor=actor, details={"reason": reason}
        )
        Application.objects.filter(certificate=certificate).update(
            rejection_reason=reason,
            reviewed_by=actor if getattr(actor, "is_authenticated", False) else None,
            reviewed_at=timezone.now(),
        )


def subject_of(application: Application) -> ca.SubjectInfo | None:
    if application.certificate.validation_type == ValidationType.DV:
        return None
    return ca.SubjectInfo(
        organization=application.organization_name,
        country=application.organization_country,
        state=application.organization_state,
        city=application.organization_city,
        business_category=application.business_category,
        jurisdiction_country=application.jurisdiction_country,
        registration_number=application.registration_number,
    )


def sign(certificate: Certificate, *, now: datetime | None = None) -> dict:
    """Sign the application's CSR with the brand's issuing CA: the certificate's new fields.

    One certificate lasts at most CERTIFICATE_VALIDITY_DAYS, and never past what
    was bought. `now` (when the validity starts) defaults to after the CA exists:
    a CA made for this very certificate must not start after it.
    """
    application = certificate.application
    issuing = authority.issuing_authority(certificate.brand)
    now = now or timezone.now()
    validity_days = settings.CERTIFICATE_VALIDITY_DAYS
    if certificate.subscription_ends_at:
        remaining = (certificate.subscription_ends_at - now).days
        validity_days = max(1, min(validity_days, remaining))
    signed = ca.issue_certificate(
        authority.load(issuing),
        csr_public_key=csr.load_csr(application.csr_pem).public_key(),
        domains=application.domain_list,
        validation_type=certificate.validation_type,
        subject=subject_of(application),
        now=now,
        validity_days=validity_days,
        base_url=settings.PKI_BASE_URL,
        ca_slug=issuing.slug,
    )
    info = describe_certificate(signed)
    return {
        "authority": issuing,
        "certificate_pem": certificate_to_pem(signed),
        "chain_pem": issuing.certificate_pem,
        "common_name": info.common_name,
        "domains": "\n".join(info.domains),
        "organization": info.organization,
        "issuer": info.issuer,
        "serial": info.serial,
        "fingerprint_sha256": info.fingerprint_sha256,
        "key_algorithm": info.key_description,
        "not_before": info.not_before,
        "not_after": info.not_after,
    }


def issue_certificate(
    *, certificate: Certificate, actor, now: datetime | None = None
) -> Certificate:
    """Sign the certificate with its brand's issuing CA and make it "Issued".

    `now` is when its validity starts: the present, except for the demo data.
    """
    fields = sign(certificate, now=now)
    with transaction.atomic():
        transition(
            certificate,
            CertificateStatus.ISSUED,
            actor=actor,
            changes=fields,
            details={"serial": fields["serial"]},
        )
        if certificate.validation_type != ValidationType.DV:
            Application.objects.filter(certificate=certificate).update(
                reviewed_by=actor if getattr(actor, "is_authenticated", False) else None,
                reviewed_at=timezone.now(),
            )
    return certificate


def reissue_certificate(*, certificate: Certificate, actor) -> Certificate:
    """Issue the certificate again for the same domains and key, for what is left of the purchase.

    The old certificate stays valid until its own end date.
    """
    if not certificate.can_reissue:
        raise ValidationError(
            "Only an issued certificate with purchased time left after its end date can be "
            "reissued."
        )
    old_serial = certificate.serial
    fields = sign(certificate)
    with transaction.atomic():
        locked = Certificate.objects.select_for_update().get(pk=certificate.pk)
        if not locked.can_reissue or locked.serial != old_serial:
            raise ValidationError("The certificate changed meanwhile; reload the page.")
        for name, value in fields.items():
            setattr(locked, name, value)
            setattr(certificate, name, value)
        locked.save(update_fields=[*fields, "updated_at"])
        record_event(
            actor=actor,
            action="certificate.reissue",
            target=locked,
            details={"old_serial": old_serial, "serial": fields["serial"]},
        )
    return certificate


# --- Download -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Download:
    filename: str
    content: bytes


def download_bundle(*, certificate: Certificate, server_type: str, actor) -> Download:
    """The zip for one server type, with the key when the console made it."""
    if not certificate.can_download:
        raise ValidationError("This certificate cannot be downloaded.")
    key = None
    if certificate.private_key_encrypted:
        key = load_private_key(keystore.decrypt_private_key(certificate.private_key_encrypted))
    name = bundles.safe_file_name(certificate.common_name)
    try:
        content = bundles.build_bundle(
            server_type,
            name=name,
            certificate=load_certificates(certificate.certificate_pem)[0],
            chain=load_certificates(certificate.chain_pem),
            private_key=key,
        )
    except BundleNeedsKeyError as error:
        raise ValidationError(error.message) from None
    record_event(
        actor=actor,
        action="certificate.download",
        target=certificate,
        details={"server_type": server_type},
    )
    return Download(filename=f"{name}_{server_type}.zip", content=content)


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
