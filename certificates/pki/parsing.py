"""Read the PEM certificates and private keys that customers paste or upload."""

from __future__ import annotations

import base64
import binascii
import hashlib
import ipaddress
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import TypeVar

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes
from cryptography.x509.oid import NameOID

from certificates.pki import pbe
from certificates.pki.errors import (
    BrokenChainError,
    DamagedPEMError,
    EncryptedKeyError,
    KeyMismatchError,
    MultipleKeysError,
    NoCertificateError,
    NoKeyError,
    NotAServerCertificateError,
    NotPEMError,
    PKIError,
    UnsupportedKeyError,
    WeakKeyError,
)
from certificates.pki.i18n import N_, Message

# The private keys we accept for TLS certificates.
PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey

# Anything public_keys_match can compare: certificates and private keys carry a public key.
KeyLike = PublicKeyTypes | PrivateKeyTypes | x509.Certificate

MIN_RSA_KEY_SIZE = 2048
# cryptography checks an RSA private key's primes as it loads it: about 0.1 s at 2048 bits,
# 0.7 s at 4096 and 10 to 25 s at 8192, so a larger key is refused before that check.
MAX_RSA_PRIVATE_KEY_SIZE = 4096

# Bounds on an uploaded certificate file, checked before any signature is: checking a
# signature costs in proportion to the issuer's RSA exponent and modulus, and building the
# chain checks up to every pair of certificates. Real chains have two to four certificates;
# certificate authorities use the exponent 65537 and keys of at most 8192 bits (Windows
# refuses exponents of 2^32 and more).
MAX_CHAIN_CERTIFICATES = 10
MAX_RSA_KEY_SIZE = 8192
MAX_RSA_PUBLIC_EXPONENT = 2**32 - 1

# Curves that browsers accept for TLS certificates, with the names customers know them by.
SUPPORTED_EC_CURVES = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}

CERTIFICATE_LABELS = frozenset({"CERTIFICATE", "X509 CERTIFICATE"})

# The label may be followed by anything up to the matching END line; the backreference keeps a
# key block from swallowing the certificate block that follows it.
_PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \1-----", re.DOTALL)
_PEM_BEGIN = re.compile(r"-----BEGIN [A-Z0-9 ]+-----")

_DNS_NAME = re.compile(r"^(\*\.)?([a-z0-9_]([a-z0-9_-]*[a-z0-9_])?\.)+[a-z0-9-]+$")

_Extension = TypeVar("_Extension", bound=x509.ExtensionType)

# What cryptography raises for a certificate it cannot read, found by fuzzing: a damaged name
# can raise KeyError or TypeError, a bad version or a repeated extension their own errors.
CERTIFICATE_READ_ERRORS = (
    ValueError,
    KeyError,
    TypeError,
    x509.InvalidVersion,
    x509.DuplicateExtension,
    x509.UnsupportedGeneralNameType,
)

# The errors that cryptography raises when a certificate was not signed by another one.
_SIGNATURE_ERRORS = (InvalidSignature, ValueError, TypeError, UnsupportedAlgorithm)


# --- PEM blocks -------------------------------------------------------------------------


@dataclass(frozen=True)
class PEMBlock:
    """One -----BEGIN X----- ... -----END X----- block, with its RFC 1421 headers."""

    label: str
    body: str
    headers: dict[str, str] = field(default_factory=dict, hash=False)

    @property
    def is_private_key(self) -> bool:
        return self.label.endswith("PRIVATE KEY")

    @property
    def is_encrypted(self) -> bool:
        # PKCS#8 says so in its label; old OpenSSL (PKCS#1, SEC1) keys say so in a header.
        return self.label == "ENCRYPTED PRIVATE KEY" or "ENCRYPTED" in self.headers.get(
            "Proc-Type", ""
        )

    def decode(self) -> bytes:
        """Return the DER bytes of the block, or raise DamagedPEMError."""
        try:
            return base64.b64decode(self.body, validate=True)
        except (binascii.Error, ValueError):
            raise _damaged(self.label) from None

    def to_pem(self) -> str:
        """Return the block as clean PEM text (LF line ends, 64-character lines)."""
        lines = [f"-----BEGIN {self.label}-----"]
        if self.headers:
            lines += [f"{name}: {value}" for name, value in self.headers.items()]
            lines.append("")
        lines += [self.body[i : i + 64] for i in range(0, len(self.body), 64)]
        lines.append(f"-----END {self.label}-----")
        return "\n".join(lines) + "\n"


