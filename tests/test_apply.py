"""Apply, validate and issue: from a pending certificate to a real one signed by the local CA."""

import time
from datetime import timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from certificates import services
from certificates.errors import ActionNotAllowed
from certificates.issuance_policy import reuse_days
from certificates.lifecycle import CertificateStatus as Status
from certificates.models import (
    Application,
    AuditEvent,
    Certificate,
    CertificateAuthority,
    IssuedSerial,
)
from certificates.pki import ca
from certificates.pki.ca import SubjectInfo
from certificates.pki.errors import InvalidSubjectError
from certificates.pki.parsing import load_certificates, serial_hex
from tests.dns_server import shared_server
from tests.factories import make_certificate, make_order, make_product
from tests.issuance import prove_domain_control

pytestmark = pytest.mark.django_db


def pending(owner, validation_type="DV", domain_scope="single", domain_count=1) -> Certificate:
    product = make_product(validation_type=validation_type, domain_scope=domain_scope)
    return make_certificate(
        owner,
        status=Status.PENDING_APPLICATION,
        days_left=None,
        domain="",
        domains="",
        order=make_order(owner, product),
        brand=product.brand,
        validation_type=validation_type,
        domain_scope=domain_scope,
        domain_count=domain_count,
        subscription_ends_at=timezone.now() + timedelta(days=365),
    )


CONTACT = {
    "contact_name": "Li Wei",
    "contact_email": "li@example.com",
    "contact_phone": "+86 571 0000 0000",
}
ORGANIZATION = {
    "organization_name": "Example Shop Ltd",
    "organization_country": "cn",
    "organization_city": "Hangzhou",
    "organization_address": "1 West Lake Road",
}


def apply(client, certificate, action="submit", **fields):
    data = {
        "domains": "shop.example.com",
        "csr_source": "system",
        "key_type": "ecp256",
        "validation_method": "dns",
        "action": action,
        **CONTACT,
        **fields,
    }
    return client.post(reverse("certificates:apply", args=[certificate.pk]), data)


def form_errors(response) -> dict:
    return dict(response.context["form"].errors)


def refresh(certificate) -> Certificate:
    return Certificate.objects.get(pk=certificate.pk)


def test_submitting_a_dv_application_with_a_system_key(customer_client, customer):
    certificate = pending(customer)

    response = apply(customer_client, certificate)

    assert response.status_code == 302
    certificate = refresh(certificate)
    application = certificate.application
    assert certificate.status == Status.VALIDATING
    assert certificate.domain_list == ["shop.example.com"]
    assert application.submitted_at is not None
    assert len(application.validation_token) >= 32
    request = x509.load_pem_x509_csr(application.csr_pem.encode())
    assert request.is_signature_valid
    assert isinstance(request.public_key(), ec.EllipticCurvePublicKey)
    assert (
        certificate.private_key_encrypted and "PRIVATE KEY" not in certificate.private_key_encrypted
    )


def test_a_draft_is_kept_without_submitting(customer_client, customer):
    certificate = pending(customer)

    apply(customer_client, certificate, action="draft", contact_phone="")

    certificate = refresh(certificate)
    assert certificate.status == Status.PENDING_APPLICATION
    assert certificate.application.contact_name == "Li Wei"
    assert certificate.application.submitted_at is None


def test_submitting_needs_the_contact(customer_client, customer):
    certificate = pending(customer)
    response = apply(customer_client, certificate, contact_email="")
    assert "contact_email" in form_errors(response)
    assert refresh(certificate).status == Status.PENDING_APPLICATION


