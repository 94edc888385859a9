"""Test material made in memory: keys, a root -> intermediate -> leaf chain, odd certificates.

Keys and certificates are session-scoped because RSA key generation is slow.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass(frozen=True)
class Issued:
    """A certificate together with its private key."""

    cert: x509.Certificate
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey

    @property
    def cert_pem(self) -> str:
        return self.cert.public_bytes(serialization.Encoding.PEM).decode()

    @property
    def key_pem(self) -> str:
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()


def build_certificate(
    common_name: str,
    key,
    issuer: Issued | None = None,
    *,
    is_ca: bool = False,
    dns_names: Sequence[str] = (),
    organization: str | None = None,
    serial: int | None = None,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
) -> Issued:
    """Issue a certificate for `key`, signed by `issuer` (or by itself when issuer is None)."""
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if organization:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    subject = x509.Name(attributes)
    signing_key = issuer.key if issuer else key
    issuer_name = issuer.cert.subject if issuer else subject
    now = datetime.now(UTC)
    public_key = key.public_key()

    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(public_key)
        .serial_number(serial if serial is not None else x509.random_serial_number())
        .not_valid_before(not_before or now - timedelta(days=1))
        .not_valid_after(not_after or now + timedelta(days=90))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signing_key.public_key()),
            critical=False,
        )
    )
    if is_ca:
        builder = builder.add_extension(
            x509.BasicConstraints(ca=True, path_length=None), critical=True
        ).add_extension(_key_usage(cert_sign=True), critical=True)
    else:
        builder = (
            builder.add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                _key_usage(key_encipherment=isinstance(key, rsa.RSAPrivateKey)), critical=True
            )
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        )
    if dns_names:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(name) for name in dns_names]),
            critical=False,
        )
    # Ed25519 signs the whole message itself, so it takes no separate hash.
    algorithm = None if isinstance(signing_key, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    return Issued(cert=builder.sign(signing_key, algorithm), key=key)


def _key_usage(*, cert_sign: bool = False, key_encipherment: bool = False) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=key_encipherment,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def bag_attributes_text(issued: Issued, chain: Sequence[Issued] = ()) -> str:
    """The text `openssl pkcs12 -in file.pfx -nodes` prints: attributes around the PEM blocks."""
    local_key_id = " ".join(f"{b:02X}" for b in issued.cert.fingerprint(hashes.SHA1()))
    parts = []
    for index, item in enumerate([issued, *chain]):
        if index == 0:
            parts.append(
                f"Bag Attributes\n    friendlyName: www.example.com\n"
                f"    localKeyID: {local_key_id} \n"
            )
        else:
            parts.append("Bag Attributes: <No Attributes>\n")
        parts.append(f"subject={_openssl_name(item.cert.subject)}\n")
        parts.append(f"issuer={_openssl_name(item.cert.issuer)}\n")
        parts.append(item.cert_pem)
    parts.append(f"Bag Attributes\n    localKeyID: {local_key_id} \n")
    parts.append("Key Attributes: <No Attributes>\n")
    parts.append(issued.key_pem)
    return "".join(parts)


def _openssl_name(name: x509.Name) -> str:
    # OpenSSL 3 prints "CN = www.example.com, O = Example", most significant first.
    return ", ".join(
        f"{attribute.rfc4514_attribute_name} = {attribute.value}" for attribute in name
    )


# --- keys -------------------------------------------------------------------------------


def _rsa(bits: int = 2048) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


@pytest.fixture(scope="session")
def rsa_key() -> rsa.RSAPrivateKey:
    return _rsa()


@pytest.fixture(scope="session")
def other_rsa_key() -> rsa.RSAPrivateKey:
    return _rsa()


@pytest.fixture(scope="session")
def rsa_1024_key() -> rsa.RSAPrivateKey:
    return _rsa(1024)


@pytest.fixture(scope="session")
def rsa_4104_key() -> rsa.RSAPrivateKey:
    """Just over the largest RSA private key the console checks (MAX_RSA_PRIVATE_KEY_SIZE)."""
    return _rsa(4104)


@pytest.fixture(scope="session")
def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture(scope="session")
def ed25519_key() -> ed25519.Ed25519PrivateKey:
    return ed25519.Ed25519PrivateKey.generate()


# --- certificates -----------------------------------------------------------------------


@pytest.fixture(scope="session")
def issue() -> Callable[..., Issued]:
    """The certificate builder, for tests that need a certificate of their own."""
    return build_certificate


@pytest.fixture(scope="session")
def bag_attributes() -> Callable[..., str]:
    return bag_attributes_text


@pytest.fixture(scope="session")
def root_ca() -> Issued:
    return build_certificate("Example Root CA", _rsa(), is_ca=True, organization="Example Trust")


@pytest.fixture(scope="session")
def intermediate_ca(root_ca: Issued) -> Issued:
    return build_certificate(
        "Example Intermediate CA", _rsa(), root_ca, is_ca=True, organization="Example Trust"
    )


@pytest.fixture(scope="session")
def rsa_leaf(intermediate_ca: Issued, rsa_key: rsa.RSAPrivateKey) -> Issued:
    return build_certificate(
        "www.example.com",
        rsa_key,
        intermediate_ca,
        dns_names=["www.example.com", "example.com", "WWW.EXAMPLE.COM", "api.example.com"],
        organization="Example Shop",
    )


@pytest.fixture(scope="session")
def ec_leaf(intermediate_ca: Issued, ec_key: ec.EllipticCurvePrivateKey) -> Issued:
    return build_certificate(
        "ec.example.com", ec_key, intermediate_ca, dns_names=["ec.example.com"]
    )


@pytest.fixture(scope="session")
def ed25519_leaf(intermediate_ca: Issued, ed25519_key: ed25519.Ed25519PrivateKey) -> Issued:
    return build_certificate(
        "ed.example.com", ed25519_key, intermediate_ca, dns_names=["ed.example.com"]
    )


@pytest.fixture(scope="session")
def self_signed_leaf() -> Issued:
    key = ec.generate_private_key(ec.SECP256R1())
    return build_certificate("self.example.com", key, dns_names=["self.example.com"])


@pytest.fixture(scope="session")
def expired_leaf(intermediate_ca: Issued) -> Issued:
    now = datetime.now(UTC)
    return build_certificate(
        "old.example.com",
        ec.generate_private_key(ec.SECP256R1()),
        intermediate_ca,
        dns_names=["old.example.com"],
        not_before=now - timedelta(days=400),
        not_after=now - timedelta(days=10),
    )


@pytest.fixture(scope="session")
def foreign_intermediate_ca() -> Issued:
    """An intermediate with the same name as ours but from a different CA (and key)."""
    foreign_root = build_certificate(
        "Other Root CA", ec.generate_private_key(ec.SECP256R1()), is_ca=True
    )
    return build_certificate(
        "Example Intermediate CA",
        ec.generate_private_key(ec.SECP256R1()),
        foreign_root,
        is_ca=True,
        organization="Example Trust",
    )


@pytest.fixture(scope="session")
def unrelated_ca() -> Issued:
    return build_certificate(
        "Unrelated Root CA", ec.generate_private_key(ec.SECP256R1()), is_ca=True
    )


# --- the local certificate authority (certificates/pki/ca.py) ---------------------------

CA_BASE_URL = "http://pki.example.test"
CA_SLUG = "digicert"


@pytest.fixture(scope="session")
def ca_now() -> datetime:
    """The CAs' start: the real time, so that openssl accepts what they sign today."""
    return datetime.now(UTC).replace(microsecond=0)


