"""The Upload Certificate dialog: what it accepts, what it refuses and what it keeps."""

import ipaddress
import json
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from certificates.key_encryption import decrypt_private_key
from certificates.models import AuditEvent, Certificate, CompromisedKey
from certificates.pki.parsing import public_key_sha256, serial_hex
from tests.factories import make_brand, make_certificate
from tests.pki_material import Issued, build_certificate

pytestmark = pytest.mark.django_db

UPLOAD = reverse("certificates:upload")
HTMX_FROM_OVERVIEW = {
    "HTTP_HX_REQUEST": "true",
    "HTTP_HX_CURRENT_URL": "http://testserver/certificates/?status=issued",
}

KEY_FORMATS = {
    "pkcs8": serialization.PrivateFormat.PKCS8,
    "traditional": serialization.PrivateFormat.TraditionalOpenSSL,  # PKCS#1 / SEC1
}


def key_pem(key, private_format=serialization.PrivateFormat.PKCS8) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, private_format, serialization.NoEncryption()
    ).decode()


def upload(client, *, name="my-cert", certificate="", key="", files=None, **headers):
    data = {"name": name, "certificate": certificate, "key": key, **(files or {})}
    return client.post(UPLOAD, data, **headers)


def field_errors(response) -> dict[str, list[str]]:
    return {field: list(errors) for field, errors in response.context["form"].errors.items()}


def assert_refused(response, field: str, message_part: str) -> None:
    assert response.status_code == 200
    errors = field_errors(response)
    assert any(message_part in message for message in errors.get(field, [])), errors
    assert not Certificate.objects.exists()
    assert not AuditEvent.objects.exists()


@pytest.fixture(scope="module")
def leaf_of():
    """A leaf for any key, issued by a two-level CA made once for this module."""
    root = build_certificate("Upload Root CA", ec.generate_private_key(ec.SECP384R1()), is_ca=True)
    intermediate = build_certificate(
        "GeoTrust TLS RSA CA G1",
        ec.generate_private_key(ec.SECP256R1()),
        root,
        is_ca=True,
        organization="DigiCert Inc",
    )

    def make(key, name="shop.example.com", **kwargs) -> tuple[Issued, Issued, Issued]:
        leaf = build_certificate(name, key, intermediate, dns_names=[name, f"www.{name}"], **kwargs)
        return leaf, intermediate, root

    return make


KEYS = {
    "rsa2048": lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048),
    "rsa3072": lambda: rsa.generate_private_key(public_exponent=65537, key_size=3072),
    "rsa4096": lambda: rsa.generate_private_key(public_exponent=65537, key_size=4096),
    "ecp256": lambda: ec.generate_private_key(ec.SECP256R1()),
    "ecp384": lambda: ec.generate_private_key(ec.SECP384R1()),
    "ed25519": ed25519.Ed25519PrivateKey.generate,
}
KEY_DESCRIPTIONS = {
    "rsa2048": "RSA 2048",
    "rsa3072": "RSA 3072",
    "rsa4096": "RSA 4096",
    "ecp256": "ECC P-256",
    "ecp384": "ECC P-384",
    "ed25519": "Ed25519",
}


@pytest.fixture(scope="module")
def keys():
    return {name: make() for name, make in KEYS.items()}


# Ed25519 keys exist only in PKCS#8.
KEY_CASES = [
    (key_type, key_format)
    for key_type in KEYS
    for key_format in KEY_FORMATS
    if not (key_type == "ed25519" and key_format == "traditional")
]


@pytest.mark.parametrize(("key_type", "key_format"), KEY_CASES)
def test_upload_accepts_each_key_type_and_format(
    customer_client, keys, leaf_of, key_type, key_format
):
    key = keys[key_type]
    leaf, intermediate, _ = leaf_of(key)

    response = upload(
        customer_client,
        certificate=leaf.cert_pem + intermediate.cert_pem,
        key=key_pem(key, KEY_FORMATS[key_format]),
    )

    assert response.status_code == 302
    certificate = Certificate.objects.get()
    assert response["Location"] == certificate.get_absolute_url()
    assert certificate.key_algorithm == KEY_DESCRIPTIONS[key_type]
    assert certificate.status == "issued"
    assert certificate.source == "uploaded"


