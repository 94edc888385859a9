"""The public CA endpoints: CA certificates, CRLs and OCSP, as TLS clients use them."""

import base64
import urllib.request
from datetime import timedelta
from io import StringIO
from urllib.parse import quote

import pytest
import time_machine
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp
from django.core.management import call_command
from django.utils import timezone

from certificates import services
from certificates.lifecycle import RevocationStatus
from certificates.models import Certificate, CertificateAuthority, OcspAnswer
from certificates.pki.parsing import load_certificates
from tests.issuance import issue_real_certificate

pytestmark = pytest.mark.django_db


def pem_certificate(pem: str) -> x509.Certificate:
    return load_certificates(pem)[0]


def revoke_for_real(certificate, reason=1):
    """Revoked and on the CRL: key compromise (a DV certificate's) is revoked at once, other
    reasons when the CA completes the request."""
    request = services.request_revocation(
        certificate=certificate, reason=reason, actor=certificate.owner
    )
    if request.status == RevocationStatus.COMPLETED:
        return request
    return services.complete_revocation(revocation=request, actor=None)


class PKI:
    """A brand's CAs with a good and a revoked certificate, and the URLs to ask about them."""

    def __init__(self, owner):
        self.good = issue_real_certificate(owner, domain="good.example.com")
        self.revoked = issue_real_certificate(owner, domain="revoked.example.com")
        self.revocation = revoke_for_real(self.revoked)
        self.issuing_row = self.good.authority
        self.root_row = CertificateAuthority.objects.get(brand=self.issuing_row.brand, role="root")
        self.issuing = pem_certificate(self.issuing_row.certificate_pem)
        self.root = pem_certificate(self.root_row.certificate_pem)
        slug = self.issuing_row.slug
        self.crl_url = f"/pki/{slug}/crl.der"
        self.root_crl_url = f"/pki/{slug}/root-crl.der"
        self.ocsp_url = f"/pki/{slug}/ocsp"

    def leaf(self, certificate) -> x509.Certificate:
        return pem_certificate(certificate.certificate_pem)


@pytest.fixture
def pki(customer):
    return PKI(customer)


def load_crl(response) -> x509.CertificateRevocationList:
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pkix-crl"
    return x509.load_der_x509_crl(response.content)


def crl_number(crl) -> int:
    return crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number


# --- CA certificates ----------------------------------------------------------------------


def test_the_ca_certificates_are_published_in_der_without_sign_in(client, pki):
    slug = pki.issuing_row.slug
    for url, expected in (
        (f"/pki/{slug}/ca.der", pki.issuing),
        (f"/pki/{slug}/root.der", pki.root),
    ):
        response = client.get(url)
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pkix-cert"
        assert x509.load_der_x509_certificate(response.content) == expected


def test_the_urls_in_an_issued_certificate_are_the_ones_served(client, pki, settings):
    leaf = pki.leaf(pki.good)
    points = leaf.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    access = leaf.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    urls = [points[0].full_name[0].value] + [item.access_location.value for item in access]
    for url in urls:
        assert url.startswith(settings.PKI_BASE_URL)
        path = url.removeprefix(settings.PKI_BASE_URL)
        if path.endswith("/ocsp"):
            continue  # OCSP needs a request; see below
        assert client.get(path).status_code == 200, path


def test_an_unknown_ca_is_a_404(client, pki):
    for url in ("/pki/nope/crl.der", "/pki/nope/ca.der", "/pki/nope/root.der", "/pki/nope/ocsp"):
        assert client.get(url).status_code == 404


# --- CRL ----------------------------------------------------------------------------------


