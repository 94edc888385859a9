"""The one gate before every signature (certificates.issuance_policy), through the console's
doors: the apply form, Verify, the operators' approval and reissue."""

import ast
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from certificates import authority, compromised_keys, issuance_policy, services
from certificates.issuance_policy import COMPROMISED_KEY, LINT_FAILED, reuse_days
from certificates.lifecycle import CertificateStatus as Status
from certificates.models import Application, AuditEvent, Certificate, IssuedSerial
from certificates.pki import ca, csr
from certificates.pki.parsing import public_key_sha256
from tests.dns_server import shared_server
from tests.issuance import prove_domain_control, submit_application
from tests.key_policy_cases import BAD_KEYS, BadKey, sha1_csr_pem
from tests.test_apply import apply, make_csr, pending

pytestmark = pytest.mark.django_db

DOMAIN = "shop.example.com"


def refusal_event(certificate: Certificate) -> AuditEvent:
    return AuditEvent.objects.get(
        action="certificate.issuance_refused", object_id=str(certificate.pk)
    )


def assert_not_signed(certificate: Certificate) -> None:
    certificate.refresh_from_db()
    assert certificate.status == Status.VALIDATING
    assert certificate.certificate_pem == ""
    assert not IssuedSerial.objects.filter(certificate=certificate).exists()


def dv_with_csr(owner, csr_pem: str) -> Certificate:
    """A DV application whose CSR is `csr_pem`, as a door without the form's checks (ACME,
    the API) could hand it to the gate."""
    certificate = submit_application(owner, "DV", domain=DOMAIN)
    Application.objects.filter(certificate=certificate).update(csr_pem=csr_pem)
    certificate.refresh_from_db()
    return certificate


# --- key policy: the same words on the form and from the gate -----------------------------


@pytest.mark.parametrize("case", BAD_KEYS, ids=lambda case: case.name)
def test_each_refused_key_is_refused_on_the_csr_field_of_the_apply_form(
    customer_client, customer, case: BadKey
):
    certificate = pending(customer)

    response = apply(
        customer_client,
        certificate,
        csr_source="manual",
        csr_pem=make_csr(case.key(), [DOMAIN]),
    )

    assert response.status_code == 200
    assert case.words in " ".join(response.context["form"].errors["csr_pem"])
    assert Certificate.objects.get(pk=certificate.pk).status == Status.PENDING_APPLICATION


@pytest.mark.parametrize("case", BAD_KEYS, ids=lambda case: case.name)
def test_each_refused_key_is_refused_by_the_gate_with_the_same_words(customer, case: BadKey):
    certificate = dv_with_csr(customer, make_csr(case.key(), [DOMAIN]))

    with pytest.raises(issuance_policy.IssuanceRefused, match=re.escape(case.words)):
        prove_domain_control(certificate)

    assert_not_signed(certificate)
    assert case.words in refusal_event(certificate).details["reasons"][0]


def test_a_csr_with_a_key_of_another_type_is_refused_by_the_gate_not_a_server_error(customer):
    from cryptography.hazmat.primitives.asymmetric import dsa

    certificate = dv_with_csr(customer, make_csr(dsa.generate_private_key(2048), [DOMAIN]))

    with pytest.raises(issuance_policy.IssuanceRefused, match="Use RSA|Use an RSA"):
        prove_domain_control(certificate)

    assert_not_signed(certificate)


def test_a_csr_signed_with_sha1_is_refused_on_the_form_as_such(customer_client, customer):
    from cryptography.hazmat.primitives.asymmetric import rsa

    certificate = pending(customer)
    key = rsa.generate_private_key(65537, 2048)

    response = apply(
        customer_client, certificate, csr_source="manual", csr_pem=sha1_csr_pem(key, [DOMAIN])
    )

    [error] = response.context["form"].errors["csr_pem"]
    assert "signed with SHA-1" in error
    assert "damaged" not in error


def test_a_listed_key_is_refused_on_the_form(customer_client, customer, other_customer):
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    compromised_keys.add(key_sha256=public_key_sha256(key), source="revocation")
    certificate = pending(customer)

    response = apply(
        customer_client, certificate, csr_source="manual", csr_pem=make_csr(key, [DOMAIN])
    )

    assert response.context["form"].errors["csr_pem"] == [COMPROMISED_KEY]


