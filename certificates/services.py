"""The console's use cases. Each is a keyword-only function that runs in one transaction."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from smtplib import SMTPException

from cryptography.hazmat.primitives import serialization
from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from certificates import authority, domain_checks, keystore, refunds, selectors
from certificates.audit import record_event, user_or_none
from certificates.lifecycle import (
    CertificateStatus,
    RevocationStatus,
    TransitionNotAllowed,
    status_for_upload,
    transition,
)
from certificates.models import (
    Application,
    Brand,
    Certificate,
    CertificateAuthority,
    IssuedSerial,
    Order,
    Product,
    RevocationReason,
    RevocationRequest,
    Source,
    ValidationType,
)
from certificates.pki import bundles, ca, csr
from certificates.pki.bundles import BundleNeedsKeyError
from certificates.pki.parsing import (
    CertificateBundle,
    CertificateInfo,
    certificate_to_pem,
    describe_certificate,
    load_certificates,
    load_private_key,
    private_key_to_pem,
)
from certificates.pki.revocation import (
    CertificateState,
    RevokedEntry,
    build_crl,
    respond_to_ocsp,
)


def brand_for_issuer(issuer_organization: str, issuer_common_name: str) -> Brand | None:
    """The known brand an issuer names, e.g. "DigiCert Inc" -> DigiCert."""
    issuer = f"{issuer_organization} {issuer_common_name}".lower()
    for brand in Brand.objects.exclude(issuer_match=""):
        if brand.issuer_match.lower() in issuer:
            return brand
    return None


def fields_read_from(info: CertificateInfo) -> dict:
    """What the console keeps of a certificate, as the certificate itself says it."""
    return {
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
                domain_count=len(info.domains),
                **fields_read_from(info),
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
    # Refused before signing, so the CA signs nothing for an application that is not
    # waiting; the transition checks again under the row lock.
    if certificate.status != CertificateStatus.VALIDATING:
        raise ValidationError(
            f"Only an application waiting for review can be approved; this certificate is "
            f"{certificate.get_status_display()}."
        )
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
            reviewed_by=user_or_none(actor),
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
        **fields_read_from(info),
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
        record_issued_serial(certificate=certificate)
        if certificate.validation_type != ValidationType.DV:
            Application.objects.filter(certificate=certificate).update(
                reviewed_by=user_or_none(actor),
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
        record_issued_serial(certificate=locked)
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


# --- Revocation -----------------------------------------------------------------------------

CONFIRMATION_SALT = "certificates.revocation.confirm"


def record_issued_serial(*, certificate: Certificate) -> IssuedSerial:
    """Remember a serial the CA signed for this certificate, for OCSP and the CRL."""
    return IssuedSerial.objects.create(
        certificate=certificate,
        authority=certificate.authority,
        serial=certificate.serial,
        not_before=certificate.not_before,
        not_after=certificate.not_after,
    )


def refund_terms(*, certificate: Certificate) -> refunds.RefundTerms:
    """The certificate's refund deadline and last day to apply, as the settings say.

    The days count from its first issuance: a reissue does not start them again.
    """
    first = certificate.issued_serials.order_by("not_before").values_list("not_before", flat=True)
    return refund_terms_from(first.first() or certificate.not_before)


def refund_terms_from(first_issued_at: datetime) -> refunds.RefundTerms:
    """The refund terms of a certificate first issued at this time, for lists that read
    that time for many certificates in one query."""
    return refunds.refund_terms(
        timezone.localdate(first_issued_at),
        refund_days=settings.REVOCATION_REFUND_DAYS,
        ca_business_days=settings.REVOCATION_CA_BUSINESS_DAYS,
        holidays=settings.REVOCATION_HOLIDAYS,
    )


def certificate_price(*, certificate: Certificate) -> Decimal:
    """What the customer paid for this one certificate: a full refund gives this back."""
    order = certificate.order
    if order is None:
        return refunds.NO_REFUND
    return refunds.certificate_price(order.amount, order.quantity)


def _ca_submission(now: datetime) -> dict:
    """The fields of a request that reaches the CA now: it has its business days from today."""
    return {
        "submitted_to_ca_at": now,
        "due_date": refunds.add_business_days(
            timezone.localdate(now),
            settings.REVOCATION_CA_BUSINESS_DAYS,
            settings.REVOCATION_HOLIDAYS,
        ),
    }


def _confirmation_address(certificate: Certificate) -> str:
    application = Application.objects.filter(certificate=certificate).first()
    address = (application and application.contact_email) or certificate.owner.email
    if not address:
        raise ValidationError(
            "There is no email address to send the confirmation to: the application has "
            "no contact email."
        )
    return address


def revocation_confirmation_token(revocation: RevocationRequest) -> str:
    """The signed, timestamped token of the emailed link; only this request's id is in it."""
    return signing.TimestampSigner(salt=CONFIRMATION_SALT).sign(str(revocation.pk))