def test_the_crl_is_signed_by_the_issuing_ca_and_lists_the_revoked_certificate(client, pki):
    crl = load_crl(client.get(pki.crl_url))

    assert crl.issuer == pki.issuing.subject
    assert crl.is_signature_valid(pki.issuing.public_key())
    assert not crl.is_signature_valid(pki.root.public_key())
    assert crl.next_update_utc - crl.last_update_utc == timedelta(hours=24)
    assert abs(crl.last_update_utc - timezone.now()) < timedelta(minutes=1)
    entry = crl.get_revoked_certificate_by_serial_number(pki.leaf(pki.revoked).serial_number)
    assert entry is not None
    assert entry.revocation_date_utc == pki.revocation.completed_at.replace(microsecond=0)
    reason = entry.extensions.get_extension_for_class(x509.CRLReason).value.reason
    assert reason == x509.ReasonFlags.key_compromise
    assert crl.get_revoked_certificate_by_serial_number(pki.leaf(pki.good).serial_number) is None
    assert len(crl) == 1


def test_the_crl_is_kept_until_a_revocation_and_then_numbered_higher(client, pki, customer):
    first = client.get(pki.crl_url).content
    again = client.get(pki.crl_url).content
    assert again == first
    number = crl_number(x509.load_der_x509_crl(first))

    revoke_for_real(pki.good, reason=4)
    crl = x509.load_der_x509_crl(client.get(pki.crl_url).content)

    assert crl_number(crl) == number + 1
    assert len(crl) == 2
    entry = crl.get_revoked_certificate_by_serial_number(pki.leaf(pki.good).serial_number)
    reason = entry.extensions.get_extension_for_class(x509.CRLReason).value.reason
    assert reason == x509.ReasonFlags.superseded


def test_a_new_crl_is_published_when_half_its_validity_has_passed(client, pki):
    number = crl_number(load_crl(client.get(pki.crl_url)))
    with time_machine.travel(timezone.now() + timedelta(hours=11, minutes=59)):
        assert crl_number(load_crl(client.get(pki.crl_url))) == number
    with time_machine.travel(timezone.now() + timedelta(hours=12, minutes=1)):
        crl = load_crl(client.get(pki.crl_url))
    assert crl_number(crl) == number + 1
    assert len(crl) == 1


def test_the_crl_validity_is_a_setting(client, pki, settings):
    settings.PKI_CRL_VALIDITY_HOURS = 48
    CertificateAuthority.objects.update(crl_refresh_at=None)
    crl = load_crl(client.get(pki.crl_url))
    assert crl.next_update_utc - crl.last_update_utc == timedelta(hours=48)


def test_an_unrevoked_ca_publishes_an_empty_crl_with_a_number(client, customer):
    certificate = issue_real_certificate(customer)
    crl = load_crl(client.get(f"/pki/{certificate.authority.slug}/crl.der"))
    assert len(crl) == 0
    assert crl_number(crl) == 1


def test_a_deleted_revoked_certificate_stays_on_the_crl(client, customer_client, pki):
    customer_client.post(f"/certificates/{pki.revoked.pk}/delete/")
    assert Certificate.objects.get(pk=pki.revoked.pk).deleted_at is not None

    revoke_for_real(pki.good)  # a new CRL
    crl = load_crl(client.get(pki.crl_url))

    serial = pki.leaf(pki.revoked).serial_number
    assert crl.get_revoked_certificate_by_serial_number(serial) is not None


def test_the_root_crl_is_signed_by_the_root_and_lists_nothing(client, pki):
    crl = load_crl(client.get(pki.root_crl_url))
    assert crl.issuer == pki.root.subject
    assert crl.is_signature_valid(pki.root.public_key())
    assert len(crl) == 0
    assert crl_number(crl) >= 1


def test_crls_are_only_read(client, pki):
    assert client.post(pki.crl_url).status_code == 405


# --- OCSP ---------------------------------------------------------------------------------


def ocsp_request(leaf, issuer, *, algorithm=None, nonce: bytes | None = None) -> bytes:
    builder = ocsp.OCSPRequestBuilder().add_certificate(leaf, issuer, algorithm or hashes.SHA1())
    if nonce:
        builder = builder.add_extension(x509.OCSPNonce(nonce), critical=False)
    return builder.build().public_bytes(serialization.Encoding.DER)


