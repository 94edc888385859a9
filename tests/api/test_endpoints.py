"""Each API operation's success and refusals, through the same services as the console."""

import io
import zipfile
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail

from api.models import ApiToken
from certificates.lifecycle import CertificateStatus as Status
from certificates.lifecycle import RevocationStatus
from certificates.models import Application, AuditEvent, Certificate, Order, RevocationRequest
from tests.factories import make_brand, make_certificate, make_certificates, make_product
from tests.issuance import issue_real_certificate, submit_application
from tests.queues import DATABASE_QUEUE, run_queued_checks

pytestmark = pytest.mark.django_db

PURCHASE = {"brand": "digicert", "validation_type": "DV", "domain_scope": "single"}
CONTACT = {
    "contact_name": "Li Wei",
    "contact_email": "li@example.com",
    "contact_phone": "+86 571 0000 0000",
}


def problem_of(response) -> dict:
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == response.status_code
    return body


def fields_of(response) -> dict[str | None, str]:
    body = problem_of(response)
    assert body["type"] == "/api/v1/problems/invalid-input"
    return {error["field"]: error["message"] for error in body["errors"]}


# --- The whole journey: buy, apply, validate, download, revoke --------------------------


def test_buy_apply_verify_download_and_revoke_a_dv_certificate(
    write_api, customer, dns_server, dv_settings
):
    make_product()
    paid = write_api.post("/orders", PURCHASE, headers={"Idempotency-Key": "order-1"})
    assert paid.status_code == 201
    (certificate_id,) = paid.json()["certificates"]
    assert paid.json()["amount"] == "100.00"

    applied = write_api.put(
        f"/certificates/{certificate_id}/application",
        {
            "domains": ["shop.example.com"],
            "key_type": "ecp256",
            "validation_method": "dns",
            **CONTACT,
        },
    )
    assert applied.status_code == 200, applied.json()
    validation = applied.json()["validation"]
    assert applied.json()["status"] == Status.VALIDATING
    assert validation["rows"][0]["record"] == "_dnsauth.shop.example.com"

    dns_server.set_txt("_dnsauth.shop.example.com", validation["token"])
    verified = write_api.post(f"/certificates/{certificate_id}/validation")
    assert verified.status_code == 202
    assert verified.json()["status"] == Status.ISSUED
    assert verified.json()["checking"] is False
    assert write_api.get(f"/certificates/{certificate_id}/validation").json()["rows"][0]["result"]

    bundle = write_api.get(f"/certificates/{certificate_id}/bundles/nginx")
    assert bundle.status_code == 200
    assert bundle["Content-Type"] == "application/zip"
    assert bundle["Cache-Control"] == "no-store"
    names = zipfile.ZipFile(io.BytesIO(bundle.content)).namelist()
    assert any(name.endswith(".pem") for name in names)
    assert any(name.endswith(".key") for name in names)

    revoked = write_api.post(f"/certificates/{certificate_id}/revocation", {"reason": 4})
    assert revoked.status_code == 201
    assert revoked.json()["status"] == RevocationStatus.PENDING
    assert revoked.json()["due_date"]
    assert Certificate.objects.get(pk=certificate_id).status == Status.REVOKING


# --- Counters and the list --------------------------------------------------------------


def test_counters_are_the_overviews(read_api, customer, other_customer):
    make_certificates(customer, 2, status=Status.ISSUED, days_left=10)
    make_certificate(customer, status=Status.ISSUED, days_left=100)
    make_certificate(customer, status=Status.CHECK_FAIL, days_left=None)
    make_certificate(other_customer, status=Status.ISSUED)
    assert read_api.get("/counters").json() == {
        "total": 4,
        "issued": 3,
        "pending_application": 0,
        "will_expire": 2,
        "check_fail": 1,
        "expired": 0,
    }


def test_the_list_filters_like_the_overview(read_api, customer, other_customer):
    soon = make_certificate(customer, status=Status.ISSUED, days_left=10, domain="soon.example.com")
    make_certificate(customer, status=Status.ISSUED, days_left=100, domain="later.example.com")
    make_certificate(other_customer, status=Status.ISSUED, days_left=10)
    geotrust = make_certificate(customer, brand=make_brand("GeoTrust"), domain="geo.example.com")

    def ids(query: str) -> list[int]:
        response = read_api.get(f"/certificates?{query}")
        assert response.status_code == 200
        return [item["id"] for item in response.json()["items"]]

    assert ids("status=will_expire") == [soon.pk]
    assert ids("brand=geotrust") == [geotrust.pk]
    assert ids("q=soon.example") == [soon.pk]
    assert len(ids("")) == 3


