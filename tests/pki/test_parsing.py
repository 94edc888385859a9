import itertools
import secrets
import time
from datetime import UTC, datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, rsa, x25519
from cryptography.hazmat.primitives.serialization import pkcs12

from certificates.pki.errors import (
    BrokenChainError,
    DamagedPEMError,
    EncryptedKeyError,
    KeyMismatchError,
    MultipleKeysError,
    NoCertificateError,
    NoKeyError,
    NotPEMError,
    PKIError,
    UnsupportedKeyError,
    WeakKeyError,
)
from certificates.pki.parsing import (
    certificate_to_pem,
    certificates_to_pem,
    check_key_strength,
    describe_certificate,
    load_certificates,
    load_private_key,
    parse_bundle,
    public_keys_match,
    split_pem,
)
from tests.pki import crafted


def pem_key(key, fmt=serialization.PrivateFormat.PKCS8, encryption=None) -> str:
    encryption = encryption or serialization.NoEncryption()
    return key.private_bytes(serialization.Encoding.PEM, fmt, encryption).decode()


def traditional_key(key) -> str:
    """PKCS#1 for RSA ("RSA PRIVATE KEY"), SEC1 for EC ("EC PRIVATE KEY")."""
    return pem_key(key, serialization.PrivateFormat.TraditionalOpenSSL)


def der_certificate(issued) -> bytes:
    return issued.cert.public_bytes(serialization.Encoding.DER)


# --- errors -----------------------------------------------------------------------------


def test_pki_error_str_is_its_customer_message():
    error = EncryptedKeyError()
    assert str(error) == error.message
    assert error.message == (
        "The private key is encrypted (password-protected). Upload the key without a password."
    )


def test_pki_error_message_can_be_overridden():
    assert str(NotPEMError("Something specific.")) == "Something specific."


def test_every_error_is_a_pki_error_with_a_default_message():
    for error_class in (
        NotPEMError,
        DamagedPEMError,
        NoCertificateError,
        NoKeyError,
        EncryptedKeyError,
        KeyMismatchError,
        WeakKeyError,
        UnsupportedKeyError,
        BrokenChainError,
        MultipleKeysError,
    ):
        error = error_class()
        assert isinstance(error, PKIError)
        assert error.message


def test_weak_key_error_says_the_size_found():
    error = WeakKeyError(key_size=1024)
    assert "1024 bits" in error.message
    assert error.key_size == 1024


# --- PEM blocks -------------------------------------------------------------------------


def test_split_pem_reads_headers_of_old_encrypted_keys(rsa_key):
    encrypted = pem_key(
        rsa_key,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.BestAvailableEncryption(b"secret"),
    )
    [block] = split_pem(encrypted)
    assert block.label == "RSA PRIVATE KEY"
    assert block.headers["Proc-Type"] == "4,ENCRYPTED"
    assert block.is_encrypted