def unknown_serial_request(pki) -> bytes:
    """A request with the issuing CA's hashes and a serial it never issued."""
    real = ocsp.load_der_ocsp_request(ocsp_request(pki.leaf(pki.good), pki.issuing))
    builder = ocsp.OCSPRequestBuilder().add_certificate_by_hash(
        real.issuer_name_hash, real.issuer_key_hash, 0x1234567, hashes.SHA1()
    )
    return builder.build().public_bytes(serialization.Encoding.DER)


def post_ocsp(client, url, body: bytes) -> ocsp.OCSPResponse:
    response = client.post(url, body, content_type="application/ocsp-request")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/ocsp-response"
    return ocsp.load_der_ocsp_response(response.content)


def get_ocsp(client, url, body: bytes) -> ocsp.OCSPResponse:
    encoded = quote(base64.b64encode(body).decode(), safe="")
    response = client.get(f"{url}/{encoded}")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/ocsp-response"
    return ocsp.load_der_ocsp_response(response.content)


def signed_by(answer: ocsp.OCSPResponse, issuer: x509.Certificate) -> bool:
    try:
        issuer.public_key().verify(
            answer.signature,
            answer.tbs_response_bytes,
            ec.ECDSA(answer.signature_hash_algorithm),
        )
    except Exception:  # noqa: BLE001 - any failure means "not signed by it"
        return False
    return True


@pytest.fixture(params=["POST", "GET"])
def ask(request, client):
    return post_ocsp if request.param == "POST" else get_ocsp


def test_ocsp_answers_good(client, pki, ask):
    answer = ask(client, pki.ocsp_url, ocsp_request(pki.leaf(pki.good), pki.issuing))

    assert answer.response_status == ocsp.OCSPResponseStatus.SUCCESSFUL
    assert answer.certificate_status == ocsp.OCSPCertStatus.GOOD
    assert answer.serial_number == pki.leaf(pki.good).serial_number
    assert signed_by(answer, pki.issuing)
    assert answer.next_update_utc - answer.this_update_utc == timedelta(hours=12)


def test_ocsp_answers_revoked_with_the_time_and_reason(client, pki, ask):
    answer = ask(client, pki.ocsp_url, ocsp_request(pki.leaf(pki.revoked), pki.issuing))

    assert answer.certificate_status == ocsp.OCSPCertStatus.REVOKED
    assert answer.revocation_time_utc == pki.revocation.completed_at.replace(microsecond=0)
    assert answer.revocation_reason == x509.ReasonFlags.key_compromise
    assert signed_by(answer, pki.issuing)


def test_ocsp_answers_unknown_for_a_serial_the_ca_never_issued(client, pki, ask):
    answer = ask(client, pki.ocsp_url, unknown_serial_request(pki))
    assert answer.response_status == ocsp.OCSPResponseStatus.SUCCESSFUL
    assert answer.certificate_status == ocsp.OCSPCertStatus.UNKNOWN


def test_ocsp_echoes_the_nonce(client, pki):
    body = ocsp_request(pki.leaf(pki.good), pki.issuing, nonce=b"0123456789abcdef")
    answer = post_ocsp(client, pki.ocsp_url, body)
    nonce = answer.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce
    assert nonce == b"0123456789abcdef"


def test_ocsp_about_a_certificate_being_revoked_is_still_good(client, customer):
    certificate = issue_real_certificate(customer)
    issuing = pem_certificate(certificate.authority.certificate_pem)
    services.request_revocation(certificate=certificate, reason=4, actor=customer)

    answer = post_ocsp(
        client,
        f"/pki/{certificate.authority.slug}/ocsp",
        ocsp_request(pem_certificate(certificate.certificate_pem), issuing),
    )
    assert answer.certificate_status == ocsp.OCSPCertStatus.GOOD


def test_ocsp_about_another_issuers_certificate_is_unauthorized(client, pki):
    body = ocsp_request(pki.issuing, pki.root)  # the root's business, not the issuing CA's
    answer = post_ocsp(client, pki.ocsp_url, body)
    assert answer.response_status == ocsp.OCSPResponseStatus.UNAUTHORIZED


