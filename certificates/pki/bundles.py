"""Build the zip that a customer downloads to install an issued certificate on a server.

One zip per server type, each with the files that server's configuration expects and a short
README.txt saying where they go. Tomcat and IIS get keystores (PKCS#12, and for Tomcat also a
Java KeyStore) protected by a password that comes in the zip; those need the private key, which
the console only has when it generated the key itself.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import secrets
import stat
import string
import struct
import textwrap
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from certificates.pki.errors import KeyMismatchError, PKIError
from certificates.pki.i18n import N_, render
from certificates.pki.parsing import (
    PrivateKey,
    certificate_matches_key,
    certificate_to_pem,
    certificates_to_pem,
    private_key_to_pem,
)

# The servers a download is made for: the key in its URL, and the name customers see.
SERVER_TYPE_NAMES: dict[str, str] = {
    "nginx": "Nginx",
    "apache": "Apache",
    "tomcat": "Tomcat",
    "iis": "IIS",
    "other": N_("Other"),
}
SERVER_TYPES = tuple(SERVER_TYPE_NAMES)

# Server types whose files are keystores, which can't be made without the private key.
KEYSTORE_SERVER_TYPES = frozenset({"tomcat", "iis"})

JKS_ALIAS = "tomcat"

MIN_PASSWORD_LENGTH = 8


class BundleNeedsKeyError(PKIError):
    default_message = N_(
        "This certificate was requested with your own CSR, so the console has no private key "
        "to put in a .pfx/.jks: download the Nginx, Apache or Other bundle and build the "
        "keystore with your key."
    )


@dataclass(frozen=True)
class _Material:
    """What goes into a bundle, with the safe file name stem worked out once."""

    stem: str
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...]
    private_key: PrivateKey | None
    password: str


@dataclass(frozen=True)
class _File:
    name: str
    content: bytes
    # Keys and passwords are unpacked readable by their owner only.
    secret: bool = False


def build_bundle(
    server_type: str,
    *,
    name: str,
    certificate: x509.Certificate,
    chain: Sequence[x509.Certificate],
    private_key: PrivateKey | None = None,
    password: str | None = None,
) -> bytes:
    """Return the download zip for one server type.

    ``chain`` is the intermediate certificates, the leaf's issuer first, as the server should
    send them. ``name`` (usually the first domain) becomes the file names, made safe. The
    ``password`` protects the Tomcat and IIS keystores; one is generated when it is not given.

    Raises ValueError for an unknown server type or an unusable password, BundleNeedsKeyError
    for Tomcat or IIS without a private key, and KeyMismatchError when the key is not the
    certificate's.
    """
    if server_type not in SERVER_TYPES:
        raise ValueError(
            f"Unknown server type {server_type!r}; expected one of {', '.join(SERVER_TYPES)}."
        )
    if private_key is None and server_type in KEYSTORE_SERVER_TYPES:
        raise BundleNeedsKeyError()
    if private_key is not None and not certificate_matches_key(certificate, private_key):
        raise KeyMismatchError(
            N_("The private key does not match the certificate, so it can't go in the download.")
        )
    if password is None:
        password = generate_password()
    else:
        check_password(password)

    material = _Material(
        stem=safe_file_name(name),
        certificate=certificate,
        chain=tuple(chain),
        private_key=private_key,
        password=password,
    )
    files = _FILE_BUILDERS[server_type](material)
    readme = _File("README.txt", _readme(server_type, material, files).encode("utf-8"))
    return _zip([readme, *files], _zip_timestamp(certificate))


def generate_password(length: int = 16) -> str:
    """Return a random password of letters and digits, easy to paste into any config file."""
    if length < MIN_PASSWORD_LENGTH:
        raise ValueError(f"A password needs at least {MIN_PASSWORD_LENGTH} characters.")
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(length))


def check_password(password: str) -> None:
    """Raise ValueError for a keystore password that some server would read differently.

    Java, OpenSSL and Windows turn non-ASCII passwords into bytes in different ways, and
    spaces get lost when copied into config files, so only printable ASCII is accepted.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"A keystore password needs at least {MIN_PASSWORD_LENGTH} characters.")
    if not all(33 <= ord(char) <= 126 for char in password):
        raise ValueError("A keystore password may only hold printable ASCII without spaces.")


def safe_file_name(name: str) -> str:
    """Return ``name`` as a file name stem that is safe on any system: "*.a.com" -> "_.a.com"."""
    stem = re.sub(r"[^A-Za-z0-9._-]", "_", name.strip())
    # No hidden files, no "..", and a name Windows can still open.
    stem = stem.lstrip(".")[:100].rstrip(".")
    return stem or "certificate"


# --- Files per server type --------------------------------------------------------------


