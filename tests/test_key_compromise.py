"""Key compromise: revoked within the day, never by an operator's leave, and the key listed.

A customer's own request for key compromise is never queued (DV at once, OV/EV when the
emailed link is confirmed); anyone holding a key reports it on the public page by
proving possession with a CSR, and every certificate of that key is revoked, whoever's.
What OCSP answers and what the CRL lists are read from the public CA URLs.
"""

import os
import re
import socket
import subprocess
import sys
import uuid
from datetime import timedelta

import pytest
import redis
import time_machine
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp
from cryptography.x509.oid import NameOID
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from certificates import services
from certificates.errors import ActionNotAllowed
from certificates.key_encryption import decrypt_private_key
from certificates.lifecycle import CertificateStatus as Status
from certificates.lifecycle import RevocationStatus, transition
from certificates.models import (
    Application,
    AuditEvent,
    Certificate,
    CompromisedKey,
    RevocationRequest,
)
from certificates.pki import csr as pki_csr
from certificates.pki.parsing import load_certificates, load_private_key, public_key_sha256
from tests.admin_support import changelist_url, messages_of, post_action
from tests.issuance import issue_real_certificate, submit_application
from tests.test_revocation import page_text

pytestmark = pytest.mark.django_db

KEY_COMPROMISE = 1
SUPERSEDED = 4
REPORT_URL = "/key-compromise/"


@pytest.fixture(autouse=True)
def _console_base_url(settings):
    settings.CONSOLE_BASE_URL = "http://testserver"
    settings.REVOCATION_HOLIDAYS = frozenset()


def refresh(obj):
    return type(obj).objects.get(pk=obj.pk)


def leaf_of(certificate: Certificate) -> x509.Certificate:
    return load_certificates(certificate.certificate_pem)[0]


def ocsp_status(client, certificate: Certificate) -> ocsp.OCSPResponse:
    """What the CA's public OCSP responder answers about the certificate."""
    issuer = load_certificates(certificate.authority.certificate_pem)[0]
    body = (
        ocsp.OCSPRequestBuilder()
        .add_certificate(leaf_of(certificate), issuer, hashes.SHA1())
        .build()
        .public_bytes(serialization.Encoding.DER)
    )
    url = f"/pki/{certificate.authority.slug}/ocsp"
    response = client.post(url, body, content_type="application/ocsp-request")
    assert response.status_code == 200
    return ocsp.load_der_ocsp_response(response.content)


def crl_entry(client, certificate: Certificate) -> x509.RevokedCertificate | None:
    """The certificate's entry on the CA's published CRL, if it is listed."""
    response = client.get(f"/pki/{certificate.authority.slug}/crl.der")
    crl = x509.load_der_x509_crl(response.content)
    return crl.get_revoked_certificate_by_serial_number(leaf_of(certificate).serial_number)


def assert_revoked_for_key_compromise(client, certificate: Certificate) -> None:
    answer = ocsp_status(client, certificate)
    assert answer.certificate_status == ocsp.OCSPCertStatus.REVOKED
    assert answer.revocation_reason == x509.ReasonFlags.key_compromise
    entry = crl_entry(client, certificate)
    assert entry is not None
    reason = entry.extensions.get_extension_for_class(x509.CRLReason).value.reason
    assert reason == x509.ReasonFlags.key_compromise
    assert refresh(certificate).status == Status.REVOKED


def assert_good(client, certificate: Certificate) -> None:
    assert ocsp_status(client, certificate).certificate_status == ocsp.OCSPCertStatus.GOOD
    assert crl_entry(client, certificate) is None


def is_listed(certificate: Certificate) -> bool:
    return CompromisedKey.objects.filter(public_key_sha256=certificate.public_key_sha256).exists()


def revoke(client, certificate, reason):
    url = reverse("certificates:revoke", args=[certificate.pk])
    return client.post(url, {"reason": reason, "ok": "1"}, follow=True)


# --- the customer's own request -------------------------------------------------------------


def test_key_compromise_revokes_a_dv_certificate_at_once(client, customer, customer_client):
    certificate = issue_real_certificate(customer, "DV")
    assert_good(client, certificate)

    response = revoke(customer_client, certificate, KEY_COMPROMISE)

    revocation = RevocationRequest.objects.get(certificate=certificate)
    assert revocation.status == RevocationStatus.COMPLETED
    assert revocation.processed_by is None  # no operator decided it
    assert revocation.due_date <= timezone.localdate() + timedelta(days=1)
    assert_revoked_for_key_compromise(client, certificate)
    listed = CompromisedKey.objects.get(public_key_sha256=certificate.public_key_sha256)
    assert listed.source == CompromisedKey.Source.REVOCATION
    assert listed.certificate_id == certificate.pk
    assert 'The certificate is revoked: OCSP answers "revoked"' in page_text(response)
    assert not mail.outbox  # DV: no confirmation to wait for


