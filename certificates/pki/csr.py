"""Certificate signing requests and the domain names in them.

The console either makes the key and CSR itself ("system-generated") or checks the CSR a
customer pastes ("manual"). Either way the certificate authority only signs keys and domain
names that pass the checks here.
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import idna
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from cryptography.x509.oid import NameOID

from certificates.pki.errors import (
    CSRDomainMismatchError,
    CSRSignatureError,
    CSRSignedWithSHA1Error,
    InvalidCSRError,
    InvalidDomainError,
    PKIError,
    UnsupportedKeyError,
    WeakKeyError,
)
from certificates.pki.i18n import N_
from certificates.pki.names import check_ip_address, check_issuable
from certificates.pki.parsing import (
    CERTIFICATE_LABELS,
    MAX_RSA_KEY_SIZE,
    MAX_RSA_PUBLIC_EXPONENT,
    SUPPORTED_EC_CURVES,
    check_key_strength,
    public_key_sha256,
    split_pem,
)

SubscriberPrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


class KeyType(enum.StrEnum):
    """The keys the console generates: the value an application stores, the name customers
    see, and the RSA size or ECC curve. The Django model's choices are made from this table.
    """

    label: str
    rsa_bits: int | None
    curve: type[ec.EllipticCurve] | None

    def __new__(
        cls,
        value: str,
        label: str,
        rsa_bits: int | None = None,
        curve: type[ec.EllipticCurve] | None = None,
    ) -> KeyType:
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        member.rsa_bits = rsa_bits
        member.curve = curve
        return member

    # Names of keys: the same in every language.
    RSA_2048 = "rsa2048", "RSA 2048", 2048
    RSA_3072 = "rsa3072", "RSA 3072", 3072
    RSA_4096 = "rsa4096", "RSA 4096", 4096
    EC_P256 = "ecp256", "ECC P-256", None, ec.SECP256R1
    EC_P384 = "ecp384", "ECC P-384", None, ec.SECP384R1

    def generate(self) -> SubscriberPrivateKey:
        if self.curve is not None:
            return ec.generate_private_key(self.curve())
        return rsa.generate_private_key(public_exponent=65537, key_size=self.rsa_bits)


# The same table as value -> label, for lookups and messages.
KEY_TYPES: dict[str, str] = {key_type.value: key_type.label for key_type in KeyType}

CSR_LABELS = frozenset({"CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST"})

# X.520 limits a commonName to 64 characters, shorter than the longest domain name.
MAX_COMMON_NAME_LENGTH = 64

MAX_DOMAIN_LENGTH = 253
MAX_LABEL_LENGTH = 63

_LDH_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")

# The CA/Browser Forum pairs each curve with the hash of matching strength.
_CURVE_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "secp256r1": hashes.SHA256,
    "secp384r1": hashes.SHA384,
    "secp521r1": hashes.SHA512,
}


# --- Keys -------------------------------------------------------------------------------


def generate_private_key(key_type: str) -> SubscriberPrivateKey:
    """Make a new key of one of the KeyType values ("rsa2048", ..., "ecp384")."""
    if key_type not in KEY_TYPES:
        choices = ", ".join(KEY_TYPES.values())
        raise UnsupportedKeyError(
            N_('Unknown key type "%(key_type)s". Choose one of: %(choices)s.'),
            key_type=key_type,
            choices=choices,
        )
    return KeyType(key_type).generate()


def signature_hash(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> hashes.HashAlgorithm:
    """The hash to sign with this key: SHA-256 for RSA, the curve's own strength for ECC."""
    if isinstance(key, ec.EllipticCurvePrivateKey):
        try:
            return _CURVE_HASHES[key.curve.name]()
        except KeyError:
            raise UnsupportedKeyError(
                N_("The ECC curve %(name)s is not supported."), name=key.curve.name
            ) from None
    if isinstance(key, rsa.RSAPrivateKey):
        return hashes.SHA256()
    raise UnsupportedKeyError(N_("Only RSA and ECC keys can sign certificates and requests."))