def test_an_ended_certificate_is_listed_as_expired(read_api, customer):
    make_certificate(customer, status=Status.ISSUED, days_left=-2)
    (item,) = read_api.get("/certificates").json()["items"]
    assert item["status"] == Status.EXPIRED
    assert read_api.get("/certificates?status=expired").json()["items"] == [item]


def test_the_list_pages_by_cursor_with_a_link_header(read_api, customer):
    made = make_certificates(customer, 5)
    newest_first = sorted(made, key=lambda c: (c.created_at, c.pk), reverse=True)
    first = read_api.get("/certificates?limit=2&status=issued")
    assert [item["id"] for item in first.json()["items"]] == [c.pk for c in newest_first[:2]]
    link = first["Link"]
    assert link.endswith('>; rel="next"') and "status=issued" in link
    next_url = link[1 : link.index(">")].removeprefix("http://testserver/api/v1")
    second = read_api.get(next_url)
    third = read_api.get(
        f"/certificates?limit=2&status=issued&cursor={second.json()['next_cursor']}"
    )
    seen = [item["id"] for page in (first, second, third) for item in page.json()["items"]]
    assert seen == [c.pk for c in newest_first]
    assert third.json()["next_cursor"] is None
    assert "Link" not in third


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=nonsense", "status"),
        ("brand=nobrand", "brand"),
        ("cursor=garbage", "cursor"),
        ("limit=0", "limit"),
        ("limit=1000", "limit"),
        ("limit=many", "limit"),
    ],
)
def test_bad_list_parameters_are_refused_on_their_field(read_api, customer, query, field):
    response = read_api.get(f"/certificates?{query}")
    assert response.status_code == 422
    assert field in fields_of(response)


def test_the_list_costs_the_same_queries_at_any_size(
    read_api, customer, django_assert_max_num_queries
):
    make_certificates(customer, 3)
    read_api.get("/certificates")  # the token's first use writes last_used_at once
    with django_assert_max_num_queries(3) as few:
        read_api.get("/certificates")
    make_certificates(customer, 60)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(read_api.get("/certificates?limit=50").json()["items"]) == 50


# --- Details ----------------------------------------------------------------------------


def test_details_read_the_certificate_and_never_a_key(read_api, customer):
    certificate = issue_real_certificate(customer, "DV")
    response = read_api.get(f"/certificates/{certificate.pk}")
    body = response.json()
    assert body["serial"] == certificate.serial
    assert body["subject"] == "CN=shop.example.com"
    assert body["chain"] and body["can_download"] is True
    assert b"PRIVATE KEY" not in response.content
    assert "private_key" not in response.content.decode()


def test_details_after_a_revocation_request_show_only_what_identifies_it(write_api, customer):
    certificate = issue_real_certificate(customer, "DV")
    write_api.post(f"/certificates/{certificate.pk}/revocation", {"reason": 0})
    body = write_api.get(f"/certificates/{certificate.pk}").json()
    assert body["subject"] is None and body["chain"] == []
    assert body["revocation"]["status"] == RevocationStatus.PENDING
    assert body["can_download"] is False


# --- Upload -----------------------------------------------------------------------------


