"""Revocation: publishing the CRL of a CA with many revoked certificates, and OCSP answers.

The revoked certificates are bulk-inserted rows (a certificate, its issued serial and a
completed revocation request each); one real certificate signed by the CA gives the
OCSP requests their issuer hashes and a "good" answer.
"""

import gc
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client

from bench.data import CERTIFICATE_COLUMNS, insert_rows
from bench.report import Row, median, ms, timed
from certificates import authority, selectors, services
from certificates.lifecycle import CertificateStatus, RevocationStatus, create_certificates
from certificates.models import (
    Brand,
    Certificate,
    CertificateAuthority,
    IssuedSerial,
    RevocationRequest,
)
from certificates.pki import ca
from certificates.pki.revocation import build_crl

# The benchmark's certificate columns, and the CA that signed them.
REVOKED_COLUMNS = (*CERTIFICATE_COLUMNS, "authority_id")
SERIAL_COLUMNS = (
    "certificate_id",
    "authority_id",
    "serial",
    "crl_shard",
    "not_before",
    "not_after",
)
REQUEST_COLUMNS = (
    "created_at",
    "updated_at",
    "certificate_id",
    "requested_by_id",
    "reason",
    "status",
    "status_changed_at",
    "confirmation_email",
    "completed_at",
    "rejection_reason",
)
REASONS = (0, 1, 3, 4, 5)


@dataclass(frozen=True)
class Revocations:
    issuer: CertificateAuthority
    good_leaf: x509.Certificate
    revoked: int


def build(*, revoked: int, brands: list[int], now: datetime) -> Revocations:
    """The first brand's CAs with `revoked` revoked certificates and one good one."""
    issuer = authority.create_authorities(Brand.objects.get(pk=brands[0]))
    owner = get_user_model().objects.create(username="revocation-bench", password="!")
    adapt = connection.ops.adapt_datetimefield_value
    issued, ends = adapt(now - timedelta(days=10)), adapt(now + timedelta(days=189))
    # Serials as the CA makes them: 20 bytes, upper-case hex, distinct by construction.
    serials = [format((1 << 158) | n, "X") for n in range(1, revoked + 1)]
    insert_rows(
        Certificate._meta.db_table,
        REVOKED_COLUMNS,
        (
            (issued, issued, owner.pk, "issued", issuer.brand_id, "DV", "single", 1)
            + ("", CertificateStatus.REVOKED, issued, f"revoked{n}.example.com")
            + (f"revoked{n}.example.com", "", "CN=Bench", serial, "", "ECDSA P-256")
            + (issued, ends, "", "", "", True, "", issuer.pk)
            for n, serial in enumerate(serials)
        ),
    )
    ids = Certificate.objects.filter(authority=issuer).values_list("pk", "serial")
    rows = list(ids.iterator(chunk_size=10_000))
    insert_rows(
        IssuedSerial._meta.db_table,
        SERIAL_COLUMNS,
        (
            (pk, issuer.pk, serial, ca.crl_shard(int(serial, 16), settings.CRL_SHARDS))
            + (issued, ends)
            for pk, serial in rows
        ),
    )
    revoked_at = adapt(now - timedelta(days=1))
    insert_rows(
        RevocationRequest._meta.db_table,
        REQUEST_COLUMNS,
        (
            (revoked_at, revoked_at, pk, owner.pk, REASONS[n % len(REASONS)])
            + (RevocationStatus.COMPLETED, revoked_at, "", revoked_at, "")
            for n, (pk, _) in enumerate(rows)
        ),
    )
    leaf = ca.issue_certificate(
        authority.load(issuer),
        csr_public_key=ec.generate_private_key(ec.SECP256R1()).public_key(),
        domains=["good.example.com"],
        validation_type="DV",
        subject=None,
        now=now,
        validity_days=90,
        base_url=settings.PKI_BASE_URL,
        ca_slug=issuer.slug,
    )
    [good] = create_certificates(
        [
            Certificate(
                owner=owner,
                brand_id=issuer.brand_id,
                authority=issuer,
                status=CertificateStatus.ISSUED,
                validation_type="DV",
                serial=format(leaf.serial_number, "X"),
                not_before=leaf.not_valid_before_utc,
                not_after=leaf.not_valid_after_utc,
            )
        ]
    )
    services.record_issued_serial(certificate=good)
    # Signed ahead as issuance and revocation sign them (the bulk rows above have none):
    # the good serial's answer and the revoked one that ocsp_requests asks about.
    services.store_ocsp_answer(certificate=good)
    services.store_ocsp_answer(certificate=first_revoked(issuer))
    return Revocations(issuer=issuer, good_leaf=leaf, revoked=revoked)