def split_pem(text: str | bytes) -> list[PEMBlock]:
    """Return every PEM block of the text, in order, ignoring any text between the blocks.

    Raises NotPEMError for binary input and DamagedPEMError for a BEGIN line without a
    matching END line (usually a paste that was cut off).
    """
    text = _as_text(text)
    blocks = [_make_block(match) for match in _PEM_BLOCK.finditer(text)]
    if len(_PEM_BEGIN.findall(text)) > len(blocks):
        raise DamagedPEMError(
            N_(
                "A PEM block has a BEGIN line without a matching END line; the text may have been "
                "cut off. Copy it again from the original file, including the BEGIN and END lines."
            )
        )
    return blocks


def _make_block(match: re.Match[str]) -> PEMBlock:
    label, content = match.group(1), match.group(2)
    headers: dict[str, str] = {}
    body_lines: list[str] = []
    for line in content.split("\n"):
        line = line.strip()
        # Headers ("Proc-Type: 4,ENCRYPTED") come before the base64 body, which has no colons.
        if not body_lines and ":" in line:
            name, _, value = line.partition(":")
            headers[name.strip()] = value.strip()
        elif line:
            body_lines.append(line)
    # Indented or re-wrapped pastes are fine: only the base64 characters matter.
    body = "".join("".join(body_lines).split())
    return PEMBlock(label=label, body=body, headers=headers)


def _as_text(data: str | bytes) -> str:
    if isinstance(data, bytes):
        if b"\x00" in data or not (_is_utf8(data) or b"-----BEGIN " in data):
            raise _not_pem_error(data)
        # Only the ASCII inside the blocks matters; the text around them (a friendlyName in
        # the Bag Attributes, say) may be in any encoding.
        data = data.decode("utf-8", errors="replace")
    # Windows editors add a byte-order mark and CRLF line ends.
    return data.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _not_pem_error(data: bytes) -> NotPEMError:
    # Imported here because convert.py builds on this module.
    from certificates.pki.convert import detect_format

    fmt = detect_format(data)
    if fmt == "pkcs12":
        return NotPEMError(
            N_(
                "This looks like a PKCS#12 (.pfx/.p12) file, not PEM text. Convert it to PEM first "
                "with the converter (you will need the file's password)."
            )
        )
    if fmt == "pkcs7":
        return NotPEMError(
            N_(
                "This looks like a PKCS#7 (.p7b) file, not PEM text. Convert it to PEM first with "
                "the converter."
            )
        )
    if fmt == "der":
        return NotPEMError(
            N_(
                "This looks like a binary DER file, not PEM text. Convert it to PEM first with the "
                "converter."
            )
        )
    return NotPEMError()


def _damaged(label: str) -> DamagedPEMError:
    """The error for a damaged PEM block of this label."""
    if label in CERTIFICATE_LABELS:
        return DamagedPEMError(
            N_(
                "The certificate block is damaged: the text between its BEGIN and END lines is "
                "not valid. Copy it again from the original file."
            )
        )
    return DamagedPEMError(
        N_(
            "The %(label)s block is damaged: the text between its BEGIN and END lines is not "
            "valid. Copy it again from the original file."
        ),
        label=label.lower(),
    )


# --- Certificates -----------------------------------------------------------------------


