"""certbot, the reference ACME client, gets certificates from the console's ACME server.

Against live_server, with a real worker on the task queue validating the challenges over
loopback: http-01 with certbot's own standalone web server, dns-01 (a wildcard) with a
manual hook that publishes the TXT record in the loopback DNS server. Every certificate
certbot gets is a certificate of the customer's console and passes the same OpenSSL and
pkilint checks as the console's own.
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp

from certificates.lifecycle import CertificateStatus
from certificates.models import Certificate, Source
from tests.acme_server.support import (
    Certbot,
    acme_brand,
    acme_worker,
    assert_passes_the_issuance_checks,
    explain,
    make_credential,
)
from tests.http_server import unused_port

__all__ = ["acme_brand", "acme_worker"]

pytestmark = pytest.mark.django_db(transaction=True)

HOOK = Path(__file__).with_name("dns_hook.py")


@pytest.fixture
def certbot(tmp_path, live_server, acme_brand) -> Certbot:
    return Certbot(root=tmp_path / "certbot", server=f"{live_server.url}/acme/directory")


@pytest.fixture
def loopback_dv(settings, dns_server):
    """The validation reaches the test's servers: names resolve to loopback, which it may
    contact; http-01 goes to a free port certbot's standalone server listens on."""
    port = unused_port()
    settings.DV_NAMESERVERS = ["127.0.0.1"]
    settings.DV_DNS_PORT = dns_server.port
    settings.DV_HTTP_PORT = port
    settings.DV_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    settings.DV_CHECK_TIMEOUT = 5
    return port


def register(certbot: Certbot, credential, *extra: str):
    return certbot.run(
        "register",
        "--agree-tos",
        "--no-eff-email",
        "-m",
        "li@example.com",
        "--eab-kid",
        credential.kid,
        "--eab-hmac-key",
        credential.hmac,
        *extra,
    )


def test_certbot_cannot_register_without_external_account_binding(certbot, acme_worker):
    result = certbot.run("register", "--agree-tos", "--no-eff-email", "-m", "li@example.com")

    assert result.returncode != 0
    assert "external account binding" in (result.stdout + result.stderr).lower()


def test_certbot_registers_with_external_account_binding_for_the_credentials_owner(
    certbot, customer, acme_worker
):
    result = register(certbot, make_credential(customer))

    assert result.returncode == 0, explain(result, certbot)
    account = customer.acme_accounts.get()
    assert account.contact == ["mailto:li@example.com"]


def test_certbot_gets_a_certificate_by_http_01_with_its_standalone_server(
    certbot, customer, acme_worker, dns_server, loopback_dv
):
    dns_server.set_a("shop.example.com", "127.0.0.1")
    assert register(certbot, make_credential(customer)).returncode == 0

    result = certbot.run(
        "certonly",
        "--standalone",
        "--http-01-address",
        "127.0.0.1",
        "--http-01-port",
        str(loopback_dv),
        "--key-type",
        "ecdsa",
        "-d",
        "shop.example.com",
    )

    assert result.returncode == 0, explain(result, certbot)
    issued = x509.load_pem_x509_certificate(
        certbot.live("shop.example.com", "cert.pem").read_bytes()
    )
    certificate = Certificate.objects.get(owner=customer)
    assert certificate.source == Source.ACME
    assert certificate.status == CertificateStatus.ISSUED
    assert certificate.domain_list == ["shop.example.com"]
    assert certificate.serial == format(issued.serial_number, "X")
    assert_passes_the_issuance_checks(certbot.live("shop.example.com").parent, certificate)


class RecordWatcher:
    """Moves the records the dns hook writes into the loopback DNS server."""

    def __init__(self, path: Path, dns_server) -> None:
        self.path = path
        self.dns_server = dns_server
        self.running = True
        path.write_text("")
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while self.running:
            values: dict[str, list[str]] = {}
            for line in self.path.read_text().splitlines():
                name, value = line.split()
                values.setdefault(name, []).append(value)
            for name, found in values.items():
                self.dns_server.set_txt(name, *found)
            time.sleep(0.05)

    def stop(self) -> None:
        self.running = False
        self.thread.join(timeout=5)


