import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from certificates.pki.csr import (
    KEY_TYPES,
    build_csr,
    check_csr,
    csr_domains,
    generate_private_key,
    load_csr,
    normalize_domain,
    read_possession_proof,
    validate_domains,
)
from certificates.pki.errors import (
    CSRDomainMismatchError,
    CSRSignatureError,
    InvalidCSRError,
    InvalidDomainError,
    PKIError,
    UnsupportedKeyError,
    WeakKeyError,
)
from certificates.pki.parsing import certificate_to_pem, private_key_to_pem, public_key_sha256

DOMAINS = ["www.example.com", "example.com", "api.example.com"]


def csr_pem(csr: x509.CertificateSigningRequest) -> str:
    return csr.public_bytes(serialization.Encoding.PEM).decode()


def csr_der(csr: x509.CertificateSigningRequest) -> bytes:
    return csr.public_bytes(serialization.Encoding.DER)


def handmade_csr(key, common_name: str | None, san: list[str] | None, algorithm=None):
    """A CSR as a customer's tool might make it, without build_csr's checks."""
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)] if common_name else []
    builder = x509.CertificateSigningRequestBuilder().subject_name(x509.Name(attributes))
    if san is not None:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(name) for name in san]), critical=False
        )
    return builder.sign(key, algorithm)


@pytest.fixture(scope="module")
def good_csr(rsa_key) -> x509.CertificateSigningRequest:
    return build_csr(rsa_key, DOMAINS)


# --- keys -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key_type", "key_class", "size"),
    [
        ("rsa2048", rsa.RSAPrivateKey, 2048),
        ("rsa3072", rsa.RSAPrivateKey, 3072),
        ("rsa4096", rsa.RSAPrivateKey, 4096),
        ("ecp256", ec.EllipticCurvePrivateKey, 256),
        ("ecp384", ec.EllipticCurvePrivateKey, 384),
    ],
)
def test_generate_private_key_makes_each_offered_type(key_type, key_class, size):
    key = generate_private_key(key_type)
    assert isinstance(key, key_class)
    assert key.key_size == size
    assert key_type in KEY_TYPES


@pytest.mark.parametrize("key_type", ["rsa1024", "ed25519", "ecp521", "", "RSA2048"])
def test_generate_private_key_refuses_other_types(key_type):
    with pytest.raises(UnsupportedKeyError, match="RSA 2048, RSA 3072, RSA 4096"):
        generate_private_key(key_type)


# --- building a CSR ---------------------------------------------------------------------


@pytest.mark.parametrize("key_name", ["rsa_key", "ec_key", "ec_p384_key"])
def test_build_csr_names_every_domain_with_the_first_as_cn(request, key_name):
    key = request.getfixturevalue(key_name)
    csr = build_csr(key, DOMAINS)
    assert csr.is_signature_valid
    assert csr.public_key() == key.public_key()
    cn = csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    assert [attribute.value for attribute in cn] == ["www.example.com"]
    san = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == DOMAINS
    expected_hash = hashes.SHA384 if key_name == "ec_p384_key" else hashes.SHA256
    assert isinstance(csr.signature_hash_algorithm, expected_hash)
    check_csr(csr, DOMAINS)


def test_build_csr_wants_normalized_domains(ec_key):
    with pytest.raises(InvalidDomainError, match="normalized"):
        build_csr(ec_key, ["WWW.Example.com"])
    with pytest.raises(InvalidDomainError, match="only once"):
        build_csr(ec_key, ["example.com", "example.com"])
    with pytest.raises(InvalidDomainError, match="at least one"):
        build_csr(ec_key, [])


# --- reading a pasted CSR ---------------------------------------------------------------


def test_load_csr_reads_pem_text_and_bytes(good_csr):
    pem = csr_pem(good_csr)
    assert load_csr(pem) == good_csr
    assert load_csr(pem.encode()) == good_csr


def test_load_csr_reads_der_bytes(good_csr):
    assert load_csr(csr_der(good_csr)) == good_csr


def test_load_csr_tolerates_windows_line_ends_indentation_and_the_old_label(good_csr):
    pem = csr_pem(good_csr).replace("CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST")
    pasted = "\ufeffHere is my CSR:\r\n" + "\r\n".join("    " + line for line in pem.splitlines())
    assert load_csr(pasted) == good_csr


