import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs7, pkcs12

from certificates.pki.convert import ConvertedPEM, convert_to_pem, detect_format
from certificates.pki.errors import ConversionError, PKIError
from certificates.pki.parsing import (
    load_certificates,
    load_private_key,
    parse_bundle,
    public_keys_match,
)
from tests.pki_material import build_certificate


def pfx(leaf, chain=(), password: bytes | None = b"secret") -> bytes:
    encryption = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    return pkcs12.serialize_key_and_certificates(
        b"www.example.com", leaf.key, leaf.cert, [c.cert for c in chain] or None, encryption
    )


def p7b(certs, encoding=serialization.Encoding.DER) -> bytes:
    return pkcs7.serialize_certificates([c.cert for c in certs], encoding)


def der(issued) -> bytes:
    return issued.cert.public_bytes(serialization.Encoding.DER)


# --- detect_format ----------------------------------------------------------------------


def test_detect_format_recognises_each_format(rsa_leaf, intermediate_ca):
    assert detect_format(rsa_leaf.cert_pem.encode()) == "pem"
    assert detect_format(der(rsa_leaf)) == "der"
    assert detect_format(p7b([rsa_leaf, intermediate_ca])) == "pkcs7"
    assert detect_format(p7b([rsa_leaf], serialization.Encoding.PEM)) == "pkcs7"
    assert detect_format(pfx(rsa_leaf)) == "pkcs12"
    assert detect_format(pfx(rsa_leaf, password=None)) == "pkcs12"


@pytest.mark.parametrize("data", [b"", b"hello", b"\x30\x03\x02\x01\x00", bytes(range(256))])
def test_detect_format_says_unknown_for_anything_else(data):
    assert detect_format(data) == "unknown"


def test_detect_format_recognises_a_der_private_key(ec_key):
    key_der = ec_key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    assert detect_format(key_der) == "der"


# --- DER and PKCS#7 ---------------------------------------------------------------------


def test_convert_der_certificate(rsa_leaf):
    result = convert_to_pem(der(rsa_leaf))
    assert result == ConvertedPEM(
        certificates_pem=rsa_leaf.cert_pem, private_key_pem="", certificate_count=1
    )


def test_convert_der_private_key(ec_key):
    key_der = ec_key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    result = convert_to_pem(key_der)
    assert result.certificate_count == 0
    assert result.private_key_pem.startswith("-----BEGIN PRIVATE KEY-----")
    assert public_keys_match(load_private_key(result.private_key_pem), ec_key)


def test_convert_encrypted_der_private_key_needs_its_password(ec_key):
    key_der = ec_key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"secret"),
    )
    with pytest.raises(ConversionError, match="Enter its password"):
        convert_to_pem(key_der)
    with pytest.raises(ConversionError, match="Wrong password"):
        convert_to_pem(key_der, "nope")
    result = convert_to_pem(key_der, "secret")
    assert public_keys_match(load_private_key(result.private_key_pem), ec_key)


@pytest.mark.parametrize("encoding", [serialization.Encoding.DER, serialization.Encoding.PEM])
def test_convert_pkcs7_in_der_and_pem_form(rsa_leaf, intermediate_ca, root_ca, encoding):
    data = p7b([rsa_leaf, intermediate_ca, root_ca], encoding)
    result = convert_to_pem(data)
    assert result.certificate_count == 3
    assert result.private_key_pem == ""
    # PKCS#7 stores a SET of certificates, so their order is not kept.
    assert set(load_certificates(result.certificates_pem)) == {
        rsa_leaf.cert,
        intermediate_ca.cert,
        root_ca.cert,
    }


def test_convert_pkcs7_pem_form_with_crlf(rsa_leaf):
    data = p7b([rsa_leaf], serialization.Encoding.PEM).replace(b"\n", b"\r\n")
    assert convert_to_pem(data).certificates_pem == rsa_leaf.cert_pem


def test_convert_pkcs7_pem_form_after_other_text(rsa_leaf):
    data = b"Exported by some tool\n" + p7b([rsa_leaf], serialization.Encoding.PEM)
    assert convert_to_pem(data).certificates_pem == rsa_leaf.cert_pem


def test_convert_rejects_damaged_pkcs7():
    damaged = bytes.fromhex("3080" + "06092a864886f70d010702") + b"\x00" * 8
    with pytest.raises(ConversionError, match=r"PKCS#7 \(\.p7b\) file is damaged"):
        convert_to_pem(damaged)


def test_convert_reports_a_pkcs7_certificate_of_an_unknown_version_as_damage(ec_leaf):
    # Found by tests/pki/test_parse_time_bounds.py: cryptography raises InvalidVersion.
    damaged = p7b([ec_leaf]).replace(bytes.fromhex("a003020102"), bytes.fromhex("a00302017f"), 1)
    with pytest.raises(ConversionError, match="damaged"):
        convert_to_pem(damaged)


# --- PKCS#12 ----------------------------------------------------------------------------