def test_other_reasons_keep_the_cas_five_business_days(client, customer, customer_client):
    certificate = issue_real_certificate(customer, "DV")

    revoke(customer_client, certificate, SUPERSEDED)

    revocation = RevocationRequest.objects.get(certificate=certificate)
    assert revocation.status == RevocationStatus.PENDING
    assert revocation.due_date >= timezone.localdate() + timedelta(days=5)
    assert refresh(certificate).status == Status.REVOKING
    assert ocsp_status(client, certificate).certificate_status == ocsp.OCSPCertStatus.GOOD
    assert not is_listed(certificate)


def confirmation_path(message) -> str:
    match = re.search(r"http://testserver(/revocations/confirm/[^/\s]+/)", message.body)
    assert match, message.body
    return match.group(1)


def test_key_compromise_on_ov_is_revoked_as_soon_as_the_link_is_confirmed(
    client, customer, customer_client
):
    certificate = issue_real_certificate(customer, "OV", contact_email="applicant@example.com")

    response = revoke(customer_client, certificate, KEY_COMPROMISE)

    revocation = RevocationRequest.objects.get(certificate=certificate)
    assert revocation.status == RevocationStatus.AWAITING_CONFIRMATION
    assert "Once confirmed, the certificate is revoked at once." in page_text(response)
    assert_good(client, certificate)
    [message] = mail.outbox
    assert "the certificate is revoked at once when you" in message.body
    link = confirmation_path(message)
    assert "confirming revokes the certificate at once" in page_text(client.get(link))

    confirmed = client.post(link)

    assert "Confirmed. The certificate is revoked" in page_text(confirmed)
    assert refresh(revocation).status == RevocationStatus.COMPLETED
    assert_revoked_for_key_compromise(client, certificate)
    assert is_listed(certificate)


def test_other_reasons_on_ov_still_go_to_the_ca_after_the_link(client, customer, customer_client):
    certificate = issue_real_certificate(customer, "OV")
    revoke(customer_client, certificate, SUPERSEDED)
    [message] = mail.outbox
    assert "revoked at once" not in message.body

    client.post(confirmation_path(message))

    assert RevocationRequest.objects.get().status == RevocationStatus.PENDING
    assert refresh(certificate).status == Status.REVOKING


@pytest.mark.parametrize(
    ("validation_type", "wording"),
    [
        (
            "DV",
            "Key compromise is never queued: the certificate is revoked at once, when you press",
        ),
        (
            "OV",
            "Key compromise is never queued: the certificate is revoked at once when the emailed",
        ),
    ],
)
def test_the_revoke_page_says_when_key_compromise_takes_effect(
    customer, customer_client, validation_type, wording
):
    certificate = issue_real_certificate(customer, validation_type)

    text = page_text(customer_client.get(reverse("certificates:revoke", args=[certificate.pk])))

    assert wording in text
    assert "revokes the certificate within 5 business days" in text  # the other reasons
    assert "goes on the compromised-key list" in text


def pending_key_compromise_request(customer) -> RevocationRequest:
    """A key-compromise request with the CA, as one made before this rule could be."""
    certificate = issue_real_certificate(customer, "DV")
    transition(certificate, Status.REVOKING, actor=None)
    return RevocationRequest.objects.create(
        certificate=certificate,
        requested_by=customer,
        reason=KEY_COMPROMISE,
        status=RevocationStatus.PENDING,
        submitted_to_ca_at=timezone.now(),
        due_date=timezone.localdate(),
    )


def test_an_operator_cannot_reject_key_compromise(client, customer, operator_client):
    revocation = pending_key_compromise_request(customer)

    response = post_action(
        operator_client, "revocationrequest", "reject", [revocation], reason="Not convinced."
    )

    [message] = messages_of(response)
    assert "not rejected: A revocation for key compromise can't be rejected" in message
    assert refresh(revocation).status == RevocationStatus.PENDING
    assert refresh(revocation.certificate).status == Status.REVOKING

    post_action(operator_client, "revocationrequest", "complete", [revocation])

    assert_revoked_for_key_compromise(client, revocation.certificate)
    assert is_listed(revocation.certificate)


def test_the_service_refuses_to_reject_key_compromise(customer, operator):
    revocation = pending_key_compromise_request(customer)

    with pytest.raises(ActionNotAllowed) as refused:
        services.reject_revocation(revocation=revocation, reason="No.", actor=operator)

    assert "can't be rejected" in str(refused.value)
    assert refresh(revocation).status == RevocationStatus.PENDING