def test_split_pem_rejects_a_block_without_end_line(rsa_leaf):
    cut_off = rsa_leaf.cert_pem[: len(rsa_leaf.cert_pem) // 2]
    with pytest.raises(DamagedPEMError, match="cut off"):
        split_pem(cut_off)


# --- load_certificates ------------------------------------------------------------------


def test_load_certificates_returns_every_certificate_in_order(rsa_leaf, intermediate_ca, root_ca):
    text = rsa_leaf.cert_pem + intermediate_ca.cert_pem + root_ca.cert_pem
    assert load_certificates(text) == [rsa_leaf.cert, intermediate_ca.cert, root_ca.cert]


def test_load_certificates_accepts_crlf_whitespace_and_bytes(rsa_leaf, intermediate_ca):
    text = "\n\n   " + rsa_leaf.cert_pem + "\n\n" + intermediate_ca.cert_pem + "   \n"
    crlf = text.replace("\n", "\r\n").encode()
    assert load_certificates(crlf) == [rsa_leaf.cert, intermediate_ca.cert]


def test_load_certificates_accepts_indented_lines(rsa_leaf):
    indented = "\n".join("    " + line for line in rsa_leaf.cert_pem.splitlines())
    assert load_certificates(indented) == [rsa_leaf.cert]


def test_load_certificates_accepts_a_byte_order_mark(rsa_leaf):
    assert load_certificates(b"\xef\xbb\xbf" + rsa_leaf.cert_pem.encode()) == [rsa_leaf.cert]


def test_load_certificates_ignores_bag_attributes_text(rsa_leaf, intermediate_ca, bag_attributes):
    text = bag_attributes(rsa_leaf, [intermediate_ca])
    assert "subject=CN = www.example.com" in text
    assert load_certificates(text) == [rsa_leaf.cert, intermediate_ca.cert]


def test_load_certificates_rejects_der_bytes_with_pointer_to_converter(rsa_leaf):
    with pytest.raises(NotPEMError, match="DER") as raised:
        load_certificates(der_certificate(rsa_leaf))
    assert "converter" in raised.value.message


def test_load_certificates_rejects_pkcs12_bytes_with_pointer_to_converter(rsa_leaf):
    pfx = pkcs12.serialize_key_and_certificates(
        b"www", rsa_leaf.key, rsa_leaf.cert, None, serialization.BestAvailableEncryption(b"pw")
    )
    with pytest.raises(NotPEMError, match=r"PKCS#12") as raised:
        load_certificates(pfx)
    assert "converter" in raised.value.message


def test_load_certificates_rejects_pkcs7_pem_with_pointer_to_converter(rsa_leaf):
    from cryptography.hazmat.primitives.serialization import pkcs7

    p7b = pkcs7.serialize_certificates([rsa_leaf.cert], serialization.Encoding.PEM)
    with pytest.raises(NotPEMError, match=r"PKCS#7.*converter"):
        load_certificates(p7b)


def test_load_certificates_rejects_unknown_binary_as_not_pem():
    with pytest.raises(NotPEMError, match="converter"):
        load_certificates(bytes(range(256)))


@pytest.mark.parametrize("text", ["", "   \n", "hello, this is my certificate"])
def test_load_certificates_rejects_text_without_certificate(text):
    with pytest.raises(NoCertificateError):
        load_certificates(text)


def test_load_certificates_says_when_a_csr_was_pasted_instead(ec_key):
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "example.com")]))
        .sign(ec_key, hashes.SHA256())
    )
    with pytest.raises(NoCertificateError, match="signing request"):
        load_certificates(csr.public_bytes(serialization.Encoding.PEM))


def test_load_certificates_says_when_a_key_was_pasted_instead(rsa_key):
    with pytest.raises(NoCertificateError, match="private key, not a certificate"):
        load_certificates(pem_key(rsa_key))


def test_load_certificates_rejects_block_with_bad_base64(rsa_leaf):
    lines = rsa_leaf.cert_pem.splitlines()
    lines[3] = lines[3][:10] + "!!!" + lines[3][13:]
    with pytest.raises(DamagedPEMError, match="certificate block is damaged"):
        load_certificates("\n".join(lines))


def test_load_certificates_rejects_block_that_is_not_a_certificate(rsa_key):
    body = "".join(pem_key(rsa_key).splitlines()[1:-1])
    text = f"-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n"
    with pytest.raises(DamagedPEMError, match="certificate block is damaged"):
        load_certificates(text)


def test_certificates_to_pem_round_trips(rsa_leaf, intermediate_ca):
    assert certificate_to_pem(rsa_leaf.cert) == rsa_leaf.cert_pem
    text = certificates_to_pem([rsa_leaf.cert, intermediate_ca.cert])
    assert load_certificates(text) == [rsa_leaf.cert, intermediate_ca.cert]


# --- load_private_key -------------------------------------------------------------------


def test_load_private_key_reads_pkcs1_rsa(rsa_key):
    text = traditional_key(rsa_key)
    assert text.startswith("-----BEGIN RSA PRIVATE KEY-----")
    assert public_keys_match(load_private_key(text), rsa_key)


def test_load_private_key_reads_pkcs8_rsa_ec_and_ed25519(rsa_key, ec_key, ed25519_key):
    for key in (rsa_key, ec_key, ed25519_key):
        text = pem_key(key)
        assert text.startswith("-----BEGIN PRIVATE KEY-----")
        assert public_keys_match(load_private_key(text), key)