def check_subscriber_key(public_key: PublicKeyTypes) -> None:
    """Raise WeakKeyError or UnsupportedKeyError unless a TLS certificate may carry this key.

    The key policy of every certificate this CA signs, wherever the key came from (made here,
    a pasted CSR, ACME): RSA of at least 2048 bits, a whole number of bytes, exponent 65537,
    not Fermat-factorable; ECC on P-256 or P-384 (Baseline Requirements 6.1.5 and 6.1.6,
    Mozilla Root Store Policy 5.1). Stricter than parsing.check_key_strength, which serves
    uploads of certificates signed elsewhere.
    """
    if isinstance(public_key, ed25519.Ed25519PublicKey):
        raise UnsupportedKeyError(
            N_(
                "Ed25519 keys can't be used in certificates from a certificate authority yet: "
                "browsers accept only RSA and ECC keys there. Use RSA (2048 bits or more) or ECC "
                "P-256 or P-384."
            )
        )
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        _check_curve(public_key.curve.name)
        return
    check_key_strength(public_key)
    if isinstance(public_key, rsa.RSAPublicKey):
        _check_rsa(public_key)


# Mozilla's policy allows these two; the Baseline Requirements also allow P-521.
SUBSCRIBER_CURVES = ("secp256r1", "secp384r1")

# RFC 8017 and the Baseline Requirements (6.1.6): an odd exponent in 2^16+1 .. 2^256-1.
_MIN_RSA_EXPONENT = 2**16 + 1
_MAX_RSA_EXPONENT = 2**256 - 1

# Boulder's Fermat check runs 100 rounds; more costs little (about a millisecond).
FERMAT_ROUNDS = 300


def _check_curve(curve: str) -> None:
    if curve == "secp521r1":
        raise UnsupportedKeyError(
            N_(
                "ECC P-521 keys are not accepted: Mozilla's root store policy (section 5.1) allows "
                "only P-256 and P-384 in certificates browsers trust. Use ECC P-256 or P-384."
            )
        )
    if curve not in SUBSCRIBER_CURVES:
        raise UnsupportedKeyError(
            N_("The ECC curve %(curve)s is not supported. Use ECC P-256 or P-384."), curve=curve
        )


def _check_rsa(public_key: rsa.RSAPublicKey) -> None:
    if public_key.key_size % 8:
        raise UnsupportedKeyError(
            N_(
                "The RSA key is %(key_size)s bits, which is not a whole number of bytes. Use an "
                "RSA key of 2048, 3072 or 4096 bits."
            ),
            key_size=public_key.key_size,
        )
    numbers = public_key.public_numbers()
    exponent = numbers.e
    if exponent % 2 == 0 or not _MIN_RSA_EXPONENT <= exponent <= _MAX_RSA_EXPONENT:
        raise WeakKeyError(
            N_(
                "The RSA key's public exponent (%(exponent)s) is not safe: it must be odd and "
                "between 65537 and 2^256-1. Generate a new key; tools use 65537 by default."
            ),
            exponent=exponent,
        )
    if exponent != 65537:
        raise UnsupportedKeyError(
            N_(
                "The RSA key's public exponent is %(exponent)s; this CA signs only keys with the "
                "exponent 65537. Generate a new key; tools use 65537 by default."
            ),
            exponent=exponent,
        )
    if fermat_factor(numbers.n) is not None:
        raise WeakKeyError(
            N_(
                "The RSA key is broken: its two primes are so close together that anyone can find "
                "them (Fermat's factorization). Generate a new key with a standard tool."
            )
        )