# --- the public report, by proof of possession ------------------------------------------------


def private_key_of(certificate: Certificate):
    return load_private_key(decrypt_private_key(certificate.private_key_encrypted))


def issue_with_key(owner, key, *, domain: str, validation_type: str = "DV") -> Certificate:
    """A certificate for `key`, applied for with a CSR the customer made (a manual CSR)."""
    certificate = submit_application(owner, validation_type, domain=domain)
    request = pki_csr.build_csr(key, [domain])
    Application.objects.filter(certificate=certificate).update(
        csr_source=Application.CsrSource.MANUAL,
        csr_pem=request.public_bytes(serialization.Encoding.PEM).decode(),
    )
    Certificate.objects.filter(pk=certificate.pk).update(private_key_encrypted="")
    services.issue_certificate(certificate=refresh(certificate), actor=None)
    return refresh(certificate)


def challenge_from(response) -> str:
    match = re.search(r"<div[^>]*data-challenge>([^<]+)</div>", response.content.decode())
    assert match, "the page shows no challenge"
    return match.group(1).strip()


def proof_csr(key, common_name: str) -> str:
    """A CSR signed by `key` whose subject carries `common_name`, as openssl req makes it."""
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    request = (
        x509.CertificateSigningRequestBuilder().subject_name(subject).sign(key, hashes.SHA256())
    )
    return request.public_bytes(serialization.Encoding.PEM).decode()


def report(client, csr_pem: str, challenge: str = ""):
    return client.post(REPORT_URL, {"csr": csr_pem, "challenge": challenge})


def csr_error(response) -> str:
    return " ".join(response.context["form"].errors["csr"])


@pytest.fixture
def alices(customer):
    return issue_real_certificate(customer, "DV", domain="shop.example.com")


def test_the_page_is_public_and_each_view_has_its_own_challenge(client):
    first, second = client.get(REPORT_URL), client.get(REPORT_URL)

    assert first.status_code == second.status_code == 200
    assert challenge_from(first) != challenge_from(second)
    assert len(challenge_from(first)) <= 64  # X.520's upper bound for a common name
    assert "no-store" in first["Cache-Control"]
    text = page_text(first)
    assert "Never send the private key itself" in text
    assert 'openssl req -new -key compromised.key -subj "/CN=' in text


def test_a_proof_revokes_every_certificate_of_the_key_whoever_owns_it(
    client, customer, other_customer, alices, django_capture_on_commit_callbacks
):
    key = private_key_of(alices)
    other_customer.email = "bob@example.com"
    other_customer.save()
    customer.email = "alice@example.com"
    customer.save()
    bobs = issue_with_key(other_customer, key, domain="bob.example.net")
    bobs_other_key = issue_real_certificate(other_customer, "DV", domain="safe.example.net")
    assert bobs.public_key_sha256 == alices.public_key_sha256
    challenge = challenge_from(client.get(REPORT_URL))

    with django_capture_on_commit_callbacks(execute=True):
        response = report(client, proof_csr(key, challenge), challenge)

    assert response.status_code == 200
    assert "2 certificates with this key were revoked for key compromise" in page_text(response)
    for certificate in (alices, bobs):
        assert_revoked_for_key_compromise(client, certificate)
        revocation = RevocationRequest.objects.get(certificate=certificate)
        assert revocation.requested_by is None and revocation.processed_by is None
    assert_good(client, bobs_other_key)
    listed = CompromisedKey.objects.get(public_key_sha256=public_key_sha256(key))
    assert listed.source == CompromisedKey.Source.REPORT
    assert sorted(message.to[0] for message in mail.outbox) == [
        "alice@example.com",
        "bob@example.com",
    ]
    bobs_mail = next(message for message in mail.outbox if message.to == ["bob@example.com"])
    assert bobs.serial in bobs_mail.body and alices.serial not in bobs_mail.body
    assert "bob.example.net" in bobs_mail.subject
    event = AuditEvent.objects.get(action="key_compromise.report")
    assert sorted(event.details["revoked"]) == sorted([alices.pk, bobs.pk])


def test_a_failed_email_to_an_owner_does_not_undo_the_revocation(
    client, customer, alices, settings, django_capture_on_commit_callbacks, caplog
):
    customer.email = "alice@example.com"
    customer.save()
    settings.EMAIL_BACKEND = "tests.test_revocation.FailingEmailBackend"

    with django_capture_on_commit_callbacks(execute=True):
        response = report(client, proof_csr(private_key_of(alices), services.new_challenge()))

    assert response.status_code == 200
    assert_revoked_for_key_compromise(client, alices)
    assert "Could not tell user" in caplog.text