@pytest.mark.parametrize(
    "order", ["leaf_then_chain", "chain_then_leaf", "root_included_shuffled", "leaf_only"]
)
def test_upload_reads_the_chain_in_any_order(customer_client, keys, leaf_of, order):
    leaf, intermediate, root = leaf_of(keys["ecp256"])
    text = {
        "leaf_then_chain": leaf.cert_pem + intermediate.cert_pem,
        "chain_then_leaf": intermediate.cert_pem + leaf.cert_pem,
        "root_included_shuffled": root.cert_pem + leaf.cert_pem + intermediate.cert_pem,
        "leaf_only": leaf.cert_pem,
    }[order]

    upload(customer_client, certificate=text, key=leaf.key_pem)

    certificate = Certificate.objects.get()
    assert certificate.certificate_pem == leaf.cert_pem
    expected_chain = {
        "leaf_only": "",
        "root_included_shuffled": intermediate.cert_pem + root.cert_pem,
    }.get(order, intermediate.cert_pem)
    assert certificate.chain_pem == expected_chain


def test_upload_keeps_what_the_certificate_says(customer_client, keys, leaf_of):
    brand = make_brand("DigiCert")
    leaf, intermediate, _ = leaf_of(keys["rsa2048"], organization="Example Shop Ltd")

    upload(customer_client, certificate=leaf.cert_pem + intermediate.cert_pem, key=leaf.key_pem)

    certificate = Certificate.objects.get()
    assert certificate.name == "my-cert"
    assert certificate.domain_list == ["shop.example.com", "www.shop.example.com"]
    assert certificate.common_name == "shop.example.com"
    assert certificate.organization == "Example Shop Ltd"
    assert certificate.brand == brand  # the issuer names DigiCert Inc
    assert certificate.serial == serial_hex(leaf.cert.serial_number)
    assert certificate.not_after == leaf.cert.not_valid_after_utc
    assert certificate.not_before == leaf.cert.not_valid_before_utc
    assert "GeoTrust TLS RSA CA G1" in certificate.issuer
    assert len(certificate.fingerprint_sha256.split(":")) == 32
    event = AuditEvent.objects.get()
    assert (event.action, event.object_id) == ("certificate.upload", str(certificate.pk))


def test_upload_of_an_expired_certificate_lands_in_expired(customer_client, keys, leaf_of):
    now = datetime.now(UTC)
    leaf, _, _ = leaf_of(
        keys["ecp256"],
        name="old.example.com",
        not_before=now - timedelta(days=300),
        not_after=now - timedelta(days=1),
    )
    upload(customer_client, certificate=leaf.cert_pem, key=leaf.key_pem)
    assert Certificate.objects.get().status == "expired"


def test_upload_tolerates_crlf_and_bag_attributes(customer_client, keys, leaf_of, bag_attributes):
    leaf, intermediate, _ = leaf_of(keys["rsa2048"])
    text = bag_attributes(leaf, [intermediate]).replace("\n", "\r\n")

    response = upload(customer_client, certificate=text, key=text)

    assert response.status_code == 302
    assert Certificate.objects.get().chain_pem == intermediate.cert_pem


def test_upload_accepts_ec_key_with_ec_parameters_block(customer_client, keys, leaf_of):
    key = keys["ecp256"]
    leaf, _, _ = leaf_of(key)
    parameters = "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n"

    upload(
        customer_client,
        certificate=leaf.cert_pem,
        key=parameters + key_pem(key, KEY_FORMATS["traditional"]),
    )

    assert Certificate.objects.count() == 1


def test_upload_accepts_chosen_files(customer_client, keys, leaf_of):
    leaf, intermediate, _ = leaf_of(keys["ecp256"])
    files = {
        "certificate_file": SimpleUploadedFile(
            "cert.pem", (leaf.cert_pem + intermediate.cert_pem).encode()
        ),
        "key_file": SimpleUploadedFile("cert.key", leaf.key_pem.encode()),
    }

    response = upload(customer_client, files=files)

    assert response.status_code == 302
    assert Certificate.objects.get().chain_pem == intermediate.cert_pem


