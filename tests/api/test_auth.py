"""Who may call what: tokens only (never a session), read vs read-write, own objects only."""

import pytest
from django.test import Client
from django.utils import timezone

from api import tokens
from api.models import ApiToken
from certificates.lifecycle import CertificateStatus as Status
from certificates.models import AuditEvent, Certificate
from tests.api.conftest import ApiClient
from tests.factories import make_certificate, make_product
from tests.issuance import issue_real_certificate
from tests.url_walk import changed, snapshot

pytestmark = pytest.mark.django_db

UPLOAD = {"name": "x", "certificate": "x", "key": "x"}


def operations(certificate_id: int, order_id: int) -> list[tuple[str, str, dict | None, bool]]:
    """Every API operation on the customer's objects: method, path, body, whether it writes."""
    c = f"/certificates/{certificate_id}"
    return [
        ("GET", "/counters", None, False),
        ("GET", "/certificates", None, False),
        ("POST", "/certificates", UPLOAD, True),
        ("GET", c, None, False),
        ("DELETE", c, None, True),
        ("PUT", f"{c}/application", {"domains": ["a.example.com"]}, True),
        ("POST", f"{c}/application/withdraw", None, True),
        ("POST", f"{c}/validation", None, True),
        ("POST", f"{c}/reissue", {}, True),
        ("PUT", f"{c}/expiry-warnings", {"enabled": False}, True),
        ("GET", f"{c}/validation", None, False),
        ("GET", f"{c}/bundles/nginx", None, False),
        ("POST", f"{c}/revocation", {"reason": 1}, True),
        ("DELETE", f"{c}/revocation", None, True),
        ("GET", f"{c}/events", None, False),
        ("GET", "/events", None, False),
        ("GET", "/products", None, False),
        (
            "POST",
            "/orders",
            {"brand": "digicert", "validation_type": "DV", "domain_scope": "single"},
            True,
        ),
        ("GET", "/orders", None, False),
        ("GET", f"/orders/{order_id}", None, False),
    ]


def send(api: ApiClient, method: str, path: str, body: dict | None):
    if method == "GET":
        return api.get(path)
    if method == "DELETE":
        return api.delete(path)
    if method == "PUT":
        return api.put(path, body)
    return api.post(path, body)


@pytest.fixture
def world(customer):
    make_product()
    certificate = issue_real_certificate(customer, "DV")
    return certificate


def test_every_operation_without_a_live_token_is_401_and_changes_nothing(world, customer):
    expired, expired_secret = tokens.create_api_token(owner=customer, label="old", scope="write")
    ApiToken.objects.filter(pk=expired.pk).update(expires_at=timezone.now())
    revoked, revoked_secret = tokens.create_api_token(owner=customer, label="gone", scope="write")
    tokens.revoke_api_token(token=revoked, actor=customer)
    callers = [
        ApiClient(None),
        ApiClient("scc_not-a-token"),
        ApiClient(expired_secret),
        ApiClient(revoked_secret),
        ApiClient("x" * 10_000),
    ]
    before = snapshot()
    wrong = []
    for method, path, body in [op[:3] for op in operations(world.pk, world.order_id)]:
        for api in callers:
            response = send(api, method, path, body)
            problem = response.json()
            if response.status_code != 401 or problem["type"] != "/api/v1/problems/unauthorized":
                wrong.append((method, path, response.status_code))
            elif not response["WWW-Authenticate"].startswith("Bearer"):
                wrong.append((method, path, "no WWW-Authenticate"))
    assert not wrong
    assert not changed(before, snapshot())


def test_a_signed_in_session_does_not_authenticate_the_api(world, customer):
    browser = Client()
    browser.force_login(customer)
    for method, path, body, _ in operations(world.pk, world.order_id):
        response = browser.generic(
            method, f"/api/v1{path}", data=b"{}" if body else b"", content_type="application/json"
        )
        assert response.status_code == 401, (method, path)


def test_a_read_token_may_read_and_gets_403_on_every_write(world, read_api):
    before = snapshot()
    for method, path, body, writes in operations(world.pk, world.order_id):
        response = send(read_api, method, path, body)
        if writes:
            assert response.status_code == 403, (method, path)
            assert response.json()["type"] == "/api/v1/problems/insufficient-scope"
        else:
            assert response.status_code == 200, (method, path, response.content[:200])
    # Only the download wrote something: its audit event.
    assert changed(before, snapshot(), frozenset({"certificates.AuditEvent", "api.ApiToken"})) == []


def test_another_customers_objects_are_404_for_every_operation(world, other_api):
    before = snapshot()
    for method, path, body, _ in operations(world.pk, world.order_id):
        if path.count("/") < 2:  # the lists name no object
            continue
        response = send(other_api, method, path, body)
        assert response.status_code == 404, (method, path, response.status_code)
        assert response.json()["type"] == "/api/v1/problems/not-found"
    assert not changed(before, snapshot(), frozenset({"api.ApiToken"}))


def test_a_deleted_certificate_is_404(write_api, customer):
    certificate = make_certificate(customer, status=Status.EXPIRED, days_left=-3)
    write_api.delete(f"/certificates/{certificate.pk}")
    assert write_api.get(f"/certificates/{certificate.pk}").status_code == 404
    assert write_api.delete(f"/certificates/{certificate.pk}").status_code == 404


def test_the_token_owner_acts_whoever_the_session_is(customer, other_customer):
    _, secret = tokens.create_api_token(owner=customer, label="mine", scope="write")
    browser = Client()
    browser.force_login(other_customer)
    certificate = make_certificate(customer, status=Status.EXPIRED, days_left=-3)
    response = browser.delete(
        f"/api/v1/certificates/{certificate.pk}", headers={"Authorization": f"Bearer {secret}"}
    )
    assert response.status_code == 204
    event = AuditEvent.objects.get(action="certificate.delete")
    assert (event.actor, event.details["api_token"]) == (customer, "mine")


def test_a_token_of_an_inactive_user_is_401(customer, read_api):
    customer.is_active = False
    customer.save()
    assert read_api.get("/counters").status_code == 401


def test_the_rate_limit_answers_429_with_retry_after(settings, customer, read_api, write_api):
    settings.API_RATE_LIMIT = 3
    assert [read_api.get("/counters").status_code for _ in range(3)] == [200, 200, 200]
    limited = read_api.get("/counters")
    assert limited.status_code == 429
    assert limited["Content-Type"] == "application/problem+json"
    assert 1 <= int(limited["Retry-After"]) <= 60
    assert limited.json()["type"] == "/api/v1/problems/rate-limited"
    # Per token: another token of the same customer is counted on its own.
    assert write_api.get("/counters").status_code == 200
    assert Certificate.objects.count() == 0


def test_last_used_is_recorded(read_api):
    token = ApiToken.objects.get(label="read-token")
    assert token.last_used_at is None
    read_api.get("/counters")
    token.refresh_from_db()
    assert token.last_used_at is not None