def load_certificates(text: str | bytes) -> list[x509.Certificate]:
    """Return every certificate in a PEM text, in the order they appear."""
    blocks = split_pem(text)
    labels = {block.label for block in blocks}
    if "TRUSTED CERTIFICATE" in labels:
        # Even beside plain ones: left out, it would leave a chain with a gap.
        raise NoCertificateError(TRUSTED_CERTIFICATE_MESSAGE)
    certificates = [_load_certificate_block(b) for b in blocks if b.label in CERTIFICATE_LABELS]
    if certificates:
        return certificates
    if "CERTIFICATE REQUEST" in labels or "NEW CERTIFICATE REQUEST" in labels:
        raise NoCertificateError(
            N_(
                "This is a certificate signing request (CSR), not a certificate. Paste the "
                "certificate that the certificate authority issued for it."
            )
        )
    if "PKCS7" in labels:
        raise NotPEMError(
            N_(
                "This is a PKCS#7 (.p7b) certificate bundle. Convert it to PEM first with the "
                "converter."
            )
        )
    if any(block.is_private_key for block in blocks):
        raise NoCertificateError(
            N_(
                "This is a private key, not a certificate. Paste the certificate: it starts with "
                "-----BEGIN CERTIFICATE-----."
            )
        )
    raise NoCertificateError()


TRUSTED_CERTIFICATE_MESSAGE = N_(
    'This is an OpenSSL "TRUSTED CERTIFICATE" (-----BEGIN TRUSTED CERTIFICATE-----): a '
    "certificate with trust settings for a trust store, not one for a server. Write it out as "
    "a plain certificate (openssl x509 -in file.pem -out certificate.pem) and upload that."
)


def _load_certificate_block(block: PEMBlock) -> x509.Certificate:
    try:
        cert = x509.load_der_x509_certificate(block.decode())
        # cryptography reads the names only when asked: read them now, so that damage in
        # them is reported as damage instead of failing the chain building later.
        cert.subject.rfc4514_string()
        cert.issuer.rfc4514_string()
    except CERTIFICATE_READ_ERRORS:
        raise _damaged(block.label) from None
    _extensions(cert)
    return cert


def certificate_to_pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


def certificates_to_pem(certs: Iterable[x509.Certificate]) -> str:
    return "".join(certificate_to_pem(cert) for cert in certs)


# --- Private keys -----------------------------------------------------------------------


def load_private_key(text: str | bytes) -> PrivateKey:
    """Return the one unencrypted RSA, EC or Ed25519 private key in a PEM text."""
    blocks = split_pem(text)
    key_blocks = _unique(block for block in blocks if block.is_private_key)
    if not key_blocks:
        if any(block.label in CERTIFICATE_LABELS for block in blocks):
            raise NoKeyError(
                N_(
                    "This is a certificate, not a private key. Paste the private key: it starts "
                    "with -----BEGIN PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY-----."
                )
            )
        raise NoKeyError()
    if len(key_blocks) > 1:
        raise MultipleKeysError(
            N_(
                "The text contains %(count)s private keys. Upload only the private key of "
                "this certificate."
            ),
            count=len(key_blocks),
        )
    key = load_private_key_block(key_blocks[0])
    check_key_strength(key.public_key())
    return key


def load_private_key_block(
    block: PEMBlock,
    password: bytes | None = None,
    *,
    max_iterations: int = pbe.DEFAULT_MAX_ITERATIONS,
) -> PrivateKey:
    """Load one private key block; the password is used only if the block is encrypted.

    An encrypted PKCS#8 key asking for more than max_iterations of password hashing is
    refused (TooManyIterationsError) before its key is derived.
    """
    if block.label == "OPENSSH PRIVATE KEY":
        raise UnsupportedKeyError(
            N_(
                "This is an OpenSSH key. Upload a PEM private key: it starts with -----BEGIN "
                "PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY-----."
            )
        )
    if not block.is_encrypted:
        password = None
    elif password is None:
        raise EncryptedKeyError()
    elif block.label == "ENCRYPTED PRIVATE KEY":
        pbe.check_encrypted_private_key(block.decode(), max_iterations=max_iterations)
    # (Old OpenSSL keys, with Proc-Type/DEK-Info headers, hash their password only once.)
    try:
        # The PEM loader understands the Proc-Type/DEK-Info headers of old encrypted keys.
        key = checked_private_key(
            partial(serialization.load_pem_private_key, block.to_pem().encode("ascii"), password)
        )
    except TypeError:
        raise EncryptedKeyError() from None
    except UnsupportedAlgorithm:
        raise UnsupportedKeyError() from None
    except ValueError as exc:
        # cryptography reports explicit curves only in its message; anything else is damage.
        if "explicit parameters are unsupported" in str(exc):
            raise UnsupportedKeyError(
                N_(
                    "This ECC key uses explicit curve parameters. Use a key on a named curve "
                    "(P-256, P-384 or P-521)."
                )
            ) from None
        if password is not None:
            raise EncryptedKeyError(N_("The password of the private key is wrong.")) from None
        raise _damaged(block.label) from None
    if not isinstance(key, PrivateKey):
        raise UnsupportedKeyError(_UNSUPPORTED_KEY, key_type=_key_type_name(key))
    return key