@pytest.mark.parametrize(
    "body",
    [b"", b"garbage", b"\x30\x03\x02\x01\x01", b"\x30" * 5000, b"\x00" * 9000],
    ids=["empty", "text", "wrong-der", "truncated", "oversized"],
)
def test_malformed_ocsp_posts_get_the_malformed_request_status(client, pki, body):
    answer = post_ocsp(client, pki.ocsp_url, body)
    assert answer.response_status == ocsp.OCSPResponseStatus.MALFORMED_REQUEST


@pytest.mark.parametrize(
    "path", ["", "/", "/not-base64!", "/Zm9v", "/%ZZ", "/" + "A" * 20000, "/a/b/c"]
)
def test_malformed_ocsp_gets_get_the_malformed_request_status(client, pki, path):
    response = client.get(pki.ocsp_url + path)
    assert response.status_code == 200
    answer = ocsp.load_der_ocsp_response(response.content)
    assert answer.response_status == ocsp.OCSPResponseStatus.MALFORMED_REQUEST


# --- answers signed ahead ------------------------------------------------------------------


def stored_der(certificate) -> bytes:
    row = OcspAnswer.objects.get(authority=certificate.authority, serial=certificate.serial)
    return bytes(row.der)


@pytest.mark.parametrize("method", ["POST", "GET"])
def test_ocsp_serves_the_stored_answer_with_one_query(
    client, pki, method, django_assert_num_queries
):
    body = ocsp_request(pki.leaf(pki.revoked), pki.issuing)
    with django_assert_num_queries(1):
        if method == "POST":
            response = client.post(pki.ocsp_url, body, content_type="application/ocsp-request")
        else:
            encoded = quote(base64.b64encode(body).decode(), safe="")
            response = client.get(f"{pki.ocsp_url}/{encoded}")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/ocsp-response"
    assert response.content == stored_der(pki.revoked)


def test_ocsp_with_a_nonce_is_answered_live_with_the_nonce(client, pki):
    body = ocsp_request(pki.leaf(pki.good), pki.issuing, nonce=b"fedcba9876543210")
    response = client.post(pki.ocsp_url, body, content_type="application/ocsp-request")

    assert response.content != stored_der(pki.good)
    answer = ocsp.load_der_ocsp_response(response.content)
    assert answer.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce == (
        b"fedcba9876543210"
    )
    assert answer.certificate_status == ocsp.OCSPCertStatus.GOOD
    assert signed_by(answer, pki.issuing)


def test_ocsp_in_sha256_is_answered_live_in_sha256(client, pki):
    body = ocsp_request(pki.leaf(pki.revoked), pki.issuing, algorithm=hashes.SHA256())
    response = client.post(pki.ocsp_url, body, content_type="application/ocsp-request")

    assert response.content != stored_der(pki.revoked)
    answer = ocsp.load_der_ocsp_response(response.content)
    assert isinstance(answer.hash_algorithm, hashes.SHA256)
    assert answer.certificate_status == ocsp.OCSPCertStatus.REVOKED


def test_a_lapsed_stored_answer_is_not_served(client, pki):
    lapsed = stored_der(pki.good)
    with time_machine.travel(timezone.now() + timedelta(hours=13)):
        answer = post_ocsp(client, pki.ocsp_url, ocsp_request(pki.leaf(pki.good), pki.issuing))
        now = timezone.now()

    assert answer.public_bytes(serialization.Encoding.DER) != lapsed
    assert answer.certificate_status == ocsp.OCSPCertStatus.GOOD
    assert answer.next_update_utc > now


def test_a_stored_answer_is_only_for_its_issuers_hashes(client, pki):
    real = ocsp.load_der_ocsp_request(ocsp_request(pki.leaf(pki.good), pki.issuing))
    other_key = ocsp.OCSPRequestBuilder().add_certificate_by_hash(
        real.issuer_name_hash, b"\x00" * 20, real.serial_number, hashes.SHA1()
    )
    body = other_key.build().public_bytes(serialization.Encoding.DER)

    answer = post_ocsp(client, pki.ocsp_url, body)
    assert answer.response_status == ocsp.OCSPResponseStatus.UNAUTHORIZED


