import hashlib
import io
import os
import shutil
import stat
import struct
import subprocess
import zipfile
from dataclasses import dataclass

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from certificates.pki.bundles import (
    SERVER_TYPES,
    BundleNeedsKeyError,
    build_bundle,
    build_jks,
    check_password,
    generate_password,
    safe_file_name,
)
from certificates.pki.errors import KeyMismatchError, PKIError
from certificates.pki.parsing import certificate_matches_key, load_certificates, load_private_key

PASSWORD = "Tr0ub4dor3xYz9Qa"

KEYTOOL = shutil.which("keytool")
OPENSSL = shutil.which("openssl")
needs_keytool = pytest.mark.skipif(KEYTOOL is None, reason="keytool (Java) is not installed")
needs_openssl = pytest.mark.skipif(OPENSSL is None, reason="openssl is not installed")


@pytest.fixture(params=["rsa_leaf", "ec_leaf"])
def leaf(request):
    """Each test that takes `leaf` runs with an RSA and an ECC leaf key."""
    return request.getfixturevalue(request.param)


@pytest.fixture(params=["rsa_leaf", "ec_leaf", "ed25519_leaf"])
def any_leaf(request):
    return request.getfixturevalue(request.param)


@pytest.fixture
def chain(intermediate_ca):
    return [intermediate_ca.cert]


def make_bundle(server_type, leaf, chain, *, with_key=True, password=PASSWORD, name=None):
    return build_bundle(
        server_type,
        name=name or "www.example.com",
        certificate=leaf.cert,
        chain=chain,
        private_key=leaf.key if with_key else None,
        password=password,
    )


def unzip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        return {name: archive.read(name) for name in archive.namelist()}


def der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def same_private_key(a, b) -> bool:
    return a.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ) == b.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


# --- PEM bundles ------------------------------------------------------------------------


def test_server_types():
    assert SERVER_TYPES == ("nginx", "apache", "tomcat", "iis", "other")


def test_nginx_has_full_chain_and_key(leaf, chain):
    files = unzip(make_bundle("nginx", leaf, chain))

    assert list(files) == ["README.txt", "www.example.com.pem", "www.example.com.key"]
    assert load_certificates(files["www.example.com.pem"]) == [leaf.cert, *chain]
    key_pem = files["www.example.com.key"].decode()
    assert key_pem.startswith("-----BEGIN PRIVATE KEY-----\n")
    assert certificate_matches_key(leaf.cert, load_private_key(key_pem))


def test_apache_has_certificate_chain_and_key(leaf, chain):
    files = unzip(make_bundle("apache", leaf, chain))

    assert list(files) == [
        "README.txt",
        "www.example.com_public.crt",
        "www.example.com_chain.crt",
        "www.example.com.key",
    ]
    assert load_certificates(files["www.example.com_public.crt"]) == [leaf.cert]
    assert load_certificates(files["www.example.com_chain.crt"]) == chain
    assert certificate_matches_key(leaf.cert, load_private_key(files["www.example.com.key"]))


def test_other_has_pem_chain_der_and_key(leaf, chain):
    files = unzip(make_bundle("other", leaf, chain))

    assert list(files) == [
        "README.txt",
        "www.example.com.pem",
        "www.example.com_chain.pem",
        "www.example.com.der",
        "www.example.com.key",
    ]
    assert load_certificates(files["www.example.com.pem"]) == [leaf.cert]
    assert load_certificates(files["www.example.com_chain.pem"]) == chain
    assert x509.load_der_x509_certificate(files["www.example.com.der"]) == leaf.cert
    assert certificate_matches_key(leaf.cert, load_private_key(files["www.example.com.key"]))


def test_chain_keeps_its_order_leaf_first(rsa_leaf, intermediate_ca, root_ca):
    files = unzip(make_bundle("nginx", rsa_leaf, [intermediate_ca.cert, root_ca.cert]))

    certificates = load_certificates(files["www.example.com.pem"])
    assert certificates == [rsa_leaf.cert, intermediate_ca.cert, root_ca.cert]
    for certificate, issuer in zip(certificates, certificates[1:], strict=False):
        certificate.verify_directly_issued_by(issuer)


