"""OCSP answers signed ahead: stored at issuance, replaced at revocation, refreshed in time.

The responder serves a stored answer to a request with a SHA-1 CertID and no nonce (the
form almost every client sends) while it is fresh, and signs every other request live
(certificates.services.publication). Both say what selectors.serial_state says, so a
stored answer is the live one signed earlier.

An expired certificate keeps the answer it had (the responder says good or revoked after
the end date, as it always did), but its stored answer is not refreshed any more: once
that one lapses, the live path answers the same for the rare client that still asks.
"""

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from certificates import authority, selectors
from certificates.models import Certificate, IssuedSerial, OcspAnswer
from certificates.pki import ca
from certificates.pki.revocation import presign_ocsp_response

DEFAULT_BATCH_SIZE = 500


def store_ocsp_answer(*, certificate: Certificate, now: datetime | None = None) -> int:
    """Sign and store the answer for every serial of the certificate, as its state is now.

    Called in the transaction that changes that state (issuance, reissue, revocation), so
    a revoked certificate's stored answer says revoked as soon as the revocation commits.
    Returns how many answers were stored.
    """
    now = now or timezone.now()
    issued = IssuedSerial.objects.filter(certificate=certificate).select_related("authority")
    with transaction.atomic():
        return _store(issued, now=now, signers={})


def refresh_ocsp_answers(
    *, now: datetime | None = None, batch_size: int = DEFAULT_BATCH_SIZE
) -> int:
    """Sign again every stored answer past half its validity, of a certificate not yet
    expired, in batches of batch_size, each its own transaction. Returns how many.

    Rows are locked and re-read inside each batch, so a revocation committing meanwhile is
    never overwritten with the old state; other hosts refreshing at once skip locked rows.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1.")
    now = now or timezone.now()
    signers: dict[int, ca.Authority] = {}
    refreshed = 0
    while True:
        with transaction.atomic():
            due = list(
                due_for_refresh(now=now)
                .select_for_update(skip_locked=True, of=("self",))
                .order_by("refresh_at")
                .values_list("issued_serial_id", flat=True)[:batch_size]
            )
            if not due:
                return refreshed
            issued = IssuedSerial.objects.filter(pk__in=due).select_related("authority")
            refreshed += _store(issued, now=now, signers=signers)


def due_for_refresh(*, now: datetime) -> QuerySet[OcspAnswer]:
    """The stored answers past half their validity, of certificates not yet expired."""
    return OcspAnswer.objects.filter(refresh_at__lte=now, issued_serial__not_after__gt=now)


def _store(
    issued: Iterable[IssuedSerial], *, now: datetime, signers: dict[int, ca.Authority]
) -> int:
    validity = timedelta(hours=settings.PKI_OCSP_VALIDITY_HOURS)
    stored = 0
    for row in issued:
        signer = signers.get(row.authority_id)
        if signer is None:
            # Decrypting the CA key costs far more than one signature: once per batch.
            signer = signers[row.authority_id] = authority.load(row.authority)
        answer = presign_ocsp_response(
            signer,
            serial=int(row.serial, 16),
            state=selectors.serial_state(issuer=row.authority, serial=int(row.serial, 16)),
            now=now,
            next_update=now + validity,
        )
        OcspAnswer.objects.update_or_create(
            issued_serial=row,
            defaults={
                "authority": row.authority,
                "serial": row.serial,
                "issuer_name_hash": answer.issuer_name_hash,
                "issuer_key_hash": answer.issuer_key_hash,
                "der": answer.der,
                "this_update": answer.this_update,
                "next_update": answer.next_update,
                "refresh_at": answer.this_update + validity / 2,
            },
        )
        stored += 1
    return stored
