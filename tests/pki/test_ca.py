import socket
import ssl
import threading
from datetime import datetime, timedelta, timezone

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import (
    AuthorityInformationAccessOID,
    CertificatePoliciesOID,
    ExtendedKeyUsageOID,
    NameOID,
    SignatureAlgorithmOID,
)

from certificates.pki.ca import (
    EV_BUSINESS_CATEGORIES,
    MAX_VALIDITY_DAYS,
    Authority,
    SubjectInfo,
    ca_issuers_url,
    check_subject,
    create_issuing_ca,
    create_root_ca,
    crl_url,
    local_ca_names,
    name_value_problem,
    ocsp_url,
    random_serial_number,
    root_certificate_url,
    root_crl_url,
)
from certificates.pki.errors import (
    InvalidDomainError,
    InvalidSubjectError,
    UnsupportedKeyError,
    WeakKeyError,
)
from certificates.pki.parsing import certificates_to_pem, private_key_to_pem
from tests.pki_material import CA_BASE_URL, CA_SLUG

OV_SUBJECT = SubjectInfo(
    organization="Example Shop GmbH", country="de", state="Berlin", city="Berlin"
)
EV_SUBJECT = SubjectInfo(
    organization="Example Shop GmbH",
    country="DE",
    city="Berlin",
    business_category="Private Organization",
    jurisdiction_country="DE",
    registration_number="HRB 123456 B",
)
SUBJECTS = {"DV": None, "OV": OV_SUBJECT, "EV": EV_SUBJECT}
POLICIES = {"DV": "2.23.140.1.2.1", "OV": "2.23.140.1.2.2", "EV": "2.23.140.1.1"}
KEYS = ["rsa_key", "ec_key", "ec_p384_key"]
DOMAINS = ["www.example.com", "example.com", "*.shop.example.com"]


def extension(cert: x509.Certificate, extension_type):
    return cert.extensions.get_extension_for_class(extension_type)


def name_values(name: x509.Name, oid: x509.ObjectIdentifier) -> list[str]:
    return [str(attribute.value) for attribute in name.get_attributes_for_oid(oid)]


# --- names and URLs ---------------------------------------------------------------------


def test_local_ca_names_say_plainly_that_the_ca_is_local():
    names = local_ca_names("  DigiCert ")
    assert names.organization == "DigiCert (Local CA)"
    assert names.root_common_name == "DigiCert (Local CA) Root CA"
    assert names.issuing_common_name == "DigiCert (Local CA) Issuing CA"


@pytest.mark.parametrize("brand", ["", "   ", "A" * 60])
def test_local_ca_names_need_a_short_brand(brand):
    with pytest.raises(ValueError):
        local_ca_names(brand)


def test_a_ca_name_without_local_ca_wording_is_refused(ca_now):
    with pytest.raises(ValueError, match="local CA"):
        create_root_ca(common_name="DigiCert Global Root G2", organization="DigiCert", now=ca_now)


def test_url_builders_give_the_urls_the_certificates_name():
    base = "http://pki.example.test/"
    assert crl_url(base, "digicert") == "http://pki.example.test/pki/digicert/crl.der"
    assert ocsp_url(base, "digicert") == "http://pki.example.test/pki/digicert/ocsp"
    assert ca_issuers_url(base, "digicert") == "http://pki.example.test/pki/digicert/ca.der"
    assert root_certificate_url(base, "vtrus") == "http://pki.example.test/pki/vtrus/root.der"
    assert root_crl_url(base, "vtrus") == "http://pki.example.test/pki/vtrus/root-crl.der"


@pytest.mark.parametrize(
    ("base_url", "slug"),
    [
        ("https://pki.example.test", "digicert"),
        ("pki.example.test", "digicert"),
        ("http://pki.example.test", "DigiCert"),
        ("http://pki.example.test", "digi/cert"),
        ("http://pki.example.test", ""),
    ],
)
def test_url_builders_want_plain_http_and_a_slug(base_url, slug):
    with pytest.raises(ValueError):
        crl_url(base_url, slug)


# --- the root and the issuing CA --------------------------------------------------------