def _send_confirmation(revocation: RevocationRequest) -> None:
    token = revocation_confirmation_token(revocation)
    context = {
        "revocation": revocation,
        "certificate": revocation.certificate,
        "url": settings.CONSOLE_BASE_URL + reverse("confirm_revocation", args=[token]),
        "hours": settings.REVOCATION_CONFIRMATION_HOURS,
    }
    subject = render_to_string("emails/revocation_confirmation_subject.txt", context)
    body = render_to_string("emails/revocation_confirmation.txt", context)
    try:
        send_mail(" ".join(subject.split()), body, None, [revocation.confirmation_email])
    except (OSError, SMTPException):
        # The request is rolled back with it: no request waits for a link never sent.
        raise ValidationError(
            "The confirmation email could not be sent. Nothing was changed; try again later."
        ) from None


def request_revocation(*, certificate: Certificate, reason: int, actor) -> RevocationRequest:
    """The customer asks to revoke a certificate; from now on it can't be downloaded.

    DV goes straight to the CA. OV/EV first waits for the applicant to confirm by the
    emailed link. The certificate row is locked, so of two requests at once one wins.
    """
    if reason not in RevocationReason.values:
        raise ValidationError("Choose one of the offered reasons.")
    now = timezone.now()
    with transaction.atomic():
        locked = Certificate.objects.select_for_update().get(pk=certificate.pk)
        if locked.revoke_refusal:
            raise ValidationError(locked.revoke_refusal)
        by_email = locked.validation_type != ValidationType.DV
        address = _confirmation_address(locked) if by_email else ""
        transition(certificate, CertificateStatus.REVOKING, actor=actor, details={"reason": reason})
        fields = (
            {
                "status": RevocationStatus.AWAITING_CONFIRMATION,
                "confirmation_email": address,
                "confirmation_sent_at": now,
            }
            if by_email
            else {"status": RevocationStatus.PENDING, **_ca_submission(now)}
        )
        revocation = RevocationRequest.objects.create(
            certificate=certificate, requested_by=actor, reason=reason, **fields
        )
        record_event(
            actor=actor,
            action="revocation.request",
            target=revocation,
            details={"certificate": certificate.pk, "reason": reason, "email": address},
        )
        if by_email:
            _send_confirmation(revocation)
    return revocation


def revocation_for_token(*, token: str) -> RevocationRequest:
    """The request an emailed link confirms, if the link is genuine, unexpired and unused."""
    signer = signing.TimestampSigner(salt=CONFIRMATION_SALT)
    try:
        pk = signer.unsign(token, max_age=timedelta(hours=settings.REVOCATION_CONFIRMATION_HOURS))
        revocation = RevocationRequest.objects.select_related("certificate").get(pk=int(pk))
    except signing.SignatureExpired:
        raise ValidationError(
            f"This confirmation link has expired: links are valid for "
            f"{settings.REVOCATION_CONFIRMATION_HOURS} hours. Nothing was revoked. To revoke "
            "the certificate, cancel the request in the console and make a new one."
        ) from None
    except (signing.BadSignature, ValueError, RevocationRequest.DoesNotExist):
        raise ValidationError(
            "This confirmation link is not valid. Open the link exactly as it is in the email."
        ) from None
    if revocation.status == RevocationStatus.CANCELLED:
        raise ValidationError("This revocation request was cancelled: nothing will be revoked.")
    if revocation.status != RevocationStatus.AWAITING_CONFIRMATION:
        raise ValidationError("This revocation request has already been confirmed.")
    return revocation