def test_upload_keeps_the_certificate_read_from_itself(
    write_api, customer, rsa_leaf, intermediate_ca
):
    response = write_api.post(
        "/certificates",
        {
            "name": "shop",
            "certificate": rsa_leaf.cert_pem + intermediate_ca.cert_pem,
            "key": rsa_leaf.key_pem,
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["source"] == "uploaded" and body["status"] == Status.ISSUED
    assert body["fingerprint_sha256"]
    assert b"PRIVATE KEY" not in response.content
    stored = Certificate.objects.get(pk=body["id"])
    assert stored.private_key_encrypted and "PRIVATE KEY" not in stored.private_key_encrypted
    event = AuditEvent.objects.get(action="certificate.upload")
    assert event.details["api_token"] == "ci-deploy"
    assert event.actor == customer


def test_upload_refusals_are_the_dialogs_on_their_fields(
    write_api, customer, rsa_leaf, ec_leaf, intermediate_ca
):
    bad = write_api.post(
        "/certificates", {"name": "no spaces!", "certificate": "not a pem", "key": ""}
    )
    assert bad.status_code == 422
    fields = fields_of(bad)
    assert fields["name"] == "Use only letters, digits, underscores (_) and hyphens (-)."
    assert set(fields) == {"name", "certificate", "key"}

    mismatch = write_api.post(
        "/certificates",
        {"name": "shop", "certificate": rsa_leaf.cert_pem, "key": ec_leaf.key_pem},
    )
    assert set(fields_of(mismatch)) == {"key"}
    assert not Certificate.objects.exists()


def test_upload_without_a_field_names_it(write_api):
    response = write_api.post("/certificates", {"name": "shop"})
    assert response.status_code == 422
    assert set(fields_of(response)) == {"certificate", "key"}


# --- Apply ------------------------------------------------------------------------------


def bought(api) -> int:
    make_product()
    return api.post("/orders", PURCHASE).json()["certificates"][0]


def test_apply_with_a_manual_csr_keeps_no_key(write_api, customer, rsa_key):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509.oid import NameOID

    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "shop.example.com")]))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("shop.example.com")]), False)
        .sign(rsa_key, hashes.SHA256())
        .public_bytes(serialization.Encoding.PEM)
        .decode()
    )
    certificate_id = bought(write_api)
    response = write_api.put(
        f"/certificates/{certificate_id}/application",
        {
            "domains": ["shop.example.com"],
            "csr_source": "manual",
            "csr_pem": csr,
            "validation_method": "dns",
            **CONTACT,
        },
    )
    assert response.status_code == 200, response.json()
    assert Certificate.objects.get(pk=certificate_id).private_key_encrypted == ""
    assert Application.objects.get().csr_pem.strip() == csr.strip()


def test_apply_refusals_are_the_forms_on_their_fields(write_api):
    certificate_id = bought(write_api)
    response = write_api.put(
        f"/certificates/{certificate_id}/application",
        {"domains": ["shop.example.com", "www.example.com"], "csr_source": "system"},
    )
    fields = fields_of(response)
    assert "enter exactly 1, you entered 2" in fields["domains"]
    assert fields["contact_email"] == "This is needed to submit the application."
    assert fields["key_type"] == "Choose the key algorithm."
    assert Certificate.objects.get(pk=certificate_id).status == Status.PENDING_APPLICATION


def test_a_draft_is_kept_without_submitting(write_api):
    certificate_id = bought(write_api)
    response = write_api.put(
        f"/certificates/{certificate_id}/application",
        {"domains": ["shop.example.com"], "submit": False},
    )
    assert response.status_code == 200
    assert response.json()["status"] == Status.PENDING_APPLICATION
    assert Application.objects.get().domains == "shop.example.com"


def test_apply_on_an_issued_certificate_is_not_allowed(write_api, customer):
    certificate = make_certificate(customer)
    response = write_api.put(
        f"/certificates/{certificate.pk}/application", {"domains": ["a.example.com"]}
    )
    assert response.status_code == 409
    assert problem_of(response)["detail"] == "This certificate is not waiting for an application."


def test_withdraw_returns_the_application_to_pending(write_api, customer):
    certificate_id = bought(write_api)
    write_api.put(
        f"/certificates/{certificate_id}/application",
        {
            "domains": ["shop.example.com"],
            "key_type": "ecp256",
            "validation_method": "dns",
            **CONTACT,
        },
    )
    response = write_api.post(f"/certificates/{certificate_id}/application/withdraw")
    assert response.json()["status"] == Status.PENDING_APPLICATION
    again = write_api.post(f"/certificates/{certificate_id}/application/withdraw")
    assert again.status_code == 409


def test_verify_answers_accepted_while_the_worker_checks(
    write_api, customer, settings, dns_server, dv_settings
):
    settings.TASKS = DATABASE_QUEUE
    certificate = submit_application(customer, "DV", prove_control=False)
    Application.objects.filter(certificate=certificate).update(validation_method="dns")
    dns_server.set_txt("_dnsauth.shop.example.com", certificate.application.validation_token)
    url = f"/certificates/{certificate.pk}/validation"

    accepted = write_api.post(url)

    assert accepted.status_code == 202
    assert accepted.json()["checking"] is True
    assert write_api.get(url).json()["checking"] is True
    run_queued_checks()
    assert write_api.get(url).json()["checking"] is False
    assert write_api.get(url).json()["status"] == Status.ISSUED