def test_empty_chain_leaves_out_the_chain_files(self_signed_leaf):
    assert list(unzip(make_bundle("apache", self_signed_leaf, []))) == [
        "README.txt",
        "www.example.com_public.crt",
        "www.example.com.key",
    ]
    assert "www.example.com_chain.pem" not in unzip(make_bundle("other", self_signed_leaf, []))


# --- Without a private key (the customer's own CSR) -------------------------------------


@pytest.mark.parametrize(
    ("server_type", "names"),
    [
        ("nginx", ["README.txt", "www.example.com.pem"]),
        ("apache", ["README.txt", "www.example.com_public.crt", "www.example.com_chain.crt"]),
        (
            "other",
            [
                "README.txt",
                "www.example.com.pem",
                "www.example.com_chain.pem",
                "www.example.com.der",
            ],
        ),
    ],
)
def test_without_key_only_certificates(server_type, names, rsa_leaf, chain):
    files = unzip(make_bundle(server_type, rsa_leaf, chain, with_key=False))

    assert list(files) == names
    readme = " ".join(files["README.txt"].decode().split())
    assert "www.example.com.key is not in this zip" in readme
    assert "requested with your own CSR" in readme
    assert not any(b"PRIVATE KEY" in content for content in files.values())


@pytest.mark.parametrize("server_type", ["tomcat", "iis"])
def test_keystores_without_key_are_refused(server_type, rsa_leaf, chain):
    with pytest.raises(BundleNeedsKeyError) as raised:
        make_bundle(server_type, rsa_leaf, chain, with_key=False)

    assert isinstance(raised.value, PKIError)
    assert raised.value.message == (
        "This certificate was requested with your own CSR, so the console has no private key "
        "to put in a .pfx/.jks: download the Nginx, Apache or Other bundle and build the "
        "keystore with your key."
    )


# --- Refusals ---------------------------------------------------------------------------


def test_unknown_server_type(rsa_leaf, chain):
    with pytest.raises(ValueError, match="Unknown server type 'caddy'"):
        make_bundle("caddy", rsa_leaf, chain)


def test_key_of_another_certificate_is_refused(rsa_leaf, ec_leaf, chain):
    with pytest.raises(KeyMismatchError):
        build_bundle(
            "nginx",
            name="www.example.com",
            certificate=rsa_leaf.cert,
            chain=chain,
            private_key=ec_leaf.key,
        )


@pytest.mark.parametrize("password", ["short1", "has a space", "pässwörter", "tab\there12"])
def test_unusable_passwords_are_refused(password, rsa_leaf, chain):
    with pytest.raises(ValueError):
        check_password(password)
    with pytest.raises(ValueError):
        make_bundle("iis", rsa_leaf, chain, password=password)


# --- Names, order, permissions ----------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "stem"),
    [
        ("www.example.com", "www.example.com"),
        ("*.example.com", "_.example.com"),
        ("../../etc/passwd", "_.._etc_passwd"),
        ("a b\\c:d", "a_b_c_d"),
        ("...", "certificate"),
        ("", "certificate"),
        ("x" * 300, "x" * 100),
    ],
)
def test_safe_file_name(name, stem):
    assert safe_file_name(name) == stem


def test_wildcard_name_in_file_names(rsa_leaf, chain):
    files = unzip(make_bundle("nginx", rsa_leaf, chain, name="*.example.com"))

    assert list(files) == ["README.txt", "_.example.com.pem", "_.example.com.key"]


def test_same_input_gives_the_same_zip(rsa_leaf, chain):
    # Without a keystore nothing is random, so the zip is byte for byte the same.
    assert make_bundle("other", rsa_leaf, chain) == make_bundle("other", rsa_leaf, chain)


def test_zip_entries_date_and_permissions(rsa_leaf, chain):
    with zipfile.ZipFile(io.BytesIO(make_bundle("tomcat", rsa_leaf, chain))) as archive:
        infos = {info.filename: info for info in archive.infolist()}

    issued = rsa_leaf.cert.not_valid_before_utc
    for info in infos.values():
        assert info.date_time[:3] == (issued.year, issued.month, issued.day)
    mode = {name: info.external_attr >> 16 for name, info in infos.items()}
    assert all(stat.S_ISREG(value) for value in mode.values())
    mode = {name: stat.S_IMODE(value) for name, value in mode.items()}
    assert mode["README.txt"] == 0o644
    assert mode["www.example.com.pfx"] == mode["pfx-password.txt"] == 0o600
    assert mode["www.example.com.jks"] == mode["jks-password.txt"] == 0o600