@pytest.mark.parametrize(
    ("scope", "count", "domains", "message"),
    [
        ("single", 1, "a.example.com\nb.example.com", "enter exactly 1"),
        ("multiple", 3, "a.example.com\nb.example.com", "enter exactly 3"),
        ("single", 1, "*.example.com", "wildcard"),
        ("wildcard", 1, "www.example.com", "enter a wildcard domain"),
        ("multiple", 2, "a.example.com\na.example.com", "listed twice"),
        ("single", 1, "not a domain", ""),
        ("single", 1, "localhost", ""),
        ("single", 1, "192.0.2.1", "is an IP address"),
        ("single", 1, "[2001:db8::1]", "is an IP address"),
        ("single", 1, "shop.local", "reserved name"),
        ("single", 1, "shop.notatld", "known top-level domain"),
        ("wildcard", 1, "*.co.uk", "public suffix"),
    ],
)
def test_domains_follow_what_was_bought(customer_client, customer, scope, count, domains, message):
    certificate = pending(customer, domain_scope=scope, domain_count=count)

    response = apply(customer_client, certificate, domains=domains)

    errors = form_errors(response)["domains"]
    assert message in " ".join(errors)
    assert refresh(certificate).status == Status.PENDING_APPLICATION


def test_multiple_and_wildcard_domains_are_accepted_as_bought(customer_client, customer):
    multiple = pending(customer, domain_scope="multiple", domain_count=3)
    wildcard = pending(customer, domain_scope="wildcard")

    apply(customer_client, multiple, domains="a.example.com, b.example.com\nc.example.com")
    apply(customer_client, wildcard, domains="*.Example.com")

    assert refresh(multiple).domain_list == ["a.example.com", "b.example.com", "c.example.com"]
    assert refresh(wildcard).domain_list == ["*.example.com"]


def test_idn_domains_are_converted_to_ascii(customer_client, customer):
    certificate = pending(customer)
    apply(customer_client, certificate, domains="bücher.example.com")
    assert refresh(certificate).domain_list == ["xn--bcher-kva.example.com"]


def test_wildcard_cannot_use_file_validation(customer_client, customer):
    certificate = pending(customer, domain_scope="wildcard")
    response = apply(
        customer_client, certificate, domains="*.example.com", validation_method="file"
    )
    assert "DNS" in form_errors(response)["validation_method"][0]


def make_csr(key, names, *, sign_with=None) -> str:
    request = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), False)
        .sign(sign_with or key, hashes.SHA256())
    )
    return request.public_bytes(serialization.Encoding.PEM).decode()


def test_manual_csr_is_used_and_no_key_is_kept(customer_client, customer):
    certificate = pending(customer)
    key = ec.generate_private_key(ec.SECP256R1())

    apply(
        customer_client,
        certificate,
        csr_source="manual",
        csr_pem=make_csr(key, ["shop.example.com"]),
    )

    certificate = refresh(certificate)
    assert certificate.status == Status.VALIDATING
    assert certificate.private_key_encrypted == ""


def test_a_key_pasted_with_the_manual_csr_is_not_stored(customer_client, customer):
    certificate = pending(customer)
    key = ec.generate_private_key(ec.SECP256R1())
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    csr_pem = make_csr(key, ["shop.example.com"])

    apply(customer_client, certificate, csr_source="manual", csr_pem=key_pem + csr_pem)

    application = Application.objects.get(certificate=certificate)
    assert refresh(certificate).status == Status.VALIDATING
    assert "PRIVATE KEY" not in application.csr_pem
    assert application.csr_pem == csr_pem


def test_manual_csr_with_a_bad_signature_is_refused(customer_client, customer):
    certificate = pending(customer)
    key = ec.generate_private_key(ec.SECP256R1())
    good = x509.load_pem_x509_csr(make_csr(key, ["shop.example.com"]).encode())
    der = bytearray(good.public_bytes(serialization.Encoding.DER))
    der[-5] ^= 0xFF  # inside the signature
    tampered = x509.load_der_x509_csr(bytes(der)).public_bytes(serialization.Encoding.PEM).decode()

    response = apply(customer_client, certificate, csr_source="manual", csr_pem=tampered)

    assert "signature" in form_errors(response)["csr_pem"][0]
    assert refresh(certificate).status == Status.PENDING_APPLICATION