def test_a_key_listed_after_submission_is_refused_by_the_gate(customer):
    certificate = submit_application(customer, "DV", domain=DOMAIN)
    key = csr.load_csr(certificate.application.csr_pem).public_key()
    compromised_keys.add(key_sha256=public_key_sha256(key), source="report")

    with pytest.raises(issuance_policy.IssuanceRefused, match="compromised keys"):
        prove_domain_control(certificate)

    assert_not_signed(certificate)


# --- domain control -----------------------------------------------------------------------


def test_issuing_without_a_passed_check_of_every_name_is_refused(customer):
    certificate = submit_application(
        customer, "OV", domain="shop.example.com\nwww.example.com", prove_control=False
    )
    shared_server().set_txt("_dnsauth.shop.example.com", certificate.application.validation_token)
    services.verify_domains(certificate=certificate, actor=None)

    # Past the operators' own check, the gate refuses too.
    with pytest.raises(issuance_policy.IssuanceRefused, match="Control of www.example.com"):
        services.issue_certificate(
            certificate=Certificate.objects.get(pk=certificate.pk), actor=None
        )

    assert_not_signed(certificate)


@pytest.mark.parametrize(
    ("day", "days"),
    [
        (date(2026, 3, 14), 398),
        (date(2026, 3, 15), 200),
        (date(2027, 3, 14), 200),
        (date(2027, 3, 15), 100),
        (date(2029, 3, 15), 10),
        (date(2035, 1, 1), 10),
    ],
)
def test_the_reuse_period_follows_the_baseline_requirements_dates(day, days):
    assert reuse_days(day) == days


def test_a_check_just_inside_the_reuse_period_is_reused(customer):
    certificate = submit_application(customer, "OV", domain=DOMAIN)
    application = certificate.application
    inside = timezone.now() - timedelta(days=reuse_days(timezone.now().date()) - 1)
    application.check_results[DOMAIN]["checked_at"] = inside.isoformat()
    application.save()

    services.approve_application(certificate=certificate, actor=None)

    assert Certificate.objects.get(pk=certificate.pk).status == Status.ISSUED


# --- CAA ----------------------------------------------------------------------------------


def test_verify_refused_by_caa_names_the_record_and_signs_nothing(customer_client, customer):
    certificate = submit_application(customer, "DV", domain=DOMAIN)
    server = shared_server()
    server.set_caa("example.com", '0 issue "letsencrypt.org"')
    server.set_txt("_dnsauth.shop.example.com", certificate.application.validation_token)

    response = customer_client.post(
        reverse("certificates:verify", args=[certificate.pk]), follow=True
    )

    assert "0 issue &quot;letsencrypt.org&quot;" in response.content.decode()
    assert_not_signed(certificate)
    [reason] = refusal_event(certificate).details["reasons"]
    assert "The CAA records at example.com" in reason


def test_caa_allowing_this_ca_lets_the_certificate_be_issued(customer, settings):
    certificate = submit_application(customer, "DV", domain=DOMAIN)
    shared_server().set_caa("example.com", f'0 issue "{settings.PKI_CAA_IDENTITIES[0]}"')

    prove_domain_control(certificate)

    assert Certificate.objects.get(pk=certificate.pk).status == Status.ISSUED


def test_the_console_passes_its_validation_method_to_caa(customer, settings):
    ours = settings.PKI_CAA_IDENTITIES[0]
    certificate = submit_application(customer, "DV", domain=DOMAIN)
    shared_server().set_caa("example.com", f'0 issue "{ours}; validationmethods=ca-file"')

    with pytest.raises(issuance_policy.IssuanceRefused, match="validationmethods=ca-file"):
        prove_domain_control(certificate)  # validated by DNS, "ca-dns"


def gate_request(certificate: Certificate) -> issuance_policy.Request:
    issuing = authority.issuing_authority(certificate.brand)
    return issuance_policy.Request(
        issuer=authority.load(issuing),
        ca_slug=issuing.slug,
        public_key=csr.load_csr(certificate.application.csr_pem).public_key(),
        domains=(DOMAIN,),
        validation_type="DV",
        subject=None,
        now=timezone.now(),
        validity_days=30,
    )


def test_decide_matches_an_acme_account_against_accounturi(customer, settings):
    account = "https://console.example/acme/acct/7"
    certificate = submit_application(customer, "DV", domain=DOMAIN)
    shared_server().set_caa(
        "example.com", f'0 issue "{settings.PKI_CAA_IDENTITIES[0]}; accounturi={account}"'
    )
    request = gate_request(certificate)
    validated = {DOMAIN: timezone.now()}

    assert (
        issuance_policy.decide(
            request=request,
            validated_at=validated,
            acme_account_uri=account,
            validation_method="dns-01",
        )
        == "sign"
    )
    [refusal] = issuance_policy.decide(
        request=request, validated_at=validated, acme_account_uri=account + "0"
    )
    assert refusal.kind == "caa"