@pytest.mark.parametrize(
    ("server_type", "words"),
    [
        ("nginx", ["ssl_certificate ", "ssl_certificate_key", "www.example.com.pem"]),
        (
            "apache",
            ["SSLCertificateFile", "SSLCertificateChainFile", "SSLCertificateKeyFile"],
        ),
        ("tomcat", ["Connector", "keystoreFile", "keystorePass", "keystoreType", '"tomcat"']),
        ("iis", ["IIS Manager", "Import", "pfx-password.txt"]),
        ("other", ["www.example.com.der", "www.example.com_chain.pem"]),
    ],
)
def test_readme_explains_the_files(server_type, words, rsa_leaf, chain):
    readme = unzip(make_bundle(server_type, rsa_leaf, chain))["README.txt"].decode()

    for word in words:
        assert word in readme
    assert max(len(line) for line in readme.splitlines()) <= 80


# --- Passwords --------------------------------------------------------------------------


def test_generate_password():
    passwords = {generate_password() for _ in range(20)}

    assert len(passwords) == 20
    for password in passwords:
        assert len(password) == 16
        assert password.isascii() and password.isalnum()
        check_password(password)
    assert len(generate_password(32)) == 32
    with pytest.raises(ValueError):
        generate_password(4)


def test_password_is_generated_when_not_given(rsa_leaf, chain):
    files = unzip(make_bundle("iis", rsa_leaf, chain, password=None))

    password = files["pfx-password.txt"].decode()
    assert len(password) == 16 and password.isalnum()
    key, _, _ = pkcs12.load_key_and_certificates(files["www.example.com.pfx"], password.encode())
    assert same_private_key(key, rsa_leaf.key)


# --- PKCS#12 ----------------------------------------------------------------------------


def check_pfx(pfx: bytes, password: bytes, leaf, chain) -> None:
    key, certificate, additional = pkcs12.load_key_and_certificates(pfx, password)
    assert same_private_key(key, leaf.key)
    assert certificate == leaf.cert
    assert additional == chain


@pytest.mark.parametrize("server_type", ["tomcat", "iis"])
def test_pfx_holds_key_leaf_and_chain(server_type, any_leaf, chain):
    files = unzip(make_bundle(server_type, any_leaf, chain))

    assert files["pfx-password.txt"] == PASSWORD.encode()
    check_pfx(files["www.example.com.pfx"], files["pfx-password.txt"], any_leaf, chain)


def test_iis_bundle_files(rsa_leaf, chain):
    assert list(unzip(make_bundle("iis", rsa_leaf, chain))) == [
        "README.txt",
        "www.example.com.pfx",
        "pfx-password.txt",
    ]


def test_tomcat_bundle_files(rsa_leaf, chain):
    files = unzip(make_bundle("tomcat", rsa_leaf, chain))

    assert list(files) == [
        "README.txt",
        "www.example.com.pfx",
        "pfx-password.txt",
        "www.example.com.jks",
        "jks-password.txt",
    ]
    assert files["jks-password.txt"] == files["pfx-password.txt"] == PASSWORD.encode()


def test_pfx_wrong_password_fails(rsa_leaf, chain):
    pfx = unzip(make_bundle("iis", rsa_leaf, chain))["www.example.com.pfx"]

    with pytest.raises(ValueError):
        pkcs12.load_key_and_certificates(pfx, b"not-the-password")


