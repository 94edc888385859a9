"""What the details page reads: the stored certificate and chain, and the validation rows."""

from dataclasses import dataclass
from datetime import datetime

from cryptography.hazmat.primitives import hashes
from django.contrib import messages
from django.utils.translation import gettext as _

from certificates import domain_checks
from certificates.lifecycle import CertificateStatus
from certificates.models import Application, Certificate
from certificates.pki import parsing
from certificates.pki.bundles import KEYSTORE_SERVER_TYPES, SERVER_TYPE_NAMES, BundleNeedsKeyError
from certificates.translation import check_detail


@dataclass(frozen=True)
class ChainEntry:
    subject: str
    issuer: str
    not_after: datetime


@dataclass(frozen=True)
class CertificateDetails:
    """What the details page reads from the stored certificate itself."""

    subject: str
    fingerprint_sha1: str
    chain: tuple[ChainEntry, ...]


def certificate_details(certificate: Certificate) -> CertificateDetails | None:
    """The certificate and chain as X.509 objects say; None until there is a certificate."""
    if not certificate.certificate_pem:
        return None
    leaf, *_ = parsing.load_certificates(certificate.certificate_pem)
    chain = parsing.load_certificates(certificate.chain_pem) if certificate.chain_pem else []
    return CertificateDetails(
        subject=leaf.subject.rfc4514_string(),
        fingerprint_sha1=":".join(f"{b:02X}" for b in leaf.fingerprint(hashes.SHA1())),
        chain=tuple(
            ChainEntry(
                subject=cert.subject.rfc4514_string(),
                issuer=cert.issuer.rfc4514_string(),
                not_after=cert.not_valid_after_utc,
            )
            for cert in chain
        ),
    )


@dataclass(frozen=True)
class Replacements:
    """ARI (RFC 9773) on the details page: what an ACME order for this certificate named in
    `replaces`, and the certificates ordered since to replace this one."""

    replaces: Certificate | None
    superseded_by: tuple[Certificate, ...]


def replacements(certificate: Certificate) -> Replacements:
    """Only certificates the owner can still open; one query besides the certificate's own
    (which brings its ACME order with `select_related("acme_order__replaces")`)."""
    order = getattr(certificate, "acme_order", None)
    replaced = order.replaces if order else None
    if replaced is not None and (replaced.deleted_at or replaced.owner_id != certificate.owner_id):
        replaced = None
    if not certificate.serial:
        # Only an issued certificate can be named in `replaces`.
        return Replacements(replaces=replaced, superseded_by=())
    newer = (
        Certificate.objects.owned_by(certificate.owner_id)
        .filter(acme_order__replaces=certificate)
        .only("name", "common_name")
        .order_by("created_at")
    )
    return Replacements(replaces=replaced, superseded_by=tuple(newer))


@dataclass(frozen=True)
class ValidationRow:
    domain: str
    record: str
    url: str
    result: str


def verification_outcome(certificate: Certificate, application: Application) -> tuple[int, str]:
    """What a finished Verify found, as a message level and its sentence."""
    if certificate.status == CertificateStatus.ISSUED:
        return messages.SUCCESS, _("All domains are verified: the certificate is issued.")
    if certificate.status == CertificateStatus.CHECK_FAIL:
        return messages.ERROR, _("Domain validation failed: see the reason below.")
    if application.check_given_up:
        return messages.WARNING, _("The check did not finish: press Verify to try again.")
    if application.check_refusal:
        return messages.ERROR, application.check_refusal
    if application.all_domains_checked:
        return (
            messages.SUCCESS,
            _("All domains are verified: an operator reviews the organization next."),
        )
    return messages.WARNING, _("Not all domains could be verified yet: see what was found.")


def validation_rows(application) -> list[ValidationRow]:
    """What to publish for each domain, and what the last check found."""
    results = application.check_results or {}
    return [
        ValidationRow(
            domain=domain,
            record=domain_checks.dns_record_name(domain),
            url=f"http://{domain}{domain_checks.VALIDATION_FILE_PATH}",
            result=check_detail(results[domain]) if domain in results else _("Not checked yet"),
        )
        for domain in application.domain_list
    ]


@dataclass(frozen=True)
class DownloadOption:
    """One server type's download button: refused (with the reason) or offered."""

    slug: str
    label: str
    refusal: str | None


def download_options(certificate: Certificate) -> list[DownloadOption]:
    """Every server type; the keystore ones are refused when the console has no key."""
    no_key = not certificate.private_key_encrypted
    return [
        DownloadOption(
            slug=slug,
            label=_(label),
            refusal=BundleNeedsKeyError.default_message
            if no_key and slug in KEYSTORE_SERVER_TYPES
            else None,
        )
        for slug, label in SERVER_TYPE_NAMES.items()
    ]