def test_root_ca_profile(local_root, ca_now):
    cert = local_root.certificate
    assert cert.subject == cert.issuer
    assert name_values(cert.subject, NameOID.COMMON_NAME) == ["DigiCert (Local CA) Root CA"]
    assert name_values(cert.subject, NameOID.ORGANIZATION_NAME) == ["DigiCert (Local CA)"]
    assert name_values(cert.subject, NameOID.COUNTRY_NAME) == ["US"]
    assert isinstance(local_root.private_key, ec.EllipticCurvePrivateKey)
    assert local_root.private_key.curve.name == "secp384r1"
    assert cert.signature_algorithm_oid == SignatureAlgorithmOID.ECDSA_WITH_SHA384
    assert cert.not_valid_before_utc == ca_now

    constraints = extension(cert, x509.BasicConstraints)
    assert constraints.critical
    assert constraints.value.ca
    assert constraints.value.path_length is None
    usage = extension(cert, x509.KeyUsage)
    assert usage.critical
    assert usage.value.key_cert_sign and usage.value.crl_sign
    assert not usage.value.digital_signature
    ski = extension(cert, x509.SubjectKeyIdentifier).value
    assert extension(cert, x509.AuthorityKeyIdentifier).value.key_identifier == ski.digest
    cert.verify_directly_issued_by(cert)


def test_issuing_ca_profile(local_issuing, local_root):
    cert = local_issuing.certificate
    assert local_issuing.name == "DigiCert (Local CA) Issuing CA"
    assert cert.issuer == local_root.subject
    assert local_issuing.private_key.curve.name == "secp256r1"
    assert cert.signature_algorithm_oid == SignatureAlgorithmOID.ECDSA_WITH_SHA384

    constraints = extension(cert, x509.BasicConstraints)
    assert constraints.critical
    assert constraints.value.ca
    assert constraints.value.path_length == 0
    usage = extension(cert, x509.KeyUsage).value
    # digitalSignature lets the CA sign its OCSP responses itself.
    assert usage.key_cert_sign and usage.crl_sign and usage.digital_signature
    assert extension(cert, x509.ExtendedKeyUsage).value == x509.ExtendedKeyUsage(
        [ExtendedKeyUsageOID.SERVER_AUTH]
    )
    policies = extension(cert, x509.CertificatePolicies).value
    assert [p.policy_identifier for p in policies] == [CertificatePoliciesOID.ANY_POLICY]
    root_ski = extension(local_root.certificate, x509.SubjectKeyIdentifier).value.digest
    assert extension(cert, x509.AuthorityKeyIdentifier).value.key_identifier == root_ski
    assert _crl_urls(cert) == [root_crl_url(CA_BASE_URL, CA_SLUG)]
    assert _aia(cert) == [
        (AuthorityInformationAccessOID.CA_ISSUERS, root_certificate_url(CA_BASE_URL, CA_SLUG))
    ]
    cert.verify_directly_issued_by(local_root.certificate)


def test_issuing_ca_never_outlives_its_root(local_root, ca_now):
    names = local_ca_names("DigiCert")
    issuing = create_issuing_ca(
        local_root,
        common_name=names.issuing_common_name,
        organization=names.organization,
        now=ca_now,
        validity_days=100 * 365,
        base_url=CA_BASE_URL,
        slug=CA_SLUG,
    )
    assert issuing.certificate.not_valid_after_utc == local_root.certificate.not_valid_after_utc


def test_ca_keys_are_p256_or_p384(ca_now, rsa_key):
    names = local_ca_names("GeoTrust")
    for key in (rsa_key, ec.generate_private_key(ec.SECP521R1())):
        with pytest.raises(ValueError, match="P-256 or P-384"):
            create_root_ca(
                common_name=names.root_common_name,
                organization=names.organization,
                now=ca_now,
                key=key,
            )


def test_a_given_root_key_is_used(ca_now, ec_key):
    names = local_ca_names("vTrus")
    root = create_root_ca(
        common_name=names.root_common_name, organization=names.organization, now=ca_now, key=ec_key
    )
    assert root.private_key is ec_key
    assert name_values(root.subject, NameOID.COUNTRY_NAME) == []