@needs_openssl
def test_openssl_reads_the_pfx_with_aes_256(leaf, chain, tmp_path):
    path = tmp_path / "bundle.pfx"
    path.write_bytes(unzip(make_bundle("iis", leaf, chain))["www.example.com.pfx"])

    def openssl_pkcs12(password, *options):
        command = [OPENSSL, "pkcs12", "-in", str(path), "-passin", f"pass:{password}", "-noout"]
        return subprocess.run([*command, *options], capture_output=True, text=True, timeout=60)

    assert openssl_pkcs12(PASSWORD).returncode == 0
    info = openssl_pkcs12(PASSWORD, "-info")
    assert info.returncode == 0, info.stderr
    # -info prints to stderr in OpenSSL 3.
    report = info.stdout + info.stderr
    assert "MAC: sha256" in report
    assert "Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC" in report
    assert "PKCS7 Encrypted data: PBES2, PBKDF2, AES-256-CBC" in report
    assert openssl_pkcs12("wrong-password").returncode != 0


# --- Java KeyStore: read back in Python -------------------------------------------------


@dataclass
class JKSEntry:
    alias: str
    created_ms: int
    protected_key: bytes
    certificates: list[bytes]


def read_der(data: bytes, offset: int = 0) -> tuple[int, bytes, int]:
    """Return (tag, content, offset after the element) for the DER element at offset."""
    tag, length = data[offset], data[offset + 1]
    offset += 2
    if length & 0x80:
        size = length & 0x7F
        length = int.from_bytes(data[offset : offset + size], "big")
        offset += size
    return tag, data[offset : offset + length], offset + length


class JKSReader:
    """An independent reader for the JKS layout, following Sun's JavaKeyStore.engineLoad."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.offset = 0

    def take(self, size: int) -> bytes:
        chunk = self.data[self.offset : self.offset + size]
        assert len(chunk) == size, "truncated keystore"
        self.offset += size
        return chunk

    def int32(self) -> int:
        return struct.unpack(">i", self.take(4))[0]

    def utf(self) -> str:
        (length,) = struct.unpack(">H", self.take(2))
        return self.take(length).decode("utf-8")

    def read(self, password: str) -> list[JKSEntry]:
        assert self.take(4) == bytes.fromhex("feedfeed")
        assert self.int32() == 2
        entries = [self.entry() for _ in range(self.int32())]
        body, digest = self.data[: self.offset], self.take(20)
        assert self.offset == len(self.data)
        expected = hashlib.sha1(password.encode("utf-16-be") + b"Mighty Aphrodite" + body).digest()
        if digest != expected:
            raise ValueError("Keystore was tampered with, or password was incorrect")
        return entries

    def entry(self) -> JKSEntry:
        assert self.int32() == 1, "not a private key entry"
        alias = self.utf()
        (created_ms,) = struct.unpack(">q", self.take(8))
        protected_key = self.take(self.int32())
        certificates = []
        for _ in range(self.int32()):
            assert self.utf() == "X.509"
            certificates.append(self.take(self.int32()))
        return JKSEntry(alias, created_ms, protected_key, certificates)


def jks_recover_key(protected_key: bytes, password: str) -> bytes:
    """Undo sun.security.provider.KeyProtector.protect and return the PKCS#8 DER."""
    tag, info, end = read_der(protected_key)
    assert tag == 0x30 and end == len(protected_key)
    tag, algorithm, offset = read_der(info)
    assert tag == 0x30
    _, oid, _ = read_der(algorithm)
    assert oid == bytes.fromhex("2b060104012a02110101")  # 1.3.6.1.4.1.42.2.17.1.1
    tag, blob, _ = read_der(info, offset)
    assert tag == 0x04

    salt, encrypted, check = blob[:20], blob[20:-20], blob[-20:]
    password_bytes = password.encode("utf-16-be")
    keystream, digest = b"", salt
    while len(keystream) < len(encrypted):
        digest = hashlib.sha1(password_bytes + digest).digest()
        keystream += digest
    plain = bytes(a ^ b for a, b in zip(encrypted, keystream, strict=False))
    if hashlib.sha1(password_bytes + plain).digest() != check:
        raise ValueError("Cannot recover key")
    return plain


def test_jks_reads_back_in_python(any_leaf, chain):
    jks = unzip(make_bundle("tomcat", any_leaf, chain))["www.example.com.jks"]

    [entry] = JKSReader(jks).read(PASSWORD)

    assert entry.alias == "tomcat"
    assert entry.created_ms == int(any_leaf.cert.not_valid_before_utc.timestamp() * 1000)
    assert entry.certificates == [der(any_leaf.cert), *(der(cert) for cert in chain)]
    key = serialization.load_der_private_key(jks_recover_key(entry.protected_key, PASSWORD), None)
    assert same_private_key(key, any_leaf.key)