def fermat_factor(modulus: int, rounds: int = FERMAT_ROUNDS) -> tuple[int, int] | None:
    """The two factors of `modulus` if Fermat's method finds them within `rounds`, else None.

    A modulus whose primes share their top half is factored at once (Boulder's
    checkPrimeFactorsTooClose, and the ROCA-era ``fermat`` findings of real CAs).
    """
    a = math.isqrt(modulus)
    if a * a < modulus:
        a += 1
    for _ in range(rounds):
        b_squared = a * a - modulus
        b = math.isqrt(b_squared)
        if b * b == b_squared:
            return a - b, a + b
        a += 1
    return None


# --- Domain names -----------------------------------------------------------------------


def normalize_domain(text: str, *, allow_wildcard: bool = False) -> str:
    """Return the domain as a certificate names it: lowercase ASCII, IDNs in punycode.

    "  WWW.Bücher.Example.com. " becomes "www.xn--bcher-kva.example.com". A leading "*." is kept
    when allow_wildcard is true. Raises InvalidDomainError with the reason otherwise.
    """
    value = text.strip().lower()
    if not value:
        raise InvalidDomainError(N_("Enter a domain name, for example www.example.com."))
    check_ip_address(value)
    if "://" in value or "/" in value:
        raise InvalidDomainError(
            N_(
                '"%(text)s" is not a domain name. Enter the domain name only, without "https://" '
                "or a path, for example www.example.com."
            ),
            text=text.strip(),
        )
    # A trailing dot is the DNS root; certificates leave it out.
    if value.endswith(".") and not value.endswith(".."):
        value = value[:-1]
    wildcard = value.startswith("*.")
    if wildcard:
        if not allow_wildcard:
            raise InvalidDomainError(
                N_(
                    '"%(value)s" is a wildcard domain. Wildcard domains are only allowed on a '
                    "wildcard certificate."
                ),
                value=value,
            )
        value = value[2:]
    if "*" in value:
        raise InvalidDomainError(
            N_(
                '"%(text)s" is not a valid domain name: "*" is only allowed as the whole first '
                "label, as in *.example.com."
            ),
            text=text.strip(),
        )
    ascii_name = _to_ascii(value, text.strip())
    _check_dns_name(ascii_name, text.strip(), wildcard=wildcard)
    name = f"*.{ascii_name}" if wildcard else ascii_name
    check_issuable(name)
    return name


def _to_ascii(value: str, shown: str) -> str:
    if value.isascii():
        return value
    try:
        # IDNA 2008 with the UTS 46 mapping, as browsers and CAs convert names: case and
        # width folded, but "faß.de" stays itself (xn--fa-hia.de), where the standard
        # library's IDNA 2003 codec would make it the different name fass.de.
        return idna.encode(value, uts46=True).decode("ascii")
    except idna.IDNAError:
        raise InvalidDomainError(
            N_(
                '"%(shown)s" is not a valid internationalized domain name. Check its spelling; '
                "each part between dots can be at most 63 characters once converted."
            ),
            shown=shown,
        ) from None


def _check_dns_name(name: str, shown: str, *, wildcard: bool) -> None:
    full_length = len(name) + (2 if wildcard else 0)
    if full_length > MAX_DOMAIN_LENGTH:
        raise InvalidDomainError(
            N_('"%(shown)s" is too long: a domain name has at most %(maximum)s characters.'),
            shown=shown,
            maximum=MAX_DOMAIN_LENGTH,
        )
    labels = name.split(".")
    # "*.com" has the labels of a name; check_issuable refuses it as a public suffix.
    if len(labels) < 2 and not wildcard:
        raise InvalidDomainError(
            N_(
                '"%(shown)s" is not a complete domain name. Enter a name such as example.com or '
                "www.example.com."
            ),
            shown=shown,
        )
    for label in labels:
        _check_label(label, shown)
    if labels[-1].isdigit():
        raise InvalidDomainError(
            N_(
                '"%(shown)s" looks like an IP address. Certificates here are for domain names only.'
            ),
            shown=shown,
        )


