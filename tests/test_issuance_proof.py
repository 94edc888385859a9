"""Proof that the console issues real, working certificates.

Every certificate here goes through the console as a customer would use it: apply, then
verify (DV, against the loopback DNS server) or an operator's approval (OV, EV), then the
download zips. What comes out is checked by tools that share no code with the console:
openssl verify, pkilint's CA/Browser Forum lint, a TLS handshake through Python's ssl,
and Java's keytool.
"""

from __future__ import annotations

import io
import shutil
import ssl
import subprocess
import zipfile
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.messages import get_messages
from django.contrib.messages.storage.base import Message
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import Settings

from certificates import services
from certificates.lifecycle import CertificateStatus as Status
from certificates.models import AuditEvent, Certificate, CertificateAuthority
from certificates.pki.bundles import SERVER_TYPES
from certificates.pki.csr import KEY_TYPES
from tests.dns_server import LoopbackDNSServer
from tests.factories import make_certificate
from tests.test_apply import ORGANIZATION, apply, make_csr, pending
from tests.tls_proof import (
    GREETING,
    CertificateType,
    Finding,
    TLSServer,
    handshake,
    lint_serverauth,
)

pytestmark = pytest.mark.django_db

EV_FIELDS = {
    "business_category": "Private Organization",
    "jurisdiction_country": "CN",
    "registration_number": "91330100MA27X",
}

LINT_TYPES = {
    "DV": CertificateType.DV_FINAL_CERTIFICATE,
    "OV": CertificateType.OV_FINAL_CERTIFICATE,
    "EV": CertificateType.EV_FINAL_CERTIFICATE,
}

MANUAL = "manual"

PUBLIC_PKI_BASE_URL = "http://pki.example.com"

TWO_DOMAINS = ("shop.example.com", "www.shop.example.com")


@dataclass(frozen=True)
class Case:
    """One certificate to issue: its type, its key ("manual": the customer's CSR), its names."""

    validation_type: str
    key_type: str
    domains: tuple[str, ...] = ("shop.example.com",)

    @property
    def domain_scope(self) -> str:
        if self.domains[0].startswith("*."):
            return "wildcard"
        return "multiple" if len(self.domains) > 1 else "single"

    @property
    def hostname(self) -> str:
        """A name a browser would connect to: a wildcard covers www under it."""
        first = self.domains[0]
        return "www." + first[2:] if first.startswith("*.") else first

    def __str__(self) -> str:
        return f"{self.validation_type}-{self.key_type}-{self.domain_scope}"


# RSA 4096 takes seconds to generate on a small machine, so one type covers it.
CASES = [
    Case("DV", "rsa2048"),
    Case("DV", "rsa3072"),
    Case("DV", "rsa4096"),
    Case("DV", "ecp256"),
    Case("DV", "ecp384", domains=("*.shop.example.com",)),
    Case("OV", "rsa2048", domains=TWO_DOMAINS),
    Case("OV", "rsa3072", domains=TWO_DOMAINS),
    Case("OV", "ecp256", domains=TWO_DOMAINS),
    Case("OV", "ecp384", domains=TWO_DOMAINS),
    Case("EV", "rsa2048"),
    Case("EV", "rsa3072"),
    Case("EV", "ecp256"),
    Case("EV", "ecp384"),
    Case("DV", MANUAL),
    Case("OV", MANUAL),
    Case("EV", MANUAL),
]


# --- Through the console --------------------------------------------------------------------