def test_load_csr_accepts_the_same_csr_pasted_twice(good_csr):
    assert load_csr(csr_pem(good_csr) * 2) == good_csr


def test_load_csr_refuses_two_different_csrs(good_csr, ec_key):
    other = build_csr(ec_key, ["example.org"])
    with pytest.raises(InvalidCSRError, match="2 CSRs"):
        load_csr(csr_pem(good_csr) + csr_pem(other))


@pytest.mark.parametrize("text", ["", "hello", "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"])
def test_load_csr_refuses_text_without_a_csr(text):
    with pytest.raises(InvalidCSRError, match="BEGIN CERTIFICATE REQUEST"):
        load_csr(text)


def test_load_csr_says_when_it_is_given_a_certificate(rsa_leaf):
    with pytest.raises(InvalidCSRError, match="This is a certificate, not"):
        load_csr(certificate_to_pem(rsa_leaf.cert))


def test_load_csr_says_when_it_is_given_a_private_key(ec_key):
    with pytest.raises(InvalidCSRError, match="private key") as error:
        load_csr(private_key_to_pem(ec_key))
    assert "Never share your private key" in error.value.message


def test_load_csr_refuses_a_damaged_csr(good_csr):
    lines = csr_pem(good_csr).splitlines()
    lines[3] = lines[3][:10] + "!!" + lines[3][12:]
    with pytest.raises(InvalidCSRError, match="damaged"):
        load_csr("\n".join(lines))


def test_load_csr_refuses_base64_that_is_not_a_csr():
    pem = (
        "-----BEGIN CERTIFICATE REQUEST-----\naGVsbG8gd29ybGQ=\n-----END CERTIFICATE REQUEST-----\n"
    )
    with pytest.raises(InvalidCSRError, match="damaged"):
        load_csr(pem)


def test_load_csr_refuses_a_cut_off_paste(good_csr):
    with pytest.raises(InvalidCSRError, match="cut off"):
        load_csr(csr_pem(good_csr)[:200])


def test_load_csr_refuses_binary_junk():
    with pytest.raises(InvalidCSRError):
        load_csr(bytes(range(256)))


def test_csr_errors_are_pki_errors_with_customer_messages():
    for error in (InvalidCSRError(), CSRSignatureError(), CSRDomainMismatchError()):
        assert isinstance(error, PKIError)
        assert str(error) == error.message
    assert "signature is not valid" in CSRSignatureError().message


# --- checking a CSR ---------------------------------------------------------------------


def test_a_csr_with_a_tampered_signature_is_refused(good_csr):
    der = bytearray(csr_der(good_csr))
    der[-1] ^= 0x01  # the last byte of the signature
    tampered = load_csr(bytes(der))
    with pytest.raises(CSRSignatureError, match="signature is not valid"):
        check_csr(tampered, DOMAINS)


def test_a_csr_changed_after_signing_is_refused(ec_key):
    der = csr_der(build_csr(ec_key, ["www.example.com"]))
    # Someone swaps the name for another of the same length; the signature no longer fits.
    changed = der.replace(b"www.example.com", b"www.example.org")
    assert changed != der
    with pytest.raises(CSRSignatureError):
        check_csr(load_csr(changed), ["www.example.org"])


def test_a_csr_with_a_weak_rsa_key_is_refused(rsa_1024_key):
    csr = handmade_csr(rsa_1024_key, "www.example.com", None, hashes.SHA256())
    with pytest.raises(WeakKeyError, match="1024 bits"):
        check_csr(csr, ["www.example.com"])


def test_a_csr_with_an_ed25519_key_is_refused(ed25519_key):
    csr = handmade_csr(ed25519_key, "www.example.com", None)
    with pytest.raises(UnsupportedKeyError, match="Ed25519"):
        check_csr(csr, ["www.example.com"])


def test_a_csr_on_an_unsupported_curve_is_refused():
    key = ec.generate_private_key(ec.SECP256K1())
    csr = handmade_csr(key, "www.example.com", None, hashes.SHA256())
    with pytest.raises(UnsupportedKeyError, match="secp256k1"):
        check_csr(csr, ["www.example.com"])


def test_csr_names_are_compared_case_insensitively_and_in_any_order(ec_key):
    csr = handmade_csr(
        ec_key, "WWW.Example.COM", ["Example.com", "www.example.com."], hashes.SHA256()
    )
    check_csr(csr, ["example.com", "www.example.com"])
    assert csr_domains(csr) == ("www.example.com", "example.com")