def test_a_report_completes_a_request_of_another_reason_as_key_compromise(client, customer):
    certificate = issue_real_certificate(customer, "OV")
    services.request_revocation(certificate=certificate, reason=SUPERSEDED, actor=customer)
    challenge = services.new_challenge()

    report(client, proof_csr(private_key_of(certificate), challenge), challenge)

    revocation = RevocationRequest.objects.get(certificate=certificate)
    assert revocation.status == RevocationStatus.COMPLETED
    assert revocation.reason == KEY_COMPROMISE
    assert_revoked_for_key_compromise(client, certificate)


def test_reporting_a_listed_key_again_changes_nothing(client, alices):
    key = private_key_of(alices)
    report(client, proof_csr(key, services.new_challenge()))
    events = AuditEvent.objects.filter(action="certificate.status").count()

    again = report(client, proof_csr(key, services.new_challenge()))

    assert "It was listed already" in page_text(again)
    assert AuditEvent.objects.filter(action="certificate.status").count() == events
    assert CompromisedKey.objects.count() == 1


def with_public_key_of(csr_pem: str, key) -> str:
    """The CSR with its public key swapped for `key`'s: it claims a key that did not sign it
    (what someone without the private key would send)."""
    der = x509.load_pem_x509_csr(csr_pem.encode()).public_bytes(serialization.Encoding.DER)
    signer_spki = (
        x509.load_der_x509_csr(der)
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    claimed_spki = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert len(signer_spki) == len(claimed_spki) and der.count(signer_spki) == 1
    forged = der.replace(signer_spki, claimed_spki)
    return x509.load_der_x509_csr(forged).public_bytes(serialization.Encoding.PEM).decode()


def assert_nothing_changed(certificate: Certificate) -> None:
    assert refresh(certificate).status == Status.ISSUED
    assert not RevocationRequest.objects.exists()
    assert not CompromisedKey.objects.exists()
    assert not AuditEvent.objects.filter(action="key_compromise.report").exists()
    assert not mail.outbox


def test_a_csr_not_signed_by_the_key_is_refused(client, alices):
    someone_elses = ec.generate_private_key(ec.SECP256R1())
    challenge = services.new_challenge()
    forged = with_public_key_of(proof_csr(someone_elses, challenge), private_key_of(alices))
    assert x509.load_pem_x509_csr(forged.encode()).public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ) == leaf_of(alices).public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )

    response = report(client, forged, challenge)

    assert response.status_code == 400
    assert "was not signed by that key's private key" in csr_error(response)
    assert_nothing_changed(alices)
    assert_good(client, alices)


def test_an_expired_challenge_is_refused_so_an_old_csr_proves_nothing(client, alices):
    with time_machine.travel(timezone.now() - timedelta(minutes=61), tick=False):
        challenge = services.new_challenge()
    old_csr = proof_csr(private_key_of(alices), challenge)

    response = report(client, old_csr, challenge)

    assert response.status_code == 400
    assert "The challenge in the CSR has expired" in csr_error(response)
    assert challenge_from(response) != challenge  # a new one to make the CSR with
    assert_nothing_changed(alices)


def test_a_challenge_still_good_and_the_csr_are_shown_again_after_a_refusal(client):
    challenge = services.new_challenge()
    response = report(client, "not a CSR", challenge)
    assert challenge_from(response) == challenge
    assert "not a CSR</textarea>" in response.content.decode()


@pytest.mark.parametrize(
    "common_name",
    [
        "hello",
        "made-up:1abcde:" + "A" * 43,
    ],
)
def test_a_csr_without_a_challenge_this_page_gave_is_refused(client, alices, common_name):
    response = report(client, proof_csr(private_key_of(alices), common_name))

    assert response.status_code == 400
    assert "The CSR's common name is not a challenge this page gave" in csr_error(response)
    assert_nothing_changed(alices)


def test_a_tampered_challenge_is_refused(client, alices):
    challenge = services.new_challenge()
    tampered = ("B" if challenge[0] != "B" else "C") + challenge[1:]

    response = report(client, proof_csr(private_key_of(alices), tampered), challenge)

    assert "not a challenge this page gave" in csr_error(response)
    assert_nothing_changed(alices)


def test_a_csr_with_no_common_name_is_refused(client, alices):
    request = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Example")]))
        .sign(private_key_of(alices), hashes.SHA256())
    )
    response = report(client, request.public_bytes(serialization.Encoding.PEM).decode())
    assert "has no common name" in csr_error(response)
    assert_nothing_changed(alices)


