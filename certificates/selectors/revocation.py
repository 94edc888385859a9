"""Revocation reads: a certificate's refund terms and price, what the CRL and OCSP say, and
the OCSP answers stored ahead."""

from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db import connection
from django.utils import timezone

from certificates import refunds
from certificates.lifecycle import RevocationStatus
from certificates.models import (
    Certificate,
    CertificateAuthority,
    IssuedSerial,
    OcspAnswer,
    RevocationRequest,
)
from certificates.pki.parsing import serial_hex
from certificates.pki.revocation import RevokedEntry, SerialState, StoredAnswerKey


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


def revoked_entries(
    *, issuer: CertificateAuthority, shard: int | None = None
) -> list[RevokedEntry]:
    """Every serial this CA signed for a revoked certificate, deleted from the console or not;
    with `shard`, only those of that CRL shard (a range scan of its index).

    A reissued certificate has several serials, all revoked with it.
    """
    serials = IssuedSerial.objects.filter(authority=issuer)
    if shard is not None:
        serials = serials.filter(crl_shard=shard)
    rows = (
        serials.filter(certificate__revocation_requests__status=RevocationStatus.COMPLETED)
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


def serial_state(*, issuer: CertificateAuthority, serial: int) -> SerialState:
    """What OCSP says about one serial of this CA: revoked, good, or unknown."""
    # Two indexed lookups (CA and serial, then the certificate's requests), unordered:
    # each answer costs the same however many certificates the CA has revoked.
    issued = list(
        IssuedSerial.objects.filter(authority=issuer, serial=serial_hex(serial))
        .order_by()
        .values_list("certificate_id", flat=True)
    )
    if not issued:
        return SerialState.unknown()
    revoked = list(
        RevocationRequest.objects.filter(certificate__in=issued, status=RevocationStatus.COMPLETED)
        .order_by()
        .values_list("completed_at", "reason")[:1]
    )
    if not revoked:
        return SerialState.good()
    revoked_at, reason = revoked[0]
    return SerialState.revoked(revoked_at, reason=reason)


# The responder's one query, written out: building it through the ORM took longer than
# running it, on the path that answers most OCSP requests (the bench's serve section).
_STORED_ANSWER_SQL = (
    f"SELECT answer.der FROM {OcspAnswer._meta.db_table} answer"
    f" JOIN {CertificateAuthority._meta.db_table} ca ON ca.id = answer.authority_id"
    " WHERE ca.slug = %s AND ca.role = %s AND answer.serial = %s"
    " AND answer.issuer_name_hash = %s AND answer.issuer_key_hash = %s"
    " AND answer.next_update > %s"
)


def stored_ocsp_answer(*, ca_slug: str, key: StoredAnswerKey, now: datetime) -> bytes | None:
    """The stored answer the issuing CA `ca_slug` signed about this serial, while fresh.

    One query on the (CA, serial) index; None when there is none, it has lapsed, or the
    request names other issuer hashes (another CA's, or ours before a new key), which the
    live responder must answer.
    """
    parameters = [
        ca_slug,
        CertificateAuthority.Role.ISSUING.value,
        serial_hex(key.serial),
        key.issuer_name_hash,
        key.issuer_key_hash,
        connection.ops.adapt_datetimefield_value(now),
    ]
    with connection.cursor() as cursor:
        # (CA, serial) is unique, so there is one row at most.
        cursor.execute(_STORED_ANSWER_SQL, parameters)
        row = cursor.fetchone()
    return None if row is None else bytes(row[0])