def test_a_stored_answer_is_not_served_under_another_cas_url(client, pki, customer):
    assert (
        client.post(
            "/pki/no-such-ca/ocsp",
            ocsp_request(pki.leaf(pki.good), pki.issuing),
            content_type="application/ocsp-request",
        ).status_code
        == 404
    )


# --- independent proof: the openssl command line -------------------------------------------


@pytest.fixture
def pki_files(openssl, pki):
    openssl.write("root.pem", pki.root_row.certificate_pem)
    openssl.write("issuing.pem", pki.issuing_row.certificate_pem)
    openssl.write("chain.pem", pki.issuing_row.certificate_pem + pki.root_row.certificate_pem)
    openssl.write("good.pem", pki.good.certificate_pem)
    openssl.write("revoked.pem", pki.revoked.certificate_pem)
    return openssl


def test_openssl_ocsp_says_revoked_and_good(client, pki, pki_files):
    for name in ("revoked", "good"):
        pki_files.ok(
            "ocsp", "-issuer", "issuing.pem", "-cert", f"{name}.pem", "-reqout", f"{name}.req"
        )
        request = (pki_files.directory / f"{name}.req").read_bytes()
        response = client.post(pki.ocsp_url, request, content_type="application/ocsp-request")
        pki_files.write(f"{name}.resp", response.content)

    def check(name: str) -> str:
        # The nonce is the request's, which -respin alone can't see: the live-server test
        # below checks it.
        return pki_files.ok(
            "ocsp",
            *("-respin", f"{name}.resp", "-VAfile", "issuing.pem"),
            *("-issuer", "issuing.pem", "-cert", f"{name}.pem", "-no_nonce"),
        )

    revoked, good = check("revoked"), check("good")
    assert "Response verify OK" in revoked
    assert "revoked.pem: revoked" in revoked
    assert "Reason: keyCompromise" in revoked
    assert "good.pem: good" in good


def test_openssl_verifies_the_crl_and_refuses_the_revoked_certificate(client, pki, pki_files):
    pki_files.write("crl.der", client.get(pki.crl_url).content)
    text = pki_files.ok("crl", "-inform", "DER", "-in", "crl.der", "-CAfile", "chain.pem", "-text")
    assert "verify OK" in text
    assert f"Serial Number: {pki.revoked.serial}" in text
    assert "Key Compromise" in text
    pki_files.ok("crl", "-inform", "DER", "-in", "crl.der", "-out", "crl.pem")

    verify = ("verify", "-crl_check", "-CAfile", "root.pem", "-untrusted", "issuing.pem")
    verify += ("-CRLfile", "crl.pem")
    assert pki_files.ok(*verify, "good.pem").strip() == "good.pem: OK"
    refused = pki_files.run(*verify, "revoked.pem")
    assert refused.returncode != 0
    assert "certificate revoked" in refused.stdout


def test_openssl_checks_the_whole_chain_with_both_crls(client, pki, pki_files):
    for name, url in (("crl", pki.crl_url), ("root-crl", pki.root_crl_url)):
        pki_files.write(f"{name}.der", client.get(url).content)
        pki_files.ok("crl", "-inform", "DER", "-in", f"{name}.der", "-out", f"{name}.pem")
    pki_files.write(
        "crls.pem",
        (pki_files.directory / "crl.pem").read_text()
        + (pki_files.directory / "root-crl.pem").read_text(),
    )
    verify = ("verify", "-crl_check_all", "-CAfile", "root.pem", "-untrusted", "issuing.pem")
    verify += ("-CRLfile", "crls.pem")
    assert pki_files.ok(*verify, "good.pem").strip() == "good.pem: OK"
    assert "certificate revoked" in pki_files.run(*verify, "revoked.pem").stdout