def confirm_revocation(*, token: str, actor) -> RevocationRequest:
    """The applicant confirmed by the emailed link: the request goes to the CA.

    The link works once: confirming moves the request on, and a second use finds it
    no longer awaiting confirmation.
    """
    now = timezone.now()
    with transaction.atomic():
        revocation = revocation_for_token(token=token)
        try:
            transition(
                revocation,
                RevocationStatus.PENDING,
                actor=actor,
                changes={"confirmed_at": now, **_ca_submission(now)},
                details={"confirmed_by": revocation.confirmation_email},
            )
        except TransitionNotAllowed:
            # Confirmed or cancelled a moment ago, by another request.
            raise ValidationError(
                "This revocation request is no longer awaiting confirmation."
            ) from None
    return revocation


def _reinstate(certificate: Certificate, *, actor, details: dict) -> None:
    """Back to issued after a revocation that won't happen, or expired if it ran out meanwhile."""
    ran_out = certificate.not_after is not None and certificate.not_after <= timezone.now()
    status = CertificateStatus.EXPIRED if ran_out else CertificateStatus.ISSUED
    transition(certificate, status, actor=actor, details=details)


def cancel_revocation(*, certificate: Certificate, actor) -> RevocationRequest:
    """The customer takes back a request still awaiting its email confirmation."""
    with transaction.atomic():
        revocation = (
            RevocationRequest.objects.select_for_update()
            .filter(certificate=certificate, status=RevocationStatus.AWAITING_CONFIRMATION)
            .first()
        )
        if revocation is None:
            raise ValidationError(
                "Only a revocation request still awaiting its email confirmation can be cancelled."
            )
        transition(revocation, RevocationStatus.CANCELLED, actor=actor)
        _reinstate(certificate, actor=actor, details={"revocation": "cancelled"})
    return revocation


def complete_revocation(*, revocation: RevocationRequest, actor) -> RevocationRequest:
    """The CA revokes: the certificate enters the CRL and OCSP, and the refund is recorded.

    Refund: the certificate's price when completed within the refund window of its
    issuance, else nothing; it is added to the order. The request's row lock makes two
    operators completing it at once revoke it once.
    """
    now = timezone.now()
    with transaction.atomic():
        certificate = Certificate.objects.select_related("order").get(pk=revocation.certificate_id)
        refund = refunds.refund_amount(
            refund_terms(certificate=certificate),
            price=certificate_price(certificate=certificate),
            completed_on=timezone.localdate(now),
        )
        transition(
            revocation,
            RevocationStatus.COMPLETED,
            actor=actor,
            changes={
                "completed_at": now,
                "processed_by": user_or_none(actor),
                "refund_amount": refund,
            },
        )
        transition(
            certificate,
            CertificateStatus.REVOKED,
            actor=actor,
            details={"reason": revocation.reason, "refund": str(refund)},
        )
        if refund:
            order = Order.objects.select_for_update().get(pk=certificate.order_id)
            order.refund_amount = min(order.refund_amount + refund, order.amount)
            order.refunded_at = now
            order.save(update_fields=["refund_amount", "refunded_at", "updated_at"])
        # The next download publishes a new CRL. This waits for a CRL being built right
        # now (it holds the CA row) and then marks it stale, so none is left out.
        CertificateAuthority.objects.filter(pk=certificate.authority_id).update(crl_refresh_at=None)
    revocation.certificate = certificate
    return revocation