def test_load_private_key_reads_sec1_ec_key_after_ec_parameters(ec_key):
    # What `openssl ecparam -name prime256v1 -genkey` writes.
    text = "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n"
    text += traditional_key(ec_key)
    assert "-----BEGIN EC PRIVATE KEY-----" in text
    assert public_keys_match(load_private_key(text), ec_key)


def test_load_private_key_accepts_crlf_and_bytes(rsa_key):
    text = ("\r\n  " + traditional_key(rsa_key).replace("\n", "\r\n") + "\r\n").encode()
    assert public_keys_match(load_private_key(text), rsa_key)


def test_load_private_key_ignores_bag_attributes_and_certificates(rsa_leaf, bag_attributes):
    assert public_keys_match(load_private_key(bag_attributes(rsa_leaf)), rsa_leaf.key)


def test_load_private_key_accepts_the_same_key_pasted_twice(ec_key):
    assert public_keys_match(load_private_key(pem_key(ec_key) * 2), ec_key)


def test_load_private_key_rejects_encrypted_pkcs8(rsa_key):
    text = pem_key(rsa_key, encryption=serialization.BestAvailableEncryption(b"secret"))
    assert text.startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    with pytest.raises(EncryptedKeyError, match="without a password"):
        load_private_key(text)


def test_load_private_key_rejects_encrypted_pkcs1_with_proc_type(rsa_key):
    text = pem_key(
        rsa_key,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.BestAvailableEncryption(b"secret"),
    )
    assert "Proc-Type: 4,ENCRYPTED" in text
    with pytest.raises(EncryptedKeyError):
        load_private_key(text)


@pytest.mark.parametrize(
    "text", ["", "no key here", "-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----"]
)
def test_load_private_key_rejects_text_without_key(text):
    with pytest.raises(NoKeyError):
        load_private_key(text)


def test_load_private_key_says_when_a_certificate_was_pasted_instead(rsa_leaf):
    with pytest.raises(NoKeyError, match="certificate, not a private key"):
        load_private_key(rsa_leaf.cert_pem)


def test_load_private_key_rejects_two_keys(rsa_key, ec_key):
    with pytest.raises(MultipleKeysError, match="2 private keys"):
        load_private_key(pem_key(rsa_key) + traditional_key(ec_key))


def test_load_private_key_rejects_rsa_1024_as_weak(rsa_1024_key):
    with pytest.raises(WeakKeyError, match="only 1024 bits"):
        load_private_key(traditional_key(rsa_1024_key))


def test_load_private_key_rejects_dsa_key():
    key = dsa.generate_private_key(key_size=1024)
    with pytest.raises(UnsupportedKeyError, match="DSA"):
        load_private_key(pem_key(key))


def test_load_private_key_rejects_x25519_key():
    with pytest.raises(UnsupportedKeyError, match="X25519"):
        load_private_key(pem_key(x25519.X25519PrivateKey.generate()))


def test_load_private_key_rejects_unsupported_ec_curve():
    key = ec.generate_private_key(ec.SECP256K1())
    with pytest.raises(UnsupportedKeyError, match="secp256k1"):
        load_private_key(pem_key(key))


# A throwaway P-256 key written with `openssl ecparam -genkey -param_enc explicit`.
EXPLICIT_CURVE_KEY = """\
-----BEGIN EC PRIVATE KEY-----
MIIBaAIBAQQgCH/h5TRBVhw2DOKsQSsi6JoHXqmdtUGskE8zAPPqxXiggfowgfcC
AQEwLAYHKoZIzj0BAQIhAP////8AAAABAAAAAAAAAAAAAAAA////////////////
MFsEIP////8AAAABAAAAAAAAAAAAAAAA///////////////8BCBaxjXYqjqT57Pr
vVV2mIa8ZR0GsMxTsPY7zjw+J9JgSwMVAMSdNgiG5wSTamZ44ROdJreBn36QBEEE
axfR8uEsQkf4vOblY6RA8ncDfYEt6zOg9KE5RdiYwpZP40Li/hp/m47n60p8D54W
K84zV2sxXs7LtkBoN79R9QIhAP////8AAAAA//////////+85vqtpxeehPO5ysL8
YyVRAgEBoUQDQgAEapzIVniLu0aKA3XLRw2EnfFsIwc/7gB3pLRnlGpsQgOfpGvr
tR72QxRf/I1fqOjvHumnN0Gak/sJJVv2hyvSxg==
-----END EC PRIVATE KEY-----
"""