def test_a_csr_with_only_a_common_name_fits_one_domain(ec_key):
    check_csr(handmade_csr(ec_key, "shop.example.com", None, hashes.SHA256()), ["shop.example.com"])


def test_a_csr_missing_a_domain_says_which(ec_key):
    csr = build_csr(ec_key, ["www.example.com"])
    with pytest.raises(CSRDomainMismatchError) as error:
        check_csr(csr, ["www.example.com", "example.com"])
    assert error.value.missing == ("example.com",)
    assert error.value.extra == ()
    assert "Missing from the CSR: example.com." in error.value.message
    assert "not in the application" not in error.value.message


def test_a_csr_with_an_extra_domain_says_which(ec_key):
    csr = build_csr(ec_key, ["www.example.com", "evil.example.net"])
    with pytest.raises(CSRDomainMismatchError) as error:
        check_csr(csr, ["www.example.com"])
    assert error.value.missing == ()
    assert error.value.extra == ("evil.example.net",)
    assert "In the CSR but not in the application: evil.example.net." in error.value.message


def test_a_csr_with_other_domains_lists_missing_and_extra(ec_key):
    csr = handmade_csr(ec_key, "Example Ltd", ["a.example.com", "b.example.com"], hashes.SHA256())
    with pytest.raises(CSRDomainMismatchError) as error:
        check_csr(csr, ["a.example.com", "c.example.com"])
    assert error.value.missing == ("c.example.com",)
    # A commonName that is not a domain name is an extra name too, shown as written.
    assert error.value.extra == ("example ltd", "b.example.com")


def test_a_wildcard_must_be_requested_as_a_wildcard(ec_key):
    csr = build_csr(ec_key, ["*.example.com"])
    check_csr(csr, ["*.example.com"])
    with pytest.raises(CSRDomainMismatchError) as error:
        check_csr(csr, ["www.example.com"])
    assert error.value.missing == ("www.example.com",)
    assert error.value.extra == ("*.example.com",)


def test_an_idn_csr_matches_the_domain_as_typed(ec_key):
    domain = normalize_domain("Bücher.example.com")
    csr = build_csr(ec_key, [domain])
    check_csr(csr, [domain])
    assert csr_domains(csr) == ("xn--bcher-kva.example.com",)


def test_a_csr_without_any_name_misses_every_domain(ec_key):
    csr = handmade_csr(ec_key, None, None, hashes.SHA256())
    with pytest.raises(CSRDomainMismatchError) as error:
        check_csr(csr, ["example.com"])
    assert error.value.missing == ("example.com",)


# --- domain names -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("example.com", "example.com"),
        ("  WWW.Example.COM. ", "www.example.com"),
        ("bücher.example.com", "xn--bcher-kva.example.com"),
        ("WWW.BÜCHER.Example.com", "www.xn--bcher-kva.example.com"),
        ("münchen。de", "xn--mnchen-3ya.de"),
        ("xn--bcher-kva.example.com", "xn--bcher-kva.example.com"),
        ("例え.みんな", "xn--r8jz45g.xn--q9jyb4c"),
        # IDNA 2008 (UTS 46): "ß" is a letter of its own, not "ss" as IDNA 2003 had it.
        ("faß.de", "xn--fa-hia.de"),
        ("Faß.DE", "xn--fa-hia.de"),
        ("ẞ.de", "xn--zca.de"),
        ("xn--fa-hia.de", "xn--fa-hia.de"),
        # UTS 46 maps full-width letters and case before converting.
        ("ＷＷＷ.Bücher.example.com", "www.xn--bcher-kva.example.com"),
        ("a-b.example.co.uk", "a-b.example.co.uk"),
        ("123.example.com", "123.example.com"),
        ("a" * 63 + ".com", "a" * 63 + ".com"),
        (
            ".".join(["a" * 63] * 3 + ["b" * 57, "com"]),
            ".".join(["a" * 63] * 3 + ["b" * 57, "com"]),
        ),
    ],
)
def test_normalize_domain(text, expected):
    assert normalize_domain(text) == expected


