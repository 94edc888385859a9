"""A local certificate authority: a root, an issuing CA under it, and the TLS certificates it signs.

The certificates follow the CA/Browser Forum Baseline Requirements profiles (section 7.1)
so that openssl, browsers and linters treat them like those of a public CA. The CA is a
local one and its names say so: see local_ca_names.

Errors: customer input that can't go into a certificate (domains, organization details,
the CSR's key) raises a PKIError subclass with a message for the customer; a mistake of
the calling code or the configuration (a naive datetime, an impossible validity, a bad
base URL) raises ValueError.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from cryptography.x509.oid import (
    AuthorityInformationAccessOID,
    CertificatePoliciesOID,
    ExtendedKeyUsageOID,
    NameOID,
)

from certificates.pki.csr import (
    check_subscriber_key,
    common_name_for,
    signature_hash,
    validate_domains,
)
from certificates.pki.errors import InvalidDomainError, InvalidSubjectError
from certificates.pki.i18n import N_, Message
from certificates.pki.parsing import public_keys_match

# A hard cap whatever the settings say: no CA/Browser Forum maximum since September 2020
# has been longer. The maximum in force is shorter (200 days since 15 March 2026); the
# caller passes that one from a setting.
MAX_VALIDITY_DAYS = 398

ROOT_VALIDITY_DAYS = 20 * 365 + 5
ISSUING_VALIDITY_DAYS = 10 * 365 + 2

# The CA/Browser Forum's reserved policy identifiers, one per validation type.
POLICY_OIDS: dict[str, x509.ObjectIdentifier] = {
    "DV": x509.ObjectIdentifier("2.23.140.1.2.1"),
    "OV": x509.ObjectIdentifier("2.23.140.1.2.2"),
    "EV": x509.ObjectIdentifier("2.23.140.1.1"),
}

# The only values the EV Guidelines (7.1.4.2.3) allow in businessCategory.
EV_BUSINESS_CATEGORIES = (
    "Private Organization",
    "Government Entity",
    "Business Entity",
    "Non-Commercial Entity",
)

CAPrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey

_CA_CURVES = ("secp256r1", "secp384r1")
_SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
# The characters of an ASN.1 PrintableString, the type of the subject's serialNumber.
_PRINTABLE = re.compile(r"^[A-Za-z0-9 '()+,\-./:=?]+$")
# X.520's upper bounds (RFC 5280 Appendix A) for the attributes an OV/EV subject names.
UPPER_BOUNDS = {
    "organization": 64,
    "state": 128,
    "city": 128,
    "registration_number": 64,
}
# The ASCII punctuation a name value may hold: PrintableString's, and "&" ("Smith & Sons").
# Markup and the rest (< > " ; ` { } [ ] \ | ^ ~ _ ! @ # $ % *) are not a name's.
_NAME_PUNCTUATION = frozenset("'()+,-./:=?&")
# A common name's upper bound, which the CAs' own names keep to.
_MAX_NAME_VALUE_LENGTH = 64

# Serials are 158 random bits below a fixed top bit: always 20 DER bytes, always positive.
_SERIAL_RANDOM_BITS = 158
_SERIAL_LIMIT = 1 << 159


# --- Names and URLs ---------------------------------------------------------------------


@dataclass(frozen=True)
class LocalCANames:
    organization: str
    root_common_name: str
    issuing_common_name: str


def local_ca_names(brand: str) -> LocalCANames:
    """Names for a brand's CAs that say plainly they are a local CA, not the brand's own.

    "DigiCert" gives organization "DigiCert (Local CA)", root "DigiCert (Local CA) Root CA"
    and issuing CA "DigiCert (Local CA) Issuing CA".
    """
    brand = " ".join(brand.split())
    if not brand:
        raise ValueError("A brand name is needed to name its local CA.")
    organization = f"{brand} (Local CA)"
    if len(f"{organization} Issuing CA") > _MAX_NAME_VALUE_LENGTH:
        raise ValueError(f'The brand name "{brand}" is too long for a CA name.')
    return LocalCANames(
        organization=organization,
        root_common_name=f"{organization} Root CA",
        issuing_common_name=f"{organization} Issuing CA",
    )


def _pki_url(base_url: str, ca_slug: str, filename: str) -> str:
    # The Baseline Requirements want plain HTTP here: the CRL and OCSP answers are signed,
    # and fetching them over HTTPS would need the very revocation check they serve.
    if not base_url.startswith("http://"):
        raise ValueError(f"The PKI base URL must start with http://, not {base_url!r}.")
    if not _SLUG.match(ca_slug):
        raise ValueError(f"The CA slug must be lowercase letters, digits and hyphens: {ca_slug!r}")
    return f"{base_url.rstrip('/')}/pki/{ca_slug}/{filename}"


def crl_url(base_url: str, ca_slug: str) -> str:
    """Where the issuing CA's whole CRL (DER) is published: every serial it revoked.

    Certificates signed before the CRL was partitioned name it; new ones name their shard.
    """
    return _pki_url(base_url, ca_slug, "crl.der")


def crl_shard(serial: int, shards: int) -> int:
    """The CRL shard a serial belongs to, of the issuing CA's `shards`: stable, since the
    certificate names it for good (its CRL distribution point), and even, since serials
    are random."""
    if shards < 1:
        raise ValueError(f"A CA has at least one CRL shard, not {shards}.")
    if serial <= 0:
        raise ValueError(f"A serial number must be positive, not {serial}.")
    return serial % shards


def crl_shard_url(base_url: str, ca_slug: str, shard: int) -> str:
    """Where one shard of the issuing CA's partitioned CRL (DER) is published: the URL in
    the certificate's CRL distribution point and in that CRL's issuingDistributionPoint."""
    if shard < 0:
        raise ValueError(f"A CRL shard number is 0 or more, not {shard}.")
    return _pki_url(base_url, ca_slug, f"crl/{shard}.der")


def ocsp_url(base_url: str, ca_slug: str) -> str:
    """The issuing CA's OCSP responder (POST, or GET with the request appended)."""
    return _pki_url(base_url, ca_slug, "ocsp")


