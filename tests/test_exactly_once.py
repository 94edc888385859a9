"""Every state-changing POST of the console, sent many times at once, has exactly one effect.

A double click, a retrying proxy or an impatient customer sends the same request
several times in parallel. Each test here fires N identical POSTs from N signed-in
browsers at the same moment and checks that the action happened once and that no
request got a server error: the others get an ordinary answer. PostgreSQL only,
since SQLite lets one writer in at a time and so cannot show a race.
"""

import json
import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID
from django.db import connection, connections
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from certificates import services
from certificates.issuance_policy import reuse_days
from certificates.key_encryption import decrypt_private_key
from certificates.lifecycle import CertificateStatus as Status
from certificates.lifecycle import RevocationStatus
from certificates.models import (
    Application,
    AuditEvent,
    Certificate,
    CompromisedKey,
    CustomerSettings,
    IssuedSerial,
    Order,
    RevocationRequest,
)
from certificates.pki.parsing import load_private_key
from tests.factories import make_certificate, make_product, make_user, operators_group
from tests.issuance import issue_real_certificate, submit_application
from tests.queues import DATABASE_QUEUE

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="races need PostgreSQL's row locks"
    ),
    pytest.mark.django_db(transaction=True),
]

# Parallel requests per action: enough to race, few enough for a two-core machine.
N = 6