@pytest.mark.parametrize("password", [None, b"correct horse"])
def test_authority_round_trips_through_pem(local_issuing, password):
    key_pem = local_issuing.private_key_pem(password)
    assert ("ENCRYPTED" in key_pem) == bool(password)
    loaded = Authority.from_pem(local_issuing.certificate_pem, key_pem, password)
    assert loaded.certificate == local_issuing.certificate
    assert loaded.private_key.private_numbers() == local_issuing.private_key.private_numbers()
    assert x509.load_der_x509_certificate(loaded.certificate_der) == local_issuing.certificate


def test_authority_refuses_a_key_of_another_certificate(local_root, local_issuing):
    with pytest.raises(ValueError, match="does not belong"):
        Authority(certificate=local_root.certificate, private_key=local_issuing.private_key)


def test_authority_refuses_a_certificate_that_is_not_a_ca(issue_leaf, ec_key):
    with pytest.raises(ValueError, match="not a CA"):
        Authority(certificate=issue_leaf(), private_key=ec_key)


# --- issued certificates: the baseline profile ------------------------------------------


@pytest.mark.parametrize("key_name", KEYS)
@pytest.mark.parametrize("validation_type", ["DV", "OV", "EV"])
def test_issued_certificate_follows_the_baseline_profile(
    request, issue_leaf, local_issuing, local_root, ca_now, validation_type, key_name
):
    key = request.getfixturevalue(key_name)
    domains = DOMAINS if validation_type != "EV" else DOMAINS[:2]
    cert = issue_leaf(
        csr_public_key=key.public_key(),
        domains=domains,
        validation_type=validation_type,
        subject=SUBJECTS[validation_type],
        validity_days=199,
    )

    assert cert.version == x509.Version.v3
    assert cert.public_key() == key.public_key()
    assert cert.issuer == local_issuing.subject
    assert cert.signature_algorithm_oid == SignatureAlgorithmOID.ECDSA_WITH_SHA256
    assert 0 < cert.serial_number < 2**159
    assert cert.not_valid_before_utc == ca_now
    assert name_values(cert.subject, NameOID.COMMON_NAME) == [domains[0]]

    san = extension(cert, x509.SubjectAlternativeName)
    assert not san.critical
    assert san.value.get_values_for_type(x509.DNSName) == domains
    assert len(list(san.value)) == len(domains)

    constraints = extension(cert, x509.BasicConstraints)
    assert constraints.critical and not constraints.value.ca
    usage = extension(cert, x509.KeyUsage)
    assert usage.critical
    assert usage.value.digital_signature
    assert usage.value.key_encipherment == isinstance(key, rsa.RSAPrivateKey)
    assert not (usage.value.key_cert_sign or usage.value.crl_sign)
    eku = extension(cert, x509.ExtendedKeyUsage)
    assert not eku.critical
    assert list(eku.value) == [ExtendedKeyUsageOID.SERVER_AUTH]

    ski = extension(cert, x509.SubjectKeyIdentifier).value
    assert ski == x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    issuer_ski = extension(local_issuing.certificate, x509.SubjectKeyIdentifier).value
    aki = extension(cert, x509.AuthorityKeyIdentifier)
    assert not aki.critical
    assert aki.value.key_identifier == issuer_ski.digest
    assert aki.value.authority_cert_issuer is None

    policies = extension(cert, x509.CertificatePolicies)
    assert not policies.critical
    assert [p.policy_identifier.dotted_string for p in policies.value] == [
        POLICIES[validation_type]
    ]
    assert all(p.policy_qualifiers is None for p in policies.value)
    assert _crl_urls(cert) == ["http://pki.example.test/pki/digicert/crl.der"]
    assert _aia(cert) == [
        (AuthorityInformationAccessOID.OCSP, "http://pki.example.test/pki/digicert/ocsp"),
        (AuthorityInformationAccessOID.CA_ISSUERS, "http://pki.example.test/pki/digicert/ca.der"),
    ]

    cert.verify_directly_issued_by(local_issuing.certificate)
    local_issuing.certificate.verify_directly_issued_by(local_root.certificate)


