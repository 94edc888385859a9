"""Publishing revocation: the CA's current CRL, and signed OCSP answers."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from certificates import authority, selectors
from certificates.models import CertificateAuthority
from certificates.pki.revocation import build_crl, respond_to_ocsp


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
            selectors.revoked_entries(issuer=locked),
            crl_number=number,
            this_update=now,
            next_update=now + validity,
        )
        CertificateAuthority.objects.filter(pk=locked.pk).update(
            crl_number=number, crl_der=der, crl_refresh_at=now + validity / 2
        )
    return der


def answer_ocsp(*, issuer: CertificateAuthority, request_der: bytes) -> bytes:
    """The signed OCSP response (or OCSP error status) to one DER request."""
    now = timezone.now()
    return respond_to_ocsp(
        request_der,
        issuer=authority.load(issuer),
        lookup=lambda serial: selectors.serial_state(issuer=issuer, serial=serial),
        now=now,
        next_update=now + timedelta(hours=settings.PKI_OCSP_VALIDITY_HOURS),
    )