def test_manual_csr_with_a_weak_key_is_refused(customer_client, customer, rsa_1024_key):
    certificate = pending(customer)
    response = apply(
        customer_client,
        certificate,
        csr_source="manual",
        csr_pem=make_csr(rsa_1024_key, ["shop.example.com"]),
    )
    assert "1024" in form_errors(response)["csr_pem"][0]


def test_manual_csr_for_other_names_is_refused(customer_client, customer):
    certificate = pending(customer)
    key = ec.generate_private_key(ec.SECP256R1())
    response = apply(
        customer_client,
        certificate,
        csr_source="manual",
        csr_pem=make_csr(key, ["other.example.com"]),
    )
    assert "other.example.com" in form_errors(response)["csr_pem"][0]


def test_ov_needs_the_organization(customer_client, customer):
    certificate = pending(customer, validation_type="OV")
    response = apply(customer_client, certificate)
    assert {"organization_name", "organization_country", "organization_address"} <= set(
        form_errors(response)
    )


def cas_problems(validation_type, **fields) -> dict:
    """What the CA's own check says of these details, by SubjectInfo field."""
    with pytest.raises(InvalidSubjectError) as raised:
        ca.check_subject(SubjectInfo(**fields), validation_type)
    return {field: str(problem) for field, problem in raised.value.problems.items()}


def test_a_bad_country_gets_the_cas_message_on_the_country_field(customer_client, customer):
    certificate = pending(customer, validation_type="OV")

    response = apply(customer_client, certificate, **{**ORGANIZATION, "organization_country": "1A"})

    expected = cas_problems("OV", organization="Example Shop Ltd", country="1A", city="Hangzhou")
    assert form_errors(response) == {"organization_country": [expected["country"]]}
    assert refresh(certificate).status == Status.PENDING_APPLICATION


def test_ev_details_get_the_cas_messages_on_their_fields(customer_client, customer):
    certificate = pending(customer, validation_type="EV")

    response = apply(
        customer_client,
        certificate,
        **ORGANIZATION,
        business_category="Private Organization",
        jurisdiction_country="C1",
        registration_number="HRB_1234",
    )

    errors = form_errors(response)
    assert set(errors) == {"jurisdiction_country", "registration_number"}
    assert "jurisdiction country must be a two-letter" in errors["jurisdiction_country"][0]
    assert "may contain only" in errors["registration_number"][0]


def test_an_ov_application_needs_the_city_or_the_state(customer_client, customer):
    certificate = pending(customer, validation_type="OV")

    response = apply(customer_client, certificate, **{**ORGANIZATION, "organization_city": ""})

    assert form_errors(response) == {
        "organization_city": ["An OV certificate needs the organization's city or state."]
    }


def test_a_draft_may_leave_out_details_but_not_get_them_wrong(customer_client, customer):
    certificate = pending(customer, validation_type="OV")

    # No organization name, and a country that is no code.
    response = apply(customer_client, certificate, action="draft", organization_country="D1")

    assert list(form_errors(response)) == ["organization_country"]
    assert not Application.objects.exists()


def test_the_country_is_kept_as_the_certificate_names_it(customer_client, customer):
    certificate = pending(customer, validation_type="OV")

    apply(customer_client, certificate, action="draft", **ORGANIZATION)

    assert refresh(certificate).application.organization_country == "CN"


def test_apply_is_only_for_pending_or_failed_certificates(customer_client, customer):
    issued = make_certificate(customer, status=Status.ISSUED)
    response = apply(customer_client, issued)
    assert response.status_code == 302
    assert not Application.objects.exists()


def test_another_customers_certificate_is_a_404_for_every_step(client, customer, other_customer):
    certificate = pending(customer)
    client.force_login(other_customer)
    for name in ("apply", "withdraw", "verify"):
        assert (
            client.post(reverse(f"certificates:{name}", args=[certificate.pk])).status_code == 404
        )
    url = reverse("certificates:download", args=[certificate.pk, "nginx"])
    assert client.get(url).status_code == 404