def test_verify_of_a_certificate_not_in_validation_is_not_allowed(write_api, customer):
    certificate = make_certificate(customer)
    response = write_api.post(f"/certificates/{certificate.pk}/validation")
    assert problem_of(response)["type"] == "/api/v1/problems/not-allowed"
    assert write_api.get(f"/certificates/{certificate.pk}/validation").status_code == 404


# --- Download ---------------------------------------------------------------------------


def test_an_uploaded_certificate_is_not_downloaded(write_api, customer):
    certificate = make_certificate(customer, source="uploaded", name="up")
    response = write_api.get(f"/certificates/{certificate.pk}/bundles/nginx")
    assert response.status_code == 409
    assert problem_of(response)["detail"] == "This certificate cannot be downloaded."
    assert not AuditEvent.objects.filter(action="certificate.download").exists()


def test_a_download_is_audited_with_the_token(read_api, customer):
    certificate = issue_real_certificate(customer, "DV")
    response = read_api.get(f"/certificates/{certificate.pk}/bundles/apache")
    assert response.status_code == 200
    event = AuditEvent.objects.get(action="certificate.download")
    assert event.details == {"server_type": "apache", "api_token": "read-token"}


def test_an_unknown_server_type_is_404(read_api, customer):
    certificate = issue_real_certificate(customer, "DV")
    assert (
        problem_of(read_api.get(f"/certificates/{certificate.pk}/bundles/lighttpd"))["status"]
        == 404
    )


def test_reissue_signs_again_once_for_the_serial_read(write_api, customer):
    certificate = issue_real_certificate(customer, "DV")
    Certificate.objects.filter(pk=certificate.pk).update(
        subscription_ends_at=certificate.not_after + timedelta(days=100)
    )
    body = {"serial": certificate.serial}
    response = write_api.post(f"/certificates/{certificate.pk}/reissue", body)
    assert response.status_code == 200, response.json()
    assert response.json()["serial"] != certificate.serial
    again = write_api.post(f"/certificates/{certificate.pk}/reissue", body)
    assert problem_of(again)["detail"] == (
        "This certificate was reissued meanwhile; the details page shows the new one."
    )


def test_expiry_warnings_turn_off_and_on(write_api, customer):
    certificate = make_certificate(customer)
    url = f"/certificates/{certificate.pk}/expiry-warnings"
    assert write_api.put(url, {"enabled": False}).json()["expiry_warnings_enabled"] is False
    assert Certificate.objects.get(pk=certificate.pk).expiry_warnings_enabled is False
    pending = make_certificate(customer, status=Status.PENDING_APPLICATION, days_left=None)
    refused = write_api.put(f"/certificates/{pending.pk}/expiry-warnings", {"enabled": False})
    assert refused.status_code == 409


# --- Revoke and delete ------------------------------------------------------------------


def test_revoking_ov_waits_for_the_emailed_confirmation(write_api, customer):
    certificate = issue_real_certificate(customer, "OV", contact_email="li@example.com")
    response = write_api.post(f"/certificates/{certificate.pk}/revocation", {"reason": 1})
    assert response.status_code == 201
    assert response.json()["status"] == RevocationStatus.AWAITING_CONFIRMATION
    assert response.json()["confirmation_email"] == "li@example.com"
    assert [message.to for message in mail.outbox] == [["li@example.com"]]
    cancelled = write_api.delete(f"/certificates/{certificate.pk}/revocation")
    assert cancelled.status_code == 204
    assert Certificate.objects.get(pk=certificate.pk).status == Status.ISSUED


def test_revoke_refusals(write_api, customer):
    uploaded = make_certificate(customer, source="uploaded", name="up")
    response = write_api.post(f"/certificates/{uploaded.pk}/revocation", {"reason": 1})
    assert response.status_code == 409
    assert "Uploaded certificates can't be revoked" in problem_of(response)["detail"]
    issued = issue_real_certificate(customer, "DV")
    wrong_reason = write_api.post(f"/certificates/{issued.pk}/revocation", {"reason": 6})
    assert fields_of(wrong_reason) == {None: "Choose one of the offered reasons."}
    missing = write_api.post(f"/certificates/{issued.pk}/revocation", {})
    assert "reason" in fields_of(missing)
    assert not RevocationRequest.objects.exists()