def _nginx_files(material: _Material) -> list[_File]:
    full_chain = certificate_to_pem(material.certificate) + certificates_to_pem(material.chain)
    return [_File(f"{material.stem}.pem", full_chain.encode("ascii")), *_key_file(material)]


def _apache_files(material: _Material) -> list[_File]:
    files = [_File(f"{material.stem}_public.crt", _leaf_pem(material))]
    if material.chain:
        files.append(_File(f"{material.stem}_chain.crt", _chain_pem(material)))
    return files + _key_file(material)


def _tomcat_files(material: _Material) -> list[_File]:
    password = material.password.encode("ascii")
    return [
        _File(f"{material.stem}.pfx", _pkcs12(material), secret=True),
        _File("pfx-password.txt", password, secret=True),
        _File(f"{material.stem}.jks", _jks(material), secret=True),
        _File("jks-password.txt", password, secret=True),
    ]


def _iis_files(material: _Material) -> list[_File]:
    return [
        _File(f"{material.stem}.pfx", _pkcs12(material), secret=True),
        _File("pfx-password.txt", material.password.encode("ascii"), secret=True),
    ]


def _other_files(material: _Material) -> list[_File]:
    files = [_File(f"{material.stem}.pem", _leaf_pem(material))]
    if material.chain:
        files.append(_File(f"{material.stem}_chain.pem", _chain_pem(material)))
    der = material.certificate.public_bytes(serialization.Encoding.DER)
    files.append(_File(f"{material.stem}.der", der))
    return files + _key_file(material)


_FILE_BUILDERS: dict[str, Callable[[_Material], list[_File]]] = {
    "nginx": _nginx_files,
    "apache": _apache_files,
    "tomcat": _tomcat_files,
    "iis": _iis_files,
    "other": _other_files,
}


def _leaf_pem(material: _Material) -> bytes:
    return certificate_to_pem(material.certificate).encode("ascii")


def _chain_pem(material: _Material) -> bytes:
    return certificates_to_pem(material.chain).encode("ascii")


def _key_file(material: _Material) -> list[_File]:
    if material.private_key is None:
        return []
    pem = private_key_to_pem(material.private_key).encode("ascii")
    return [_File(f"{material.stem}.key", pem, secret=True)]


def _pkcs12(material: _Material) -> bytes:
    assert material.private_key is not None
    return build_pkcs12(
        name=material.stem,
        private_key=material.private_key,
        certificate=material.certificate,
        chain=material.chain,
        password=material.password,
    )


def _jks(material: _Material) -> bytes:
    assert material.private_key is not None
    return build_jks(
        alias=JKS_ALIAS,
        private_key=material.private_key,
        certificates=[material.certificate, *material.chain],
        password=material.password,
        created=material.certificate.not_valid_before_utc,
    )


# --- README -----------------------------------------------------------------------------


def _readme(server_type: str, material: _Material, files: Sequence[_File]) -> str:
    stem = material.stem
    # In the active language: the reader's, when the console builds the zip for them.
    server = render(_SERVER_NAMES[server_type], {})
    paragraphs = [
        render(
            N_("SSL certificate for %(stem)s: files for %(server)s"),
            {"stem": stem, "server": server},
        ),
        render(N_("Files:"), {}) + "\n" + "\n".join(f"    {file.name}" for file in files),
        *(render(text, {}).format(stem=stem) for text in _INSTRUCTIONS[server_type]),
    ]
    if material.private_key is None:
        paragraphs.append(
            render(
                N_(
                    "%(stem)s.key is not in this zip: this certificate was requested with your "
                    "own CSR, so use the private key you generated together with that CSR in its "
                    "place."
                ),
                {"stem": stem},
            )
        )
    elif server_type in KEYSTORE_SERVER_TYPES:
        paragraphs.append(
            render(
                N_(
                    "Keep the keystores and the password secret: together they give away your "
                    "private key."
                ),
                {},
            )
        )
    else:
        paragraphs.append(
            render(
                N_("Keep %(stem)s.key secret: anyone who has it can pose as your site."),
                {"stem": stem},
            )
        )
    return "\n\n".join(_wrap(paragraph) for paragraph in paragraphs) + "\n"


def _wrap(paragraph: str) -> str:
    if paragraph.startswith(" ") or "\n" in paragraph:
        return paragraph
    return textwrap.fill(paragraph, width=78, break_long_words=False, break_on_hyphens=False)


_SERVER_NAMES = {
    "nginx": "Nginx",
    "apache": "Apache",
    "tomcat": "Tomcat",
    "iis": "IIS",
    "other": N_("other servers"),
}

