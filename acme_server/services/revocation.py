"""revokeCert (RFC 8555 7.6): by the account of the certificate's customer, or by anyone
holding the certificate's own key.

ACME revocation is immediate: the request goes to the CA and is completed at once through
the certificates' revocation services, so the CRL and OCSP say revoked from then on.
"""

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from django.core.exceptions import ValidationError
from django.db import transaction

from acme_server.models import AcmeAccount
from acme_server.protocol import AcmeProblem, malformed
from certificates import compromised_keys
from certificates.errors import ActionNotAllowed
from certificates.lifecycle import CertificateStatus, RevocationStatus
from certificates.models import Certificate, CompromisedKey, IssuedSerial, RevocationReason
from certificates.services import (
    complete_revocation,
    request_revocation,
    revoke_for_key_compromise,
)

KEY_COMPROMISE = 1
BAD_REASON = "That revocation reason is not accepted."


def revoke_certificate(
    *, certificate_der: bytes, reason: int | None, account: AcmeAccount | None, key_der: bytes
) -> Certificate:
    """Revoke the console certificate `certificate_der` is. `account` signed the request,
    or (None) the key whose SubjectPublicKeyInfo is `key_der`, which must be the
    certificate's: then the reason is key compromise and the key goes on the
    compromised-key list, whoever owns the certificate."""
    try:
        presented = x509.load_der_x509_certificate(certificate_der)
        serial = format(presented.serial_number, "X")
    except ValueError:
        raise malformed("certificate is not a DER X.509 certificate.") from None
    issued = (
        IssuedSerial.objects.select_related("certificate__owner")
        .filter(serial=serial, certificate__deleted_at__isnull=True)
        .first()
    )
    certificate = issued.certificate if issued else None
    if certificate is None or _der(certificate) != certificate_der:
        raise AcmeProblem("malformed", "This CA did not issue that certificate.", status=404)
    if account is not None:
        if certificate.owner_id != account.owner_id:
            raise AcmeProblem(
                "unauthorized", "That certificate is not this account's customer's.", status=403
            )
    else:
        spki = presented.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        if spki != key_der:
            raise AcmeProblem(
                "unauthorized", "The request is not signed by the certificate's key.", status=403
            )
        reason = KEY_COMPROMISE
    reason = 0 if reason is None else reason
    if not isinstance(reason, int) or reason not in RevocationReason.values:
        raise AcmeProblem("badRevocationReason", BAD_REASON)
    if certificate.status in (CertificateStatus.REVOKING, CertificateStatus.REVOKED):
        raise AcmeProblem("alreadyRevoked", "That certificate is already revoked.")
    try:
        with transaction.atomic():
            if account is None:
                # Listed first, so the list says ACME put it there.
                compromised_keys.add(
                    key_sha256=certificate.public_key_sha256,
                    source=CompromisedKey.Source.ACME,
                    certificate=certificate,
                )
                revoke_for_key_compromise(certificate=certificate, actor=None)
            else:
                revocation = request_revocation(
                    certificate=certificate, reason=reason, actor=certificate.owner
                )
                # Key compromise is completed by the request itself; the rest here, at once.
                if revocation.status == RevocationStatus.PENDING:
                    complete_revocation(revocation=revocation, actor=None)
    except ActionNotAllowed as error:
        raise AcmeProblem("alreadyRevoked", error.message) from None
    except ValidationError:
        raise AcmeProblem("badRevocationReason", BAD_REASON) from None
    return certificate


def _der(certificate: Certificate) -> bytes:
    if not certificate.certificate_pem:
        return b""
    return x509.load_pem_x509_certificate(certificate.certificate_pem.encode()).public_bytes(
        serialization.Encoding.DER
    )
