"""Publishing revocation: the CA's CRLs (the whole one, and its shards), and signed OCSP
answers.

An issuing CA's CRL is partitioned into settings.CRL_SHARDS shards: each certificate
names its serial's shard (certificates.pki.ca.crl_shard_url), each shard is its own CRL
whose critical issuingDistributionPoint names that URL, kept in a CrlShard row. A
revocation marks only its serials' shards stale (mark_crl_shards_stale, in its own
transaction); a download of a stale, missing or half-expired shard builds it once under
the row's lock (current_crl_shard), and publish_crl_shards builds every shard due ahead.
The whole CRL (crl.der), which certificates signed before the shards name, stays.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from certificates import authority, selectors
from certificates.models import CertificateAuthority, CrlShard, IssuedSerial
from certificates.pki.ca import crl_shard_url
from certificates.pki.revocation import build_crl, respond_to_ocsp


def current_crl(*, issuer: CertificateAuthority) -> bytes:
    """The CA's whole CRL in DER: the one published while it is fresh, else a new one.

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


def is_fresh(shard: CrlShard, now: datetime) -> bool:
    """Served as it is: built, not stale, and less than half its validity passed."""
    if shard.stale or shard.this_update is None or shard.next_update is None:
        return False
    return now < shard.this_update + (shard.next_update - shard.this_update) / 2


def current_crl_shard(*, issuer: CertificateAuthority, shard: int) -> bytes:
    """One shard of the issuing CA's CRL in DER: the stored one while fresh, else a new
    one, built once however many requests ask at the same time (the row's lock)."""
    now = timezone.now()
    row = CrlShard.objects.filter(authority=issuer, number=shard).first()
    if row is not None and is_fresh(row, now):
        return bytes(row.der)
    with transaction.atomic():
        locked = _locked_shard(issuer.pk, shard)
        if is_fresh(locked, now):
            return bytes(locked.der)  # another request just built it
        return _build_shard(issuer, locked, now)


def publish_crl_shards(
    *, now: datetime | None = None, issuer: CertificateAuthority | None = None
) -> int:
    """Build every shard of every issuing CA (or of `issuer`) that is stale, missing or past
    half its validity, each in its own transaction; the number built. Safe on several
    hosts at once: a shard another one is building is waited for, then found fresh."""
    now = now or timezone.now()
    built = 0
    issuers = CertificateAuthority.objects.filter(role=CertificateAuthority.Role.ISSUING)
    if issuer is not None:
        issuers = issuers.filter(pk=issuer.pk)
    for issuer in issuers.defer("crl_der").order_by("pk"):
        stored = {
            row.number: row
            for row in CrlShard.objects.filter(authority=issuer).defer("der")
            if row.number < settings.CRL_SHARDS
        }
        for number in range(settings.CRL_SHARDS):
            if number in stored and is_fresh(stored[number], now):
                continue
            with transaction.atomic():
                locked = _locked_shard(issuer.pk, number)
                if not is_fresh(locked, now):
                    _build_shard(issuer, locked, now)
                    built += 1
    return built


def mark_crl_shards_stale(*, certificate_id: int) -> None:
    """Within the caller's transaction (a revocation completing): the shards of the
    certificate's serials are built again on their next download or publication.

    A shard being built right now holds its row: this waits for it and then marks it
    stale, so no revocation is left out of the next one.
    """
    shards = sorted(
        set(
            IssuedSerial.objects.filter(certificate_id=certificate_id).values_list(
                "authority_id", "crl_shard"
            )
        )
    )
    for authority_id, number in shards:
        _ensure_shard_row(authority_id, number)
        CrlShard.objects.filter(authority_id=authority_id, number=number).update(stale=True)


def _ensure_shard_row(authority_id: int, number: int) -> None:
    # A stale, empty row unless there is one: on PostgreSQL this waits for a row another
    # transaction is inserting, rather than failing on the unique constraint.
    CrlShard.objects.bulk_create(
        [CrlShard(authority_id=authority_id, number=number, stale=True)], ignore_conflicts=True
    )


def _locked_shard(authority_id: int, number: int) -> CrlShard:
    _ensure_shard_row(authority_id, number)
    return CrlShard.objects.select_for_update().get(authority_id=authority_id, number=number)


def _build_shard(issuer: CertificateAuthority, locked: CrlShard, now: datetime) -> bytes:
    """Build, sign and store the locked shard's next CRL (the caller holds its lock)."""
    validity = timedelta(hours=settings.PKI_CRL_VALIDITY_HOURS)
    locked.crl_number += 1
    locked.der = build_crl(
        authority.load(issuer),
        selectors.revoked_entries(issuer=issuer, shard=locked.number),
        crl_number=locked.crl_number,
        this_update=now,
        next_update=now + validity,
        distribution_point=crl_shard_url(settings.PKI_BASE_URL, issuer.slug, locked.number),
    )
    locked.this_update, locked.next_update, locked.stale = now, now + validity, False
    locked.save(update_fields=["crl_number", "der", "this_update", "next_update", "stale"])
    return locked.der


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