def ca_issuers_url(base_url: str, ca_slug: str) -> str:
    """Where the issuing CA's certificate (DER) is published."""
    return _pki_url(base_url, ca_slug, "ca.der")


def root_certificate_url(base_url: str, ca_slug: str) -> str:
    """Where the root's certificate (DER) is published; the issuing CA names it."""
    return _pki_url(base_url, ca_slug, "root.der")


def root_crl_url(base_url: str, ca_slug: str) -> str:
    """Where the root's CRL (DER, revoking issuing CAs) is published; the issuing CA names it."""
    return _pki_url(base_url, ca_slug, "root-crl.der")


# --- Authorities ------------------------------------------------------------------------


@dataclass(frozen=True)
class Authority:
    """A CA certificate together with its private key."""

    certificate: x509.Certificate
    private_key: CAPrivateKey

    def __post_init__(self) -> None:
        if not public_keys_match(self.certificate, self.private_key):
            raise ValueError("The private key does not belong to the CA certificate.")
        constraints = _extension(self.certificate, x509.BasicConstraints)
        if constraints is None or not constraints.ca:
            raise ValueError("The certificate is not a CA certificate.")

    @property
    def name(self) -> str:
        """The CA's common name, for display."""
        attributes = self.certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        return str(attributes[0].value) if attributes else self.certificate.subject.rfc4514_string()

    @property
    def subject(self) -> x509.Name:
        return self.certificate.subject

    @property
    def certificate_pem(self) -> str:
        return self.certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")

    @property
    def certificate_der(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.DER)

    def authority_key_identifier(self) -> x509.AuthorityKeyIdentifier:
        """The AKI of what this CA signs: a copy of its own SKI, so the two always match."""
        ski = _extension(self.certificate, x509.SubjectKeyIdentifier)
        if ski is not None:
            return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)
        return x509.AuthorityKeyIdentifier.from_issuer_public_key(self.private_key.public_key())

    def private_key_pem(self, password: bytes | None = None) -> str:
        """The key as PKCS#8 PEM, encrypted with the password when one is given."""
        encryption = (
            serialization.BestAvailableEncryption(password)
            if password
            else serialization.NoEncryption()
        )
        return self.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
        ).decode("ascii")

    @classmethod
    def from_pem(
        cls,
        certificate_pem: str | bytes,
        private_key_pem: str | bytes,
        password: bytes | None = None,
    ) -> Authority:
        """Load an authority saved with certificate_pem and private_key_pem()."""
        certificate = x509.load_pem_x509_certificate(_as_bytes(certificate_pem))
        key = serialization.load_pem_private_key(_as_bytes(private_key_pem), password)
        if not isinstance(key, CAPrivateKey):
            raise ValueError("A CA key must be an ECC or RSA key.")
        return cls(certificate=certificate, private_key=key)