def test_delete_removes_what_may_go_and_refuses_the_rest(write_api, customer):
    expired = make_certificate(customer, status=Status.EXPIRED, days_left=-3)
    assert write_api.delete(f"/certificates/{expired.pk}").status_code == 204
    assert write_api.get(f"/certificates/{expired.pk}").status_code == 404
    issued = make_certificate(customer)
    refused = write_api.delete(f"/certificates/{issued.pk}")
    assert refused.status_code == 409
    assert problem_of(refused)["detail"] == (
        "This certificate is issued and still valid: revoke it first, then delete it."
    )


# --- Products, orders, events -----------------------------------------------------------


def test_products_list_what_is_on_sale_with_prices(read_api):
    on_sale = make_product()
    withdrawn = make_product(validation_type="OV")
    withdrawn.is_active = False
    withdrawn.save()
    assert read_api.get("/products").json() == [
        {
            "id": on_sale.pk,
            "brand": "digicert",
            "brand_name": "DigiCert",
            "validation_type": "DV",
            "domain_scope": "single",
            "price_per_year": "100.00",
            "price_per_extra_domain": "0.00",
        }
    ]


def test_purchase_refusals_are_the_purchase_pages(write_api):
    make_product()
    response = write_api.post(
        "/orders", {**PURCHASE, "validation_type": "OV", "quantity": 500, "years": 3}
    )
    fields = fields_of(response)
    assert fields["validation_type"] == "DigiCert does not sell OV certificates."
    assert fields["quantity"] == "Buy 1 to 100 certificates at a time."
    assert fields["years"] == "A certificate is bought for 1 or 2 years, never more."
    assert fields_of(write_api.post("/orders", {**PURCHASE, "quantity": "x"})) == {
        "quantity": "Input should be a valid integer, unable to parse string as an integer"
    }
    assert not Order.objects.exists()


def test_a_repeated_idempotency_key_returns_the_same_order(write_api, customer):
    make_product()
    first = write_api.post("/orders", PURCHASE, headers={"Idempotency-Key": "run-42"})
    again = write_api.post("/orders", PURCHASE, headers={"Idempotency-Key": "run-42"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json() == again.json()
    other = write_api.post(
        "/orders", {**PURCHASE, "quantity": 2}, headers={"Idempotency-Key": "run-42"}
    )
    assert other.status_code == 409
    assert Order.objects.count() == 1
    assert write_api.post("/orders", PURCHASE).status_code == 201
    assert Order.objects.count() == 2


def test_orders_show_their_certificates_and_refunds(write_api, customer, operator):
    from certificates import services

    certificate = issue_real_certificate(customer, "DV", amount=Decimal("300.00"))
    write_api.post(f"/certificates/{certificate.pk}/revocation", {"reason": 4})
    services.complete_revocation(revocation=RevocationRequest.objects.get(), actor=operator)
    (order,) = write_api.get("/orders").json()["items"]
    assert order["certificates"] == [certificate.pk]
    assert order["refund_amount"] == "300.00"
    assert order["refunds"][0]["certificate"] == certificate.pk
    assert write_api.get(f"/orders/{order['id']}").json() == order


def test_events_are_those_of_the_customers_certificates(write_api, customer, other_customer):
    mine = make_certificate(customer, status=Status.EXPIRED, days_left=-3)
    theirs = make_certificate(other_customer, status=Status.EXPIRED, days_left=-3)
    from certificates import services

    services.delete_certificate(certificate=theirs, actor=other_customer)
    write_api.delete(f"/certificates/{mine.pk}")
    (event,) = write_api.get("/events").json()["items"]
    assert event["object_id"] == str(mine.pk)
    assert event["action"] == "certificate.delete"
    assert event["actor"] == customer.username
    assert event["details"]["api_token"] == "ci-deploy"
    certificate = issue_real_certificate(customer, "DV")
    actions = [
        e["action"] for e in write_api.get(f"/certificates/{certificate.pk}/events").json()["items"]
    ]
    assert "certificate.status" in actions


def test_problem_types_describe_themselves(anonymous_api):
    body = anonymous_api.get("/problems/not-allowed").json()
    assert body["status"] == 409 and body["type"] == "/api/v1/problems/not-allowed"
    assert anonymous_api.get("/problems/nothing").status_code == 404


def test_no_token_row_holds_the_token(write_api):
    token = ApiToken.objects.get(label="ci-deploy")
    secret = write_api.headers["Authorization"].removeprefix("Bearer ")
    stored = [str(value) for value in ApiToken.objects.values_list().get(pk=token.pk)]
    assert not any(secret in value or secret[4:] in value for value in stored)