# Paragraphs are reflowed once the file names are filled in; indented lines are kept as is.
_INSTRUCTIONS = {
    "nginx": (
        N_(
            "{stem}.pem holds your certificate followed by the intermediate certificates (the "
            "full chain) and {stem}.key its private key. Copy both to the server, for example to "
            "/etc/nginx/ssl/, and in the server block that listens on 443 with ssl set:"
        ),
        "    ssl_certificate     /etc/nginx/ssl/{stem}.pem;\n"
        "    ssl_certificate_key /etc/nginx/ssl/{stem}.key;",
        N_('Check the configuration with "nginx -t", then reload nginx.'),
    ),
    "apache": (
        N_(
            "{stem}_public.crt is your certificate, {stem}_chain.crt the intermediate "
            "certificates and {stem}.key the private key. Copy them to the server and, in the "
            "<VirtualHost *:443> of your site, point SSLCertificateFile at {stem}_public.crt, "
            "SSLCertificateChainFile at {stem}_chain.crt and SSLCertificateKeyFile at {stem}.key. "
            "(Apache 2.4.8 and later also accept the certificate and the chain together in the "
            "SSLCertificateFile file, without SSLCertificateChainFile.) "
            'Check with "apachectl configtest", then reload Apache.'
        ),
    ),
    "tomcat": (
        N_(
            "The same private key and certificate chain come in two keystores: {stem}.pfx "
            '(PKCS#12) and {stem}.jks (Java KeyStore, alias "tomcat"). Both use the same '
            "password, which is in pfx-password.txt and again in jks-password.txt."
        ),
        N_(
            "Copy one keystore to Tomcat's conf directory and, on the HTTPS Connector in "
            "conf/server.xml, set keystoreFile to it, keystorePass to the password and "
            "keystoreType to PKCS12 (for the .pfx) or JKS (for the .jks). In Tomcat 8.5 and "
            "later, if you configure the <Certificate> element instead, the same settings are "
            "called certificateKeystoreFile, certificateKeystorePassword and "
            "certificateKeystoreType. Then restart Tomcat. If your Java can't open the .pfx, "
            "use the .jks."
        ),
    ),
    "iis": (
        N_(
            "{stem}.pfx holds your certificate, the intermediate certificates and the private "
            "key; its password is in pfx-password.txt. In IIS Manager select the server, open "
            "Server Certificates, choose Import..., pick {stem}.pfx and enter the password. "
            "Then, in your site's Bindings..., add or edit the https binding and select the "
            "imported certificate. The .pfx is protected with AES-256, which Windows Server "
            "2019 and later can import."
        ),
    ),
    "other": (
        N_(
            "{stem}.pem is your certificate in PEM format, {stem}_chain.pem the intermediate "
            "certificates, {stem}.der the certificate in binary DER format and {stem}.key the "
            "private key (PKCS#8 PEM, not encrypted). Use the files your server's documentation "
            "asks for. Most servers want the certificate followed by the chain in one file, "
            "which you can make with:"
        ),
        "    cat {stem}.pem {stem}_chain.pem > fullchain.pem",
    ),
}


# --- Zip --------------------------------------------------------------------------------