def checked_private_key(load: Callable[..., PrivateKeyTypes]) -> PrivateKeyTypes:
    """Call a cryptography key loader, refusing an RSA key too large to check in time.

    The key is first read without cryptography's checks of an RSA key (reading is cheap),
    so that its size is known before they run.
    """
    key = load(unsafe_skip_rsa_key_validation=True)
    if isinstance(key, rsa.RSAPrivateKey):
        check_rsa_private_key_size(key.key_size)
        # The checks skipped above, on the key as read (no password: no second derivation).
        unencrypted = key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        key = serialization.load_der_private_key(unencrypted, None)
    return key


def check_rsa_private_key_size(key_size: int) -> None:
    if key_size > MAX_RSA_PRIVATE_KEY_SIZE:
        raise UnsupportedKeyError(
            N_(
                "The RSA key is %(key_size)s bits; the console accepts RSA keys of at most "
                "%(maximum)s bits. Use an RSA key of 2048 to "
                "%(maximum)s bits or an ECC key."
            ),
            key_size=key_size,
            maximum=MAX_RSA_PRIVATE_KEY_SIZE,
        )


def check_private_key_der_size(der: bytes) -> None:
    """Refuse a PKCS#8 DER RSA key over MAX_RSA_PRIVATE_KEY_SIZE without checking the key."""
    try:
        key = serialization.load_der_private_key(der, None, unsafe_skip_rsa_key_validation=True)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        return  # not a key we can read: the loader that follows says so
    if isinstance(key, rsa.RSAPrivateKey):
        check_rsa_private_key_size(key.key_size)


def _unique(blocks: Iterable[PEMBlock]) -> list[PEMBlock]:
    # The same key pasted twice is still one key.
    unique: dict[tuple[str, str], PEMBlock] = {}
    for block in blocks:
        unique.setdefault((block.label, block.body), block)
    return list(unique.values())


_UNSUPPORTED_KEY = N_(
    "This is a %(key_type)s key, which is not supported. Use an RSA "
    "(2048 bits or more), ECC (P-256, P-384 or P-521) or Ed25519 key."
)


def _key_type_name(key: object) -> str:
    # "DSAPrivateKey" -> "DSA", "X25519PrivateKey" -> "X25519"
    name = type(key).__name__
    for suffix in ("PrivateKey", "PublicKey"):
        name = name.removesuffix(suffix)
    return name or "unknown"


def check_key_strength(public_key: PublicKeyTypes) -> None:
    """Raise WeakKeyError or UnsupportedKeyError for a key we should not issue TLS with."""
    if isinstance(public_key, rsa.RSAPublicKey):
        if public_key.key_size < MIN_RSA_KEY_SIZE:
            raise WeakKeyError(key_size=public_key.key_size)
    elif isinstance(public_key, ec.EllipticCurvePublicKey):
        if public_key.curve.name not in SUPPORTED_EC_CURVES:
            raise UnsupportedKeyError(
                N_("The ECC curve %(name)s is not supported. Use P-256, P-384 or P-521."),
                name=public_key.curve.name,
            )
    elif not isinstance(public_key, ed25519.Ed25519PublicKey):
        raise UnsupportedKeyError(_UNSUPPORTED_KEY, key_type=_key_type_name(public_key))