def test_faß_and_fass_are_different_domains():
    assert normalize_domain("faß.de") == "xn--fa-hia.de"
    assert normalize_domain("fass.de") == "fass.de"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("*.Example.com", "*.example.com"),
        ("*.bücher.example.com", "*.xn--bcher-kva.example.com"),
        ("*.shop.example.com.", "*.shop.example.com"),
    ],
)
def test_normalize_domain_keeps_wildcards_when_allowed(text, expected):
    assert normalize_domain(text, allow_wildcard=True) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Enter a domain name"),
        ("   ", "Enter a domain name"),
        ("https://example.com", "without"),
        ("example.com/shop", "without"),
        ("localhost", "not a complete domain name"),
        ("com.", "not a complete domain name"),
        ("example..com", "empty part"),
        (".example.com", "empty part"),
        ("example.com..", "empty part"),
        ("-shop.example.com", "hyphen"),
        ("shop-.example.com", "hyphen"),
        ("under_score.example.com", "underscores"),
        ("ex ample.com", "letters, digits, hyphens"),
        ("exa!mple.com", "letters, digits, hyphens"),
        ("a" * 64 + ".com", "63 characters"),
        (".".join(["a" * 63] * 4), "at most 253"),
        ("192.168.1.1", "IP address"),
        ("*.example.com", "wildcard certificate"),
        ("foo.*.example.com", "whole first label"),
        ("xn--zz.example.com", "not valid punycode"),
        # Symbols were allowed by IDNA 2003, not by IDNA 2008: as a U-label or an A-label.
        ("♥.example.com", "internationalized"),
        ("xn--g6h.example.com", "not valid punycode"),
        ("ü" * 70 + ".example.com", "internationalized"),
    ],
)
def test_normalize_domain_refuses_invalid_names(text, message):
    with pytest.raises(InvalidDomainError, match=message):
        normalize_domain(text)


@pytest.mark.parametrize("text", ["*.com", "*", "**.example.com", "*foo.example.com", "*.*.x.com"])
def test_normalize_domain_refuses_bad_wildcards(text):
    with pytest.raises(InvalidDomainError):
        normalize_domain(text, allow_wildcard=True)


# --- independent proof: openssl ---------------------------------------------------------


def test_openssl_accepts_the_csr_we_build(openssl, ec_key):
    openssl.write("request.pem", csr_pem(build_csr(ec_key, DOMAINS)))
    output = openssl.ok("req", "-in", "request.pem", "-noout", "-verify", "-text")
    assert "self-signature verify OK" in output
    assert "DNS:www.example.com, DNS:example.com, DNS:api.example.com" in output


def test_openssl_agrees_a_tampered_csr_is_bad(openssl, good_csr):
    der = bytearray(csr_der(good_csr))
    der[-1] ^= 0x01
    openssl.write("request.der", bytes(der))
    result = openssl.run("req", "-inform", "DER", "-in", "request.der", "-noout", "-verify")
    # openssl 3.0 exits 0 here; its verdict is in the output.
    assert "self-signature verify failure" in result.stdout
    with pytest.raises(CSRSignatureError):
        check_csr(load_csr(bytes(der)), DOMAINS)


def test_a_csr_made_by_openssl_passes_the_checks(openssl):
    openssl.ok(
        "req",
        "-new",
        *("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"),
        *("-keyout", "key.pem", "-out", "request.pem"),
        *("-subj", "/C=DE/O=Example Shop/CN=www.example.com"),
        *("-addext", "subjectAltName=DNS:www.example.com,DNS:example.com"),
    )
    csr = load_csr((openssl.directory / "request.pem").read_text())
    check_csr(csr, ["example.com", "www.example.com"])
    with pytest.raises(CSRDomainMismatchError):
        check_csr(csr, ["www.example.com"])


def test_a_weak_csr_made_by_openssl_is_refused(openssl):
    openssl.ok(
        "req",
        "-new",
        *("-newkey", "rsa:1024", "-nodes", "-keyout", "key.pem", "-out", "request.pem"),
        *("-subj", "/CN=www.example.com"),
    )
    csr = load_csr((openssl.directory / "request.pem").read_text())
    with pytest.raises(WeakKeyError):
        check_csr(csr, ["www.example.com"])


# --- Name policy: names no public CA may issue for --------------------------------------