def _as_bytes(text: str | bytes) -> bytes:
    return text.encode("ascii") if isinstance(text, str) else text


def create_root_ca(
    *,
    common_name: str,
    organization: str,
    now: datetime,
    validity_days: int = ROOT_VALIDITY_DAYS,
    key: ec.EllipticCurvePrivateKey | None = None,
    country: str | None = None,
) -> Authority:
    """A self-signed root CA with an ECC key (P-384 unless another P-256/P-384 key is given).

    Use local_ca_names for the names. The Baseline Requirements want a country in CA names;
    pass one (two letters) to include it.
    """
    key = _ca_key(key, ec.SECP384R1())
    subject = _ca_name(common_name, organization, country)
    not_before, not_after = _validity(now, validity_days)
    public_key = key.public_key()
    builder = (
        _ca_builder(subject, subject, public_key, not_before, not_after)
        # Unconstrained path length: the Baseline Requirements advise none on a root.
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(_key_usage(digital_signature=False, key_cert_sign=True), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(public_key), critical=False
        )
    )
    return Authority(certificate=builder.sign(key, signature_hash(key)), private_key=key)


def create_issuing_ca(
    root: Authority,
    *,
    common_name: str,
    organization: str,
    now: datetime,
    validity_days: int = ISSUING_VALIDITY_DAYS,
    base_url: str,
    slug: str,
    key: ec.EllipticCurvePrivateKey | None = None,
    country: str | None = None,
) -> Authority:
    """An issuing CA signed by the root, with an ECC key (P-256 unless one is given).

    It may sign only end-entity TLS server certificates (path length 0, serverAuth), and
    signs its own OCSP responses and CRLs. It names the root's CRL and certificate at the
    URLs built from base_url and slug. It never outlives the root.
    """
    key = _ca_key(key, ec.SECP256R1())
    not_before, not_after = _validity(now, validity_days)
    not_after = min(not_after, root.certificate.not_valid_after_utc)
    _check_within(root, not_before, not_after)
    builder = (
        _ca_builder(
            _ca_name(common_name, organization, country),
            root.subject,
            key.public_key(),
            not_before,
            not_after,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(key_cert_sign=True, digital_signature=True), critical=True)
        .add_extension(root.authority_key_identifier(), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        # anyPolicy: the issuing CA belongs to the same operator as the root (BR 7.1.2.10.5).
        .add_extension(
            x509.CertificatePolicies(
                [x509.PolicyInformation(CertificatePoliciesOID.ANY_POLICY, None)]
            ),
            critical=False,
        )
        .add_extension(_crl_distribution_points(root_crl_url(base_url, slug)), critical=False)
        .add_extension(
            x509.AuthorityInformationAccess(
                [
                    x509.AccessDescription(
                        AuthorityInformationAccessOID.CA_ISSUERS,
                        x509.UniformResourceIdentifier(root_certificate_url(base_url, slug)),
                    )
                ]
            ),
            critical=False,
        )
    )
    return Authority(
        certificate=builder.sign(root.private_key, signature_hash(root.private_key)),
        private_key=key,
    )


def _ca_key(
    key: ec.EllipticCurvePrivateKey | None, default_curve: ec.EllipticCurve
) -> ec.EllipticCurvePrivateKey:
    if key is None:
        return ec.generate_private_key(default_curve)
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name not in _CA_CURVES:
        raise ValueError("A CA key must be an ECC P-256 or P-384 key.")
    return key


def _ca_name(common_name: str, organization: str, country: str | None) -> x509.Name:
    if "local ca" not in common_name.lower():
        raise ValueError(
            f'The CA name "{common_name}" must say it is a local CA: use local_ca_names().'
        )
    if not organization.strip() or len(common_name) > _MAX_NAME_VALUE_LENGTH:
        raise ValueError("A CA needs an organization and a common name of at most 64 characters.")
    attributes = []
    if country:
        if len(country) != 2 or not country.isalpha():
            raise ValueError(f"The CA's country must be a two-letter code, not {country!r}.")
        attributes.append(x509.NameAttribute(NameOID.COUNTRY_NAME, country.upper()))
    attributes += [
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ]
    return x509.Name(attributes)


def _ca_builder(
    subject: x509.Name,
    issuer: x509.Name,
    public_key: PublicKeyTypes,
    not_before: datetime,
    not_after: datetime,
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )


# --- Subscriber certificates ------------------------------------------------------------


@dataclass(frozen=True)
class SubjectInfo:
    """The organization named in an OV or EV certificate (DV certificates name none).

    OV needs organization, country, and state or city. EV also needs city,
    business_category (one of EV_BUSINESS_CATEGORIES), jurisdiction_country (where the
    organization is registered) and registration_number.
    """

    organization: str = ""
    country: str = ""
    state: str = ""
    city: str = ""
    business_category: str = ""
    jurisdiction_country: str = ""
    registration_number: str = ""


def random_serial_number() -> int:
    """A positive serial with 158 random bits, 20 bytes long in DER (the RFC 5280 maximum).

    The Baseline Requirements ask for at least 64 bits from a CSPRNG; the fixed top bit
    keeps every serial the same length, which reads better in the console.
    """
    return (1 << _SERIAL_RANDOM_BITS) | secrets.randbits(_SERIAL_RANDOM_BITS)


def issue_certificate(issuer: Authority, **arguments) -> x509.Certificate:
    """Build (see build_certificate) and sign a TLS server certificate with the issuing CA.

    The console signs only through certificates.issuance_policy, which lints the
    certificate first: a test keeps every other module of the app from calling this.
    """
    return sign_certificate(build_certificate(issuer, **arguments), issuer.private_key)


def sign_certificate(builder: x509.CertificateBuilder, key: CAPrivateKey) -> x509.Certificate:
    """Sign what build_certificate built: with the issuer's key, or a throw-away one to lint."""
    return builder.sign(key, signature_hash(key))


def build_certificate(
    issuer: Authority,
    *,
    csr_public_key: PublicKeyTypes,
    domains: Sequence[str],
    validation_type: str,
    subject: SubjectInfo | None,
    now: datetime,
    validity_days: int,
    base_url: str,
    ca_slug: str,
    serial: int | None = None,
    crl_shards: int | None = None,
) -> x509.CertificateBuilder:
    """A TLS server certificate for normalized domains (the first one is the CN), unsigned.

    The validity starts at `now` and lasts exactly validity_days, counted the RFC 5280 way
    (notAfter is inclusive, so it is one second short of validity_days later). DV
    certificates name only domains: `subject` is not used for them. With `crl_shards`,
    the CRL distribution point is the serial's shard (crl_shard_url); without, the whole
    CRL.
    """
    policy = _policy_for(validation_type)
    domains = validate_domains(domains)
    if validation_type == "EV" and any(domain.startswith("*.") for domain in domains):
        # EV Guidelines 9.8.1: an EV certificate names each host it covers.
        raise InvalidDomainError(N_("An EV certificate can't include wildcard domains."))
    check_subscriber_key(csr_public_key)
    subject_name = _subscriber_name(validation_type, subject, common_name_for(domains))
    not_before, not_after = _validity(now, validity_days, maximum=MAX_VALIDITY_DAYS)
    _check_within(issuer, not_before, not_after)
    serial = _checked_serial(serial)
    if crl_shards is None:
        crl = crl_url(base_url, ca_slug)
    else:
        crl = crl_shard_url(base_url, ca_slug, crl_shard(serial, crl_shards))
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject_name)
        .issuer_name(issuer.subject)
        .public_key(csr_public_key)
        .serial_number(serial)
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            # keyEncipherment lets old TLS clients use RSA key transport.
            _key_usage(
                digital_signature=True,
                key_encipherment=isinstance(csr_public_key, rsa.RSAPublicKey),
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            # RFC 5280 4.2.1.6: with an empty subject, the SAN is the only name: critical.
            x509.SubjectAlternativeName([x509.DNSName(domain) for domain in domains]),
            critical=len(subject_name) == 0,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(csr_public_key), critical=False)
        .add_extension(issuer.authority_key_identifier(), critical=False)
        .add_extension(
            x509.CertificatePolicies([x509.PolicyInformation(policy, None)]), critical=False
        )
        .add_extension(_crl_distribution_points(crl), critical=False)
        .add_extension(_subscriber_aia(base_url, ca_slug), critical=False)
    )
    return builder