def reject_revocation(*, revocation: RevocationRequest, reason: str, actor) -> RevocationRequest:
    """The CA refuses: the certificate is issued again, and the customer sees the reason."""
    if not reason.strip():
        raise ValidationError("Give the reason the customer will see.")
    with transaction.atomic():
        transition(
            revocation,
            RevocationStatus.REJECTED,
            actor=actor,
            changes={"rejection_reason": reason, "processed_by": user_or_none(actor)},
            details={"reason": reason},
        )
        _reinstate(revocation.certificate, actor=actor, details={"revocation": "rejected"})
    return revocation


# --- CRL and OCSP ---------------------------------------------------------------------------


def revoked_entries(*, issuer: CertificateAuthority) -> list[RevokedEntry]:
    """Every serial this CA signed for a revoked certificate, deleted from the console or not.

    A reissued certificate has several serials, all revoked with it.
    """
    rows = (
        IssuedSerial.objects.filter(
            authority=issuer, certificate__revocation_requests__status=RevocationStatus.COMPLETED
        )
        .order_by()
        .values_list(
            "serial",
            "certificate__revocation_requests__completed_at",
            "certificate__revocation_requests__reason",
        )
        .iterator(chunk_size=10_000)
    )
    return [
        RevokedEntry(serial=int(serial, 16), revoked_at=revoked_at, reason=reason)
        for serial, revoked_at, reason in rows
    ]


def current_crl(*, issuer: CertificateAuthority) -> bytes:
    """The CA's CRL in DER: the one published while it is fresh, else a new one.

    Every new CRL takes the next CRL number under the CA row's lock, so numbers only
    grow, even with several processes serving CRLs.
    """
    now = timezone.now()
    if issuer.crl_refresh_at is not None and now < issuer.crl_refresh_at:
        return bytes(issuer.crl_der)
    with transaction.atomic():
        locked = CertificateAuthority.objects.select_for_update().get(pk=issuer.pk)
        if locked.crl_refresh_at is not None and now < locked.crl_refresh_at:
            return bytes(locked.crl_der)  # another request just published it
        validity = timedelta(hours=settings.PKI_CRL_VALIDITY_HOURS)
        number = locked.crl_number + 1
        der = build_crl(
            authority.load(locked),
            revoked_entries(issuer=locked),
            crl_number=number,
            this_update=now,
            next_update=now + validity,
        )
        CertificateAuthority.objects.filter(pk=locked.pk).update(
            crl_number=number, crl_der=der, crl_refresh_at=now + validity / 2
        )
    return der


def certificate_state(*, issuer: CertificateAuthority, serial: int) -> CertificateState:
    """What OCSP says about one serial of this CA: revoked, good, or unknown."""
    # Two indexed lookups (CA and serial, then the certificate's requests), unordered:
    # each answer costs the same however many certificates the CA has revoked.
    issued = list(
        IssuedSerial.objects.filter(authority=issuer, serial=format(serial, "X"))
        .order_by()
        .values_list("certificate_id", flat=True)
    )
    if not issued:
        return CertificateState.unknown()
    revoked = list(
        RevocationRequest.objects.filter(certificate__in=issued, status=RevocationStatus.COMPLETED)
        .order_by()
        .values_list("completed_at", "reason")[:1]
    )
    if not revoked:
        return CertificateState.good()
    revoked_at, reason = revoked[0]
    return CertificateState.revoked(revoked_at, reason=reason)


def answer_ocsp(*, issuer: CertificateAuthority, request_der: bytes) -> bytes:
    """The signed OCSP response (or OCSP error status) to one DER request."""
    now = timezone.now()
    return respond_to_ocsp(
        request_der,
        issuer=authority.load(issuer),
        lookup=lambda serial: certificate_state(issuer=issuer, serial=serial),
        now=now,
        next_update=now + timedelta(hours=settings.PKI_OCSP_VALIDITY_HOURS),
    )