def _check_label(label: str, shown: str) -> None:
    if not label:
        raise InvalidDomainError(
            N_('"%(shown)s" is not a valid domain name: it has an empty part.'), shown=shown
        )
    if len(label) > MAX_LABEL_LENGTH:
        raise InvalidDomainError(
            N_(
                '"%(shown)s" is not a valid domain name: each part between dots can be at most '
                "%(maximum)s characters."
            ),
            shown=shown,
            maximum=MAX_LABEL_LENGTH,
        )
    if "_" in label:
        raise InvalidDomainError(
            N_(
                '"%(shown)s" is not a valid domain name: underscores are not allowed in the domain '
                "names of a certificate."
            ),
            shown=shown,
        )
    if label.startswith("-") or label.endswith("-"):
        raise InvalidDomainError(
            N_('"%(shown)s" is not a valid domain name: a part can\'t start or end with a hyphen.'),
            shown=shown,
        )
    if not _LDH_LABEL.match(label):
        raise InvalidDomainError(
            N_(
                '"%(shown)s" is not a valid domain name: use only letters, digits, hyphens and '
                "dots."
            ),
            shown=shown,
        )
    if label.startswith("xn--") and not _is_valid_a_label(label):
        raise InvalidDomainError(
            N_('"%(shown)s" is not a valid domain name: "%(label)s" is not valid punycode.'),
            shown=shown,
            label=label,
        )


def _is_valid_a_label(label: str) -> bool:
    # An xn-- label must decode to a valid IDNA 2008 label, and encode back to itself.
    try:
        return idna.encode(idna.decode(label)).decode("ascii") == label
    except idna.IDNAError:
        return False


def validate_domains(domains: Sequence[str]) -> tuple[str, ...]:
    """Check a list of already normalized domains (wildcards allowed) and return it as a tuple.

    For code that receives domains from the console rather than from a customer: each one
    must be exactly what normalize_domain returns, and none may repeat.
    """
    if isinstance(domains, str):
        raise TypeError("domains must be a sequence of domain names, not one string")
    if not domains:
        raise InvalidDomainError(N_("Enter at least one domain name."))
    for domain in domains:
        if normalize_domain(domain, allow_wildcard=True) != domain:
            raise InvalidDomainError(
                N_('"%(domain)s" is not in its normalized form ("%(normalized)s").'),
                domain=domain,
                normalized=normalize_domain(domain, allow_wildcard=True),
            )
    duplicates = sorted({domain for domain in domains if domains.count(domain) > 1})
    if duplicates:
        raise InvalidDomainError(
            N_("Each domain can be named only once: %(duplicates)s."),
            duplicates=", ".join(duplicates),
        )
    return tuple(domains)


def common_name_for(domains: Sequence[str]) -> str | None:
    """The commonName for these domains: the first one short enough for the attribute."""
    return next((domain for domain in domains if len(domain) <= MAX_COMMON_NAME_LENGTH), None)


# --- Building a CSR ---------------------------------------------------------------------


def build_csr(
    private_key: SubscriberPrivateKey, domains: Sequence[str]
) -> x509.CertificateSigningRequest:
    """A CSR for normalized domains: the first as commonName, all of them as SAN DNS names."""
    domains = validate_domains(domains)
    common_name = common_name_for(domains)
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)] if common_name else []
    return (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name(attributes))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName(domain) for domain in domains]),
            critical=False,
        )
        .sign(private_key, signature_hash(private_key))
    )


# --- Reading and checking a pasted CSR --------------------------------------------------


