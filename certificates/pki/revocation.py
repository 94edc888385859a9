"""Revocation: the CRL (RFC 5280) and the OCSP responder (RFC 6960) of a local CA.

Both are signed by the CA itself, so clients need no extra certificate to trust them. The
database lives on the Django side: it passes the revoked entries for a CRL, and a lookup
function that says what it knows about one serial for OCSP. OCSP answers can also be
signed ahead (presign_ocsp_response) for the requests stored_answer_key says they serve.
"""

from __future__ import annotations

import base64
import binascii
import enum
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509 import ocsp

from certificates.pki.ca import Authority
from certificates.pki.csr import signature_hash
from certificates.pki.i18n import N_

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reason:
    """An RFC 5280 CRLReason: the words customers see, the flag on CRL entries and OCSP
    answers (the Django choices are named after it), and whether a customer may choose it."""

    label: str
    flag: x509.ReasonFlags
    customer_may_choose: bool = True


# The reasons this CA revokes with, by RFC 5280 code; the Django model's choices are made
# from this table.
REASONS: dict[int, Reason] = {
    0: Reason(N_("Unspecified"), x509.ReasonFlags.unspecified),
    1: Reason(N_("Key compromise"), x509.ReasonFlags.key_compromise),
    3: Reason(N_("Affiliation changed"), x509.ReasonFlags.affiliation_changed),
    4: Reason(N_("Superseded"), x509.ReasonFlags.superseded),
    5: Reason(N_("Cessation of operation"), x509.ReasonFlags.cessation_of_operation),
}

# The same table as code -> label.
REVOCATION_REASONS: dict[int, str] = {code: reason.label for code, reason in REASONS.items()}

# How long an OCSP answer stays valid when the caller doesn't say. The Baseline
# Requirements (4.9.10) want between 8 hours and 10 days; short keeps revocations fresh.
DEFAULT_OCSP_VALIDITY = timedelta(hours=12)

# RFC 9654 2.1: a nonce is 1 to 128 octets; anything else is a malformed request.
_MAX_NONCE_LENGTH = 128

# RFC 5280 5.2.3: a CRL number is at most 20 octets.
_MAX_CRL_NUMBER = (1 << 159) - 1


@dataclass(frozen=True)
class RevokedEntry:
    """One revoked certificate: its serial, when it was revoked and why (an RFC 5280 code)."""

    serial: int
    revoked_at: datetime
    reason: int = 0

    def __post_init__(self) -> None:
        if self.serial <= 0:
            raise ValueError(f"A serial number must be positive, not {self.serial}.")
        _check_reason(self.reason)
        _check_aware(self.revoked_at)


def _check_reason(reason: int) -> None:
    if reason not in REASONS:
        raise ValueError(
            f"Unknown revocation reason {reason!r}; expected one of {sorted(REASONS)}."
        )