def test_stored_row_holds_no_plaintext_key(customer_client, keys, leaf_of):
    leaf, _, _ = leaf_of(keys["rsa2048"])
    upload(customer_client, certificate=leaf.cert_pem, key=leaf.key_pem)

    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM certificates_certificate")
        row = " ".join(str(value) for value in cursor.fetchone())
    assert "PRIVATE KEY" not in row
    body = "".join(leaf.key_pem.splitlines()[1:-1])
    assert body[:40] not in row.replace("\n", "")
    stored = Certificate.objects.get().private_key_encrypted
    assert decrypt_private_key(stored) == key_pem(keys["rsa2048"])


def test_htmx_upload_from_the_overview_closes_the_dialog_refreshes_the_list_and_says_so(
    customer_client, keys, leaf_of
):
    leaf, _, _ = leaf_of(keys["ecp256"])

    response = upload(
        customer_client, certificate=leaf.cert_pem, key=leaf.key_pem, **HTMX_FROM_OVERVIEW
    )

    assert response.status_code == 204
    triggers = json.loads(response["HX-Trigger"])
    assert set(triggers) == {"certificatesChanged", "closeDialog", "showMessage"}
    name = Certificate.objects.get().name
    assert triggers["showMessage"]["message"] == f"Certificate {name} was uploaded."


def test_htmx_get_renders_the_dialog_fragment_with_the_notice(customer_client):
    response = customer_client.get(UPLOAD, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert html.lstrip().startswith('<div class="modal-content">')
    assert (
        "In order to better protect your certificate data security, uploaded certificates do not "
        "support downloading!" in html
    )
    for label in ("Certificate Name", "Certificate File", "Certificate Key"):
        assert label in html
    assert ">OK</button>" in html


def test_htmx_refusal_re_renders_the_dialog_with_the_errors(customer_client):
    response = upload(customer_client, name="", **HTMX_FROM_OVERVIEW)
    assert response.status_code == 200
    assert response.content.decode().lstrip().startswith('<div class="modal-content">')
    assert "This field is required." in response.content.decode()


# --- refusals: each on its field, nothing saved ------------------------------------------


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "This field is required."),
        ("x" * 64, "at most 63 characters"),
        ("my cert", "Use only letters, digits, underscores (_) and hyphens (-)."),
        ("证书", "Use only letters, digits"),
        ("a.b", "Use only letters, digits"),
    ],
)
def test_upload_rejects_bad_names(customer_client, keys, leaf_of, name, message):
    leaf, _, _ = leaf_of(keys["ecp256"])
    assert_refused(
        upload(customer_client, name=name, certificate=leaf.cert_pem, key=leaf.key_pem),
        "name",
        message,
    )


def test_upload_rejects_a_name_already_used_by_this_customer(
    customer_client, customer, keys, leaf_of
):
    make_certificate(customer, name="my-cert", source="uploaded")
    leaf, _, _ = leaf_of(keys["ecp256"])
    response = upload(customer_client, certificate=leaf.cert_pem, key=leaf.key_pem)
    assert response.status_code == 200
    assert field_errors(response)["name"] == ["You already have a certificate with this name."]
    assert Certificate.objects.count() == 1


def test_same_name_is_fine_for_another_customer(customer_client, other_customer, keys, leaf_of):
    make_certificate(other_customer, name="my-cert", source="uploaded")
    leaf, _, _ = leaf_of(keys["ecp256"])
    assert upload(customer_client, certificate=leaf.cert_pem, key=leaf.key_pem).status_code == 302


def test_upload_rejects_the_same_certificate_twice(customer_client, keys, leaf_of):
    leaf, _, _ = leaf_of(keys["ecp256"])
    upload(customer_client, certificate=leaf.cert_pem, key=leaf.key_pem)

    response = upload(customer_client, name="again", certificate=leaf.cert_pem, key=leaf.key_pem)

    assert field_errors(response)["certificate"] == ["You have already uploaded this certificate."]
    assert Certificate.objects.count() == 1