def fire(user, url: str, data: dict, n: int = N) -> list[int]:
    """POST `data` to `url` from `n` browsers signed in as `user`, all at once: the statuses."""
    clients = []
    for _ in range(n):
        client = Client(raise_request_exception=False)
        client.force_login(user)
        clients.append(client)
    barrier = threading.Barrier(n)
    statuses: list[int] = []

    def run(client: Client) -> None:
        try:
            barrier.wait()
            statuses.append(client.post(url, data).status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def assert_once(statuses: list[int], effects: Callable[[], int]) -> None:
    assert len(statuses) == N
    assert all(status < 500 for status in statuses), statuses
    assert effects() == 1


def events(action: str, **details) -> Callable[[], int]:
    lookups = {f"details__{key}": value for key, value in details.items()}
    return lambda: AuditEvent.objects.filter(action=action, **lookups).count()


def test_pay_with_one_page_view_makes_one_order(customer):
    product = make_product()
    data = {
        "brand": product.brand.slug,
        "validation_type": "DV",
        "domain_scope": "single",
        "quantity": "1",
        "years": "1",
        "amount_shown": "100.00",
        "idempotency_key": "6f1c5a52-8a35-4a0e-9d1e-2f4f5d7f6b11",
        "pay": "",
    }
    statuses = fire(customer, reverse("purchase"), data)
    assert_once(statuses, lambda: Order.objects.filter(customer=customer).count())
    assert Certificate.objects.filter(owner=customer).count() == 1


def test_upload_of_one_certificate_keeps_one(customer, rsa_leaf, intermediate_ca):
    data = {
        "name": "shop",
        "certificate": rsa_leaf.cert_pem + intermediate_ca.cert_pem,
        "key": rsa_leaf.key_pem,
    }
    statuses = fire(customer, reverse("certificates:upload"), data)
    assert_once(statuses, lambda: Certificate.objects.filter(owner=customer).count())


def test_delete_writes_one_delete(customer):
    certificate = make_certificate(customer, status=Status.EXPIRED, days_left=-3)
    statuses = fire(customer, reverse("certificates:delete", args=[certificate.pk]), {})
    assert_once(statuses, events("certificate.delete"))


def test_turning_expiry_warnings_off_changes_them_once(customer):
    certificate = make_certificate(customer, status=Status.ISSUED)
    url = reverse("certificates:expiry_warnings", args=[certificate.pk])
    statuses = fire(customer, url, {"enabled": ""})
    assert_once(statuses, events("certificate.expiry_warnings", enabled=False))


def test_submitting_an_application_submits_once(customer):
    order_certificate = services.purchase(
        customer=customer, product=make_product(), domain_count=1, quantity=1, years=1
    ).certificates.get()
    data = {
        "domains": "shop.example.com",
        "csr_source": "system",
        "key_type": "ecp256",
        "validation_method": "dns",
        "contact_name": "Li Wei",
        "contact_email": "li@example.com",
        "contact_phone": "+86 571 0000 0000",
        "action": "submit",
    }
    statuses = fire(customer, reverse("certificates:apply", args=[order_certificate.pk]), data)
    assert_once(statuses, events("certificate.status", to=Status.VALIDATING))
    assert Application.objects.filter(certificate=order_certificate).count() == 1


def test_withdrawing_withdraws_once(customer):
    certificate = submit_application(customer, "OV")
    statuses = fire(customer, reverse("certificates:withdraw", args=[certificate.pk]), {})
    assert_once(statuses, events("certificate.status", to=Status.PENDING_APPLICATION))


def test_verify_issues_one_certificate_and_signs_nothing_more(
    customer, settings, dns_server, http_server
):
    settings.DV_NAMESERVERS = [dns_server.host]
    settings.DV_DNS_PORT = dns_server.port
    settings.DV_HTTP_PORT = http_server.port
    settings.DV_CHECK_TIMEOUT = 2.0
    certificate = submit_application(customer, "DV")
    application = Application.objects.get(certificate=certificate)
    Application.objects.filter(pk=application.pk).update(validation_method="dns")
    dns_server.set_txt("_dnsauth.shop.example.com", application.validation_token)

    statuses = fire(customer, reverse("certificates:verify", args=[certificate.pk]), {})

    assert_once(statuses, lambda: IssuedSerial.objects.filter(certificate=certificate).count())
    assert Certificate.objects.get(pk=certificate.pk).status == Status.ISSUED


def test_parallel_verify_clicks_queue_one_check(customer, settings):
    settings.TASKS = DATABASE_QUEUE
    certificate = submit_application(customer, "DV", prove_control=False)

    statuses = fire(customer, reverse("certificates:verify", args=[certificate.pk]), {})

    assert_once(statuses, DBTaskResult.objects.count)
    assert Application.objects.get(certificate=certificate).is_checking


def test_reissue_from_one_page_view_reissues_once(customer):
    certificate = issue_real_certificate(customer, "DV")
    Certificate.objects.filter(pk=certificate.pk).update(
        subscription_ends_at=timezone.now() + timedelta(days=700)
    )
    url = reverse("certificates:reissue", args=[certificate.pk])
    statuses = fire(customer, url, {"serial": certificate.serial})
    assert_once(statuses, events("certificate.reissue"))
    assert IssuedSerial.objects.filter(certificate=certificate).count() == 2


def test_reissue_past_the_reuse_period_goes_back_to_validation_once(customer):
    certificate = issue_real_certificate(customer, "DV")
    Certificate.objects.filter(pk=certificate.pk).update(
        subscription_ends_at=timezone.now() + timedelta(days=700)
    )
    application = Application.objects.get(certificate=certificate)
    stale = (timezone.now() - timedelta(days=reuse_days(timezone.now().date()) + 1)).isoformat()
    Application.objects.filter(pk=application.pk).update(
        check_results={
            domain: {**result, "checked_at": stale}
            for domain, result in application.check_results.items()
        }
    )
    url = reverse("certificates:reissue", args=[certificate.pk])

    statuses = fire(customer, url, {"serial": certificate.serial})

    assert_once(statuses, events("certificate.status", to="validating", **{"from": "issued"}))
    assert IssuedSerial.objects.filter(certificate=certificate).count() == 1


def test_revoke_makes_one_request(customer):
    certificate = issue_real_certificate(customer, "DV")
    statuses = fire(
        customer, reverse("certificates:revoke", args=[certificate.pk]), {"reason": "4", "ok": "1"}
    )
    assert_once(statuses, lambda: RevocationRequest.objects.count())


def test_cancelling_a_revocation_cancels_once(customer):
    certificate = issue_real_certificate(customer, "OV")
    services.request_revocation(certificate=certificate, reason=4, actor=customer)
    url = reverse("certificates:cancel_revocation", args=[certificate.pk])
    statuses = fire(customer, url, {})
    assert_once(statuses, events("revocationrequest.status", to=RevocationStatus.CANCELLED))


def test_the_emailed_link_confirms_once(customer):
    certificate = issue_real_certificate(customer, "OV")
    revocation = services.request_revocation(certificate=certificate, reason=4, actor=customer)
    token = services.revocation_confirmation_token(revocation)
    statuses = fire(customer, reverse("confirm_revocation", args=[token]), {})
    assert_once(statuses, events("revocationrequest.status", to=RevocationStatus.PENDING))


@pytest.fixture
def operator_user(db):
    user = make_user("olga", is_staff=True)
    user.groups.add(operators_group())
    return user


def test_approving_in_the_admin_issues_once(customer, operator_user):
    certificate = submit_application(customer, "OV")
    application = Application.objects.get(certificate=certificate)
    data = {"action": "approve", "_selected_action": [application.pk]}
    statuses = fire(operator_user, reverse("admin:certificates_application_changelist"), data)
    assert_once(statuses, lambda: IssuedSerial.objects.filter(certificate=certificate).count())


def test_completing_a_revocation_in_the_admin_revokes_once(customer, operator_user):
    certificate = issue_real_certificate(customer, "DV")
    revocation = services.request_revocation(certificate=certificate, reason=4, actor=customer)
    data = {"action": "complete", "_selected_action": [revocation.pk]}
    url = reverse("admin:certificates_revocationrequest_changelist")
    statuses = fire(operator_user, url, data)
    assert_once(statuses, events("certificate.status", to=Status.REVOKED))


def test_saving_the_profile_in_parallel_changes_and_audits_it_once():
    customer = make_user("alice")
    statuses = fire(
        customer,
        reverse("profile"),
        {"first_name": "Alice", "email": "alice@example.org", "expiry_warnings_default": ""},
    )
    assert_once(statuses, events("account.profile"))
    customer.refresh_from_db()
    assert (customer.first_name, customer.email) == ("Alice", "alice@example.org")
    settings = CustomerSettings.objects.get(customer=customer)  # one row, not one per request
    assert settings.expiry_warnings_default is False


def test_switching_the_language_in_parallel_changes_and_audits_it_once():
    customer = make_user("alice")
    statuses = fire(customer, reverse("set_language"), {"language": "zh-hans", "next": "/"})
    assert_once(statuses, events("account.profile"))
    assert CustomerSettings.objects.get(customer=customer).language == "zh-hans"


def test_revoking_for_key_compromise_revokes_once(customer):
    certificate = issue_real_certificate(customer, "DV")
    url = reverse("certificates:revoke", args=[certificate.pk])
    statuses = fire(customer, url, {"reason": "1", "ok": "1"})
    assert_once(statuses, events("certificate.status", to=Status.REVOKED))
    assert RevocationRequest.objects.get().status == RevocationStatus.COMPLETED
    assert CompromisedKey.objects.count() == 1


def test_a_key_compromise_report_revokes_once(customer):
    certificate = issue_real_certificate(customer, "DV")
    key = load_private_key(decrypt_private_key(certificate.private_key_encrypted))
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, services.new_challenge())])
    request = x509.CertificateSigningRequestBuilder().subject_name(subject).sign(key, SHA256())
    data = {"csr": request.public_bytes(Encoding.PEM).decode()}
    statuses = fire(customer, reverse("key_compromise"), data)
    assert_once(statuses, events("certificate.status", to=Status.REVOKED))
    assert RevocationRequest.objects.get().status == RevocationStatus.COMPLETED
    assert CompromisedKey.objects.count() == 1