# --- lint before the real signature -------------------------------------------------------


def test_a_broken_profile_is_refused_by_the_lint_and_never_signed_for_real(
    customer, monkeypatch, settings
):
    settings.PKI_BASE_URL = "http://pki.example.com"
    certificate = submit_application(customer, "DV", domain=DOMAIN)
    issuing_key = authority.load(authority.issuing_authority(certificate.brand)).private_key
    # A profile mistake: keyCertSign on a subscriber certificate.
    key_usage = ca._key_usage
    monkeypatch.setattr(ca, "_key_usage", lambda **kw: key_usage(**{**kw, "key_cert_sign": True}))
    signers = []
    sign_certificate = ca.sign_certificate
    monkeypatch.setattr(
        ca,
        "sign_certificate",
        lambda builder, key: signers.append(key) or sign_certificate(builder, key),
    )

    with pytest.raises(issuance_policy.IssuanceRefused, match=re.escape(LINT_FAILED)):
        prove_domain_control(certificate)

    assert_not_signed(certificate)
    assert len(signers) == 1
    assert signers[0].public_key() != issuing_key.public_key()
    findings = refusal_event(certificate).details["findings"]
    assert any("keyCertSign" in finding for finding in findings)
    assert refusal_event(certificate).details["reasons"] == [LINT_FAILED]


def test_a_clean_profile_is_linted_then_signed_by_the_issuing_ca(customer, monkeypatch):
    certificate = submit_application(customer, "OV", domain=DOMAIN)
    issuing_key = authority.load(authority.issuing_authority(certificate.brand)).private_key
    signers = []
    sign_certificate = ca.sign_certificate
    monkeypatch.setattr(
        ca,
        "sign_certificate",
        lambda builder, key: signers.append(key) or sign_certificate(builder, key),
    )

    services.approve_application(certificate=certificate, actor=None)

    assert [key.public_key() == issuing_key.public_key() for key in signers] == [False, True]


# --- nothing signs but through the gate ---------------------------------------------------

SIGNING_FUNCTIONS = {"issue_certificate", "sign_certificate"}


def signing_calls(source: str) -> list[int]:
    """Lines that call the CA's signing functions (certificates.pki.ca), by the module
    (`ca.issue_certificate(...)`) or imported by name."""
    tree = ast.parse(source)
    imported = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == "certificates.pki.ca"
        for alias in node.names
        if alias.name in SIGNING_FUNCTIONS
    }
    lines = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if (
            isinstance(func, ast.Attribute)
            and func.attr in SIGNING_FUNCTIONS
            and isinstance(func.value, ast.Name)
            and func.value.id == "ca"
        ) or (isinstance(func, ast.Name) and func.id in imported):
            lines.append(node.lineno)
    return lines


@pytest.mark.parametrize(
    "snippet",
    [
        "from certificates.pki import ca\nca.issue_certificate(issuer, domains=d)",
        "from certificates.pki import ca\nca.sign_certificate(builder, key)",
        "from certificates.pki.ca import issue_certificate\nissue_certificate(issuer)",
        "from certificates.pki.ca import sign_certificate as s\ns(builder, key)",
    ],
)
def test_the_guard_catches_each_way_of_calling_the_signing_code(snippet):
    assert signing_calls(snippet) != []


@pytest.mark.parametrize(
    "snippet",
    [
        "services.issue_certificate(certificate=c, actor=None)",
        "from certificates.services.issuance import issue_certificate\n"
        "issue_certificate(certificate=c)",
        "ca.build_certificate(issuer)",
    ],
)
def test_the_guard_lets_other_calls_pass(snippet):
    assert signing_calls(snippet) == []


def test_nothing_but_the_gate_calls_the_cas_signing_code():
    root = Path(__file__).resolve().parent.parent / "certificates"
    offenders = [
        f"{path.relative_to(root)}:{number}"
        for path in sorted(root.rglob("*.py"))
        if path not in (root / "issuance_policy.py", root / "pki" / "ca.py")
        and "migrations" not in path.parts
        for number in signing_calls(path.read_text())
    ]
    assert offenders == []