@cache
def customer_key() -> rsa.RSAPrivateKey:
    """The key a customer keeps for their own CSRs; made once, it is slow-ish to make."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def refresh(certificate: Certificate) -> Certificate:
    return Certificate.objects.get(pk=certificate.pk)


def download(client: Client, certificate: Certificate, server_type: str) -> HttpResponse:
    return client.get(reverse("certificates:download", args=[certificate.pk, server_type]))


def last_message(response: HttpResponse) -> Message:
    # Earlier steps (apply, verify) leave their own messages queued in the session too.
    return list(get_messages(response.wsgi_request))[-1]


def unzip(content: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def issue_through_console(
    client: Client,
    customer: AbstractBaseUser,
    dns_server: LoopbackDNSServer,
    settings: Settings,
    case: Case,
) -> Certificate:
    """Apply for `case`, get it validated and return the issued certificate."""
    settings.DV_NAMESERVERS = [dns_server.host]
    settings.DV_DNS_PORT = dns_server.port
    settings.DV_CHECK_TIMEOUT = 1.0
    # The CRL and OCSP URLs must name a public host, as in production: the development
    # default (http://127.0.0.1:8000) is an ERROR for pkilint (cabf.internal_domain_name).
    settings.PKI_BASE_URL = PUBLIC_PKI_BASE_URL
    certificate = pending(
        customer,
        validation_type=case.validation_type,
        domain_scope=case.domain_scope,
        domain_count=len(case.domains),
    )
    fields: dict[str, str] = {"domains": "\n".join(case.domains)}
    if case.key_type == MANUAL:
        fields |= {"csr_source": "manual", "csr_pem": make_csr(customer_key(), case.domains)}
    else:
        fields |= {"csr_source": "system", "key_type": case.key_type}
    if case.validation_type in ("OV", "EV"):
        fields |= ORGANIZATION
    if case.validation_type == "EV":
        fields |= EV_FIELDS

    response = apply(client, certificate, **fields)

    assert response.status_code == 302, response.context and response.context["form"].errors
    certificate = refresh(certificate)
    assert certificate.status == Status.VALIDATING
    # Every name's control is proven, DV, OV and EV alike; OV/EV then wait for an operator.
    token = certificate.application.validation_token
    for domain in case.domains:
        # A wildcard is validated on its base domain.
        dns_server.set_txt(f"_dnsauth.{domain.removeprefix('*.')}", token)
    client.post(reverse("certificates:verify", args=[certificate.pk]))
    if case.validation_type != "DV":
        services.approve_application(certificate=refresh(certificate), actor=None)
    certificate = refresh(certificate)
    assert certificate.status == Status.ISSUED, certificate.application.check_results
    return certificate


@dataclass
class Issued:
    """What a customer ends up with, plus the root they would have to trust."""

    case: Case
    root_pem: bytes
    issuing_pem: bytes
    zips: dict[str, dict[str, bytes]] = field(default_factory=dict)
    # The manual CSR's key, which never left the customer.
    own_key: rsa.RSAPrivateKey | None = None

    @property
    def stem(self) -> str:
        return self.case.domains[0].replace("*", "_")

    @property
    def nginx_chain(self) -> bytes:
        return self.zips["nginx"][f"{self.stem}.pem"]

    @property
    def leaf_pem(self) -> bytes:
        return self.zips["apache"][f"{self.stem}_public.crt"]

    @property
    def leaf(self) -> x509.Certificate:
        return x509.load_pem_x509_certificate(self.leaf_pem)

    @property
    def chain_pem(self) -> bytes:
        return self.zips["apache"][f"{self.stem}_chain.crt"]

    @property
    def private_key_pem(self) -> bytes:
        if self.own_key is not None:
            return self.own_key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        return self.zips["nginx"][f"{self.stem}.key"]


def collect_downloads(client: Client, certificate: Certificate, case: Case) -> Issued:
    authorities = CertificateAuthority.objects.filter(brand=certificate.brand)
    issued = Issued(
        case=case,
        root_pem=authorities.get(role="root").certificate_pem.encode(),
        issuing_pem=authorities.get(role="issuing").certificate_pem.encode(),
        own_key=customer_key() if case.key_type == MANUAL else None,
    )
    for server_type in SERVER_TYPES:
        response = download(client, certificate, server_type)
        if response.status_code == 200:
            issued.zips[server_type] = unzip(response.content)
    return issued


# Issuing through the console (RSA key generation above all) is the slow part, and the
# checks below only read the files it produced. So each case is issued once per test run,
# by whichever test needs it first, inside that test's database transaction.
_issued: dict[Case, Issued] = {}


@pytest.fixture
def issued(request: pytest.FixtureRequest) -> Issued:
    case: Case = request.param
    if case not in _issued:
        client = request.getfixturevalue("client")
        customer = request.getfixturevalue("customer")
        client.force_login(customer)
        certificate = issue_through_console(
            client,
            customer,
            request.getfixturevalue("dns_server"),
            request.getfixturevalue("settings"),
            case,
        )
        _issued[case] = collect_downloads(client, certificate, case)
    return _issued[case]


every_case = pytest.mark.parametrize("issued", CASES, indirect=True, ids=str)


def write_files(directory: Path, files: dict[str, bytes]) -> dict[str, Path]:
    paths = {}
    for name, content in files.items():
        paths[name] = directory / name
        paths[name].write_bytes(content)
    return paths


def load_pems(data: bytes) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(data)


def spki(public_key: PublicKeyTypes) -> bytes:
    return public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def assert_key_matches(key: PrivateKeyTypes | None, leaf: x509.Certificate) -> None:
    assert key is not None and spki(key.public_key()) == spki(leaf.public_key())


# --- 1. The zips --------------------------------------------------------------------------


def expected_files(stem: str, with_key: bool) -> dict[str, set[str]]:
    key = {f"{stem}.key"} if with_key else set()
    files = {
        "nginx": {f"{stem}.pem"} | key,
        "apache": {f"{stem}_public.crt", f"{stem}_chain.crt"} | key,
        "other": {f"{stem}.pem", f"{stem}_chain.pem", f"{stem}.der"} | key,
    }
    if with_key:
        files["tomcat"] = {f"{stem}.pfx", "pfx-password.txt", f"{stem}.jks", "jks-password.txt"}
        files["iis"] = {f"{stem}.pfx", "pfx-password.txt"}
    return {server: names | {"README.txt"} for server, names in files.items()}


@every_case
def test_every_server_type_zip_holds_files_that_load(issued: Issued) -> None:
    stem = issued.stem
    with_key = issued.own_key is None
    assert {server: set(files) for server, files in issued.zips.items()} == expected_files(
        stem, with_key
    )
    issuing = x509.load_pem_x509_certificate(issued.issuing_pem)
    leaf = issued.leaf
    [common_name] = leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    assert common_name.value == issued.case.domains[0]
    assert leaf.extensions.get_extension_for_class(
        x509.SubjectAlternativeName
    ).value.get_values_for_type(x509.DNSName) == list(issued.case.domains)

    nginx, apache, other = issued.zips["nginx"], issued.zips["apache"], issued.zips["other"]
    # The full chain: the leaf first, then the issuing CA, and never the root.
    assert load_pems(nginx[f"{stem}.pem"]) == [leaf, issuing]
    assert load_pems(apache[f"{stem}_chain.crt"]) == [issuing]
    assert load_pems(other[f"{stem}.pem"]) == [leaf]
    assert load_pems(other[f"{stem}_chain.pem"]) == [issuing]
    assert x509.load_der_x509_certificate(other[f"{stem}.der"]) == leaf
    if not with_key:
        return

    for files in (nginx, apache, other):
        assert_key_matches(serialization.load_pem_private_key(files[f"{stem}.key"], None), leaf)
    for server_type in ("tomcat", "iis"):
        files = issued.zips[server_type]
        password = files["pfx-password.txt"]
        pfx = pkcs12.load_pkcs12(files[f"{stem}.pfx"], password)
        assert pfx.cert is not None and pfx.cert.certificate == leaf
        assert [c.certificate for c in pfx.additional_certs] == [issuing]
        assert_key_matches(pfx.key, leaf)
        with pytest.raises(ValueError):
            pkcs12.load_pkcs12(files[f"{stem}.pfx"], b"not-the-password")
    tomcat = issued.zips["tomcat"]
    assert tomcat["jks-password.txt"] == tomcat["pfx-password.txt"]
    # The JKS magic number; keytool opens it in test_java_keytool_opens_the_tomcat_keystores.
    assert tomcat[f"{stem}.jks"][:4] == bytes.fromhex("FEEDFEED")


@pytest.mark.skipif(shutil.which("keytool") is None, reason="keytool (Java) is not installed")
@pytest.mark.parametrize(
    "issued",
    [Case("DV", "rsa2048"), Case("OV", "ecp256", domains=TWO_DOMAINS)],
    indirect=True,
    ids=str,
)
def test_java_keytool_opens_the_tomcat_keystores(issued: Issued, tmp_path: Path) -> None:
    stem = issued.stem
    files = write_files(tmp_path, issued.zips["tomcat"])
    password = issued.zips["tomcat"]["pfx-password.txt"].decode()
    for store_type, name in (("JKS", f"{stem}.jks"), ("PKCS12", f"{stem}.pfx")):
        result = subprocess.run(
            ["keytool", "-list", "-v", "-storetype", store_type]
            + ["-keystore", str(files[name]), "-storepass", password],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert "PrivateKeyEntry" in result.stdout
        assert "Certificate chain length: 2" in result.stdout


def test_each_download_is_audited_and_never_cached(customer_client, customer, dns_server, settings):
    certificate = issue_through_console(
        customer_client, customer, dns_server, settings, Case("DV", "ecp256")
    )

    for number, server_type in enumerate(SERVER_TYPES, start=1):
        response = download(customer_client, certificate, server_type)

        assert response.status_code == 200
        assert response["Content-Type"] == "application/zip"
        assert response["Cache-Control"] == "no-store"
        assert response["Content-Disposition"] == (
            f'attachment; filename="shop.example.com_{server_type}.zip"'
        )
        events = AuditEvent.objects.filter(action="certificate.download")
        assert events.count() == number
        event = events.first()
        assert event.actor == customer
        assert event.object_id == str(certificate.pk)
        assert event.details == {"server_type": server_type}


@pytest.mark.parametrize("server_type", ["tomcat", "iis"])
def test_keystores_are_refused_for_a_manual_csr_with_a_message(
    customer_client, customer, dns_server, settings, server_type
):
    certificate = issue_through_console(
        customer_client, customer, dns_server, settings, Case("DV", MANUAL)
    )

    response = download(customer_client, certificate, server_type)

    assert response.status_code == 302
    assert response["Location"] == certificate.get_absolute_url()
    message = last_message(response)
    assert message.level_tag == "error"
    assert "your own CSR" in message.message
    assert "Nginx, Apache or Other" in message.message
    assert not AuditEvent.objects.filter(action="certificate.download").exists()


def test_uploaded_and_pending_certificates_cannot_be_downloaded(
    customer_client, customer, rsa_leaf
):
    uploaded = make_certificate(
        customer, source="uploaded", certificate_pem=rsa_leaf.cert_pem, chain_pem=""
    )
    waiting = pending(customer)

    for certificate in (uploaded, waiting):
        response = download(customer_client, certificate, "nginx")

        assert response.status_code == 302
        assert response["Location"] == certificate.get_absolute_url()
        assert last_message(response).message == "This certificate cannot be downloaded."
    assert not AuditEvent.objects.filter(action="certificate.download").exists()


# --- 2. openssl verify --------------------------------------------------------------------


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")
@every_case
def test_openssl_verifies_the_chain_up_to_the_root(issued: Issued, tmp_path: Path) -> None:
    files = write_files(
        tmp_path,
        {"root.pem": issued.root_pem, "issuing.pem": issued.chain_pem, "leaf.pem": issued.leaf_pem},
    )
    result = subprocess.run(
        ["openssl", "verify", "-x509_strict", "-purpose", "sslserver"]
        + ["-CAfile", str(files["root.pem"]), "-untrusted", str(files["issuing.pem"])]
        + [str(files["leaf.pem"])],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == f"{files['leaf.pem']}: OK"


# --- 3. pkilint ---------------------------------------------------------------------------


def report(title: str, findings: list[Finding]) -> None:
    """Show what pkilint said (with -s), errors or not, so warnings are seen and judged."""
    print(f"\npkilint {title}: {len(findings)} finding(s)")
    for finding in findings:
        print(f"    {finding}")


@every_case
def test_pkilint_finds_no_errors_in_the_certificate(issued: Issued) -> None:
    lint_type = LINT_TYPES[issued.case.validation_type]
    der = issued.leaf.public_bytes(serialization.Encoding.DER)

    findings = lint_serverauth(der, lint_type)

    report(f"{lint_type} {issued.case}", findings)
    assert [str(f) for f in findings if f.is_error] == []


@pytest.mark.parametrize("issued", [Case("DV", "ecp256")], indirect=True, ids=str)
def test_pkilint_finds_no_errors_in_the_issuing_and_root_ca(issued: Issued) -> None:
    issuing = x509.load_pem_x509_certificate(issued.issuing_pem)
    root = x509.load_pem_x509_certificate(issued.root_pem)

    # An issuing CA run by the root's operator, serverAuth only and without name
    # constraints, is what the Baseline Requirements (7.1.2.6) call an unconstrained
    # internally operated TLS subordinate CA; pkilint's --detect picks the same type.
    issuing_findings = lint_serverauth(
        issuing.public_bytes(serialization.Encoding.DER),
        CertificateType.INTERNAL_UNCONSTRAINED_TLS_CA,
    )
    root_findings = lint_serverauth(
        root.public_bytes(serialization.Encoding.DER), CertificateType.ROOT_CA
    )

    report("INTERNAL_UNCONSTRAINED_TLS_CA (issuing CA)", issuing_findings)
    report("ROOT_CA", root_findings)
    assert [str(f) for f in issuing_findings + root_findings if f.is_error] == []


# --- 4. A TLS handshake -------------------------------------------------------------------


@every_case
def test_a_client_trusting_only_the_root_completes_the_handshake(
    issued: Issued, tmp_path: Path
) -> None:
    # The server gets exactly the Nginx files; with a manual CSR, the customer's own key.
    files = write_files(
        tmp_path,
        {
            "fullchain.pem": issued.nginx_chain,
            "server.key": issued.private_key_pem,
            "root.pem": issued.root_pem,
        },
    )

    with TLSServer(files["fullchain.pem"], files["server.key"]) as server:
        result = handshake(
            server.port, root_file=files["root.pem"], server_hostname=issued.case.hostname
        )
        with pytest.raises(ssl.SSLCertVerificationError, match="[Hh]ostname mismatch"):
            handshake(server.port, root_file=files["root.pem"], server_hostname="other.example.net")

    assert result.greeting == GREETING
    assert result.version in ("TLSv1.2", "TLSv1.3")
    assert result.peer_names == list(issued.case.domains)


@pytest.mark.parametrize("issued", [Case("DV", "ecp256")], indirect=True, ids=str)
def test_the_handshake_fails_without_the_issuing_ca_in_the_chain(
    issued: Issued, tmp_path: Path
) -> None:
    """The negative control: the handshake above depends on the chain the zip supplies."""
    files = write_files(
        tmp_path,
        {
            "leaf-only.pem": issued.leaf_pem,
            "server.key": issued.private_key_pem,
            "root.pem": issued.root_pem,
        },
    )

    with (
        TLSServer(files["leaf-only.pem"], files["server.key"]) as server,
        pytest.raises(ssl.SSLCertVerificationError, match="unable to get local issuer"),
    ):
        handshake(server.port, root_file=files["root.pem"], server_hostname=issued.case.hostname)


def test_case_keys_are_what_the_console_offers() -> None:
    """Every key type of the apply form is covered above, and only those."""
    covered = {case.key_type for case in CASES} - {MANUAL}
    assert covered == set(KEY_TYPES)
    assert {case.validation_type for case in CASES} == {"DV", "OV", "EV"}