@pytest.fixture(scope="session")
def ec_p384_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP384R1())


@pytest.fixture(scope="session")
def local_root(ca_now: datetime):
    from certificates.pki.ca import create_root_ca, local_ca_names

    names = local_ca_names("DigiCert")
    return create_root_ca(
        common_name=names.root_common_name,
        organization=names.organization,
        now=ca_now,
        country="US",
    )


@pytest.fixture(scope="session")
def local_issuing(local_root, ca_now: datetime):
    from certificates.pki.ca import create_issuing_ca, local_ca_names

    names = local_ca_names("DigiCert")
    return create_issuing_ca(
        local_root,
        common_name=names.issuing_common_name,
        organization=names.organization,
        now=ca_now,
        base_url=CA_BASE_URL,
        slug=CA_SLUG,
        country="US",
    )


@pytest.fixture(scope="session")
def issue_leaf(local_issuing, ca_now: datetime, ec_key) -> Callable[..., x509.Certificate]:
    """issue_certificate from the local issuing CA, with DV defaults any argument can override."""
    from certificates.pki.ca import issue_certificate

    def issue(**overrides) -> x509.Certificate:
        arguments = {
            "csr_public_key": ec_key.public_key(),
            "domains": ["www.example.com", "example.com"],
            "validation_type": "DV",
            "subject": None,
            "now": ca_now,
            "validity_days": 199,
            "base_url": CA_BASE_URL,
            "ca_slug": CA_SLUG,
        }
        arguments.update(overrides)
        issuer = arguments.pop("issuer", local_issuing)
        return issue_certificate(issuer, **arguments)

    return issue


@pytest.fixture
def openssl(tmp_path):
    """The openssl command line, run in a scratch directory; skips the test without it."""
    from tests.pki.openssl_cli import OpenSSL

    if not OpenSSL.available():
        pytest.skip("the openssl command line is not installed")
    return OpenSSL(tmp_path)