def test_upload_rejects_der_bytes_pointing_to_the_converter(customer_client, keys, leaf_of):
    leaf, _, _ = leaf_of(keys["ecp256"])
    der = leaf.cert.public_bytes(serialization.Encoding.DER)
    files = {"certificate_file": SimpleUploadedFile("cert.der", der)}
    assert_refused(upload(customer_client, key=leaf.key_pem, files=files), "certificate", "convert")


def test_upload_rejects_a_pkcs12_file_pointing_to_the_converter(customer_client, keys, leaf_of):
    leaf, _, _ = leaf_of(keys["ecp256"])
    pfx = pkcs12.serialize_key_and_certificates(
        b"x", leaf.key, leaf.cert, None, serialization.BestAvailableEncryption(b"pw")
    )
    files = {"certificate_file": SimpleUploadedFile("cert.pfx", pfx)}
    response = upload(customer_client, key=leaf.key_pem, files=files)
    assert_refused(response, "certificate", "PKCS#12")
    assert_refused(response, "certificate", "converter")


def test_upload_rejects_missing_certificate_and_key(customer_client):
    response = upload(customer_client)
    assert_refused(response, "certificate", "Paste the certificate file or choose a file.")
    assert_refused(response, "key", "Paste the certificate key or choose a file.")


def test_upload_rejects_text_without_a_certificate(customer_client, keys, leaf_of):
    leaf, _, _ = leaf_of(keys["ecp256"])
    assert_refused(
        upload(customer_client, certificate="hello", key=leaf.key_pem),
        "certificate",
        "No certificate",
    )


def test_upload_rejects_text_without_a_key(customer_client, keys, leaf_of):
    leaf, _, _ = leaf_of(keys["ecp256"])
    assert_refused(
        upload(customer_client, certificate=leaf.cert_pem, key=leaf.cert_pem),
        "key",
        "not a private key",
    )


def test_upload_rejects_key_that_does_not_match(customer_client, keys, leaf_of):
    leaf, _, _ = leaf_of(keys["ecp256"])
    other = key_pem(keys["ecp384"])
    assert_refused(
        upload(customer_client, certificate=leaf.cert_pem, key=other), "key", "does not match"
    )


def test_upload_rejects_an_encrypted_key_saying_so(customer_client, keys, leaf_of):
    leaf, _, _ = leaf_of(keys["ecp256"])
    encrypted = leaf.key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"secret"),
    ).decode()
    assert_refused(
        upload(customer_client, certificate=leaf.cert_pem, key=encrypted), "key", "encrypted"
    )


@pytest.mark.parametrize(
    ("key_fixture", "message"),
    [("rsa_1024_key", "1024 bits"), ("rsa_4104_key", "at most 4096 bits")],
    ids=["under-2048-bits", "too-large-to-check-in-time"],
)
def test_upload_rejects_rsa_keys_out_of_bounds(
    customer_client, leaf_of, request, key_fixture, message
):
    leaf, _, _ = leaf_of(request.getfixturevalue(key_fixture))
    assert_refused(
        upload(customer_client, certificate=leaf.cert_pem, key=leaf.key_pem), "key", message
    )


def test_upload_rejects_a_file_of_more_than_ten_certificates(customer_client, keys, leaf_of):
    leaf, intermediate, root = leaf_of(keys["ecp256"])
    others = [
        build_certificate(f"Other CA {n}", ec.generate_private_key(ec.SECP256R1()), is_ca=True)
        for n in range(8)
    ]
    text = leaf.cert_pem + intermediate.cert_pem + root.cert_pem
    text += "".join(other.cert_pem for other in others) + leaf.cert_pem  # a repeat counts once
    assert_refused(
        upload(customer_client, certificate=text, key=leaf.key_pem),
        "certificate",
        "contains 11 certificates; the console accepts at most 10",
    )