def test_withdrawing_returns_to_pending(customer_client, customer):
    certificate = pending(customer)
    apply(customer_client, certificate)
    customer_client.post(reverse("certificates:withdraw", args=[certificate.pk]))
    assert refresh(certificate).status == Status.PENDING_APPLICATION


# --- DV: verify against a real DNS server on loopback --------------------------------------


def verify(client, certificate):
    return client.post(reverse("certificates:verify", args=[certificate.pk]))


def test_verify_with_the_dns_record_issues_a_real_certificate(
    customer_client, customer, dns_server, dv_settings
):
    certificate = pending(customer)
    apply(customer_client, certificate)
    token = Application.objects.get().validation_token
    dns_server.set_txt("_dnsauth.shop.example.com", token)

    verify(customer_client, certificate)

    certificate = refresh(certificate)
    assert certificate.status == Status.ISSUED
    leaf = load_certificates(certificate.certificate_pem)[0]
    issuing = CertificateAuthority.objects.get(role="issuing", brand=certificate.brand)
    root = CertificateAuthority.objects.get(role="root", brand=certificate.brand)
    leaf.verify_directly_issued_by(load_certificates(issuing.certificate_pem)[0])
    load_certificates(issuing.certificate_pem)[0].verify_directly_issued_by(
        load_certificates(root.certificate_pem)[0]
    )
    assert certificate.serial == serial_hex(leaf.serial_number)
    assert certificate.not_after == leaf.not_valid_after_utc
    assert (leaf.not_valid_after_utc - leaf.not_valid_before_utc).days <= 199
    assert "(Local CA)" in certificate.issuer
    assert certificate.application.check_results["shop.example.com"]["ok"] is True


def test_verify_with_the_file_issues_the_certificate(
    customer_client, customer, dns_server, http_server, dv_settings
):
    certificate = pending(customer)
    apply(customer_client, certificate, validation_method="file")
    dns_server.set_a("shop.example.com", "127.0.0.1")
    http_server.serve(
        "/.well-known/pki-validation/fileauth.txt", body=Application.objects.get().validation_token
    )

    verify(customer_client, certificate)

    assert refresh(certificate).status == Status.ISSUED


def test_verify_with_a_wrong_token_says_what_was_found(
    customer_client, customer, dns_server, dv_settings
):
    certificate = pending(customer)
    apply(customer_client, certificate)
    dns_server.set_txt("_dnsauth.shop.example.com", "something-else")

    verify(customer_client, certificate)

    certificate = refresh(certificate)
    assert certificate.status == Status.VALIDATING
    detail = certificate.application.check_results["shop.example.com"]["detail"]
    assert "something-else" in detail
    page = customer_client.get(certificate.get_absolute_url()).content.decode()
    assert "something-else" in page


FILE_PATH = "/.well-known/pki-validation/fileauth.txt"


def test_verify_by_file_never_shows_what_the_web_server_sent(
    customer_client, customer, dns_server, http_server, dv_settings
):
    secret = "internal-admin-password-0451"
    certificate = pending(customer)
    apply(customer_client, certificate, validation_method="file")
    dns_server.set_a("shop.example.com", "127.0.0.1")
    http_server.serve(FILE_PATH, body=f"{secret}\n")

    verify(customer_client, certificate)

    certificate = refresh(certificate)
    assert certificate.status == Status.VALIDATING
    detail = certificate.application.check_results["shop.example.com"]["detail"]
    assert "does not hold the token" in detail
    assert secret not in detail
    page = customer_client.get(certificate.get_absolute_url()).content.decode()
    assert "does not hold the token" in page
    assert secret not in page