def test_ov_subject_names_the_organization(issue_leaf):
    cert = issue_leaf(validation_type="OV", subject=OV_SUBJECT)
    # Baseline Requirements 7.1.4.2 order: C, ST, L, O, CN.
    assert [(a.oid, a.value) for a in cert.subject] == [
        (NameOID.COUNTRY_NAME, "DE"),
        (NameOID.STATE_OR_PROVINCE_NAME, "Berlin"),
        (NameOID.LOCALITY_NAME, "Berlin"),
        (NameOID.ORGANIZATION_NAME, "Example Shop GmbH"),
        (NameOID.COMMON_NAME, "www.example.com"),
    ]


def test_ov_subject_needs_only_city_or_state(issue_leaf):
    cert = issue_leaf(
        validation_type="OV",
        subject=SubjectInfo(organization="Example Ltd", country="GB", city=" London "),
    )
    assert name_values(cert.subject, NameOID.LOCALITY_NAME) == ["London"]
    assert name_values(cert.subject, NameOID.STATE_OR_PROVINCE_NAME) == []


def test_ev_subject_has_the_ev_fields(issue_leaf):
    cert = issue_leaf(validation_type="EV", subject=EV_SUBJECT)
    assert [(a.oid.dotted_string, a.value) for a in cert.subject] == [
        ("2.5.4.15", "Private Organization"),
        ("1.3.6.1.4.1.311.60.2.1.3", "DE"),
        ("2.5.4.5", "HRB 123456 B"),
        ("2.5.4.6", "DE"),
        ("2.5.4.7", "Berlin"),
        ("2.5.4.10", "Example Shop GmbH"),
        ("2.5.4.3", "www.example.com"),
    ]


def test_dv_subject_names_only_the_domain(issue_leaf):
    cert = issue_leaf(validation_type="DV", subject=OV_SUBJECT)
    assert [a.oid for a in cert.subject] == [NameOID.COMMON_NAME]


@pytest.mark.parametrize(
    ("subject", "message"),
    [
        (None, "organization's details"),
        (SubjectInfo(country="DE", city="Berlin"), "organization name"),
        (SubjectInfo(organization="Example", city="Berlin"), "two-letter"),
        (SubjectInfo(organization="Example", country="Germany", city="Berlin"), "two-letter"),
        (SubjectInfo(organization="Example", country="D1", city="Berlin"), "two-letter"),
        (SubjectInfo(organization="Example", country="DE"), "city or state"),
        (SubjectInfo(organization="E" * 65, country="DE", city="Berlin"), "too long"),
    ],
)
def test_ov_needs_complete_organization_details(issue_leaf, subject, message):
    with pytest.raises(InvalidSubjectError, match=message):
        issue_leaf(validation_type="OV", subject=subject)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"business_category": "Startup"}, "business category"),
        ({"business_category": ""}, "business category"),
        ({"jurisdiction_country": ""}, "jurisdiction country"),
        ({"registration_number": " "}, "registration number"),
        ({"registration_number": "HRB_1234"}, "registration number may contain only"),
        ({"city": "", "state": "Berlin"}, "city"),
    ],
)
def test_ev_needs_the_ev_fields(issue_leaf, changes, message):
    subject = SubjectInfo(**{**EV_SUBJECT.__dict__, **changes})
    with pytest.raises(InvalidSubjectError, match=message):
        issue_leaf(validation_type="EV", subject=subject)


def test_every_ev_business_category_is_accepted(issue_leaf):
    for category in EV_BUSINESS_CATEGORIES:
        subject = SubjectInfo(**{**EV_SUBJECT.__dict__, "business_category": category})
        cert = issue_leaf(validation_type="EV", subject=subject)
        assert name_values(cert.subject, NameOID.BUSINESS_CATEGORY) == [category]


def test_check_subject_tidies_the_details_it_accepts():
    subject = SubjectInfo(organization="  Example   Shop GmbH ", country=" de", city="Berlin ")
    assert check_subject(subject, "OV") == SubjectInfo(
        organization="Example Shop GmbH", country="DE", city="Berlin"
    )