@pytest.mark.django_db(transaction=True)
def test_openssl_ocsp_against_the_live_server(live_server, customer, openssl):
    pki = PKI(customer)
    openssl.write("issuing.pem", pki.issuing_row.certificate_pem)
    openssl.write("good.pem", pki.good.certificate_pem)
    openssl.write("revoked.pem", pki.revoked.certificate_pem)
    url = live_server.url + pki.ocsp_url

    for name in ("revoked", "good"):
        output = openssl.ok(
            "ocsp",
            *("-issuer", "issuing.pem", "-cert", f"{name}.pem", "-url", url),
            *("-VAfile", "issuing.pem", "-timeout", "10"),
        )
        assert "Response verify OK" in output
        assert f"{name}.pem: {name}" in output

    garbage = urllib.request.Request(
        url, data=b"not an OCSP request", headers={"Content-Type": "application/ocsp-request"}
    )
    with urllib.request.urlopen(garbage, timeout=10) as response:
        answer = ocsp.load_der_ocsp_response(response.read())
    assert answer.response_status == ocsp.OCSPResponseStatus.MALFORMED_REQUEST


# --- the demo data ------------------------------------------------------------------------


def test_the_demo_revoked_certificates_are_on_the_crl_and_revoked_in_ocsp(client):
    call_command("seed_demo", stdout=StringIO())

    revoked = Certificate.objects.filter(status="revoked").select_related("authority")
    assert revoked.exists()
    for certificate in revoked:
        issuing = pem_certificate(certificate.authority.certificate_pem)
        leaf = pem_certificate(certificate.certificate_pem)
        crl = load_crl(client.get(f"/pki/{certificate.authority.slug}/crl.der"))
        assert crl.get_revoked_certificate_by_serial_number(leaf.serial_number) is not None
        answer = post_ocsp(
            client, f"/pki/{certificate.authority.slug}/ocsp", ocsp_request(leaf, issuing)
        )
        assert answer.certificate_status == ocsp.OCSPCertStatus.REVOKED


# --- reissued certificates ----------------------------------------------------------------


def test_a_reissued_certificates_old_serial_stays_known_and_is_revoked_with_it(client, customer):
    certificate = issue_real_certificate(customer)
    old = pem_certificate(certificate.certificate_pem)
    services.reissue_certificate(certificate=certificate, actor=customer)
    certificate.refresh_from_db()
    new = pem_certificate(certificate.certificate_pem)
    assert new.serial_number != old.serial_number
    issuing = pem_certificate(certificate.authority.certificate_pem)
    url = f"/pki/{certificate.authority.slug}/ocsp"

    # The old certificate is still valid until its end date: OCSP knows it.
    for leaf in (old, new):
        answer = post_ocsp(client, url, ocsp_request(leaf, issuing))
        assert answer.certificate_status == ocsp.OCSPCertStatus.GOOD

    revoke_for_real(certificate)

    crl = load_crl(client.get(f"/pki/{certificate.authority.slug}/crl.der"))
    for leaf in (old, new):
        assert crl.get_revoked_certificate_by_serial_number(leaf.serial_number) is not None
        answer = post_ocsp(client, url, ocsp_request(leaf, issuing))
        assert answer.certificate_status == ocsp.OCSPCertStatus.REVOKED


def test_openssl_verifies_the_stored_answers_the_responder_serves(client, pki, pki_files):
    for name, certificate in (("revoked", pki.revoked), ("good", pki.good)):
        pki_files.ok(
            "ocsp",
            *("-issuer", "issuing.pem", "-cert", f"{name}.pem", "-no_nonce"),
            *("-reqout", f"{name}.req"),
        )
        request = (pki_files.directory / f"{name}.req").read_bytes()
        response = client.post(pki.ocsp_url, request, content_type="application/ocsp-request")
        assert response.content == stored_der(certificate)
        pki_files.write(f"{name}.resp", response.content)

    def check(name: str) -> str:
        return pki_files.ok(
            "ocsp",
            *("-respin", f"{name}.resp", "-CAfile", "root.pem", "-verify_other", "issuing.pem"),
            *("-issuer", "issuing.pem", "-cert", f"{name}.pem", "-no_nonce"),
        )

    revoked, good = check("revoked"), check("good")
    assert "Response verify OK" in revoked
    assert "revoked.pem: revoked" in revoked
    assert "Reason: keyCompromise" in revoked
    assert "Response verify OK" in good
    assert "good.pem: good" in good