def load_csr(pem: str | bytes) -> x509.CertificateSigningRequest:
    """Read one CSR from PEM text (or DER bytes); raise InvalidCSRError with the reason."""
    if isinstance(pem, bytes) and b"-----BEGIN " not in pem:
        return _parse_csr_der(pem)
    try:
        blocks = split_pem(pem)
    except PKIError as error:
        raise InvalidCSRError(error.message) from None
    csr_bodies = list(dict.fromkeys(block.body for block in blocks if block.label in CSR_LABELS))
    if not csr_bodies:
        raise InvalidCSRError(_no_csr_message({block.label for block in blocks}))
    if len(csr_bodies) > 1:
        raise InvalidCSRError(
            N_("The text contains %(count)s CSRs. Paste only the CSR for this certificate."),
            count=len(csr_bodies),
        )
    block = next(block for block in blocks if block.body == csr_bodies[0])
    try:
        der = block.decode()
    except PKIError:
        raise InvalidCSRError(_DAMAGED_CSR) from None
    return _parse_csr_der(der)


_DAMAGED_CSR = N_(
    "The CSR is damaged: the text between its BEGIN and END lines is not a valid request. "
    "Copy it again from the file your server or tool created."
)


def _no_csr_message(labels: set[str]) -> str:
    if labels & CERTIFICATE_LABELS:
        return N_(
            "This is a certificate, not a certificate signing request (CSR). Paste the CSR: "
            "it starts with -----BEGIN CERTIFICATE REQUEST-----."
        )
    if any(label.endswith("PRIVATE KEY") for label in labels):
        return N_(
            "This is a private key, not a certificate signing request (CSR). Never share your "
            "private key; paste the CSR: it starts with -----BEGIN CERTIFICATE REQUEST-----."
        )
    return InvalidCSRError.default_message


def _parse_csr_der(der: bytes) -> x509.CertificateSigningRequest:
    try:
        csr = x509.load_der_x509_csr(der)
        # Parsed lazily: read the parts checked later now, so damage is reported as damage.
        csr.subject  # noqa: B018
        csr.extensions  # noqa: B018
    except (ValueError, x509.InvalidVersion):
        raise InvalidCSRError(_DAMAGED_CSR) from None
    return csr


def check_csr(csr: x509.CertificateSigningRequest, domains: Sequence[str]) -> None:
    """Refuse a CSR that is not signed by its key, has a weak key, or names other domains.

    The domains are the application's, normalized. The CSR's names (its commonName and SAN
    DNS names, compared case-insensitively) must be exactly those domains.
    """
    public_key = csr_public_key(csr)
    if _signature_hash(csr) == "sha1":
        raise CSRSignedWithSHA1Error()
    if not _signature_is_valid(csr):
        raise CSRSignatureError()
    check_subscriber_key(public_key)
    _check_names(csr_domains(csr), domains)


def csr_public_key(csr: x509.CertificateSigningRequest) -> PublicKeyTypes:
    """The CSR's key; UnsupportedKeyError when it is of a type cryptography can't load."""
    try:
        return csr.public_key()
    except (ValueError, UnsupportedAlgorithm):
        raise UnsupportedKeyError(
            N_(
                "The CSR's key is of a type that is not supported. Use an RSA (2048 bits or more) "
                "or ECC (P-256 or P-384) key."
            )
        ) from None


def _signature_hash(csr: x509.CertificateSigningRequest) -> str | None:
    try:
        algorithm = csr.signature_hash_algorithm
    except UnsupportedAlgorithm:
        return None
    return algorithm.name if algorithm else None


def _signature_is_valid(csr: x509.CertificateSigningRequest) -> bool:
    try:
        return csr.is_signature_valid
    except (ValueError, UnsupportedAlgorithm):
        return False