def test_check_subject_names_the_field_of_every_problem():
    subject = SubjectInfo(organization="Example", country="D1", registration_number="HRB_1")

    with pytest.raises(InvalidSubjectError) as raised:
        check_subject(subject, "EV")

    error = raised.value
    assert list(error.problems) == [
        "country",
        "business_category",
        "jurisdiction_country",
        "registration_number",
        "city",
    ]
    assert error.field == "country"
    assert error.message == str(error.problems["country"])
    assert "two-letter ISO 3166 code" in error.message
    assert "jurisdiction country" in str(error.problems["jurisdiction_country"])


def test_check_subject_ignores_the_ev_fields_of_an_ov_subject():
    subject = SubjectInfo(organization="Example", country="DE", city="Berlin")
    assert check_subject(subject, "OV") == subject


def test_check_subject_gives_no_field_when_the_details_are_missing():
    with pytest.raises(InvalidSubjectError, match="organization's details") as raised:
        check_subject(None, "OV")
    assert raised.value.field == ""
    assert raised.value.problems == {}


def test_check_subject_is_only_for_ov_and_ev():
    with pytest.raises(ValueError, match="Only OV and EV"):
        check_subject(OV_SUBJECT, "DV")


def test_unknown_validation_type_is_refused(issue_leaf):
    with pytest.raises(ValueError, match="DV, OV or EV"):
        issue_leaf(validation_type="IV")


# --- serials and validity ---------------------------------------------------------------


def test_serials_are_random_positive_and_20_bytes_long(issue_leaf):
    serials = [random_serial_number() for _ in range(200)] + [issue_leaf().serial_number]
    assert len(set(serials)) == len(serials)
    for serial in serials:
        # 159 bits: positive, and its DER INTEGER (sign bit included) takes exactly 20 bytes.
        assert serial.bit_length() == 159
        assert len(serial.to_bytes(20, "big", signed=True)) == 20
    # The 158 low bits are random: each is set in roughly half of the serials.
    for bit in (0, 63, 100, 157):
        share = sum(serial >> bit & 1 for serial in serials) / len(serials)
        assert 0.3 < share < 0.7


def test_each_issue_gets_a_fresh_serial(issue_leaf):
    first, second = issue_leaf(), issue_leaf()
    assert first.serial_number != second.serial_number
    assert first.fingerprint(hashes.SHA256()) != second.fingerprint(hashes.SHA256())


def test_a_given_serial_is_used(issue_leaf):
    assert issue_leaf(serial=0x1234).serial_number == 0x1234


@pytest.mark.parametrize("serial", [0, -1, 2**159])
def test_a_serial_must_be_positive_and_fit_20_bytes(issue_leaf, serial):
    with pytest.raises(ValueError, match="serial"):
        issue_leaf(serial=serial)


@pytest.mark.parametrize("days", [1, 90, 199, MAX_VALIDITY_DAYS])
def test_validity_is_exactly_as_asked(issue_leaf, ca_now, days):
    cert = issue_leaf(validity_days=days)
    assert cert.not_valid_before_utc == ca_now
    # RFC 5280 counts both ends: the period is notAfter - notBefore + 1 second.
    period = cert.not_valid_after_utc - cert.not_valid_before_utc + timedelta(seconds=1)
    assert period == timedelta(days=days)


def test_validity_starts_at_now_in_utc_whole_seconds(issue_leaf, ca_now):
    local_now = (ca_now + timedelta(hours=1, microseconds=654321)).astimezone(
        timezone(timedelta(hours=8))
    )
    cert = issue_leaf(now=local_now, validity_days=10)
    assert cert.not_valid_before_utc == ca_now + timedelta(hours=1)


@pytest.mark.parametrize("days", [0, -5, MAX_VALIDITY_DAYS + 1, 1000, True, 90.5])
def test_validity_outside_1_to_398_days_is_refused(issue_leaf, days):
    with pytest.raises(ValueError, match="validity_days"):
        issue_leaf(validity_days=days)


