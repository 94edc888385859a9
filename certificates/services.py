"""The console's use cases. Each is a keyword-only function that runs in one transaction."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from certificates import keystore
from certificates.audit import record_event
from certificates.lifecycle import status_for_upload
from certificates.models import Brand, Certificate, Source
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