def csr_domains(csr: x509.CertificateSigningRequest) -> tuple[str, ...]:
    """The domain names a CSR asks for: commonName(s) first, then SAN DNS names, normalized.

    A name that is not a valid domain is kept as written (lowercased), so that a mismatch
    message can show it.
    """
    names = [str(a.value) for a in csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    try:
        san = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names += san.get_values_for_type(x509.DNSName)
    except x509.ExtensionNotFound:
        pass
    except ValueError:
        raise InvalidCSRError(_DAMAGED_CSR) from None
    return tuple(dict.fromkeys(_normalize_leniently(name) for name in names))


def _normalize_leniently(name: str) -> str:
    try:
        return normalize_domain(name, allow_wildcard=True)
    except InvalidDomainError:
        return name.strip().lower()


def _check_names(csr_names: Sequence[str], domains: Sequence[str]) -> None:
    wanted = tuple(dict.fromkeys(domain.lower() for domain in domains))
    missing = tuple(domain for domain in wanted if domain not in csr_names)
    extra = tuple(name for name in csr_names if name not in wanted)
    if missing or extra:
        raise CSRDomainMismatchError(missing=missing, extra=extra)


# --- A CSR as proof of possession of its key -----------------------------------------------


@dataclass(frozen=True)
class PossessionProof:
    """What a CSR signed by its key proves: that its sender holds that key (by the hash of
    its SubjectPublicKeyInfo), and the common names its subject carries (a challenge)."""

    public_key_sha256: str
    common_names: tuple[str, ...]


def read_possession_proof(pem: str | bytes) -> PossessionProof:
    """Read a CSR offered as proof of holding its key; raise a PKIError with the reason.

    Only the signature matters, made with the private key over the subject: any key type
    cryptography reads is accepted, weak ones included (a compromised key may be weak).
    The RSA key is bounded before the signature is checked, as uploads are.
    """
    request = load_csr(pem)
    public_key = csr_public_key(request)
    if isinstance(public_key, rsa.RSAPublicKey) and (
        public_key.key_size > MAX_RSA_KEY_SIZE
        or public_key.public_numbers().e > MAX_RSA_PUBLIC_EXPONENT
    ):
        raise UnsupportedKeyError(
            N_(
                "The CSR's RSA key is larger than any this console certifies (at most "
                "%(maximum)s bits, exponent below 2^32): no certificate here has it."
            ),
            maximum=MAX_RSA_KEY_SIZE,
        )
    if not _signature_is_valid(request):
        raise CSRSignatureError(
            N_(
                "The CSR's signature does not verify with the public key in it: it was not signed "
                "by that key's private key, or it was changed after signing. Make the CSR again "
                "with the compromised key and paste it unchanged."
            )
        )
    names = request.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return PossessionProof(
        public_key_sha256=public_key_sha256(public_key),
        common_names=tuple(str(name.value) for name in names),
    )


# --- Describing a CSR -------------------------------------------------------------------


@dataclass(frozen=True)
class CSRInfo:
    """What a reviewer reads in a CSR. `pem` is the CSR alone, re-encoded from the parsed
    request, so nothing else that was pasted with it (a private key) comes along."""

    subject: str
    domains: tuple[str, ...]
    key_description: str
    signature_algorithm: str
    signature_valid: bool
    pem: str


def describe_csr(pem: str | bytes) -> CSRInfo:
    """Read a CSR for display; raise InvalidCSRError (a PKIError) when it can't be read."""
    request = load_csr(pem)
    try:
        key_description = describe_public_key(request.public_key())
    except (ValueError, UnsupportedAlgorithm):
        key_description = "Unsupported key"
    hash_algorithm = request.signature_hash_algorithm
    return CSRInfo(
        subject=request.subject.rfc4514_string() or "(empty)",
        domains=csr_domains(request),
        key_description=key_description,
        signature_algorithm=hash_algorithm.name.upper() if hash_algorithm else "none",
        signature_valid=_signature_is_valid(request),
        pem=request.public_bytes(serialization.Encoding.PEM).decode("ascii"),
    )


def describe_public_key(public_key: PublicKeyTypes) -> str:
    """ "RSA 2048", "ECC P-256", "Ed25519": the names the console uses for keys."""
    if isinstance(public_key, rsa.RSAPublicKey):
        return f"RSA {public_key.key_size}"
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        return f"ECC {SUPPORTED_EC_CURVES.get(public_key.curve.name, public_key.curve.name)}"
    if isinstance(public_key, ed25519.Ed25519PublicKey):
        return "Ed25519"
    return type(public_key).__name__