def test_naive_datetimes_are_refused(issue_leaf):
    with pytest.raises(ValueError, match="timezone-aware"):
        issue_leaf(now=datetime.now())


def test_a_certificate_never_outlives_the_issuing_ca(issue_leaf, local_issuing):
    late = local_issuing.certificate.not_valid_after_utc - timedelta(days=10)
    with pytest.raises(ValueError, match="expires"):
        issue_leaf(now=late, validity_days=30)


def test_a_certificate_never_starts_before_the_issuing_ca(issue_leaf, ca_now):
    with pytest.raises(ValueError, match="not valid yet"):
        issue_leaf(now=ca_now - timedelta(days=1))


# --- domains and keys -------------------------------------------------------------------


def test_wildcard_and_punycode_domains_go_in_the_san(issue_leaf):
    domains = ["*.example.com", "example.com", "xn--bcher-kva.example.com"]
    cert = issue_leaf(domains=domains)
    assert (
        extension(cert, x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)
        == domains
    )
    assert name_values(cert.subject, NameOID.COMMON_NAME) == ["*.example.com"]


def test_a_first_domain_too_long_for_the_cn_leaves_it_to_the_next(issue_leaf):
    long_domain = "a" * 60 + ".example.com"
    cert = issue_leaf(domains=[long_domain, "example.com"])
    assert name_values(cert.subject, NameOID.COMMON_NAME) == ["example.com"]
    names = extension(cert, x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)
    assert names == [long_domain, "example.com"]


def test_without_a_short_enough_domain_the_san_is_the_only_name(issue_leaf):
    long_domain = "a" * 60 + ".example.com"
    cert = issue_leaf(domains=[long_domain])
    assert len(cert.subject) == 0
    # RFC 5280 4.2.1.6: an empty subject makes the SAN critical.
    assert extension(cert, x509.SubjectAlternativeName).critical


@pytest.mark.parametrize(
    "domains",
    [
        [],
        ["WWW.example.com"],
        ["bücher.example.com"],
        ["example.com."],
        ["example.com", "example.com"],
        ["localhost"],
        ["under_score.example.com"],
        ["*.*.example.com"],
    ],
)
def test_domains_must_be_valid_and_normalized(issue_leaf, domains):
    with pytest.raises(InvalidDomainError):
        issue_leaf(domains=domains)


def test_an_ev_certificate_has_no_wildcards(issue_leaf):
    with pytest.raises(InvalidDomainError, match="EV"):
        issue_leaf(
            validation_type="EV", subject=EV_SUBJECT, domains=["example.com", "*.example.com"]
        )


def test_weak_and_unsupported_keys_are_refused(issue_leaf, rsa_1024_key, ed25519_key):
    with pytest.raises(WeakKeyError):
        issue_leaf(csr_public_key=rsa_1024_key.public_key())
    with pytest.raises(UnsupportedKeyError, match="Ed25519"):
        issue_leaf(csr_public_key=ed25519_key.public_key())


# --- independent proof: openssl and a TLS handshake -------------------------------------


@pytest.mark.parametrize("key_name", KEYS)
@pytest.mark.parametrize("validation_type", ["DV", "OV", "EV"])
def test_openssl_verifies_the_chain_to_the_root(
    request, openssl, issue_leaf, local_root, local_issuing, validation_type, key_name
):
    key = request.getfixturevalue(key_name)
    domains = DOMAINS if validation_type != "EV" else DOMAINS[:2]
    cert = issue_leaf(
        csr_public_key=key.public_key(),
        domains=domains,
        validation_type=validation_type,
        subject=SUBJECTS[validation_type],
    )
    openssl.write("root.pem", local_root.certificate_pem)
    openssl.write("issuing.pem", local_issuing.certificate_pem)
    openssl.write("leaf.pem", certificates_to_pem([cert]))

    output = openssl.ok(
        "verify",
        "-x509_strict",
        "-purpose",
        "sslserver",
        "-verify_hostname",
        "api.shop.example.com" if validation_type != "EV" else "example.com",
        "-CAfile",
        "root.pem",
        "-untrusted",
        "issuing.pem",
        "leaf.pem",
    )
    assert output.strip() == "leaf.pem: OK"

    text = openssl.ok("x509", "-in", "leaf.pem", "-noout", "-text")
    assert f"Policy: {POLICIES[validation_type]}" in text
    assert "CA:FALSE" in text
    assert "URI:http://pki.example.test/pki/digicert/crl.der" in text
    assert "OCSP - URI:http://pki.example.test/pki/digicert/ocsp" in text