def test_jks_wrong_password_fails_both_checks(rsa_leaf, chain):
    jks = unzip(make_bundle("tomcat", rsa_leaf, chain))["www.example.com.jks"]

    with pytest.raises(ValueError, match="password was incorrect"):
        JKSReader(jks).read("wrong-password")
    [entry] = JKSReader(jks).read(PASSWORD)
    with pytest.raises(ValueError, match="Cannot recover key"):
        jks_recover_key(entry.protected_key, "wrong-password")


def test_jks_key_protection_uses_a_fresh_salt(rsa_leaf, chain):
    def protected_key():
        jks = build_jks(
            alias="tomcat",
            private_key=rsa_leaf.key,
            certificates=[rsa_leaf.cert, *chain],
            password=PASSWORD,
            created=rsa_leaf.cert.not_valid_before_utc,
        )
        return JKSReader(jks).read(PASSWORD)[0].protected_key

    assert protected_key() != protected_key()


# --- Java's own keytool -----------------------------------------------------------------


def keytool(*arguments: str) -> subprocess.CompletedProcess:
    # English messages whatever the machine's locale, so the assertions can read them.
    command = [KEYTOOL, "-J-Duser.language=en", "-J-Duser.country=US", *arguments]
    env = {**os.environ, "LC_ALL": "C"}
    return subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)


@needs_keytool
def test_keytool_lists_the_jks(leaf, intermediate_ca, root_ca, tmp_path):
    chain = [intermediate_ca.cert, root_ca.cert]
    path = tmp_path / "bundle.jks"
    path.write_bytes(unzip(make_bundle("tomcat", leaf, chain))["www.example.com.jks"])

    listed = keytool(
        "-list", "-v", "-keystore", str(path), "-storepass", PASSWORD, "-storetype", "JKS"
    )

    assert listed.returncode == 0, listed.stdout + listed.stderr
    assert "Keystore type: JKS" in listed.stdout
    assert "Your keystore contains 1 entry" in listed.stdout
    assert "Alias name: tomcat" in listed.stdout
    assert "Entry type: PrivateKeyEntry" in listed.stdout
    assert "Certificate chain length: 3" in listed.stdout

    wrong = keytool(
        "-list", "-keystore", str(path), "-storepass", "wrong-password", "-storetype", "JKS"
    )
    assert wrong.returncode != 0
    assert "password was incorrect" in wrong.stdout + wrong.stderr


@needs_keytool
def test_keytool_decrypts_the_jks_key(any_leaf, chain, tmp_path):
    # Converting to PKCS#12 makes Java recover the key with the JKS algorithm.
    source, target = tmp_path / "bundle.jks", tmp_path / "converted.p12"
    source.write_bytes(unzip(make_bundle("tomcat", any_leaf, chain))["www.example.com.jks"])

    converted = keytool(
        "-importkeystore",
        "-noprompt",
        "-srckeystore", str(source),
        "-srcstoretype", "JKS",
        "-srcstorepass", PASSWORD,
        "-destkeystore", str(target),
        "-deststoretype", "PKCS12",
        "-deststorepass", PASSWORD,
    )  # fmt: skip

    assert converted.returncode == 0, converted.stdout + converted.stderr
    check_pfx(target.read_bytes(), PASSWORD.encode(), any_leaf, chain)


@needs_keytool
def test_keytool_reads_the_pfx(leaf, chain, tmp_path):
    # Tomcat reads the .pfx through Java too, so Java must handle its AES-256 encryption.
    path = tmp_path / "bundle.pfx"
    path.write_bytes(unzip(make_bundle("tomcat", leaf, chain))["www.example.com.pfx"])

    listed = keytool(
        "-list", "-v", "-keystore", str(path), "-storepass", PASSWORD, "-storetype", "PKCS12"
    )

    assert listed.returncode == 0, listed.stdout + listed.stderr
    assert "Entry type: PrivateKeyEntry" in listed.stdout
    assert "Certificate chain length: 2" in listed.stdout