def _check_aware(moment: datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("Datetimes must be timezone-aware.")


def _utc(moment: datetime) -> datetime:
    _check_aware(moment)
    # CRLs and OCSP responses count whole seconds.
    return moment.astimezone(UTC).replace(microsecond=0)


def _reason_flag(reason: int) -> x509.ReasonFlags | None:
    # RFC 5280 5.3.1: leave the reason out rather than say "unspecified".
    return None if reason == 0 else REASONS[reason].flag


# --- CRL --------------------------------------------------------------------------------


def build_crl(
    issuer: Authority,
    entries: Iterable[RevokedEntry],
    *,
    crl_number: int,
    this_update: datetime,
    next_update: datetime,
    distribution_point: str | None = None,
) -> bytes:
    """A complete CRL of the issuer in DER, with its number and authority key identifier.

    crl_number must grow with every CRL of its scope the issuer publishes (RFC 5280
    5.2.3). With `distribution_point` (a shard's URL, ca.crl_shard_url), the CRL is that
    partition only: a critical issuingDistributionPoint names the URL, which must be the
    one in its certificates' CRL distribution point (RFC 5280 5.2.5, 6.3.3), and says it
    lists end-entity certificates only.
    """
    this_update, next_update = _utc(this_update), _utc(next_update)
    if next_update <= this_update:
        raise ValueError("next_update must come after this_update.")
    if not 0 <= crl_number <= _MAX_CRL_NUMBER:
        raise ValueError("A CRL number must be between 0 and 2**159 - 1.")
    revoked = [_revoked_certificate(entry) for entry in entries]
    _check_unique([certificate.serial_number for certificate in revoked])
    extensions = [
        x509.Extension(x509.CRLNumber.oid, False, x509.CRLNumber(crl_number)),
        x509.Extension(x509.AuthorityKeyIdentifier.oid, False, issuer.authority_key_identifier()),
    ]
    if distribution_point is not None:
        extensions.append(
            x509.Extension(x509.IssuingDistributionPoint.oid, True, shard_scope(distribution_point))
        )
    builder = x509.CertificateRevocationListBuilder(
        issuer_name=issuer.subject,
        # The builder keeps naive UTC times, as its own last_update() would store them.
        last_update=this_update.replace(tzinfo=None),
        next_update=next_update.replace(tzinfo=None),
        extensions=extensions,
        # All entries at once: add_revoked_certificate() copies the list on every call,
        # which makes a CRL of 100,000 entries take many seconds.
        revoked_certificates=revoked,
    )
    crl = builder.sign(issuer.private_key, signature_hash(issuer.private_key))
    return crl.public_bytes(serialization.Encoding.DER)


def shard_scope(distribution_point: str) -> x509.IssuingDistributionPoint:
    """The issuingDistributionPoint of a CRL shard: its URL, end-entity certificates only."""
    return x509.IssuingDistributionPoint(
        full_name=[x509.UniformResourceIdentifier(distribution_point)],
        relative_name=None,
        only_contains_user_certs=True,
        only_contains_ca_certs=False,
        only_some_reasons=None,
        indirect_crl=False,
        only_contains_attribute_certs=False,
    )


def _check_unique(serials: list[int]) -> None:
    seen: set[int] = set()
    for serial in serials:
        if serial in seen:
            raise ValueError(f"Serial {serial:X} is listed twice.")
        seen.add(serial)


def _revoked_certificate(entry: RevokedEntry) -> x509.RevokedCertificate:
    builder = (
        x509.RevokedCertificateBuilder()
        .serial_number(entry.serial)
        .revocation_date(_utc(entry.revoked_at))
    )
    flag = _reason_flag(entry.reason)
    if flag is not None:
        builder = builder.add_extension(x509.CRLReason(flag), critical=False)
    return builder.build()


# --- OCSP -------------------------------------------------------------------------------


class SerialStatus(enum.Enum):
    """What OCSP says of one serial (not the console's certificate status)."""

    GOOD = "good"
    REVOKED = "revoked"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class SerialState:
    """What the CA knows about one serial; build it with good(), revoked() or unknown()."""

    status: SerialStatus
    revoked_at: datetime | None = None
    reason: int = 0

    def __post_init__(self) -> None:
        if self.status is SerialStatus.REVOKED:
            if self.revoked_at is None:
                raise ValueError("A revoked certificate needs its revocation time.")
            _check_aware(self.revoked_at)
            _check_reason(self.reason)
        elif self.revoked_at is not None:
            raise ValueError("Only a revoked certificate has a revocation time.")

    @classmethod
    def good(cls) -> SerialState:
        return cls(SerialStatus.GOOD)

    @classmethod
    def revoked(cls, revoked_at: datetime, reason: int = 0) -> SerialState:
        return cls(SerialStatus.REVOKED, revoked_at=revoked_at, reason=reason)

    @classmethod
    def unknown(cls) -> SerialState:
        """Not a serial this CA issued (or not yet issued)."""
        return cls(SerialStatus.UNKNOWN)


_OCSP_STATUS = {
    SerialStatus.GOOD: ocsp.OCSPCertStatus.GOOD,
    SerialStatus.REVOKED: ocsp.OCSPCertStatus.REVOKED,
    SerialStatus.UNKNOWN: ocsp.OCSPCertStatus.UNKNOWN,
}


def respond_to_ocsp(
    request_der: bytes,
    *,
    issuer: Authority,
    lookup: Callable[[int], SerialState],
    now: datetime,
    next_update: datetime | None = None,
) -> bytes:
    """Answer one DER OCSP request with a DER OCSP response; never raises for bad requests.

    - A request that can't be read (or whose nonce is not 1 to 128 octets, RFC 9654) gets
      the unsigned error status malformedRequest.
    - A request about a certificate of another issuer (its CertID's issuer name and key
      hashes are not this CA's) gets the unsigned error status unauthorized: RFC 6960 2.3
      (citing RFC 5019 2.2.3) reserves it for a server that can't answer authoritatively.
      A signed "unknown" would be this CA vouching about another CA's serial, and costs
      a signature for every stray request.
    - Otherwise the answer is signed by the issuer itself (responder ID by key hash) and
      says good, revoked (time and reason) or unknown, as lookup(serial) says. The nonce of
      the request, if any, is echoed. If lookup fails, the answer is internalError.

    next_update defaults to now + DEFAULT_OCSP_VALIDITY. A naive datetime, or a next_update
    not after now, is the caller's mistake and raises ValueError.
    """
    this_update = _utc(now)
    next_update = _utc(next_update) if next_update else this_update + DEFAULT_OCSP_VALIDITY
    if next_update <= this_update:
        raise ValueError("next_update must come after now.")
    request = _load_request(request_der)
    if request is None:
        return _error_response(ocsp.OCSPResponseStatus.MALFORMED_REQUEST)
    if not _is_for_issuer(request, issuer):
        return _error_response(ocsp.OCSPResponseStatus.UNAUTHORIZED)
    try:
        state = lookup(request.serial_number)
    except Exception:
        # The client gets the protocol's answer; the operators get the traceback.
        logger.exception("OCSP lookup failed for serial %X", request.serial_number)
        return _error_response(ocsp.OCSPResponseStatus.INTERNAL_ERROR)
    return _signed_answer(
        issuer,
        issuer_name_hash=request.issuer_name_hash,
        issuer_key_hash=request.issuer_key_hash,
        algorithm=request.hash_algorithm,
        serial=request.serial_number,
        state=state,
        this_update=this_update,
        next_update=next_update,
        nonce=_nonce(request),
    )


def _signed_answer(
    issuer: Authority,
    *,
    issuer_name_hash: bytes,
    issuer_key_hash: bytes,
    algorithm: hashes.HashAlgorithm,
    serial: int,
    state: SerialState,
    this_update: datetime,
    next_update: datetime,
    nonce: x509.OCSPNonce | None,
) -> bytes:
    # The one place answers are built, live or signed ahead, so both say the same.
    builder = ocsp.OCSPResponseBuilder().add_response_by_hash(
        issuer_name_hash=issuer_name_hash,
        issuer_key_hash=issuer_key_hash,
        serial_number=serial,
        algorithm=algorithm,
        cert_status=_OCSP_STATUS[state.status],
        this_update=this_update,
        next_update=next_update,
        revocation_time=_utc(state.revoked_at) if state.revoked_at else None,
        revocation_reason=_reason_flag(state.reason) if state.revoked_at else None,
    )
    builder = builder.responder_id(ocsp.OCSPResponderEncoding.HASH, issuer.certificate)
    if nonce is not None:
        builder = builder.add_extension(nonce, critical=False)
    response = builder.sign(issuer.private_key, signature_hash(issuer.private_key))
    return response.public_bytes(serialization.Encoding.DER)


# --- OCSP answers signed ahead ------------------------------------------------------------


@dataclass(frozen=True)
class PresignedAnswer:
    """An OCSP answer signed before anyone asks: its DER, the SHA-1 CertID hashes of its
    issuer (a stored answer is only for requests naming exactly these) and its times."""

    der: bytes
    issuer_name_hash: bytes
    issuer_key_hash: bytes
    this_update: datetime
    next_update: datetime


@dataclass(frozen=True)
class StoredAnswerKey:
    """What a request that a stored answer can serve asks about: a serial, under an issuer
    named by the SHA-1 hashes of its name and key."""

    serial: int
    issuer_name_hash: bytes
    issuer_key_hash: bytes


def presign_ocsp_response(
    issuer: Authority,
    *,
    serial: int,
    state: SerialState,
    now: datetime,
    next_update: datetime | None = None,
) -> PresignedAnswer:
    """The answer respond_to_ocsp gives a request about this serial with a SHA-1 CertID
    and no nonce, signed now: the form almost every client sends (RFC 5019 2.1.1).

    next_update defaults to now + DEFAULT_OCSP_VALIDITY; naive datetimes raise ValueError.
    """
    this_update = _utc(now)
    next_update = _utc(next_update) if next_update else this_update + DEFAULT_OCSP_VALIDITY
    if next_update <= this_update:
        raise ValueError("next_update must come after now.")
    if serial <= 0:
        raise ValueError(f"A serial number must be positive, not {serial}.")
    name_hash, key_hash = _issuer_hashes(issuer, hashes.SHA1())
    der = _signed_answer(
        issuer,
        issuer_name_hash=name_hash,
        issuer_key_hash=key_hash,
        algorithm=hashes.SHA1(),
        serial=serial,
        state=state,
        this_update=this_update,
        next_update=next_update,
        nonce=None,
    )
    return PresignedAnswer(
        der=der,
        issuer_name_hash=name_hash,
        issuer_key_hash=key_hash,
        this_update=this_update,
        next_update=next_update,
    )


def stored_answer_key(request_der: bytes) -> StoredAnswerKey | None:
    """The serial and issuer hashes of a request a stored answer can serve: one readable
    request with a SHA-1 CertID and no nonce. None for anything else (a nonce must be
    echoed, another hash must be answered in it, a bad request gets its error status):
    those go to respond_to_ocsp."""
    request = _load_request(request_der)
    if request is None or _nonce(request) is not None:
        return None
    if not isinstance(request.hash_algorithm, hashes.SHA1):
        return None
    return StoredAnswerKey(
        serial=request.serial_number,
        issuer_name_hash=request.issuer_name_hash,
        issuer_key_hash=request.issuer_key_hash,
    )


def _load_request(request_der: bytes) -> ocsp.OCSPRequest | None:
    """The parsed request, or None when it is not one request we can answer."""
    try:
        request = ocsp.load_der_ocsp_request(request_der)
        # Read every field used later, so that damage shows up here and not halfway.
        request.hash_algorithm  # noqa: B018
        request.serial_number  # noqa: B018
        nonce = _nonce(request)
    except NotImplementedError:
        # More than one certificate in a request: the lightweight profile that OCSP
        # clients follow (RFC 5019 2.1.1) allows exactly one, and so does cryptography.
        return None
    except (ValueError, TypeError, UnsupportedAlgorithm):
        return None
    if nonce is not None and not 1 <= len(nonce.nonce) <= _MAX_NONCE_LENGTH:
        return None
    return request


def _is_for_issuer(request: ocsp.OCSPRequest, issuer: Authority) -> bool:
    name_hash, key_hash = _issuer_hashes(issuer, request.hash_algorithm)
    return request.issuer_name_hash == name_hash and request.issuer_key_hash == key_hash


def _issuer_hashes(issuer: Authority, algorithm: hashes.HashAlgorithm) -> tuple[bytes, bytes]:
    # RFC 6960 4.1.1: the hash of the issuer's DER name and of its public key's BIT STRING.
    name_der = issuer.certificate.subject.public_bytes()
    return _digest(algorithm, name_der), _digest(algorithm, _public_key_bits(issuer))


def _public_key_bits(issuer: Authority) -> bytes:
    public_key = issuer.private_key.public_key()
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        return public_key.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
    if isinstance(public_key, rsa.RSAPublicKey):
        return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
    raise ValueError("Only ECC and RSA CAs answer OCSP requests.")


def _digest(algorithm: hashes.HashAlgorithm, data: bytes) -> bytes:
    digest = hashes.Hash(algorithm)
    digest.update(data)
    return digest.finalize()


def _nonce(request: ocsp.OCSPRequest) -> x509.OCSPNonce | None:
    try:
        return request.extensions.get_extension_for_class(x509.OCSPNonce).value
    except x509.ExtensionNotFound:
        return None


def internal_error_response() -> bytes:
    """The OCSP answer to a request the responder failed on (RFC 6960 internalError)."""
    return _error_response(ocsp.OCSPResponseStatus.INTERNAL_ERROR)


def _error_response(status: ocsp.OCSPResponseStatus) -> bytes:
    response = ocsp.OCSPResponseBuilder.build_unsuccessful(status)
    return response.public_bytes(serialization.Encoding.DER)


def ocsp_request_from_get_path(path_component: str) -> bytes:
    """The DER request in an OCSP GET URL's last part (RFC 6960 A.1: URL-encoded base64).

    Tolerates what real clients send: unencoded "+" and "/", missing padding, the URL-safe
    alphabet. Returns b"" when the text is not base64, so that respond_to_ocsp answers
    malformedRequest, just as for a bad POST body.
    """
    text = unquote(path_component).strip()
    # A "+" that some layer decoded as a space is still a "+".
    text = text.replace(" ", "+").replace("-", "+").replace("_", "/")
    text += "=" * (-len(text) % 4)
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return b""