def test_verify_by_file_refuses_loopback_unless_the_network_is_allowed(
    customer_client, customer, dns_server, http_server, dv_settings
):
    certificate = pending(customer)
    apply(customer_client, certificate, validation_method="file")
    dns_server.set_a("shop.example.com", "127.0.0.1")
    http_server.serve(FILE_PATH, body=Application.objects.get().validation_token)
    dv_settings.DV_ALLOWED_NETWORKS = []

    verify(customer_client, certificate)

    certificate = refresh(certificate)
    assert certificate.status == Status.VALIDATING
    detail = certificate.application.check_results["shop.example.com"]["detail"]
    assert "not public" in detail
    assert http_server.requests == []

    dv_settings.DV_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    verify(customer_client, certificate)

    assert refresh(certificate).status == Status.ISSUED


def test_verify_checks_many_slow_domains_at_once(
    customer_client, customer, dns_server, http_server, dv_settings
):
    names = [f"n{number}.example.com" for number in range(10)]
    certificate = pending(customer, domain_scope="multiple", domain_count=len(names))
    apply(customer_client, certificate, domains="\n".join(names), validation_method="file")
    for name in names:
        dns_server.set_a(name, "127.0.0.1")
    # Each answer takes most of the timeout: one name after another would take 8 s.
    dv_settings.DV_CHECK_TIMEOUT = 1.5
    http_server.serve(FILE_PATH, body=Application.objects.get().validation_token, delay=0.8)

    started = time.monotonic()
    verify(customer_client, certificate)

    assert time.monotonic() - started < 3 * 1.5
    assert len(http_server.requests) == len(names)
    assert refresh(certificate).status == Status.ISSUED


def test_verify_fails_the_check_after_the_allowed_days(customer_client, customer, dv_settings):
    certificate = pending(customer)
    apply(customer_client, certificate)
    Application.objects.update(submitted_at=timezone.now() - timedelta(days=8))

    verify(customer_client, certificate)

    certificate = refresh(certificate)
    assert certificate.status == Status.CHECK_FAIL
    assert "within 7 days" in certificate.application.rejection_reason


# --- OV/EV: an operator reviews -----------------------------------------------------------


def test_ov_approval_is_refused_until_every_name_passed_its_check(customer_client, customer):
    certificate = pending(customer, validation_type="OV", domain_scope="multiple", domain_count=2)
    apply(customer_client, certificate, **ORGANIZATION, domains="shop.example.com\napi.example.com")
    application = Application.objects.get()
    server = shared_server()
    server.set_txt("_dnsauth.shop.example.com", application.validation_token)

    verify(customer_client, certificate)
    with pytest.raises(ActionNotAllowed, match="not yet: api.example.com"):
        services.approve_application(certificate=refresh(certificate), actor=None)
    assert refresh(certificate).status == Status.VALIDATING
    assert not refresh(certificate).certificate_pem

    server.set_txt("_dnsauth.api.example.com", application.validation_token)
    verify(customer_client, certificate)
    assert refresh(certificate).status == Status.VALIDATING  # the organization is next
    services.approve_application(certificate=refresh(certificate), actor=None)
    assert refresh(certificate).status == Status.ISSUED


def test_ov_application_shows_the_domain_check_instructions(customer_client, customer):
    certificate = pending(customer, validation_type="OV")
    apply(customer_client, certificate, **ORGANIZATION)
    token = Application.objects.get().validation_token

    page = customer_client.get(reverse("certificates:detail", args=[certificate.pk]))

    assert "_dnsauth.shop.example.com" in page.content.decode()
    assert token in page.content.decode()