def _zip(files: Sequence[_File], timestamp: tuple[int, int, int, int, int, int]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for file in files:
            info = zipfile.ZipInfo(file.name, date_time=timestamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            # Unix permissions are only honoured when the entry says it was made on Unix.
            info.create_system = 3
            info.external_attr = (stat.S_IFREG | (0o600 if file.secret else 0o644)) << 16
            archive.writestr(info, file.content)
    return buffer.getvalue()


def _zip_timestamp(certificate: x509.Certificate) -> tuple[int, int, int, int, int, int]:
    # The issuance date rather than "now", so that the same certificate gives the same files;
    # zip dates can only hold the years 1980 to 2107.
    when = certificate.not_valid_before_utc
    year = min(max(when.year, 1980), 2107)
    return (year, when.month, when.day, when.hour, when.minute, when.second)


# --- PKCS#12 ----------------------------------------------------------------------------


def build_pkcs12(
    *,
    name: str,
    private_key: PrivateKey,
    certificate: x509.Certificate,
    chain: Sequence[x509.Certificate],
    password: str,
) -> bytes:
    """Return a PKCS#12 (.pfx) with the key, the certificate and its chain.

    AES-256-CBC (PBES2) with a SHA-256 MAC rather than the legacy RC2/3DES that older tools
    default to; OpenSSL 3, current Java and Windows Server 2019 and later read it.
    """
    encryption = (
        serialization.PrivateFormat.PKCS12.encryption_builder()
        .key_cert_algorithm(pkcs12.PBES.PBESv2SHA256AndAES256CBC)
        .hmac_hash(hashes.SHA256())
        .build(password.encode("utf-8"))
    )
    return pkcs12.serialize_key_and_certificates(
        name.encode("utf-8"), private_key, certificate, list(chain) or None, encryption
    )


# --- Java KeyStore ----------------------------------------------------------------------
#
# The JKS format, as Sun's JavaKeyStore writes it (all integers big-endian):
#
#   magic 0xFEEDFEED, version 2, number of entries
#   per private key entry: tag 1, alias (Java writeUTF), creation time in milliseconds,
#     the protected key (length + bytes), the number of certificates, and per certificate
#     its type "X.509" (writeUTF) and its DER (length + bytes)
#   SHA-1 of (password as UTF-16BE + "Mighty Aphrodite" + everything above)
#
# The key is protected with Sun's KeyProtector: a SHA-1 keystream XORed over the PKCS#8 key,
# wrapped in an EncryptedPrivateKeyInfo with Sun's algorithm OID 1.3.6.1.4.1.42.2.17.1.1.
# Weak by today's standards, which is why the PKCS#12 comes first; the .jks is for old Java.

JKS_MAGIC = 0xFEEDFEED
JKS_VERSION = 2
JKS_PRIVATE_KEY_TAG = 1
JKS_WHITENER = b"Mighty Aphrodite"
JKS_KEY_PROTECTOR_OID = "1.3.6.1.4.1.42.2.17.1.1"

# DER AlgorithmIdentifier { JKS_KEY_PROTECTOR_OID, NULL }, as Java writes it.
_JKS_KEY_PROTECTOR_ALGORITHM = bytes.fromhex("300e060a2b060104012a021101010500")
_SHA1_LENGTH = 20


def build_jks(
    *,
    alias: str,
    private_key: PrivateKey,
    certificates: Sequence[x509.Certificate],
    password: str,
    created: datetime,
) -> bytes:
    """Return a Java KeyStore with one private key entry: the key and its chain, leaf first.

    The key and the keystore are protected by the same password, as Tomcat expects.
    """
    pkcs8 = private_key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    protected_key = _der_sequence(
        _JKS_KEY_PROTECTOR_ALGORITHM + _der_octet_string(jks_protect_key(pkcs8, password))
    )
    parts = [
        struct.pack(">IIi", JKS_MAGIC, JKS_VERSION, 1),
        struct.pack(">i", JKS_PRIVATE_KEY_TAG),
        _java_utf(alias.lower()),
        struct.pack(">q", int(created.timestamp() * 1000)),
        _length_prefixed(protected_key),
        struct.pack(">i", len(certificates)),
    ]
    for certificate in certificates:
        parts.append(_java_utf("X.509"))
        parts.append(_length_prefixed(certificate.public_bytes(serialization.Encoding.DER)))
    body = b"".join(parts)
    return body + jks_integrity_hash(body, password)


def jks_protect_key(plain_key: bytes, password: str) -> bytes:
    """Encrypt a PKCS#8 key the way sun.security.provider.KeyProtector does.

    Returns salt + (key XOR keystream) + SHA-1(password + key); the last part lets Java tell
    a wrong password from a damaged key.
    """
    password_bytes = _java_password_bytes(password)
    salt = os.urandom(_SHA1_LENGTH)
    keystream = jks_keystream(password_bytes, salt, len(plain_key))
    encrypted = bytes(a ^ b for a, b in zip(plain_key, keystream, strict=True))
    check = hashlib.sha1(password_bytes + plain_key).digest()
    return salt + encrypted + check


def jks_keystream(password_bytes: bytes, salt: bytes, length: int) -> bytes:
    """SHA-1(password + previous block), starting from the salt, cut to ``length`` bytes."""
    blocks = []
    block = salt
    for _ in range(-(-length // _SHA1_LENGTH)):
        block = hashlib.sha1(password_bytes + block).digest()
        blocks.append(block)
    return b"".join(blocks)[:length]


def jks_integrity_hash(body: bytes, password: str) -> bytes:
    return hashlib.sha1(_java_password_bytes(password) + JKS_WHITENER + body).digest()


def _java_password_bytes(password: str) -> bytes:
    # Java hashes the password's chars, two bytes each, high byte first.
    return password.encode("utf-16-be")


def _java_utf(text: str) -> bytes:
    # DataOutputStream.writeUTF: a two-byte length, then modified UTF-8, which is plain
    # ASCII for the aliases and type names written here.
    data = text.encode("ascii")
    return struct.pack(">H", len(data)) + data


def _length_prefixed(data: bytes) -> bytes:
    return struct.pack(">i", len(data)) + data


def _der_sequence(content: bytes) -> bytes:
    return b"\x30" + _der_length(len(content)) + content


def _der_octet_string(content: bytes) -> bytes:
    return b"\x04" + _der_length(len(content)) + content


def _der_length(length: int) -> bytes:
    if length < 0x80:
        return bytes([length])
    encoded = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(encoded)]) + encoded