def _policy_for(validation_type: str) -> x509.ObjectIdentifier:
    try:
        return POLICY_OIDS[validation_type]
    except KeyError:
        raise ValueError(
            f"Unknown validation type {validation_type!r}: expected DV, OV or EV."
        ) from None


def _checked_serial(serial: int | None) -> int:
    if serial is None:
        return random_serial_number()
    if not 0 < serial < _SERIAL_LIMIT:
        raise ValueError("A serial number must be positive and fit in 20 bytes.")
    return serial


def _subscriber_aia(base_url: str, ca_slug: str) -> x509.AuthorityInformationAccess:
    return x509.AuthorityInformationAccess(
        [
            x509.AccessDescription(
                AuthorityInformationAccessOID.OCSP,
                x509.UniformResourceIdentifier(ocsp_url(base_url, ca_slug)),
            ),
            x509.AccessDescription(
                AuthorityInformationAccessOID.CA_ISSUERS,
                x509.UniformResourceIdentifier(ca_issuers_url(base_url, ca_slug)),
            ),
        ]
    )


# --- Subject names ----------------------------------------------------------------------


def tidy_subject(subject: SubjectInfo) -> SubjectInfo:
    """The subject as a certificate would name it: runs of spaces made one, country codes
    in capitals. Checks nothing: see check_subject."""
    return SubjectInfo(
        organization=_tidy(subject.organization),
        country=subject.country.strip().upper(),
        state=_tidy(subject.state),
        city=_tidy(subject.city),
        business_category=_tidy(subject.business_category),
        jurisdiction_country=subject.jurisdiction_country.strip().upper(),
        registration_number=_tidy(subject.registration_number),
    )