def test_upload_rejects_a_chain_that_does_not_sign_each_other(
    customer_client, rsa_leaf, foreign_intermediate_ca
):
    text = rsa_leaf.cert_pem + foreign_intermediate_ca.cert_pem
    assert_refused(
        upload(customer_client, certificate=text, key=rsa_leaf.key_pem),
        "certificate",
        "was not signed by",
    )


def test_upload_rejects_an_unrelated_certificate_in_the_chain(
    customer_client, ec_leaf, unrelated_ca
):
    text = ec_leaf.cert_pem + unrelated_ca.cert_pem
    assert_refused(
        upload(customer_client, certificate=text, key=ec_leaf.key_pem),
        "certificate",
        "not part of the chain",
    )


def test_upload_rejects_oversized_fields(customer_client, keys, leaf_of):
    leaf, _, _ = leaf_of(keys["ecp256"])
    huge = leaf.cert_pem + "x" * 70_000
    response = upload(customer_client, certificate=huge, key=leaf.key_pem + " " * 20_000)
    assert_refused(response, "certificate", "at most 65536 characters")
    assert_refused(response, "key", "at most 16384 characters")
    files = {"certificate_file": SimpleUploadedFile("big.pem", huge.encode())}
    assert_refused(
        upload(customer_client, key=leaf.key_pem, files=files), "certificate", "too large"
    )


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    name=st.text(max_size=80),
    certificate=st.text(max_size=400),
    key=st.text(max_size=400),
    certificate_bytes=st.binary(max_size=400),
    key_bytes=st.binary(max_size=400),
)
def test_upload_never_fails_with_a_server_error_nor_saves_garbage(
    customer_client, name, certificate, key, certificate_bytes, key_bytes
):
    # NUL characters cannot travel in a form post; everything else can.
    name, certificate, key = (value.replace("\x00", "") for value in (name, certificate, key))
    for files in (
        {},
        {
            "certificate_file": SimpleUploadedFile("c.pem", certificate_bytes),
            "key_file": SimpleUploadedFile("k.key", key_bytes),
        },
    ):
        response = upload(customer_client, name=name, certificate=certificate, key=key, files=files)
        assert response.status_code == 200
        assert not Certificate.objects.exists()


def test_upload_needs_sign_in(client):
    response = client.get(UPLOAD)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_dialog_has_the_original_consoles_hints_and_placeholders(customer_client):
    html = customer_client.get(UPLOAD).content.decode()
    assert (
        "The certificate name can contain letters, numbers, underscores (_) and hyphens (-)."
        in html
    )
    assert 'placeholder="-----BEGIN CERTIFICATE-----\n...\n-----END CERTIFICATE-----"' in html
    assert (
        'placeholder="-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----"' in html
    )
    assert (
        "Use a text tool (Notepad or Notepad++) to open your certificate file and private" in html
    )
    assert "uploaded certificates do not support downloading" in html


# --- what the audit flagged ------------------------------------------------------------------


def test_a_ca_certificate_is_refused_as_the_certificate_to_upload(customer_client, keys, leaf_of):
    _, intermediate, root = leaf_of(keys["ecp256"])

    response = upload(
        customer_client, certificate=intermediate.cert_pem + root.cert_pem, key=intermediate.key_pem
    )

    assert_refused(response, "certificate", "is a CA certificate (basicConstraints CA:TRUE)")


def test_a_trusted_certificate_block_gets_its_own_message(customer_client, keys, leaf_of):
    leaf, intermediate, _ = leaf_of(keys["ecp256"])
    trusted = leaf.cert_pem.replace("CERTIFICATE-----", "TRUSTED CERTIFICATE-----")

    for text in (trusted, trusted + intermediate.cert_pem):
        response = upload(customer_client, certificate=text, key=leaf.key_pem)
        assert_refused(response, "certificate", 'This is an OpenSSL "TRUSTED CERTIFICATE"')