def public_keys_match(a: KeyLike, b: KeyLike) -> bool:
    """Return True if two keys (public, private or a certificate's) are the same public key."""
    return _public_key_der(a) == _public_key_der(b)


def public_key_sha256(key: KeyLike) -> str:
    """The SHA-256 of a key's SubjectPublicKeyInfo in hex: one key across certificates."""
    return hashlib.sha256(_public_key_der(key)).hexdigest()


def _public_key_der(key: KeyLike) -> bytes:
    public_key = key.public_key() if hasattr(key, "public_key") else key
    return public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def certificate_matches_key(cert: x509.Certificate, key: KeyLike) -> bool:
    """Return True if the certificate was issued for this (public or private) key."""
    try:
        return public_keys_match(cert.public_key(), key)
    except (ValueError, UnsupportedAlgorithm):
        # A certificate with a key type cryptography cannot read cannot be this key's.
        return False


# --- Describing a certificate -----------------------------------------------------------


@dataclass(frozen=True)
class CertificateInfo:
    common_name: str
    domains: tuple[str, ...]
    subject: str
    issuer: str
    issuer_organization: str
    issuer_common_name: str
    organization: str
    serial: str
    fingerprint_sha256: str
    public_key_sha256: str
    not_before: datetime
    not_after: datetime
    key_algorithm: str
    key_size: int
    key_description: str
    is_ca: bool
    self_signed: bool


def serial_hex(serial: int) -> str:
    """A serial number as the upper-case hex of its DER INTEGER (RFC 5280 4.1.2.2): leading
    zeros kept (0x00AB... is not 0xAB...), as OpenSSL and browsers show it."""
    # One more bit than the number needs is its two's complement sign: a serial whose top
    # bit is set takes a 00 byte in front, as DER writes it.
    length = (serial.bit_length() + 8) // 8
    return serial.to_bytes(length, "big", signed=True).hex().upper()


def describe_certificate(cert: x509.Certificate) -> CertificateInfo:
    common_name = _name_attribute(cert.subject, NameOID.COMMON_NAME)
    key_algorithm, key_size, key_description = _describe_key(cert)
    basic_constraints = _extension(cert, x509.BasicConstraints)
    return CertificateInfo(
        common_name=common_name,
        domains=_domains(cert, common_name),
        subject=cert.subject.rfc4514_string(),
        issuer=cert.issuer.rfc4514_string(),
        issuer_organization=_name_attribute(cert.issuer, NameOID.ORGANIZATION_NAME),
        issuer_common_name=_name_attribute(cert.issuer, NameOID.COMMON_NAME),
        organization=_name_attribute(cert.subject, NameOID.ORGANIZATION_NAME),
        serial=serial_hex(cert.serial_number),
        fingerprint_sha256=":".join(f"{b:02X}" for b in cert.fingerprint(hashes.SHA256())),
        public_key_sha256=public_key_sha256(cert),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        key_algorithm=key_algorithm,
        key_size=key_size,
        key_description=key_description,
        is_ca=bool(basic_constraints and basic_constraints.ca),
        self_signed=_is_self_signed(cert),
    )


def _name_attribute(name: x509.Name, oid: x509.ObjectIdentifier) -> str:
    attributes = name.get_attributes_for_oid(oid)
    return str(attributes[0].value) if attributes else ""


def _extension(cert: x509.Certificate, extension_type: type[_Extension]) -> _Extension | None:
    try:
        return _extensions(cert).get_extension_for_class(extension_type).value
    except x509.ExtensionNotFound:
        return None


def _extensions(cert: x509.Certificate) -> x509.Extensions:
    try:
        return cert.extensions
    except CERTIFICATE_READ_ERRORS:
        raise PKIError(
            N_(
                "The certificate has an extension that cannot be read. Check that it was issued by "
                "a standard certificate authority."
            )
        ) from None


