"""Reads of the ACME server: every object within its account (or the customer's own)."""

import josepy as jose
from cryptography import x509
from django.db.models import QuerySet

from acme_server.models import (
    AcmeAccount,
    AcmeAuthorization,
    AcmeChallenge,
    AcmeCredential,
    AcmeOrder,
)
from certificates.models import Brand, Certificate, IssuedSerial


def acme_brand(slug: str | None) -> Brand | None:
    """The brand a directory serves: ACME_DEFAULT_BRAND without a slug, else one an operator
    turned ACME on for (or the default one)."""
    from django.conf import settings

    default = settings.ACME_DEFAULT_BRAND
    brands = Brand.objects.filter(is_active=True)
    if slug is None or slug == default:
        return brands.filter(slug=default).first()
    return brands.filter(slug=slug, acme_enabled=True).first()


def order_of(account: AcmeAccount, public_id: str) -> AcmeOrder | None:
    return (
        AcmeOrder.objects.select_related("account", "certificate")
        .filter(account=account, public_id=public_id)
        .first()
    )


def authorization_of(account: AcmeAccount, public_id: str) -> AcmeAuthorization | None:
    return (
        AcmeAuthorization.objects.select_related("order__account")
        .prefetch_related("challenges")
        .filter(order__account=account, public_id=public_id)
        .first()
    )


def challenge_of(account: AcmeAccount, public_id: str) -> AcmeChallenge | None:
    return (
        AcmeChallenge.objects.select_related("authorization__order__account")
        .filter(authorization__order__account=account, public_id=public_id)
        .first()
    )


def orders_of(account: AcmeAccount) -> QuerySet[AcmeOrder]:
    return AcmeOrder.objects.filter(account=account).order_by("-created_at", "-id")


def credentials_of(owner) -> QuerySet[AcmeCredential]:
    return AcmeCredential.objects.filter(owner=owner)


def accounts_of(owner) -> QuerySet[AcmeAccount]:
    return AcmeAccount.objects.filter(owner=owner).select_related("credential", "brand")


def renewal_id(certificate: x509.Certificate) -> str:
    """RFC 9773's certificate identifier: base64url(AKI keyIdentifier).base64url(serial)."""
    aki = certificate.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    serial = certificate.serial_number
    serial_bytes = serial.to_bytes((serial.bit_length() + 8) // 8, "big")
    return f"{jose.b64encode(aki.key_identifier).decode()}.{jose.b64encode(serial_bytes).decode()}"


def certificate_for_renewal_id(value: str, *, owner=None) -> Certificate | None:
    """The console certificate an ARI identifier names (within `owner`'s, when given)."""
    parts = value.split(".")
    if len(parts) != 2 or len(value) > 200:
        return None
    try:
        serial_bytes = jose.b64decode(parts[1])
    except Exception:
        return None
    serial = format(int.from_bytes(serial_bytes, "big"), "X") if serial_bytes else ""
    serials = IssuedSerial.objects.filter(serial=serial).select_related("certificate")
    if owner is not None:
        serials = serials.filter(certificate__owner=owner, certificate__deleted_at__isnull=True)
    found = serials.first()
    return found.certificate if found else None


def directory_url() -> str:
    """The default directory's address as customers reach the console."""
    from django.conf import settings
    from django.urls import reverse

    return settings.CONSOLE_BASE_URL.rstrip("/") + reverse("acme:default_directory")


# How long a client waits before asking for a certificate's renewal information again.
RENEWAL_INFO_RETRY_SECONDS = 6 * 3600


def renewal_window(certificate: Certificate, now=None) -> tuple:
    """RFC 9773's suggested window: the last third of the certificate's life, ending a
    little before its end; for one being revoked, or whose key is compromised, already
    begun, so clients replace it before it stops working."""
    from datetime import timedelta

    from django.utils import timezone

    from certificates.lifecycle import CertificateStatus
    from certificates.models import CompromisedKey

    now = now or timezone.now()
    must_go = (
        certificate.status
        in (
            CertificateStatus.REVOKING,
            CertificateStatus.REVOKED,
        )
        or CompromisedKey.objects.filter(public_key_sha256=certificate.public_key_sha256).exists()
    )
    if must_go:
        return now - timedelta(hours=2), now - timedelta(hours=1)
    life = certificate.not_after - certificate.not_before
    return certificate.not_after - life / 3, certificate.not_after - life / 9