def test_load_private_key_rejects_ec_key_with_explicit_curve_parameters():
    with pytest.raises(UnsupportedKeyError, match="explicit curve parameters"):
        load_private_key(EXPLICIT_CURVE_KEY)


def test_load_private_key_rejects_openssh_key():
    text = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaA==\n-----END OPENSSH PRIVATE KEY-----\n"
    with pytest.raises(UnsupportedKeyError, match="OpenSSH"):
        load_private_key(text)


def test_load_private_key_rejects_damaged_key_block():
    text = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"
    with pytest.raises(DamagedPEMError, match="private key block is damaged"):
        load_private_key(text)


def test_load_private_key_rejects_der_bytes(rsa_key):
    der = rsa_key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    with pytest.raises(NotPEMError, match="converter"):
        load_private_key(der)


# --- key strength and matching ----------------------------------------------------------


def test_check_key_strength_accepts_rsa_2048_ecc_and_ed25519(rsa_key, ec_key, ed25519_key):
    for key in (rsa_key, ec_key, ed25519_key, ec.generate_private_key(ec.SECP384R1())):
        check_key_strength(key.public_key())


def test_check_key_strength_rejects_rsa_1024(rsa_1024_key):
    with pytest.raises(WeakKeyError) as raised:
        check_key_strength(rsa_1024_key.public_key())
    assert raised.value.key_size == 1024


def test_public_keys_match_compares_the_public_keys(rsa_key, other_rsa_key, ec_key, ed25519_key):
    assert public_keys_match(rsa_key.public_key(), rsa_key)
    assert public_keys_match(ec_key, ec_key.public_key())
    assert public_keys_match(ed25519_key, ed25519_key.public_key())
    assert not public_keys_match(rsa_key, other_rsa_key)
    assert not public_keys_match(rsa_key, ec_key)
    assert not public_keys_match(ec_key, ed25519_key)


# --- describe_certificate ---------------------------------------------------------------


def test_describe_certificate_of_rsa_leaf(rsa_leaf):
    info = describe_certificate(rsa_leaf.cert)
    assert info.common_name == "www.example.com"
    assert info.subject == "O=Example Shop,CN=www.example.com"
    assert info.issuer == "O=Example Trust,CN=Example Intermediate CA"
    assert info.issuer_organization == "Example Trust"
    assert info.issuer_common_name == "Example Intermediate CA"
    assert info.organization == "Example Shop"
    assert (info.key_algorithm, info.key_size, info.key_description) == ("RSA", 2048, "RSA 2048")
    assert info.is_ca is False
    assert info.self_signed is False


def test_describe_certificate_lists_domains_cn_first_lowercased_and_unique(rsa_leaf):
    info = describe_certificate(rsa_leaf.cert)
    assert info.domains == ("www.example.com", "example.com", "api.example.com")


def test_describe_certificate_puts_cn_first_even_when_san_lists_it_later(issue, ec_key):
    issued = issue("Shop.Example.com", ec_key, dns_names=["a.example.com", "shop.example.com"])
    assert describe_certificate(issued.cert).domains == ("shop.example.com", "a.example.com")


@pytest.mark.parametrize("common_name", ["My Device", "Example CA", "10.0.0.1", "localhost"])
def test_describe_certificate_leaves_cn_that_is_not_a_domain_out_of_domains(
    issue, ec_key, common_name
):
    issued = issue(common_name, ec_key, dns_names=["*.example.com"])
    assert describe_certificate(issued.cert).domains == ("*.example.com",)