def _domains(cert: x509.Certificate, common_name: str) -> tuple[str, ...]:
    names = []
    if _looks_like_dns_name(common_name):
        names.append(common_name)
    san = _extension(cert, x509.SubjectAlternativeName)
    if san is not None:
        names += san.get_values_for_type(x509.DNSName)
    return tuple(dict.fromkeys(name.lower() for name in names))


def _looks_like_dns_name(value: str) -> bool:
    # Only a CN such as "www.example.com" is a domain; "Example CA" or "10.0.0.1" is not.
    try:
        ipaddress.ip_address(value)
        return False
    except ValueError:
        pass
    return len(value) <= 253 and bool(_DNS_NAME.match(value.lower()))


def _describe_key(cert: x509.Certificate) -> tuple[str, int, str]:
    try:
        key = cert.public_key()
    except (ValueError, UnsupportedAlgorithm):
        return "unknown", 0, "Unknown key"
    if isinstance(key, rsa.RSAPublicKey):
        return "RSA", key.key_size, f"RSA {key.key_size}"
    if isinstance(key, ec.EllipticCurvePublicKey):
        curve = SUPPORTED_EC_CURVES.get(key.curve.name, key.curve.name)
        return "EC", key.curve.key_size, f"ECC {curve}"
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "Ed25519", 256, "Ed25519"
    name = _key_type_name(key)
    key_size = getattr(key, "key_size", 0)
    return name, key_size, f"{name} {key_size}" if key_size else name


def _is_self_signed(cert: x509.Certificate) -> bool:
    return _signed_by(cert, cert)


def _signed_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
    except _SIGNATURE_ERRORS:
        return False
    return True


# --- Certificate + key bundles ----------------------------------------------------------


@dataclass(frozen=True)
class CertificateBundle:
    leaf: x509.Certificate
    chain: tuple[x509.Certificate, ...]
    private_key: PrivateKey
    info: CertificateInfo

    @property
    def leaf_pem(self) -> str:
        return certificate_to_pem(self.leaf)

    @property
    def chain_pem(self) -> str:
        return certificates_to_pem(self.chain)

    @property
    def full_chain_pem(self) -> str:
        return self.leaf_pem + self.chain_pem

    @property
    def private_key_pem(self) -> str:
        """The key as unencrypted PKCS#8 PEM; the caller encrypts it before storing it."""
        return private_key_to_pem(self.private_key)