@pytest.mark.parametrize(
    "text",
    ["192.0.2.1", "10.0.0.1", "2001:db8::1", "[2001:db8::1]", "::1", "[::ffff:192.0.2.1]"],
)
def test_ip_addresses_are_refused(text):
    with pytest.raises(InvalidDomainError, match="is an IP address"):
        normalize_domain(text)


@pytest.mark.parametrize(
    "name",
    [
        "printer.local",
        "app.localhost",
        "db.internal",
        "shop.test",
        "x.invalid",
        "www.example",
        "abcdefghijklmnop.onion",
        "1.2.0.192.in-addr.arpa",
        "router.home.arpa",
        "node.alt",
        "*.corp.internal",
    ],
)
def test_names_under_special_use_top_level_names_are_refused(name):
    with pytest.raises(InvalidDomainError, match="reserved name"):
        normalize_domain(name, allow_wildcard=True)


@pytest.mark.parametrize("name", ["shop.notatld", "www.example.corp", "*.shop.nosuchtld"])
def test_names_under_unknown_top_level_names_are_refused(name):
    with pytest.raises(InvalidDomainError, match="known top-level domain"):
        normalize_domain(name, allow_wildcard=True)


@pytest.mark.parametrize("name", ["*.co.uk", "*.com.cn", "*.com", "*.xn--p1ai"])
def test_wildcards_on_a_public_suffix_are_refused(name):
    with pytest.raises(InvalidDomainError, match="public suffix"):
        normalize_domain(name, allow_wildcard=True)


@pytest.mark.parametrize("name", ["*.example.co.uk", "*.example.com", "shop.example.com.cn"])
def test_names_under_a_registrable_domain_are_accepted(name):
    assert normalize_domain(name, allow_wildcard=True) == name


def test_the_signing_path_refuses_reserved_names_too():
    # validate_domains is what ca.issue_certificate checks its domains with.
    with pytest.raises(InvalidDomainError, match="reserved name"):
        validate_domains(["www.example.com", "shop.test"])


# --- a CSR as proof of possession ------------------------------------------------------------


def _proof_csr(key, common_name: str = "challenge") -> str:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    request = (
        x509.CertificateSigningRequestBuilder().subject_name(subject).sign(key, hashes.SHA256())
    )
    return request.public_bytes(serialization.Encoding.PEM).decode()


def test_a_possession_proof_names_the_key_and_the_common_name(ec_key):
    proof = read_possession_proof(_proof_csr(ec_key, "abc:def:ghi"))
    assert proof.public_key_sha256 == public_key_sha256(ec_key)
    assert proof.common_names == ("abc:def:ghi",)


def test_a_possession_proof_accepts_a_weak_key(rsa_1024_key):
    # A compromised key may be one this console would never certify.
    assert read_possession_proof(_proof_csr(rsa_1024_key)).public_key_sha256 == public_key_sha256(
        rsa_1024_key
    )


def test_a_possession_proof_whose_signature_fails_is_refused(ec_key):
    pem = _proof_csr(ec_key)
    der = bytearray(x509.load_pem_x509_csr(pem.encode()).public_bytes(serialization.Encoding.DER))
    der[-3] ^= 0x01  # inside the signature
    damaged = x509.load_der_x509_csr(bytes(der)).public_bytes(serialization.Encoding.PEM)
    with pytest.raises(CSRSignatureError, match="not signed by that key's private key"):
        read_possession_proof(damaged)


def _with_exponent(key: rsa.RSAPrivateKey, e: int) -> rsa.RSAPrivateKey:
    numbers = key.private_numbers()
    p, q = numbers.p, numbers.q
    d = pow(e, -1, (p - 1) * (q - 1))
    return rsa.RSAPrivateNumbers(
        p=p,
        q=q,
        d=d,
        dmp1=rsa.rsa_crt_dmp1(d, p),
        dmq1=rsa.rsa_crt_dmq1(d, q),
        iqmp=rsa.rsa_crt_iqmp(p, q),
        public_numbers=rsa.RSAPublicNumbers(e, p * q),
    ).private_key()


def test_a_possession_proof_with_a_costly_rsa_key_is_refused_before_its_signature(rsa_key):
    # Checking a signature costs in proportion to the exponent: bounded as uploads are.
    costly = _with_exponent(rsa_key, (1 << 64) + 13)
    with pytest.raises(UnsupportedKeyError, match="larger than any this console certifies"):
        read_possession_proof(_proof_csr(costly))