def first_revoked(issuer: CertificateAuthority) -> Certificate:
    return (
        Certificate.objects.filter(authority=issuer, status=CertificateStatus.REVOKED)
        .order_by("pk")
        .first()
    )


def ocsp_requests(revocations: Revocations, *, nonce: bool = False) -> list[bytes]:
    """Requests about a good, a revoked and an unknown serial of the CA (SHA-1 CertIDs;
    without a nonce the good and revoked ones are answered by their stored answers)."""
    issuer = revocations.issuer
    good = (
        ocsp.OCSPRequestBuilder()
        .add_certificate(revocations.good_leaf, authority.load(issuer).certificate, hashes.SHA1())
        .build()
    )
    serials = [revocations.good_leaf.serial_number, int(first_revoked(issuer).serial, 16), 12345]
    builders = [
        ocsp.OCSPRequestBuilder().add_certificate_by_hash(
            good.issuer_name_hash, good.issuer_key_hash, serial, hashes.SHA1()
        )
        for serial in serials
    ]
    if nonce:
        builders = [
            builder.add_extension(x509.OCSPNonce(os.urandom(16)), critical=False)
            for builder in builders
        ]
    return [builder.build().public_bytes(serialization.Encoding.DER) for builder in builders]


def rate(action, seconds: float) -> float:
    """Calls per second of `action(n)`, called for about `seconds`."""
    calls, started = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        action(calls)
        calls += 1
    return calls / elapsed


def crl_builder(issuer: CertificateAuthority):
    """Building and signing the CA's CRL in the pure PKI core, its entries read once."""
    entries = selectors.revoked_entries(issuer=issuer)
    signer = authority.load(issuer)
    now = datetime.now(UTC)
    return lambda: build_crl(
        signer, entries, crl_number=1, this_update=now, next_update=now + timedelta(days=1)
    )


def measure(revocations: Revocations, *, repeat: int, ocsp_seconds: float) -> list[Row]:
    issuer = revocations.issuer
    build_only = median(timed(crl_builder(issuer), repeat))

    def publish() -> bytes:
        # A revocation just completed: the next download builds and stores a new CRL.
        CertificateAuthority.objects.filter(pk=issuer.pk).update(crl_refresh_at=None)
        return services.current_crl(issuer=CertificateAuthority.objects.get(pk=issuer.pk))

    published = median(timed(publish, repeat))
    size = len(publish())
    client = Client()
    crl_url = f"/pki/{issuer.slug}/crl.der"
    served = median(timed(lambda: client.get(crl_url), repeat))
    assert len(x509.load_der_x509_crl(client.get(crl_url).content)) == revocations.revoked
    # What building the CRLs left behind would slow the garbage collections below.
    gc.collect()

    requests = ocsp_requests(revocations)
    ocsp_url = f"/pki/{issuer.slug}/ocsp"

    with_nonce = ocsp_requests(revocations, nonce=True)

    def asker(bodies: list[bytes], kinds: int):
        def ask(n: int) -> ocsp.OCSPResponse:
            response = client.post(
                ocsp_url, bodies[n % kinds], content_type="application/ocsp-request"
            )
            return ocsp.load_der_ocsp_response(response.content)

        return ask

    for bodies in (requests, with_nonce):
        assert [asker(bodies, 3)(n).certificate_status for n in range(3)] == [
            ocsp.OCSPCertStatus.GOOD,
            ocsp.OCSPCertStatus.REVOKED,
            ocsp.OCSPCertStatus.UNKNOWN,
        ]
    through_http = rate(asker(requests, 3), ocsp_seconds)
    signed_ahead = rate(asker(requests, 2), ocsp_seconds)
    signed_live = rate(asker(with_nonce, 3), ocsp_seconds)
    from_service = rate(
        lambda n: services.answer_ocsp(issuer=issuer, request_der=requests[n % 3]), ocsp_seconds
    )
    crl = f"CRL, {revocations.revoked:,} revoked ({size / 1e6:.1f} MB)"
    return [
        Row("revocation", f"{crl}: build and sign, median", ms(build_only)),
        Row("revocation", f"{crl}: publish (read, build, sign, store), median", ms(published)),
        Row("revocation", f"{crl}: serve the published one over HTTP, median", ms(served)),
        Row(
            "revocation",
            "OCSP answers per second over HTTP (good, revoked, unknown)",
            f"{through_http:.0f}/s",
        ),
        Row(
            "revocation",
            "OCSP answers per second over HTTP, signed ahead (good, revoked)",
            f"{signed_ahead:.0f}/s",
        ),
        Row(
            "revocation",
            "OCSP answers per second over HTTP, with a nonce (signed live)",
            f"{signed_live:.0f}/s",
        ),
        Row("revocation", "OCSP answers per second from the service", f"{from_service:.0f}/s"),
    ]