def test_certbot_gets_a_wildcard_certificate_by_dns_01_through_a_manual_hook(
    certbot, customer, acme_worker, dns_server, loopback_dv, tmp_path
):
    assert register(certbot, make_credential(customer)).returncode == 0
    watcher = RecordWatcher(tmp_path / "records.txt", dns_server)
    try:
        result = certbot.run(
            "certonly",
            "--manual",
            "--preferred-challenges",
            "dns",
            "--manual-auth-hook",
            f"{sys.executable} {HOOK}",
            "--key-type",
            "ecdsa",
            "--cert-name",
            "shop",
            "-d",
            "*.shop.example.com",
            "-d",
            "shop.example.com",
            env={
                "ACME_TEST_RECORDS": str(watcher.path),
                "ACME_TEST_DNS_PORT": str(dns_server.port),
            },
        )
    finally:
        watcher.stop()

    assert result.returncode == 0, explain(result, certbot)
    certificate = Certificate.objects.get(owner=customer)
    assert certificate.status == CertificateStatus.ISSUED
    assert sorted(certificate.domain_list) == ["*.shop.example.com", "shop.example.com"]
    assert_passes_the_issuance_checks(certbot.live("shop").parent, certificate)


def get_http_01_certificate(certbot: Certbot, customer, dns_server, port: int):
    dns_server.set_a("shop.example.com", "127.0.0.1")
    assert register(certbot, make_credential(customer)).returncode == 0
    result = certbot.run(*STANDALONE, str(port), "-d", "shop.example.com")
    assert result.returncode == 0, explain(result, certbot)
    return Certificate.objects.get(owner=customer)


STANDALONE = (
    "certonly",
    "--standalone",
    "--key-type",
    "ecdsa",
    "--http-01-address",
    "127.0.0.1",
    "--http-01-port",
)


def test_certbot_renew_with_force_renewal_gets_a_new_certificate(
    certbot, customer, acme_worker, dns_server, loopback_dv
):
    first = get_http_01_certificate(certbot, customer, dns_server, loopback_dv)

    result = certbot.run("renew", "--force-renewal", "--no-random-sleep-on-renew")

    assert result.returncode == 0, explain(result, certbot)
    renewed = Certificate.objects.filter(owner=customer).exclude(pk=first.pk).get()
    assert renewed.status == CertificateStatus.ISSUED
    assert renewed.serial != first.serial
    issued = x509.load_pem_x509_certificate(
        certbot.live("shop.example.com", "cert.pem").read_bytes()
    )
    assert format(issued.serial_number, "X") == renewed.serial
    assert_passes_the_issuance_checks(certbot.live("shop.example.com").parent, renewed)


def test_certbot_revoke_puts_the_certificate_on_the_crl_and_ocsp_says_revoked(
    certbot, customer, acme_worker, dns_server, loopback_dv, client
):
    certificate = get_http_01_certificate(certbot, customer, dns_server, loopback_dv)

    result = certbot.run(
        "revoke",
        "--cert-path",
        str(certbot.live("shop.example.com", "cert.pem")),
        "--reason",
        "superseded",
        "--no-delete-after-revoke",
    )

    assert result.returncode == 0, explain(result, certbot)
    certificate.refresh_from_db()
    assert certificate.status == CertificateStatus.REVOKED
    leaf = x509.load_pem_x509_certificate(certificate.certificate_pem.encode())
    issuing = x509.load_pem_x509_certificate(certificate.authority.certificate_pem.encode())
    crl = x509.load_der_x509_crl(client.get(f"/pki/{certificate.authority.slug}/crl.der").content)
    entry = crl.get_revoked_certificate_by_serial_number(leaf.serial_number)
    assert entry is not None
    assert entry.extensions.get_extension_for_class(x509.CRLReason).value.reason == (
        x509.ReasonFlags.superseded
    )
    request = ocsp.OCSPRequestBuilder().add_certificate(leaf, issuing, hashes.SHA1()).build()
    answer = ocsp.load_der_ocsp_response(
        client.post(
            f"/pki/{certificate.authority.slug}/ocsp",
            request.public_bytes(serialization.Encoding.DER),
            content_type="application/ocsp-request",
        ).content
    )
    assert answer.certificate_status == ocsp.OCSPCertStatus.REVOKED
