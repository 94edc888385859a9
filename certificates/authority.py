"""The brands' local certificate authorities, kept in the database with their keys encrypted.

Each brand gets a root CA and an issuing CA under it, made on first use (or by
`manage.py init_ca`). The signing itself is the pure PKI core's (certificates.pki.ca).
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from certificates import key_encryption
from certificates.models import Brand, CertificateAuthority
from certificates.pki import ca

Role = CertificateAuthority.Role


def load(row: CertificateAuthority) -> ca.Authority:
    """The CA's certificate and decrypted key, ready to sign."""
    return ca.Authority.from_pem(
        row.certificate_pem, key_encryption.decrypt_private_key(row.private_key_encrypted)
    )


def issuing_authority(brand: Brand) -> CertificateAuthority:
    """The brand's issuing CA, made (with its root) the first time it is needed."""
    row = CertificateAuthority.objects.filter(brand=brand, role=Role.ISSUING).first()
    return row or create_authorities(brand)


def create_authorities(brand: Brand, *, now: datetime | None = None) -> CertificateAuthority:
    """Make the brand's root and issuing CAs, unless another process just did.

    `now` is when they start to be valid: the present, except for the demo data,
    whose certificates were issued in the past.
    """
    with transaction.atomic():
        # Lock the brand so two first issuances at once make one CA, not two.
        Brand.objects.select_for_update().get(pk=brand.pk)
        existing = CertificateAuthority.objects.filter(brand=brand, role=Role.ISSUING).first()
        if existing:
            return existing
        names = ca.local_ca_names(brand.name)
        # An hour early, so clocks a little behind (another host's, a client's) accept it.
        now = now or timezone.now() - timedelta(hours=1)
        root = ca.create_root_ca(
            common_name=names.root_common_name,
            organization=names.organization,
            now=now,
            country=settings.PKI_CA_COUNTRY,
        )
        issuing = ca.create_issuing_ca(
            root,
            common_name=names.issuing_common_name,
            organization=names.organization,
            now=now,
            base_url=settings.PKI_BASE_URL,
            slug=brand.slug,
            country=settings.PKI_CA_COUNTRY,
        )
        store_authority(brand, Role.ROOT, root)
        return store_authority(brand, Role.ISSUING, issuing)


def store_authority(brand: Brand, role: str, authority: ca.Authority) -> CertificateAuthority:
    return CertificateAuthority.objects.create(
        brand=brand,
        role=role,
        slug=brand.slug,
        certificate_pem=authority.certificate_pem,
        private_key_encrypted=key_encryption.encrypt_private_key(authority.private_key_pem()),
    )


def root_of(issuing: CertificateAuthority) -> CertificateAuthority:
    return CertificateAuthority.objects.get(brand_id=issuing.brand_id, role=Role.ROOT)