def test_openssl_refuses_the_leaf_without_the_issuing_ca(openssl, issue_leaf, local_root):
    openssl.write("root.pem", local_root.certificate_pem)
    openssl.write("leaf.pem", certificates_to_pem([issue_leaf()]))
    result = openssl.run("verify", "-CAfile", "root.pem", "leaf.pem")
    assert result.returncode != 0
    assert "unable to get local issuer certificate" in result.stdout


def test_openssl_refuses_the_wrong_hostname(openssl, issue_leaf, local_root, local_issuing):
    openssl.write("root.pem", local_root.certificate_pem)
    openssl.write("issuing.pem", local_issuing.certificate_pem)
    openssl.write("leaf.pem", certificates_to_pem([issue_leaf()]))
    result = openssl.run(
        "verify",
        *("-verify_hostname", "mail.example.com"),
        *("-CAfile", "root.pem", "-untrusted", "issuing.pem", "leaf.pem"),
    )
    assert result.returncode != 0
    assert "hostname mismatch" in result.stdout


def test_a_tls_client_trusting_only_the_root_accepts_the_server(
    tmp_path, issue_leaf, local_root, local_issuing, ec_key
):
    cert = issue_leaf(domains=["www.example.com", "example.com"])
    chain = tmp_path / "fullchain.pem"
    chain.write_text(certificates_to_pem([cert, local_issuing.certificate]))
    key = tmp_path / "key.pem"
    key.write_text(private_key_to_pem(ec_key))

    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(chain, key)
    client_context = ssl.create_default_context(cadata=local_root.certificate_pem)
    client_context.verify_flags |= ssl.VERIFY_X509_STRICT
    assert client_context.check_hostname

    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        served = threading.Thread(target=_serve_once, args=(listener, server_context))
        served.start()
        with (
            socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
            client_context.wrap_socket(raw, server_hostname="example.com") as tls,
        ):
            assert tls.recv(5) == b"hello"
            peer = tls.getpeercert()
        served.join(timeout=10)
    assert ("DNS", "example.com") in peer["subjectAltName"]


def _serve_once(listener: socket.socket, context: ssl.SSLContext) -> None:
    listener.settimeout(10)
    connection, _ = listener.accept()
    with context.wrap_socket(connection, server_side=True) as tls:
        tls.sendall(b"hello")


# --- helpers ----------------------------------------------------------------------------


def _crl_urls(cert: x509.Certificate) -> list[str]:
    points = extension(cert, x509.CRLDistributionPoints)
    assert not points.critical
    return [name.value for point in points.value for name in point.full_name]


def _aia(cert: x509.Certificate) -> list[tuple[x509.ObjectIdentifier, str]]:
    aia = extension(cert, x509.AuthorityInformationAccess)
    assert not aia.critical
    return [(d.access_method, d.access_location.value) for d in aia.value]


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("Example Shop Ltd", None),
        ("杭州示例有限公司", None),
        ("Müller & Söhne GmbH", None),
        ("O'Brien (Holdings) Ltd.", None),
        ("<b>Shop</b>", 'can\'t contain "<"'),
        ("Shop\tLtd", 'can\'t contain "U+0009"'),
        ("Shop\u200bLtd", 'can\'t contain "U+200B"'),
        ("Shop ™", 'can\'t contain "™"'),
        ("...", "not only punctuation"),
        ("x" * 65, "at most 64 characters"),
    ],
)
def test_a_name_value_is_printable_text_within_its_bound(value, problem):
    found = name_value_problem(value, "organization name", max_length=64)
    if problem is None:
        assert found is None
    else:
        assert problem in str(found)
