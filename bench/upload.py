"""Validating an upload (the PKI core's parse_bundle) beside cryptography alone loading it."""

from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from bench.report import Row, median, timed
from certificates.pki.parsing import parse_bundle


def _issue(name: str, key, issuer=None, issuer_key=None, *, ca: bool) -> x509.Certificate:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=90))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if not ca:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), False)
    return builder.sign(issuer_key or key, hashes.SHA256())


def upload_material() -> tuple[bytes, bytes]:
    """An RSA 2048 leaf with its intermediate (a two-certificate file), and the leaf's key."""
    keys = [rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(3)]
    root = _issue("Bench Root", keys[0], ca=True)
    intermediate = _issue("Bench Intermediate", keys[1], root, keys[0], ca=True)
    leaf = _issue("shop.example.com", keys[2], intermediate, keys[1], ca=False)
    pem = b"".join(cert.public_bytes(serialization.Encoding.PEM) for cert in (leaf, intermediate))
    key = keys[2].private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return pem, key


def measure(*, repeat: int) -> list[Row]:
    pem, key = upload_material()

    def cryptography_alone():
        x509.load_pem_x509_certificates(pem)
        serialization.load_pem_private_key(key, password=None)

    validate = median(timed(lambda: parse_bundle(pem, key), repeat))
    load = median(timed(cryptography_alone, repeat))
    return [
        Row("upload", "validate RSA 2048 + chain of two: median", f"{validate * 1000:.2f} ms"),
        Row("upload", "cryptography alone loading them: median", f"{load * 1000:.2f} ms"),
        Row("upload", "validation / loading", f"{validate / load:.2f}x"),
    ]
