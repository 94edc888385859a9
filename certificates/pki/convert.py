"""The converter behind the Tools page: DER, PKCS#7 and PKCS#12 files to PEM text."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import partial

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.hazmat.primitives.serialization import pkcs7, pkcs12

from certificates.pki import pbe
from certificates.pki.errors import (
    ConversionError,
    EncryptedKeyError,
    PKIError,
    WrongPasswordError,
)
from certificates.pki.i18n import N_
from certificates.pki.parsing import (
    CERTIFICATE_LABELS,
    CERTIFICATE_READ_ERRORS,
    certificate_matches_key,
    certificates_to_pem,
    check_private_key_der_size,
    checked_private_key,
    load_certificates,
    load_private_key_block,
    private_key_to_pem,
    split_pem,
)

# DER prefixes that identify a container without parsing it: a PKCS#12 PFX starts with
# "version 3" then a SEQUENCE; a PKCS#7 file starts with the signedData OID.
_PKCS12_VERSION_3 = bytes.fromhex("020103") + b"\x30"
_PKCS7_SIGNED_DATA_OID = bytes.fromhex("06092a864886f70d010702")

_PEM_LABEL = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----")


@dataclass(frozen=True)
class ConvertedPEM:
    certificates_pem: str
    private_key_pem: str
    certificate_count: int


def detect_format(data: bytes) -> str:
    """Return "pem", "der", "pkcs7", "pkcs12" or "unknown"."""
    labels = set(_PEM_LABEL.findall(data))
    if labels:
        return "pkcs7" if labels == {b"PKCS7"} else "pem"
    content = _der_sequence_content(data)
    if content is None:
        return "unknown"
    if content.startswith(_PKCS12_VERSION_3):
        return "pkcs12"
    if content.startswith(_PKCS7_SIGNED_DATA_OID):
        return "pkcs7"
    if _is_der_certificate(data) or _is_der_private_key(data):
        return "der"
    return "unknown"


def _der_sequence_content(data: bytes) -> bytes | None:
    """Return what follows the header of an outer DER/BER SEQUENCE, or None."""
    if len(data) < 2 or data[0] != 0x30:
        return None
    length_byte = data[1]
    # Short form and BER's indefinite form (0x80) use one length byte; the long form says
    # how many length bytes follow.
    header_size = 2 if length_byte <= 0x80 else 2 + (length_byte & 0x7F)
    return data[header_size:]


def _is_der_certificate(data: bytes) -> bool:
    try:
        x509.load_der_x509_certificate(data)
    except CERTIFICATE_READ_ERRORS:
        return False
    return True


def _is_der_private_key(data: bytes) -> bool:
    try:
        # Only whether it is a key: cryptography's (slow) checks of an RSA key can wait.
        serialization.load_der_private_key(data, None, unsafe_skip_rsa_key_validation=True)
    except TypeError:
        return True  # encrypted, but a key
    except (ValueError, UnsupportedAlgorithm):
        return False
    return True


def convert_to_pem(
    data: bytes,
    password: str | None = None,
    *,
    max_iterations: int = pbe.DEFAULT_MAX_ITERATIONS,
) -> ConvertedPEM:
    """Convert a DER, PKCS#7, PKCS#12 or PEM file to PEM certificates and a PKCS#8 key.

    The password opens a PKCS#12 file or an encrypted private key; the key comes out
    unencrypted. A file whose password hashing asks for more than max_iterations in all is
    refused with TooManyIterationsError before any key is derived from the password.
    """
    if isinstance(data, str):
        data = data.encode("utf-8")
    if not data.strip():
        raise ConversionError(N_("The file is empty."))
    converters = {
        "pkcs12": _from_pkcs12,
        "pkcs7": _from_pkcs7,
        "der": _from_der,
        "pem": _from_pem,
    }
    converter = converters.get(detect_format(data))
    if converter is None:
        raise ConversionError()
    try:
        return converter(data, password or None, max_iterations)
    except ConversionError:
        raise
    except PKIError as exc:
        # Parsing errors already say what is wrong; the converter only reports them.
        raise ConversionError(exc.template, **exc.params) from None


def _from_pkcs12(data: bytes, password: str | None, max_iterations: int) -> ConvertedPEM:
    secret = password.encode("utf-8") if password else None
    try:
        # OpenSSL derives keys as often as the file asks: read what it asks for first.
        for key in pbe.inspect_pkcs12(data, secret, max_iterations=max_iterations):
            check_private_key_der_size(key)
        p12 = pkcs12.load_pkcs12(data, secret)
    except (WrongPasswordError, *CERTIFICATE_READ_ERRORS, UnsupportedAlgorithm):
        # OpenSSL cannot tell a wrong password from a damaged file.
        if password is None:
            raise WrongPasswordError(
                N_(
                    "Wrong password: this PKCS#12 (.pfx/.p12) file is password-protected. Enter "
                    "its password."
                )
            ) from None
        raise WrongPasswordError() from None
    certificates = [p12.cert.certificate] if p12.cert else []
    certificates += [extra.certificate for extra in p12.additional_certs]
    if p12.key is not None:
        # The certificate of the key first, then its chain (sort is stable).
        certificates.sort(key=lambda cert: not certificate_matches_key(cert, p12.key))
    if not certificates and p12.key is None:
        raise ConversionError(N_("The PKCS#12 (.pfx/.p12) file contains no certificate or key."))
    return _result(certificates, p12.key)


def _from_pkcs7(data: bytes, password: str | None, max_iterations: int) -> ConvertedPEM:
    if _PEM_LABEL.search(data):
        ders = [block.decode() for block in split_pem(data) if block.label == "PKCS7"]
    else:
        ders = [data]
    certificates: list[x509.Certificate] = []
    for der in ders:
        try:
            certificates += pkcs7.load_der_pkcs7_certificates(der)
        except CERTIFICATE_READ_ERRORS:
            raise ConversionError(
                N_("The PKCS#7 (.p7b) file is damaged or contains no certificates.")
            ) from None
    return _result(certificates, None)


def _from_der(data: bytes, password: str | None, max_iterations: int) -> ConvertedPEM:
    if _is_der_certificate(data):
        return _result([x509.load_der_x509_certificate(data)], None)
    return _result([], _load_der_private_key(data, password, max_iterations))


def _load_der_private_key(
    data: bytes, password: str | None, max_iterations: int
) -> PrivateKeyTypes:
    try:
        return checked_private_key(partial(serialization.load_der_private_key, data, None))
    except TypeError:
        if password is None:
            raise WrongPasswordError(
                N_("The private key is encrypted. Enter its password.")
            ) from None
    # Only PKCS#8 encrypts a DER key: read its iteration count before deriving anything.
    pbe.check_encrypted_private_key(data, max_iterations=max_iterations)
    try:
        return checked_private_key(
            partial(serialization.load_der_private_key, data, password.encode("utf-8"))
        )
    except (ValueError, UnsupportedAlgorithm):
        raise WrongPasswordError(N_("Wrong password for the private key.")) from None


def _from_pem(data: bytes, password: str | None, max_iterations: int) -> ConvertedPEM:
    blocks = split_pem(data)
    has_certificates = any(block.label in CERTIFICATE_LABELS for block in blocks)
    certificates = load_certificates(data) if has_certificates else []
    key_blocks = [block for block in blocks if block.is_private_key]
    if len(key_blocks) > 1:
        raise ConversionError(
            N_("The file contains more than one private key. Convert one at a time.")
        )
    key = None
    if key_blocks:
        try:
            key = load_private_key_block(
                key_blocks[0],
                password.encode("utf-8") if password else None,
                max_iterations=max_iterations,
            )
        except EncryptedKeyError as exc:
            if password:
                raise WrongPasswordError(exc.template, **exc.params) from None
            raise WrongPasswordError(
                N_("The private key is encrypted. Enter its password.")
            ) from None
    if not certificates and key is None:
        raise ConversionError(N_("No certificate or private key was found in the PEM text."))
    return _result(certificates, key)


def _result(certificates: list[x509.Certificate], key: PrivateKeyTypes | None) -> ConvertedPEM:
    return ConvertedPEM(
        certificates_pem=certificates_to_pem(certificates),
        private_key_pem=private_key_to_pem(key) if key is not None else "",
        certificate_count=len(certificates),
    )