def test_describe_certificate_keeps_wildcard_cn_as_domain(issue, ec_key):
    issued = issue("*.Example.com", ec_key)
    assert describe_certificate(issued.cert).domains == ("*.example.com",)


def test_describe_certificate_of_ec_and_ed25519_leaves(ec_leaf, ed25519_leaf):
    ec_info = describe_certificate(ec_leaf.cert)
    assert (ec_info.key_algorithm, ec_info.key_size, ec_info.key_description) == (
        "EC",
        256,
        "ECC P-256",
    )
    ed_info = describe_certificate(ed25519_leaf.cert)
    assert (ed_info.key_algorithm, ed_info.key_size, ed_info.key_description) == (
        "Ed25519",
        256,
        "Ed25519",
    )


@pytest.mark.parametrize(
    ("serial", "expected"),
    [
        (0x0ABC, "0ABC"),
        (0x00FF00, "00FF00"),  # the top bit is set: DER puts a 00 byte in front
        (1, "01"),
        (0x1F2E3D4C5B6A7980, "1F2E3D4C5B6A7980"),
        (0x0102030405060708090A0B0C0D0E0F1011121314, "0102030405060708090A0B0C0D0E0F1011121314"),
    ],
)
def test_describe_certificate_serial_is_the_hex_of_its_der_integer_with_leading_zeros(
    issue, ec_key, serial, expected
):
    issued = issue("serial.example.com", ec_key, serial=serial)
    assert describe_certificate(issued.cert).serial == expected
    value = bytes.fromhex(expected)
    der = issued.cert.public_bytes(serialization.Encoding.DER)
    assert bytes([0x02, len(value)]) + value in der  # the serial's DER INTEGER, octet for octet


def test_describe_certificate_fingerprint_is_sha256_in_colon_separated_pairs(rsa_leaf):
    info = describe_certificate(rsa_leaf.cert)
    digest = rsa_leaf.cert.fingerprint(hashes.SHA256())
    assert info.fingerprint_sha256 == ":".join(f"{b:02X}" for b in digest)
    assert len(info.fingerprint_sha256) == 32 * 3 - 1


def test_describe_certificate_dates_are_timezone_aware_utc(rsa_leaf):
    info = describe_certificate(rsa_leaf.cert)
    assert info.not_before.tzinfo is not None
    assert info.not_after.utcoffset().total_seconds() == 0
    assert info.not_before < datetime.now(UTC) < info.not_after


def test_describe_certificate_of_expired_certificate(expired_leaf):
    assert describe_certificate(expired_leaf.cert).not_after < datetime.now(UTC)


def test_describe_certificate_recognises_ca_and_self_signed(root_ca, intermediate_ca):
    root = describe_certificate(root_ca.cert)
    assert root.is_ca and root.self_signed
    assert root.domains == ()
    intermediate = describe_certificate(intermediate_ca.cert)
    assert intermediate.is_ca and not intermediate.self_signed


def test_describe_certificate_of_self_signed_leaf(self_signed_leaf):
    info = describe_certificate(self_signed_leaf.cert)
    assert info.self_signed and not info.is_ca
    assert info.issuer == info.subject == "CN=self.example.com"
    assert info.issuer_organization == ""


def test_describe_certificate_without_common_name(ec_key):
    name = x509.Name([x509.NameAttribute(x509.NameOID.ORGANIZATION_NAME, "No CN Ltd")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(ec_key.public_key())
        .serial_number(7)
        .not_valid_before(now)
        .not_valid_after(now)
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("nocn.example.com")]), critical=False
        )
        .sign(ec_key, hashes.SHA256())
    )
    info = describe_certificate(cert)
    assert info.common_name == ""
    assert info.domains == ("nocn.example.com",)
    assert info.organization == "No CN Ltd"


# --- parse_bundle -----------------------------------------------------------------------


@pytest.fixture(params=["rsa_leaf", "ec_leaf", "ed25519_leaf"])
def any_leaf(request):
    return request.getfixturevalue(request.param)