def check_subject(subject: SubjectInfo | None, validation_type: str) -> SubjectInfo:
    """The organization details an OV or EV certificate names, tidied (see tidy_subject).

    Raises InvalidSubjectError when they are missing or not valid: its `problems` say
    what is wrong with each SubjectInfo field concerned, its message the first problem.
    These are the rules of the Baseline Requirements (7.1.4.2) and, for EV, of the EV
    Guidelines (7.1.4.2); the apply form checks its fields with this function too.
    """
    if validation_type not in ("OV", "EV"):
        raise ValueError(
            f"Only OV and EV certificates name an organization, not {validation_type!r}."
        )
    if subject is None:
        raise InvalidSubjectError(
            N_(
                "An %(validation_type)s certificate needs the organization's details: name, "
                "country and city."
            ),
            validation_type=validation_type,
        )
    subject = tidy_subject(subject)
    # Each field's first problem is the one reported.
    problems: dict[str, Message] = {}
    _check_text(
        problems,
        "organization",
        subject.organization,
        Message(N_("organization name")),
        validation_type,
    )
    _check_country(problems, "country", subject.country, Message(N_("country")))
    _check_text(problems, "state", subject.state, Message(N_("state or province")))
    _check_text(problems, "city", subject.city, Message(N_("city")))
    if validation_type == "EV":
        if subject.business_category not in EV_BUSINESS_CATEGORIES:
            problems["business_category"] = Message(
                N_("An EV certificate needs the business category: one of %(categories)s."),
                categories=", ".join(EV_BUSINESS_CATEGORIES),
            )
        _check_country(
            problems,
            "jurisdiction_country",
            subject.jurisdiction_country,
            Message(N_("jurisdiction country")),
        )
        # A PrintableString (EV Guidelines 9.2.5): stricter than the other name values.
        if subject.registration_number and not _PRINTABLE.match(subject.registration_number):
            problems.setdefault(
                "registration_number",
                Message(
                    N_(
                        "The registration number may contain only letters A-Z, digits, spaces "
                        "and ' ( ) + , - . / : = ?"
                    )
                ),
            )
        _check_text(
            problems,
            "registration_number",
            subject.registration_number,
            Message(N_("registration number")),
            "EV",
        )
        if not subject.city:
            problems.setdefault(
                "city", Message(N_("An EV certificate needs the city where the organization is."))
            )
    if not subject.state and not subject.city:
        problems.setdefault(
            "city",
            Message(
                N_("An %(validation_type)s certificate needs the organization's city or state."),
                validation_type=validation_type,
            ),
        )
    if problems:
        raise InvalidSubjectError(problems=problems)
    return subject


