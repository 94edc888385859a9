"""Upload: keep a certificate bought elsewhere, read from the certificate itself."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from certificates import key_encryption, selectors
from certificates.audit import record_event
from certificates.lifecycle import start_uploaded
from certificates.models import Certificate, Source
from certificates.pki.parsing import CertificateBundle
from certificates.services.issuance import fields_read_from


def upload_certificate(*, owner, name: str, bundle: CertificateBundle) -> Certificate:
    """Keep a certificate bought elsewhere, with its chain and its key encrypted."""
    info = bundle.info
    try:
        with transaction.atomic():
            certificate = Certificate(
                owner=owner,
                source=Source.UPLOADED,
                name=name,
                brand=selectors.brand_for_issuer(info.issuer_organization, info.issuer_common_name),
                domain_count=len(info.domains),
                **fields_read_from(info),
                certificate_pem=bundle.leaf_pem,
                chain_pem=bundle.chain_pem,
                private_key_encrypted=key_encryption.encrypt_private_key(bundle.private_key_pem),
                expiry_warnings_enabled=selectors.expiry_warnings_default(customer=owner),
            )
            certificate = start_uploaded(certificate)
            record_event(
                actor=owner,
                action="certificate.upload",
                target=certificate,
                details={"fingerprint_sha256": info.fingerprint_sha256, "serial": info.serial},
            )
    except IntegrityError:
        # Two uploads raced past the form's checks; the constraints decide.
        raise ValidationError(
            _("A certificate with this name or this fingerprint was just uploaded.")
        ) from None
    return certificate