def private_key_to_pem(key: PrivateKeyTypes) -> str:
    """Return the key as unencrypted PKCS#8 PEM text."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")


def parse_bundle(certificate_text: str | bytes, key_text: str | bytes) -> CertificateBundle:
    """Read a certificate file (leaf and chain, in any order) and its private key.

    The leaf is the certificate that matches the key; every other certificate must be part
    of its chain, and each link of the chain must be signed by the next one.
    """
    return build_bundle(load_certificates(certificate_text), load_private_key(key_text))


def build_bundle(certificates: Sequence[x509.Certificate], key: PrivateKey) -> CertificateBundle:
    """The bundle of certificates and a key already loaded (see parse_bundle)."""
    certificates = _dedupe(certificates)
    check_chain_bounds(certificates)
    leaf = _find_leaf(certificates, key)
    check_server_certificate(leaf)
    check_key_strength(leaf.public_key())
    others = [cert for cert in certificates if cert is not leaf]
    chain = _build_chain(leaf, others)
    return CertificateBundle(
        leaf=leaf, chain=tuple(chain), private_key=key, info=describe_certificate(leaf)
    )


def check_server_certificate(cert: x509.Certificate) -> None:
    """Refuse, as the certificate a server presents, a CA certificate or one whose subject
    alternative names are not all DNS names and IP addresses (BR 7.1.2.7.12), naming the
    first entry that is not."""
    basic_constraints = _extension(cert, x509.BasicConstraints)
    if basic_constraints is not None and basic_constraints.ca:
        raise NotAServerCertificateError(
            N_(
                '"%(cert)s" is a CA certificate (basicConstraints CA:TRUE): it signs other '
                "certificates, and a server can't present it as its own. Upload the server "
                "certificate the CA issued you, with this one in its chain."
            ),
            cert=_display_name(cert),
        )
    san = _extension(cert, x509.SubjectAlternativeName)
    for entry in san or ():
        if isinstance(entry, x509.IPAddress):
            continue
        if isinstance(entry, x509.DNSName):
            problem = _dns_name_problem(entry.value)
            if problem:
                raise NotAServerCertificateError(
                    N_(
                        'The certificate\'s subject alternative name "%(value)s" is not a '
                        "valid DNS name: %(problem)s. A server certificate names only DNS names "
                        "and IP addresses."
                    ),
                    value=entry.value,
                    problem=problem,
                )
            continue
        raise NotAServerCertificateError(
            N_(
                "The certificate's subject alternative name %(entry)s is neither a DNS name nor an "
                "IP address: a server certificate names only those."
            ),
            entry=_describe_general_name(entry),
        )


def _dns_name_problem(name: str) -> Message | None:
    """Why a dNSName is not in the preferred name syntax (RFC 5280 4.2.1.6, with the
    Baseline Requirements' wildcard), or None."""
    if not name.isascii() or not name.isprintable():
        return Message(
            N_("it has characters other than letters, digits and hyphens (IDNs are written xn--)")
        )
    if len(name) > 253:
        return Message(N_("it is longer than 253 characters"))
    labels = name.split(".")
    if labels[0] == "*":
        labels = labels[1:]
        if not labels:
            return Message(N_("a wildcard needs a domain after *."))
    for label in labels:
        if not label:
            return Message(N_("it has an empty label (two dots in a row, or a dot at an end)"))
        if len(label) > 63:
            return Message(
                N_('its label "%(label)s..." is longer than 63 characters'), label=label[:20]
            )
        if "*" in label:
            return Message(N_("a wildcard may only be the whole first label (*.example.com)"))
        if not all(c.isalnum() or c == "-" for c in label):
            return Message(
                N_('its label "%(label)s" has characters other than letters, digits and hyphens'),
                label=label,
            )
        if label.startswith("-") or label.endswith("-"):
            return Message(N_('its label "%(label)s" starts or ends with a hyphen'), label=label)
    return None


def _describe_general_name(entry: x509.GeneralName) -> Message:
    kinds = {
        x509.RFC822Name: Message(N_("email address")),
        x509.UniformResourceIdentifier: Message(N_("URI")),
        x509.DirectoryName: Message(N_("directory name")),
        x509.RegisteredID: Message(N_("registered ID")),
        x509.OtherName: Message(N_("other name")),
    }
    kind = kinds.get(type(entry), Message(N_("entry")))
    value = entry.value
    if isinstance(entry, x509.DirectoryName):
        value = entry.value.rfc4514_string()
    elif isinstance(entry, x509.OtherName):
        value = entry.type_id.dotted_string
    elif isinstance(entry, x509.RegisteredID):
        value = entry.value.dotted_string
    return Message(N_('"%(value)s" (%(kind)s)'), value=value, kind=kind)


def check_chain_bounds(certificates: Sequence[x509.Certificate]) -> None:
    """Refuse a file too costly to build a chain from, before any signature is checked."""
    if len(certificates) > MAX_CHAIN_CERTIFICATES:
        raise BrokenChainError(
            N_(
                "The file contains %(count)s certificates; the console accepts at most "
                "%(maximum)s: the certificate and its chain (usually two or three "
                "intermediate certificates). Remove the others."
            ),
            count=len(certificates),
            maximum=MAX_CHAIN_CERTIFICATES,
        )
    for cert in certificates:
        _check_rsa_public_key(cert)


def _check_rsa_public_key(cert: x509.Certificate) -> None:
    try:
        key = cert.public_key()
    except (ValueError, UnsupportedAlgorithm):
        return  # no signature can be checked with it either
    if not isinstance(key, rsa.RSAPublicKey):
        return
    exponent = key.public_numbers().e
    if key.key_size > MAX_RSA_KEY_SIZE:
        raise UnsupportedKeyError(
            N_(
                'The certificate "%(cert)s" has an RSA key of %(key_size)s bits; the console '
                "accepts RSA keys of at most %(maximum)s bits."
            ),
            cert=_display_name(cert),
            key_size=key.key_size,
            maximum=MAX_RSA_KEY_SIZE,
        )
    if exponent % 2 == 0 or not 3 <= exponent <= MAX_RSA_PUBLIC_EXPONENT:
        raise UnsupportedKeyError(
            N_(
                'The certificate "%(cert)s" has an RSA key with an unusual public exponent, which '
                "the console does not accept: it must be odd and below 2^32 (certificate "
                "authorities use 65537)."
            ),
            cert=_display_name(cert),
        )


def _dedupe(certificates: Sequence[x509.Certificate]) -> list[x509.Certificate]:
    unique: dict[bytes, x509.Certificate] = {}
    for cert in certificates:
        unique.setdefault(cert.public_bytes(serialization.Encoding.DER), cert)
    return list(unique.values())


def _find_leaf(certificates: Sequence[x509.Certificate], key: PrivateKey) -> x509.Certificate:
    matches = [cert for cert in certificates if certificate_matches_key(cert, key)]
    if not matches:
        raise KeyMismatchError()
    if len(matches) > 1:
        names = ", ".join(f'"{_display_name(cert)}"' for cert in matches)
        raise BrokenChainError(
            N_(
                "The file contains %(count)s certificates for this private key (%(names)s). Keep "
                "only the certificate you want to upload and its chain."
            ),
            count=len(matches),
            names=names,
        )
    return matches[0]


def _build_chain(
    leaf: x509.Certificate, others: Sequence[x509.Certificate]
) -> list[x509.Certificate]:
    remaining = list(others)
    chain: list[x509.Certificate] = []
    current = leaf
    while remaining and not _is_self_signed(current):
        candidates = [cert for cert in remaining if cert.subject == current.issuer]
        if not candidates:
            break
        issuer = next((cert for cert in candidates if _signed_by(current, cert)), None)
        if issuer is None:
            raise BrokenChainError(
                N_(
                    'The certificate "%(current)s" was not signed by "%(candidates)s", although it '
                    "names it as its issuer. The intermediate certificate may belong to a "
                    "different certificate authority: download the chain again from the authority "
                    "that issued your certificate."
                ),
                current=_display_name(current),
                candidates=_display_name(candidates[0]),
            )
        chain.append(issuer)
        remaining.remove(issuer)
        current = issuer
    if remaining:
        raise _not_in_chain(leaf, current, remaining[0])
    return chain


def _not_in_chain(
    leaf: x509.Certificate, last: x509.Certificate, extra: x509.Certificate
) -> BrokenChainError:
    names = {"extra": _display_name(extra), "leaf": _display_name(leaf)}
    if _is_self_signed(last):
        return BrokenChainError(
            N_(
                'The certificate "%(extra)s" is not part of the chain of "%(leaf)s". '
                "Remove the certificates that do not belong to this chain."
            ),
            **names,
        )
    issuer = _name_attribute(last.issuer, NameOID.COMMON_NAME) or last.issuer.rfc4514_string()
    return BrokenChainError(
        N_(
            'The certificate "%(extra)s" is not part of the chain of "%(leaf)s". '
            '"%(last)s" was issued by "%(issuer)s", which is missing from the file. '
            "Remove the certificates that do not belong to this chain."
        ),
        **names,
        last=_display_name(last),
        issuer=issuer,
    )


def _display_name(cert: x509.Certificate) -> str:
    return (
        _name_attribute(cert.subject, NameOID.COMMON_NAME)
        or cert.subject.rfc4514_string()
        or f"serial {serial_hex(cert.serial_number)}"
    )