def test_ov_approved_by_an_operator_is_issued_with_the_organization(customer_client, customer):
    certificate = pending(customer, validation_type="OV")
    apply(customer_client, certificate, **ORGANIZATION)
    prove_domain_control(certificate)

    services.approve_application(certificate=refresh(certificate), actor=None)

    certificate = refresh(certificate)
    assert certificate.status == Status.ISSUED
    leaf = load_certificates(certificate.certificate_pem)[0]
    subject = leaf.subject
    assert subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "Example Shop Ltd"
    assert subject.get_attributes_for_oid(NameOID.COUNTRY_NAME)[0].value == "CN"
    policies = leaf.extensions.get_extension_for_class(x509.CertificatePolicies).value
    assert [p.policy_identifier.dotted_string for p in policies] == ["2.23.140.1.2.2"]


def test_rejected_application_shows_the_reason_and_can_be_resubmitted(customer_client, customer):
    certificate = pending(customer, validation_type="OV")
    apply(customer_client, certificate, **ORGANIZATION)

    services.reject_application(
        certificate=refresh(certificate), reason="The address is wrong.", actor=None
    )

    certificate = refresh(certificate)
    assert certificate.status == Status.CHECK_FAIL
    page = customer_client.get(
        reverse("certificates:apply", args=[certificate.pk])
    ).content.decode()
    assert "The address is wrong." in page
    apply(
        customer_client, certificate, **{**ORGANIZATION, "organization_address": "2 West Lake Road"}
    )
    assert refresh(certificate).status == Status.VALIDATING


def test_ev_certificate_carries_the_ev_subject(customer_client, customer):
    certificate = pending(customer, validation_type="EV")
    apply(
        customer_client,
        certificate,
        **ORGANIZATION,
        business_category="Private Organization",
        jurisdiction_country="CN",
        registration_number="91330100MA27X",
    )
    prove_domain_control(certificate)
    services.approve_application(certificate=refresh(certificate), actor=None)

    leaf = load_certificates(refresh(certificate).certificate_pem)[0]
    assert leaf.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)[0].value == "91330100MA27X"
    policies = leaf.extensions.get_extension_for_class(x509.CertificatePolicies).value
    assert [p.policy_identifier.dotted_string for p in policies] == ["2.23.140.1.1"]


def test_dv_cannot_be_approved_by_an_operator(customer_client, customer):
    certificate = pending(customer)
    apply(customer_client, certificate)
    with pytest.raises(Exception, match="domain validation"):
        services.approve_application(certificate=refresh(certificate), actor=None)
    assert refresh(certificate).status == Status.VALIDATING
    assert not AuditEvent.objects.filter(details__to="issued").exists()


# --- Reissue: a purchase outlasts one certificate -----------------------------------------


def issued_ov(client, customer) -> Certificate:
    certificate = pending(customer, validation_type="OV")
    apply(client, certificate, **ORGANIZATION)
    prove_domain_control(certificate)
    services.approve_application(certificate=refresh(certificate), actor=None)
    return refresh(certificate)


def test_reissue_signs_a_new_certificate_for_the_same_domains_and_key(customer_client, customer):
    certificate = issued_ov(customer_client, customer)
    Certificate.objects.filter(pk=certificate.pk).update(
        not_after=timezone.now() + timedelta(days=10)
    )
    old = refresh(certificate)
    assert old.can_reissue

    customer_client.post(reverse("certificates:reissue", args=[certificate.pk]))

    new = refresh(certificate)
    assert new.serial != old.serial
    assert new.not_after > old.not_after
    assert new.not_after <= new.subscription_ends_at
    assert new.domain_list == old.domain_list
    old_key = load_certificates(old.certificate_pem)[0].public_key()
    assert load_certificates(new.certificate_pem)[0].public_key() == old_key
    event = AuditEvent.objects.get(action="certificate.reissue")
    assert event.details == {"old_serial": old.serial, "serial": new.serial}