@pytest.mark.parametrize(
    ("pasted", "message"),
    [
        ("", "Paste the CSR signed with the compromised key."),
        ("hello, this is my key", "This is not a valid certificate signing request (CSR)"),
        (
            "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n",
            "The CSR is damaged",
        ),
        ("x" * 20_000, "The CSR is too long"),
    ],
)
def test_garbage_is_refused_on_the_csr_field(client, alices, pasted, message):
    response = report(client, pasted, services.new_challenge())

    assert response.status_code == 400
    assert message in csr_error(response)
    assert_nothing_changed(alices)


def test_a_pasted_private_key_is_refused_and_not_shown_back(client, alices):
    key_pem = decrypt_private_key(alices.private_key_encrypted)

    response = report(client, key_pem, services.new_challenge())

    assert "This is a private key, not a certificate signing request" in csr_error(response)
    assert "Never share your private key" in csr_error(response)
    body = response.content.decode()
    assert "PRIVATE KEY" not in body
    assert key_pem.splitlines()[1] not in body
    assert_nothing_changed(alices)


def test_reports_are_rate_limited_per_address(client, alices, settings):
    settings.KEY_COMPROMISE_REPORTS_PER_HOUR = 2
    for _ in range(2):
        assert report(client, "not a CSR").status_code == 400

    response = report(client, proof_csr(private_key_of(alices), services.new_challenge()))

    assert response.status_code == 429
    assert "Too many reports from your address: at most 2 an hour" in page_text(response)
    assert_nothing_changed(alices)
    assert report(client, "not a CSR").status_code == 429  # refused before it is read
    other_address = client.post(REPORT_URL, {"csr": "not a CSR"}, REMOTE_ADDR="203.0.113.9")
    assert other_address.status_code == 400  # counted apart
    assert client.get(REPORT_URL).status_code == 200  # reading the page is not limited


def test_operators_read_the_compromised_key_list_but_nobody_edits_it(
    client, alices, operator_client, admin_client
):
    report(client, proof_csr(private_key_of(alices), services.new_challenge()))
    listed = CompromisedKey.objects.get()

    listing = operator_client.get(changelist_url("compromisedkey"))

    assert listing.status_code == 200
    assert listed.public_key_sha256 in page_text(listing)
    change = reverse("admin:certificates_compromisedkey_change", args=[listed.pk])
    for staff in (operator_client, admin_client):
        assert staff.get(change).status_code == 200
        assert staff.post(change, {"source": "acme"}).status_code == 403
        assert staff.get(reverse("admin:certificates_compromisedkey_add")).status_code == 403
        delete = reverse("admin:certificates_compromisedkey_delete", args=[listed.pk])
        assert staff.get(delete).status_code == 403
    assert refresh(listed).source == CompromisedKey.Source.REPORT


def redis_reachable() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
    except OSError:
        return False
    return True


@pytest.mark.skipif(not redis_reachable(), reason="needs a Redis server on 127.0.0.1:6379")
def test_with_redis_the_limit_is_shared_by_every_process(client, settings):
    """Two processes counting in one Redis: reports from one address add up across them."""
    location = "redis://127.0.0.1:6379/0"
    prefix = f"test-key-compromise-{uuid.uuid4()}"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": location,
            "KEY_PREFIX": prefix,
        }
    }
    settings.KEY_COMPROMISE_REPORTS_PER_HOUR = 2
    assert report(client, "not a CSR").status_code == 400
    # Another process: its own connection to the same server, counting one more report.
    other = subprocess.run(
        [sys.executable, "-c", OTHER_PROCESS],
        env={**os.environ, "REDIS_URL": location, "PREFIX": prefix},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert other.returncode == 0, other.stderr
    try:
        assert report(client, "not a CSR").status_code == 429
    finally:
        # Only this test's keys: the server may be shared, so never flush it.
        server = redis.Redis.from_url(location)
        for key in server.scan_iter(match=f"{prefix}:*"):
            server.delete(key)
        server.close()


# Counts one report the way the view's rate limit does, from a process of its own.
OTHER_PROCESS = """
import os
import django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")
django.setup()
from django.conf import settings
from django.test import RequestFactory
from django_ratelimit.core import is_ratelimited
settings.CACHES["default"]["KEY_PREFIX"] = os.environ["PREFIX"]
from certificates import views
request = RequestFactory().post("/key-compromise/", REMOTE_ADDR="127.0.0.1")
is_ratelimited(request, group="key_compromise", key=views.rate_limit_key, rate="2/h",
               method="POST", increment=True)
"""