def test_convert_pkcs12_with_the_right_password(rsa_leaf, intermediate_ca, root_ca):
    result = convert_to_pem(pfx(rsa_leaf, [intermediate_ca, root_ca]), "secret")
    assert result.certificate_count == 3
    certificates = load_certificates(result.certificates_pem)
    assert certificates[0] == rsa_leaf.cert
    assert set(certificates[1:]) == {intermediate_ca.cert, root_ca.cert}
    assert result.private_key_pem.startswith("-----BEGIN PRIVATE KEY-----")
    assert public_keys_match(load_private_key(result.private_key_pem), rsa_leaf.key)


def test_convert_pkcs12_output_is_accepted_by_parse_bundle(ec_leaf, intermediate_ca):
    result = convert_to_pem(pfx(ec_leaf, [intermediate_ca]), "secret")
    bundle = parse_bundle(result.certificates_pem, result.private_key_pem)
    assert bundle.leaf == ec_leaf.cert
    assert bundle.chain == (intermediate_ca.cert,)


def test_convert_pkcs12_puts_the_leaf_first_even_when_stored_last(rsa_leaf, intermediate_ca):
    # Some exporters store the key's certificate among the "other" certificates.
    data = pkcs12.serialize_key_and_certificates(
        None,
        rsa_leaf.key,
        None,
        [intermediate_ca.cert, rsa_leaf.cert],
        serialization.BestAvailableEncryption(b"secret"),
    )
    certificates = load_certificates(convert_to_pem(data, "secret").certificates_pem)
    assert certificates == [rsa_leaf.cert, intermediate_ca.cert]


def test_convert_pkcs12_with_a_wrong_password(rsa_leaf):
    with pytest.raises(ConversionError, match="(?i)wrong password"):
        convert_to_pem(pfx(rsa_leaf), "not-the-password")


@pytest.mark.parametrize("password", [None, ""])
def test_convert_pkcs12_without_its_password(rsa_leaf, password):
    with pytest.raises(ConversionError, match="(?i)wrong password.*password-protected"):
        convert_to_pem(pfx(rsa_leaf), password)


def test_convert_pkcs12_that_has_no_password(ec_leaf):
    result = convert_to_pem(pfx(ec_leaf, password=None))
    assert result.certificates_pem == ec_leaf.cert_pem
    assert public_keys_match(load_private_key(result.private_key_pem), ec_leaf.key)


def test_convert_refuses_an_rsa_key_too_large_to_check_in_time(rsa_4104_key, root_ca):
    leaf = build_certificate("big.example.com", rsa_4104_key, root_ca)
    key_der = rsa_4104_key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    for data in (key_der, pfx(leaf)):
        with pytest.raises(ConversionError, match="4104 bits.*at most 4096 bits"):
            convert_to_pem(data, "secret")


# --- PEM input --------------------------------------------------------------------------


def test_convert_normalises_pem_text(rsa_leaf, intermediate_ca, bag_attributes):
    text = bag_attributes(rsa_leaf, [intermediate_ca]).replace("\n", "\r\n")
    result = convert_to_pem(text.encode())
    assert result.certificates_pem == rsa_leaf.cert_pem + intermediate_ca.cert_pem
    assert result.private_key_pem == rsa_leaf.key_pem
    assert result.certificate_count == 2


@pytest.mark.parametrize(
    "private_format",
    [serialization.PrivateFormat.PKCS8, serialization.PrivateFormat.TraditionalOpenSSL],
)
def test_convert_decrypts_an_encrypted_pem_key_with_its_password(rsa_key, private_format):
    encrypted = rsa_key.private_bytes(
        serialization.Encoding.PEM,
        private_format,
        serialization.BestAvailableEncryption(b"secret"),
    )
    with pytest.raises(ConversionError, match="Enter its password"):
        convert_to_pem(encrypted)
    with pytest.raises(ConversionError, match="password of the private key is wrong"):
        convert_to_pem(encrypted, "nope")
    result = convert_to_pem(encrypted, "secret")
    assert public_keys_match(load_private_key(result.private_key_pem), rsa_key)


def test_convert_rejects_pem_with_two_keys(rsa_key, ec_key):
    text = b"".join(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        for key in (rsa_key, ec_key)
    )
    with pytest.raises(ConversionError, match="more than one private key"):
        convert_to_pem(text)


def test_convert_rejects_pem_without_certificate_or_key():
    text = b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"
    with pytest.raises(ConversionError, match="No certificate or private key"):
        convert_to_pem(text)


def test_convert_reports_a_damaged_pem_block_as_conversion_error(rsa_leaf):
    with pytest.raises(ConversionError, match="cut off"):
        convert_to_pem(rsa_leaf.cert_pem[:200].encode())


# --- garbage ----------------------------------------------------------------------------


@pytest.mark.parametrize("data", [b"", b"   \n", b"just some text", bytes(range(256))])
def test_convert_rejects_garbage(data):
    with pytest.raises(ConversionError) as raised:
        convert_to_pem(data)
    assert isinstance(raised.value, PKIError)
    assert raised.value.message