def test_parse_bundle_matches_leaf_and_orders_chain(any_leaf, intermediate_ca, root_ca):
    text = any_leaf.cert_pem + intermediate_ca.cert_pem + root_ca.cert_pem
    bundle = parse_bundle(text, any_leaf.key_pem)
    assert bundle.leaf == any_leaf.cert
    assert bundle.chain == (intermediate_ca.cert, root_ca.cert)
    assert public_keys_match(bundle.private_key, any_leaf.key)
    assert bundle.info == describe_certificate(any_leaf.cert)


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_parse_bundle_accepts_certificates_in_any_order(rsa_leaf, intermediate_ca, root_ca, order):
    certs = [rsa_leaf, intermediate_ca, root_ca]
    text = "".join(certs[i].cert_pem for i in order)
    bundle = parse_bundle(text, traditional_key(rsa_leaf.key))
    assert bundle.leaf == rsa_leaf.cert
    assert bundle.chain == (intermediate_ca.cert, root_ca.cert)


def test_parse_bundle_accepts_chain_without_root(ec_leaf, intermediate_ca):
    bundle = parse_bundle(intermediate_ca.cert_pem + ec_leaf.cert_pem, ec_leaf.key_pem)
    assert bundle.chain == (intermediate_ca.cert,)


def test_parse_bundle_accepts_leaf_alone(rsa_leaf):
    bundle = parse_bundle(rsa_leaf.cert_pem, rsa_leaf.key_pem)
    assert bundle.chain == ()
    assert bundle.chain_pem == ""
    assert bundle.full_chain_pem == bundle.leaf_pem == rsa_leaf.cert_pem


def test_parse_bundle_accepts_self_signed_leaf(self_signed_leaf):
    bundle = parse_bundle(self_signed_leaf.cert_pem, self_signed_leaf.key_pem)
    assert bundle.chain == ()
    assert bundle.info.self_signed


def test_parse_bundle_reads_openssl_pkcs12_output_for_both_fields(
    rsa_leaf, intermediate_ca, bag_attributes
):
    text = bag_attributes(rsa_leaf, [intermediate_ca]).replace("\n", "\r\n")
    bundle = parse_bundle(text, text)
    assert bundle.leaf == rsa_leaf.cert
    assert bundle.chain == (intermediate_ca.cert,)


def test_parse_bundle_pem_properties(rsa_leaf, intermediate_ca, root_ca):
    text = root_ca.cert_pem + rsa_leaf.cert_pem + intermediate_ca.cert_pem
    bundle = parse_bundle(text, traditional_key(rsa_leaf.key))
    assert bundle.leaf_pem == rsa_leaf.cert_pem
    assert bundle.chain_pem == intermediate_ca.cert_pem + root_ca.cert_pem
    assert bundle.full_chain_pem == rsa_leaf.cert_pem + intermediate_ca.cert_pem + root_ca.cert_pem
    # The key comes out as unencrypted PKCS#8 whatever format it went in.
    assert bundle.private_key_pem.startswith("-----BEGIN PRIVATE KEY-----")
    assert public_keys_match(load_private_key(bundle.private_key_pem), rsa_leaf.key)


def test_parse_bundle_drops_a_duplicated_certificate(rsa_leaf, intermediate_ca):
    text = rsa_leaf.cert_pem + intermediate_ca.cert_pem + intermediate_ca.cert_pem
    assert parse_bundle(text, rsa_leaf.key_pem).chain == (intermediate_ca.cert,)


def test_parse_bundle_rejects_key_that_does_not_match(rsa_leaf, intermediate_ca, other_rsa_key):
    with pytest.raises(KeyMismatchError):
        parse_bundle(rsa_leaf.cert_pem + intermediate_ca.cert_pem, pem_key(other_rsa_key))


def test_parse_bundle_rejects_weak_key(issue, intermediate_ca, rsa_1024_key):
    weak = issue("weak.example.com", rsa_1024_key, intermediate_ca)
    with pytest.raises(WeakKeyError, match="1024"):
        parse_bundle(weak.cert_pem, weak.key_pem)