# --- The JSON API: the same actions through a token, N at once ---------------------------


def fire_api(user, method: str, path: str, body: dict | None = None, headers=None) -> list[int]:
    """Send the same API request `N` times at once with one read-write token of `user`."""
    from api import tokens

    _, secret = tokens.create_api_token(owner=user, label=f"race-{path}"[:64], scope="write")
    barrier = threading.Barrier(N)
    statuses: list[int] = []

    def run() -> None:
        client = Client(raise_request_exception=False)
        try:
            barrier.wait()
            response = client.generic(
                method,
                f"/api/v1{path}",
                data=json.dumps(body) if body is not None else "",
                content_type="application/json",
                headers={"Authorization": f"Bearer {secret}", **(headers or {})},
            )
            statuses.append(response.status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(N)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


@pytest.fixture
def api_settings(settings):
    settings.API_RATE_LIMIT = 1000
    return settings


def test_api_purchase_with_one_idempotency_key_makes_one_order(customer, api_settings):
    make_product()
    body = {"brand": "digicert", "validation_type": "DV", "domain_scope": "single"}
    statuses = fire_api(customer, "POST", "/orders", body, {"Idempotency-Key": "deploy-7"})
    assert_once(statuses, lambda: Order.objects.filter(customer=customer).count())
    assert sorted(statuses) == [200] * (N - 1) + [201]
    assert Certificate.objects.filter(owner=customer).count() == 1


def test_api_upload_of_one_certificate_keeps_one(customer, rsa_leaf, intermediate_ca, api_settings):
    body = {
        "name": "shop",
        "certificate": rsa_leaf.cert_pem + intermediate_ca.cert_pem,
        "key": rsa_leaf.key_pem,
    }
    statuses = fire_api(customer, "POST", "/certificates", body)
    assert_once(statuses, lambda: Certificate.objects.filter(owner=customer).count())


def test_api_delete_writes_one_delete(customer, api_settings):
    certificate = make_certificate(customer, status=Status.EXPIRED, days_left=-3)
    statuses = fire_api(customer, "DELETE", f"/certificates/{certificate.pk}")
    assert_once(statuses, events("certificate.delete"))


def test_api_revoke_makes_one_request(customer, api_settings):
    certificate = issue_real_certificate(customer, "DV")
    statuses = fire_api(
        customer, "POST", f"/certificates/{certificate.pk}/revocation", {"reason": 4}
    )
    assert_once(statuses, lambda: RevocationRequest.objects.count())


def test_revoking_an_api_token_revokes_it_once(customer):
    from api import tokens

    token, _ = tokens.create_api_token(owner=customer, label="ci", scope="read")
    statuses = fire(customer, reverse("revoke_api_token", args=[token.pk]), {})
    assert_once(statuses, events("api_token.revoke"))