def test_a_certificate_not_yet_valid_shows_as_not_yet_valid(customer_client, keys, leaf_of):
    now = datetime.now(UTC)
    leaf, _, _ = leaf_of(
        keys["ecp256"],
        name="soon.example.com",
        not_before=now + timedelta(days=3),
        not_after=now + timedelta(days=90),
    )
    upload(customer_client, certificate=leaf.cert_pem, key=leaf.key_pem)
    certificate = Certificate.objects.get()

    overview = customer_client.get(reverse("certificates:overview")).content.decode()
    detail = customer_client.get(certificate.get_absolute_url()).content.decode()

    for page in (overview, detail):
        assert '<span class="status status-not_yet_valid' in page
        assert "Not yet valid" in page
        assert "status-issued" not in page
    assert certificate.get_display_status_display() == "Not yet valid"


def test_a_serial_with_leading_zeros_keeps_them(customer_client, keys, leaf_of):
    leaf, _, _ = leaf_of(keys["ecp256"], serial=0x00_0A_1B_2C_3D)
    upload(customer_client, certificate=leaf.cert_pem, key=leaf.key_pem)
    certificate = Certificate.objects.get()

    assert certificate.serial == "0A1B2C3D"
    assert "0A1B2C3D" in customer_client.get(certificate.get_absolute_url()).content.decode()


def leaf_with_names(intermediate: Issued, key, names) -> Issued:
    """A server certificate whose subject alternative names are `names` (GeneralNames)."""
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "shop.example.com")]))
        .issuer_name(intermediate.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=90))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .sign(intermediate.key, hashes.SHA256())
    )
    return Issued(cert=cert, key=key)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (x509.DNSName("exa_mple.com"), '"exa_mple.com" is not a valid DNS name'),
        (x509.DNSName("foo..example.com"), '"foo..example.com" is not a valid DNS name'),
        (x509.DNSName("<b>.example.com"), '"<b>.example.com" is not a valid DNS name'),
        (x509.DNSName("*.*.example.com"), "a wildcard may only be the whole first label"),
        (x509.DNSName("-shop.example.com"), "starts or ends with a hyphen"),
        (x509.RFC822Name("admin@example.com"), '"admin@example.com" (email address)'),
        (x509.UniformResourceIdentifier("https://example.com/"), '"https://example.com/" (URI)'),
    ],
)
def test_a_san_entry_not_a_dns_name_or_ip_address_is_refused_by_name(
    customer_client, keys, leaf_of, entry, message
):
    _, intermediate, _ = leaf_of(keys["ecp256"])
    key = keys["ecp256"]
    leaf = leaf_with_names(intermediate, key, [x509.DNSName("shop.example.com"), entry])

    response = upload(
        customer_client, certificate=leaf.cert_pem + intermediate.cert_pem, key=leaf.key_pem
    )

    assert_refused(response, "certificate", message)


def test_dns_names_wildcards_and_ip_addresses_are_accepted(customer_client, keys, leaf_of):
    _, intermediate, _ = leaf_of(keys["ecp256"])
    names = [
        x509.DNSName("shop.example.com"),
        x509.DNSName("*.shop.example.com"),
        x509.DNSName("xn--fiqs8s.example.com"),
        x509.IPAddress(ipaddress.ip_address("203.0.113.7")),
    ]
    leaf = leaf_with_names(intermediate, keys["ecp256"], names)

    upload(customer_client, certificate=leaf.cert_pem + intermediate.cert_pem, key=leaf.key_pem)

    assert Certificate.objects.get().domain_list == [
        "shop.example.com",
        "*.shop.example.com",
        "xn--fiqs8s.example.com",
    ]


def test_upload_refuses_a_key_on_the_compromised_key_list(customer_client, keys, leaf_of):
    leaf, intermediate, _ = leaf_of(keys["ecp384"], name="listed.example.com")
    CompromisedKey.objects.create(
        public_key_sha256=public_key_sha256(leaf.cert), source=CompromisedKey.Source.REPORT
    )

    response = upload(
        customer_client, certificate=leaf.cert_pem + intermediate.cert_pem, key=leaf.key_pem
    )

    assert_refused(response, "key", "list of compromised keys")
