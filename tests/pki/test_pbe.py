"""Password-protected files asking for too much password hashing are refused, and fast.

The red team's 1,254-byte PKCS#12 file asked for 2^31-1 iterations in its MAC and held the
converter for 130 s. Every count a file can ask for is read before any key is derived.
"""

import time

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from pyasn1_alt_modules import rfc5652, rfc7292

from certificates.pki import pbe
from certificates.pki.convert import convert_to_pem
from certificates.pki.errors import (
    ConversionError,
    EncryptedKeyError,
    TooManyIterationsError,
    WrongPasswordError,
)
from certificates.pki.parsing import parse_bundle, public_keys_match
from tests.pki import crafted
from tests.pki.crafted import HUGE, pem


def pfx(issued, chain=(), encryption=None) -> bytes:
    encryption = encryption or serialization.BestAvailableEncryption(b"secret")
    return pkcs12.serialize_key_and_certificates(
        b"shop", issued.key, issued.cert, [c.cert for c in chain] or None, encryption
    )


def encrypted_key(key, encoding=serialization.Encoding.DER) -> bytes:
    return key.private_bytes(
        encoding,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"secret"),
    )


def refused_fast(call, error=TooManyIterationsError):
    """The refusal, which must come in well under a second."""
    start = time.perf_counter()
    with pytest.raises(error) as raised:
        call()
    assert time.perf_counter() - start < 1
    return raised.value


def test_the_red_teams_file_is_refused_at_once_with_the_reason(ec_leaf):
    bomb = crafted.with_mac_iterations(pfx(ec_leaf), HUGE)
    assert len(bomb) < 1500  # as small as the one that stopped the server

    error = refused_fast(lambda: convert_to_pem(bomb, "secret"))

    assert "integrity check (MAC)" in error.message
    assert "2,147,483,647 iterations" in error.message
    assert "at most 1,000,000" in error.message


@pytest.mark.parametrize(
    ("craft", "part"),
    [
        (lambda data, key: crafted.with_pbmac1(data, HUGE), "integrity check (MAC)"),
        (
            lambda data, key: crafted.with_part_iterations(
                data, HUGE, kind=rfc5652.id_encryptedData
            ),
            "encrypted part",
        ),
        (
            lambda data, key: crafted.with_part_iterations(
                data, HUGE, kind=rfc7292.id_pkcs8ShroudedKeyBag
            ),
            "private key",
        ),
        (
            # Its count shows only once the part around it is decrypted.
            lambda data, key: crafted.key_hidden_in_encrypted_part(
                crafted.with_key_iterations(encrypted_key(key), HUGE), b"secret"
            ),
            "private key",
        ),
    ],
    ids=["pbmac1-mac", "encrypted-part", "private-key", "key-inside-encrypted-part"],
)
def test_every_iteration_count_of_a_pkcs12_file_is_bounded(ec_leaf, craft, part):
    bomb = craft(pfx(ec_leaf), ec_leaf.key)
    error = refused_fast(lambda: convert_to_pem(bomb, "secret"))
    assert f"The {part} of this file" in error.message
    assert "2,147,483,647" in error.message
    # Without the password too (a part that can't be decrypted hides nothing from OpenSSL).
    refused_fast(lambda: convert_to_pem(bomb, None), ConversionError)


def test_iterations_are_bounded_in_all_not_only_per_part(ec_leaf):
    # Five parts of 300,000 each: none too many alone, 1.5 million together.
    bomb = crafted.key_hidden_in_encrypted_part(
        encrypted_key(ec_leaf.key), b"secret", parts=5, iterations=300_000
    )
    error = refused_fast(lambda: convert_to_pem(bomb, "secret"))
    assert "iterations of password hashing in all" in error.message


def test_the_bound_is_a_parameter_of_the_converter(ec_leaf):
    data = pfx(ec_leaf)  # cryptography: 2,048 for the MAC, 20,000 for each encrypted part
    with pytest.raises(TooManyIterationsError, match="at most 5,000"):
        convert_to_pem(data, "secret", max_iterations=5000)
    assert convert_to_pem(data, "secret", max_iterations=50_000).certificate_count == 1


