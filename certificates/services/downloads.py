"""Download: the zip of a certificate for one server type, written to the audit log."""

from dataclasses import dataclass

from django.utils.translation import gettext as _

from certificates import key_encryption
from certificates.audit import record_event
from certificates.errors import ActionNotAllowed
from certificates.models import Certificate
from certificates.pki import bundles
from certificates.pki.bundles import BundleNeedsKeyError
from certificates.pki.parsing import load_certificates, load_private_key


@dataclass(frozen=True)
class Download:
    filename: str
    content: bytes


def download_bundle(*, certificate: Certificate, server_type: str, actor) -> Download:
    """The zip for one server type, with the key when the console made it."""
    if not certificate.can_download:
        raise ActionNotAllowed(_("This certificate cannot be downloaded."))
    key = None
    if certificate.private_key_encrypted:
        key = load_private_key(
            key_encryption.decrypt_private_key(certificate.private_key_encrypted)
        )
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
        raise ActionNotAllowed(error.message) from None
    record_event(
        actor=actor,
        action="certificate.download",
        target=certificate,
        details={"server_type": server_type},
    )
    return Download(filename=f"{name}_{server_type}.zip", content=content)