def test_parse_bundle_rejects_intermediate_from_a_different_ca(rsa_leaf, foreign_intermediate_ca):
    with pytest.raises(BrokenChainError) as raised:
        parse_bundle(rsa_leaf.cert_pem + foreign_intermediate_ca.cert_pem, rsa_leaf.key_pem)
    assert raised.value.message.startswith(
        'The certificate "www.example.com" was not signed by "Example Intermediate CA"'
    )


def test_parse_bundle_rejects_root_that_did_not_sign_the_intermediate(
    rsa_leaf, intermediate_ca, issue, ec_key
):
    fake_root = issue("Example Root CA", ec_key, is_ca=True, organization="Example Trust")
    text = rsa_leaf.cert_pem + intermediate_ca.cert_pem + fake_root.cert_pem
    with pytest.raises(BrokenChainError, match='"Example Intermediate CA" was not signed by'):
        parse_bundle(text, rsa_leaf.key_pem)


def test_parse_bundle_rejects_unrelated_extra_certificate(
    rsa_leaf, intermediate_ca, root_ca, unrelated_ca
):
    text = rsa_leaf.cert_pem + intermediate_ca.cert_pem + root_ca.cert_pem + unrelated_ca.cert_pem
    with pytest.raises(BrokenChainError, match='"Unrelated Root CA" is not part of the chain'):
        parse_bundle(text, rsa_leaf.key_pem)


def test_parse_bundle_rejects_root_when_the_intermediate_is_missing(rsa_leaf, root_ca):
    with pytest.raises(BrokenChainError) as raised:
        parse_bundle(rsa_leaf.cert_pem + root_ca.cert_pem, rsa_leaf.key_pem)
    assert '"Example Root CA" is not part of the chain' in raised.value.message
    assert '"Example Intermediate CA", which is missing' in raised.value.message


def test_parse_bundle_rejects_two_certificates_for_the_same_key(rsa_leaf, issue):
    renewed = issue("www.example.com", rsa_leaf.key, dns_names=["www.example.com"])
    with pytest.raises(BrokenChainError, match="2 certificates for this private key"):
        parse_bundle(rsa_leaf.cert_pem + renewed.cert_pem, rsa_leaf.key_pem)


def test_rsa_key_too_large_to_check_in_time_is_refused_before_the_check(rsa_4104_key):
    # cryptography's check of the primes takes 10 to 25 s at 8192 bits: it never starts.
    start = time.perf_counter()
    with pytest.raises(UnsupportedKeyError, match="4104 bits.*at most 4096 bits"):
        load_private_key(pem_key(rsa_4104_key, serialization.PrivateFormat.TraditionalOpenSSL))
    assert time.perf_counter() - start < 0.5


def test_parse_bundle_rejects_encrypted_key(rsa_leaf):
    key_text = pem_key(rsa_leaf.key, encryption=serialization.BestAvailableEncryption(b"pw"))
    with pytest.raises(EncryptedKeyError):
        parse_bundle(rsa_leaf.cert_pem, key_text)


def test_parse_bundle_accepts_expired_certificate(expired_leaf, intermediate_ca):
    # Expiry is the caller's policy; parsing only reports the dates.
    bundle = parse_bundle(expired_leaf.cert_pem + intermediate_ca.cert_pem, expired_leaf.key_pem)
    assert bundle.info.not_after < datetime.now(UTC)


def test_parse_bundle_handles_rsa_and_ec_keys_in_chain(issue, ec_key, other_rsa_key):
    # An ECC root signing an RSA intermediate signing an ECC leaf: mixed key types verify.
    root = issue("Mixed Root", ec.generate_private_key(ec.SECP384R1()), is_ca=True)
    intermediate = issue("Mixed Intermediate", other_rsa_key, root, is_ca=True)
    leaf = issue("mixed.example.com", ec_key, intermediate, dns_names=["mixed.example.com"])
    text = root.cert_pem + leaf.cert_pem + intermediate.cert_pem
    bundle = parse_bundle(text, leaf.key_pem)
    assert bundle.chain == (intermediate.cert, root.cert)
    assert isinstance(bundle.private_key, ec.EllipticCurvePrivateKey)
    assert not isinstance(bundle.private_key, rsa.RSAPrivateKey)