def _check_text(
    problems: dict[str, Message],
    field: str,
    value: str,
    what: Message | str,
    required_by: str = "",
) -> None:
    """A name value: text X.520 allows within its upper bound, and not empty when
    `required_by` (a type) needs it. `what` names the value (a noun, shown in the message)."""
    problem = name_value_problem(value, what, max_length=UPPER_BOUNDS[field])
    if problem:
        problems.setdefault(field, problem)
    elif required_by and not value:
        problems.setdefault(
            field,
            Message(
                N_("An %(validation_type)s certificate needs the %(what)s."),
                validation_type=required_by,
                what=what,
            ),
        )


def name_value_problem(value: str, what: Message | str, *, max_length: int) -> Message | None:
    """Why `value` can't be a name value in a certificate's subject, or None when it can.

    A DirectoryString (X.520) of printable text: letters and digits of any script, single
    spaces and ordinary punctuation; no control or invisible characters, no markup or other
    symbols, and more than punctuation alone (the Baseline Requirements, 7.1.4.3, forbid
    values of metadata such as "." or "-"). `what` names the value in the message.
    """
    if len(value) > max_length:
        return Message(
            N_("The %(what)s is too long for a certificate: at most %(max_length)s characters."),
            what=what,
            max_length=max_length,
        )
    for character in value:
        if not _is_name_character(character):
            shown = character if character.isprintable() else f"U+{ord(character):04X}"
            return Message(
                N_(
                    'The %(what)s can\'t contain "%(character)s": use letters, digits, spaces '
                    "and ' ( ) + , - . / : = ? & only."
                ),
                what=what,
                character=shown,
            )
    if value and not any(character.isalnum() for character in value):
        return Message(
            N_("The %(what)s must contain letters or digits, not only punctuation."), what=what
        )
    return None


def _is_name_character(character: str) -> bool:
    if character == " " or character in _NAME_PUNCTUATION:
        return True
    if character.isascii():
        return character.isalnum()
    # Letters, marks and digits of any script, and its punctuation (full-width brackets,
    # the middle dot); not symbols (emoji), separators other than the space, or controls.
    return unicodedata.category(character)[0] in "LMNP"