def test_reissue_past_the_reuse_period_goes_back_to_validation(customer_client, customer):
    certificate = issued_ov(customer_client, customer)
    Certificate.objects.filter(pk=certificate.pk).update(
        not_after=timezone.now() + timedelta(days=10)
    )
    old = refresh(certificate)
    application = old.application
    stale = (timezone.now() - timedelta(days=reuse_days(timezone.now().date()) + 1)).isoformat()
    application.check_results = {
        domain: {**result, "checked_at": stale}
        for domain, result in application.check_results.items()
    }
    application.save()

    response = customer_client.post(reverse("certificates:reissue", args=[certificate.pk]))

    current = refresh(certificate)
    assert current.status == Status.VALIDATING
    assert current.serial == old.serial  # nothing new was signed; the old one is not revoked
    assert IssuedSerial.objects.filter(serial=old.serial).exists()
    assert current.application.validation_token != application.validation_token
    messages = [str(message) for message in get_messages(response.wsgi_request)]
    assert any("went back to validation" in message for message in messages)
    assert not AuditEvent.objects.filter(action="certificate.reissue").exists()

    prove_domain_control(current)
    services.approve_application(certificate=refresh(certificate), actor=None)
    assert refresh(certificate).status == Status.ISSUED
    assert refresh(certificate).serial != old.serial


def test_reissue_is_refused_when_the_purchase_is_used_up(customer_client, customer):
    certificate = issued_ov(customer_client, customer)
    Certificate.objects.filter(pk=certificate.pk).update(subscription_ends_at=certificate.not_after)

    customer_client.post(reverse("certificates:reissue", args=[certificate.pk]))

    assert refresh(certificate).serial == certificate.serial
    assert not AuditEvent.objects.filter(action="certificate.reissue").exists()


def test_reissue_command_reissues_what_ends_soon(customer_client, customer):
    from io import StringIO

    from django.core.management import call_command

    soon = issued_ov(customer_client, customer)
    later = issued_ov(customer_client, customer)
    Certificate.objects.filter(pk=soon.pk).update(not_after=timezone.now() + timedelta(days=5))

    out = StringIO()
    call_command("reissue_certificates", "--days", "30", stdout=out)

    assert "Reissued 1 certificates" in out.getvalue()
    assert refresh(soon).serial != soon.serial
    assert refresh(later).serial == later.serial


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("organization_name", "<script>alert(1)</script>", 'can\'t contain "<"'),
        ("organization_name", "Example\u202eShop Ltd", 'can\'t contain "U+202E"'),
        ("organization_name", "Shop \U0001f600 Ltd", "can't contain"),
        ("organization_name", "Shop_Ltd", 'can\'t contain "_"'),
        ("organization_name", "- . -", "must contain letters or digits, not only punctuation"),
        ("organization_name", "E" * 65, "at most 64 characters"),
        ("organization_city", "Hang{zhou}", 'can\'t contain "{"'),
        ("organization_city", "H" * 129, "at most 128 characters"),
        ("organization_state", "Zhe\x07jiang", 'can\'t contain "U+0007"'),
        ("organization_address", "1 West Lake Road <b>", 'address can\'t contain "<"'),
    ],
)
def test_ov_subject_fields_take_only_what_x520_allows(
    customer_client, customer, field, value, message
):
    certificate = pending(customer, validation_type="OV")

    response = apply(customer_client, certificate, **{**ORGANIZATION, field: value})

    errors = form_errors(response)
    assert set(errors) == {field}, errors
    assert message in errors[field][0]
    assert refresh(certificate).status == Status.PENDING_APPLICATION


def test_ov_subject_fields_take_names_of_any_script_and_ordinary_punctuation(
    customer_client, customer
):
    certificate = pending(customer, validation_type="OV")
    organization = {
        "organization_name": "杭州示例网络科技有限公司（Example & Co., Ltd.）",
        "organization_state": "Zhejiang",
        "organization_city": "Hangzhou",
        "organization_address": "1 West Lake Road, Bldg. 2/3",
        "organization_country": "cn",
    }

    response = apply(customer_client, certificate, **organization)

    assert response.status_code == 302, form_errors(response)
    assert refresh(certificate).status == Status.VALIDATING