@pytest.mark.parametrize("encoding", [serialization.Encoding.DER, serialization.Encoding.PEM])
def test_converter_bounds_the_iterations_of_an_encrypted_pkcs8_key(ec_key, encoding):
    bomb = crafted.with_key_iterations(encrypted_key(ec_key), HUGE)
    if encoding == serialization.Encoding.PEM:
        bomb = pem("ENCRYPTED PRIVATE KEY", bomb)
    error = refused_fast(lambda: convert_to_pem(bomb, "secret"))
    assert "The private key of this file" in error.message


def test_converter_bounds_scrypt_by_its_whole_cost(ec_key):
    # N * r * p: a modest N and r with a huge parallelization is as costly as a huge N.
    bomb = crafted.with_kdf(encrypted_key(ec_key), crafted.scrypt(2**14, 8, 2**20))
    refused_fast(lambda: convert_to_pem(bomb, "secret"))


def test_converter_refuses_a_pbkdf2_key_length_no_cipher_uses(ec_key):
    # PBKDF2's work grows with the key length asked for as much as with its iterations.
    bomb = crafted.with_kdf(encrypted_key(ec_key), crafted.pbkdf2(1, key_length=2**30))
    error = refused_fast(lambda: convert_to_pem(bomb, "secret"), ConversionError)
    assert "1,073,741,824-byte key" in error.message


def test_upload_refuses_an_encrypted_key_without_deriving_its_key(ec_leaf):
    bomb = pem(
        "ENCRYPTED PRIVATE KEY", crafted.with_key_iterations(encrypted_key(ec_leaf.key), HUGE)
    )
    refused_fast(lambda: parse_bundle(ec_leaf.cert_pem, bomb), EncryptedKeyError)


def test_check_encrypted_private_key_passes_the_usual_counts(ec_key):
    pbe.check_encrypted_private_key(encrypted_key(ec_key), max_iterations=10_000)
    with pytest.raises(ConversionError, match="damaged"):
        pbe.check_encrypted_private_key(b"\x30\x03\x02\x01\x01", max_iterations=10_000)


# --- What the inspection must still let through ------------------------------------------


def test_pkcs12_with_triple_des_as_macos_and_older_windows_write(rsa_leaf, intermediate_ca):
    data = pfx(rsa_leaf, [intermediate_ca], crafted.triple_des(10_000))
    result = convert_to_pem(data, "secret")
    assert result.certificate_count == 2
    with pytest.raises(WrongPasswordError):
        convert_to_pem(data, "not-the-password")


def test_pkcs12_whose_key_sits_inside_an_encrypted_part(ec_key):
    data = crafted.key_hidden_in_encrypted_part(encrypted_key(ec_key), b"secret")
    result = convert_to_pem(data, "secret")
    assert public_keys_match(
        serialization.load_pem_private_key(result.private_key_pem.encode(), None), ec_key
    )
    with pytest.raises(WrongPasswordError):
        convert_to_pem(data, "not-the-password")


@pytest.fixture
def openssl_files(openssl, ec_leaf):
    if not openssl.available():
        pytest.skip("openssl is not installed")
    openssl.write("cert.pem", ec_leaf.cert_pem)
    openssl.write("key.pem", ec_leaf.key_pem)
    return openssl


def test_pkcs12_from_old_openssl_and_java_with_40_bit_rc2(openssl_files, ec_leaf):
    # OpenSSL 1.x and Java 8 encrypt the certificates with RC2-40 by default.
    result = openssl_files.run(
        "pkcs12", "-export", "-legacy", "-in", "cert.pem", "-inkey", "key.pem",
        "-passout", "pass:secret", "-out", "legacy.p12",
    )  # fmt: skip
    if result.returncode != 0:
        pytest.skip(f"this openssl cannot write legacy files: {result.stdout}")
    data = (openssl_files.directory / "legacy.p12").read_bytes()
    result = convert_to_pem(data, "secret")
    assert result.certificates_pem == ec_leaf.cert_pem
    assert result.private_key_pem == ec_leaf.key_pem


def test_pkcs12_with_an_empty_password_from_openssl(openssl_files, ec_leaf):
    openssl_files.ok(
        "pkcs12", "-export", "-in", "cert.pem", "-inkey", "key.pem",
        "-passout", "pass:", "-out", "empty.p12",
    )  # fmt: skip
    data = (openssl_files.directory / "empty.p12").read_bytes()
    for password in (None, ""):
        assert convert_to_pem(data, password).private_key_pem == ec_leaf.key_pem