# --- Bounds on the chain, checked before any signature ----------------------------------


def _chain(issue, length: int) -> list:
    """A leaf and its chain of `length` certificates in all, root first."""
    chain = [issue("Deep Root", ec.generate_private_key(ec.SECP256R1()), is_ca=True)]
    while len(chain) < length - 1:
        key = ec.generate_private_key(ec.SECP256R1())
        chain.append(issue(f"Deep CA {len(chain)}", key, chain[-1], is_ca=True))
    key = ec.generate_private_key(ec.SECP256R1())
    chain.append(issue("deep.example.com", key, chain[-1], dns_names=["deep.example.com"]))
    return chain


def test_parse_bundle_accepts_ten_certificates(issue):
    chain = _chain(issue, 10)
    bundle = parse_bundle("".join(c.cert_pem for c in chain), chain[-1].key_pem)
    assert bundle.leaf == chain[-1].cert
    assert len(bundle.chain) == 9


def test_parse_bundle_refuses_more_than_ten_certificates_before_checking_any(issue):
    chain = _chain(issue, 11)
    with pytest.raises(BrokenChainError, match="contains 11 certificates; .* at most 10"):
        parse_bundle("".join(c.cert_pem for c in chain), chain[-1].key_pem)


def _with_rsa_public_key(issue, root_ca, bits: int, exponent: int):
    """A CA certificate (signed by root_ca) for an RSA public key of any size and exponent."""
    modulus = secrets.randbits(bits) | (1 << (bits - 1)) | 1
    public_key = rsa.RSAPublicNumbers(exponent, modulus).public_key()
    builder = issue("Odd RSA CA", ec.generate_private_key(ec.SECP256R1()), root_ca, is_ca=True)
    cert = (
        x509.CertificateBuilder()
        .subject_name(builder.cert.subject)
        .issuer_name(root_ca.cert.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(builder.cert.not_valid_before_utc)
        .not_valid_after(builder.cert.not_valid_after_utc)
        .sign(root_ca.key, hashes.SHA256())
    )
    return certificate_to_pem(cert)


@pytest.mark.parametrize(
    ("bits", "exponent", "message"),
    [
        (3072, 2**64 + 1, "unusual public exponent"),  # each check costs as its 65 bits
        (3072, 2**3000 + 1, "unusual public exponent"),
        (8200, 65537, "RSA key of 8200 bits"),
    ],
    ids=["65-bit-exponent", "3001-bit-exponent", "8200-bit-modulus"],
)
def test_parse_bundle_refuses_costly_rsa_keys_in_the_file(
    issue, root_ca, rsa_leaf, intermediate_ca, bits, exponent, message
):
    odd = _with_rsa_public_key(issue, root_ca, bits, exponent)
    text = rsa_leaf.cert_pem + intermediate_ca.cert_pem + odd
    with pytest.raises(UnsupportedKeyError, match=message) as raised:
        parse_bundle(text, rsa_leaf.key_pem)
    assert '"Odd RSA CA"' in raised.value.message


def test_parse_bundle_answers_the_red_teams_34_certificates_at_once(issue, root_ca, rsa_leaf):
    # 34 RSA-3072 certificates with huge exponents took 2.6 s to refuse.
    odd = [_with_rsa_public_key(issue, root_ca, 3072, 2**3000 + 1) for _ in range(33)]
    start = time.perf_counter()
    with pytest.raises(BrokenChainError, match="contains 34 certificates"):
        parse_bundle("".join(reversed(odd)) + rsa_leaf.cert_pem, rsa_leaf.key_pem)
    assert time.perf_counter() - start < 0.5


def test_a_certificate_of_an_unknown_version_is_damage_not_a_crash(ec_leaf):
    # Found by tests/pki/test_parse_time_bounds.py: cryptography raises InvalidVersion.
    der = ec_leaf.cert.public_bytes(serialization.Encoding.DER)
    damaged = der.replace(bytes.fromhex("a003020102"), bytes.fromhex("a00302017f"), 1)
    with pytest.raises(DamagedPEMError):
        load_certificates(crafted.pem("CERTIFICATE", damaged))