def _check_country(problems: dict[str, Message], field: str, code: str, what: Message) -> None:
    if not (len(code) == 2 and code.isascii() and code.isalpha()):
        problems.setdefault(
            field,
            Message(
                N_("The %(what)s must be a two-letter ISO 3166 code, such as US, DE or CN."),
                what=what,
            ),
        )


def _subscriber_name(
    validation_type: str, subject: SubjectInfo | None, common_name: str | None
) -> x509.Name:
    # The Baseline Requirements (7.1.4.2) fix the order: C, ST, L, O, then CN last. The EV
    # attributes are outside that list and go first, as public CAs put them.
    attributes: list[x509.NameAttribute] = []
    if validation_type in ("OV", "EV"):
        subject = check_subject(subject, validation_type)
        if validation_type == "EV":
            attributes += [
                x509.NameAttribute(NameOID.BUSINESS_CATEGORY, subject.business_category),
                x509.NameAttribute(NameOID.JURISDICTION_COUNTRY_NAME, subject.jurisdiction_country),
                x509.NameAttribute(NameOID.SERIAL_NUMBER, subject.registration_number),
            ]
        attributes.append(x509.NameAttribute(NameOID.COUNTRY_NAME, subject.country))
        if subject.state:
            attributes.append(x509.NameAttribute(NameOID.STATE_OR_PROVINCE_NAME, subject.state))
        if subject.city:
            attributes.append(x509.NameAttribute(NameOID.LOCALITY_NAME, subject.city))
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, subject.organization))
    if common_name:
        attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attributes)


def _tidy(value: str) -> str:
    return " ".join(value.split())


# --- Shared pieces ----------------------------------------------------------------------


def _utc(now: datetime) -> datetime:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("Datetimes must be timezone-aware.")
    # Certificates count whole seconds.
    return now.astimezone(UTC).replace(microsecond=0)


def _validity(
    now: datetime, validity_days: int, *, maximum: int | None = None
) -> tuple[datetime, datetime]:
    if isinstance(validity_days, bool) or not isinstance(validity_days, int):
        raise ValueError("validity_days must be a whole number of days.")
    if validity_days <= 0:
        raise ValueError("validity_days must be at least 1.")
    if maximum is not None and validity_days > maximum:
        raise ValueError(f"validity_days is {validity_days}; at most {maximum} days are allowed.")
    not_before = _utc(now)
    # RFC 5280 4.1.2.5: the validity includes both notBefore and notAfter.
    return not_before, not_before + timedelta(days=validity_days, seconds=-1)


def _check_within(issuer: Authority, not_before: datetime, not_after: datetime) -> None:
    if not_before < issuer.certificate.not_valid_before_utc:
        raise ValueError(f'The CA "{issuer.name}" is not valid yet at {not_before.isoformat()}.')
    if not_after > issuer.certificate.not_valid_after_utc:
        expiry = issuer.certificate.not_valid_after_utc.isoformat()
        raise ValueError(
            f'The CA "{issuer.name}" expires on {expiry}, before {not_after.isoformat()}: '
            "renew it or shorten the validity."
        )


def _key_usage(
    *,
    digital_signature: bool,
    key_encipherment: bool = False,
    key_cert_sign: bool = False,
) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=False,
        key_encipherment=key_encipherment,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=key_cert_sign,
        crl_sign=key_cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _crl_distribution_points(url: str) -> x509.CRLDistributionPoints:
    return x509.CRLDistributionPoints(
        [
            x509.DistributionPoint(
                full_name=[x509.UniformResourceIdentifier(url)],
                relative_name=None,
                reasons=None,
                crl_issuer=None,
            )
        ]
    )


def _extension(cert: x509.Certificate, extension_type: type[x509.ExtensionType]):
    try:
        return cert.extensions.get_extension_for_class(extension_type).value
    except x509.ExtensionNotFound:
        return None
