"""With DEBUG off, every error is the console's own page, and OCSP errors stay OCSP.

Django's bare pages ("Not Found", "Server Error (500)") have no way back and, for
the CSRF failure, an inline style the CSP blocks. The views that raise below are
added by this module's own URLconf, for the tests only.
"""

import logging

import pytest
from cryptography.x509 import ocsp
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.db import DatabaseError
from django.template.loader import render_to_string
from django.test import Client
from django.urls import path, reverse

from certificates import pki_views, selectors, services
from certificates.models import OcspAnswer
from certificates.pki.parsing import load_certificates
from console import urls as project_urls
from tests.factories import make_certificate
from tests.issuance import issue_real_certificate
from tests.test_pki_views import ocsp_request

pytestmark = pytest.mark.django_db

TOP_BAR = "SSL Certificates Console"
BACK = '<a class="btn btn-primary" href="/certificates/">Back to the overview</a>'


@login_not_required
def bad_request(request):
    raise SuspiciousOperation("a test")


@login_not_required
def forbidden(request):
    raise PermissionDenied


@login_not_required
def broken(request):
    raise RuntimeError("a bug")


urlpatterns = [
    *project_urls.urlpatterns,
    path("test-errors/400/", bad_request),
    path("test-errors/403/", forbidden),
    path("test-errors/500/", broken),
]


@pytest.fixture(autouse=True)
def production(settings):
    settings.DEBUG = False
    settings.ROOT_URLCONF = __name__


def page(response, status: int, heading: str) -> str:
    assert response.status_code == status
    assert response["Content-Type"] == "text/html; charset=utf-8"
    text = response.content.decode()
    assert TOP_BAR in text
    assert heading in text
    assert BACK in text
    return text


def test_a_bad_request_is_the_consoles_400_page(client):
    text = page(client.get("/test-errors/400/"), 400, "The request could not be read")
    assert "Bad Request (400)" not in text


def test_an_unknown_host_gets_the_400_page(client):
    page(client.get("/accounts/login/", HTTP_HOST="evil.example"), 400, "could not be read")


def test_a_refused_permission_is_the_consoles_403_page(client):
    page(client.get("/test-errors/403/"), 403, "You may not open this page")


def test_an_unknown_address_is_the_consoles_404_page(client):
    text = page(client.get("/no-such-page/"), 404, "Page not found")
    assert "<h1>Not Found</h1>" not in text


def test_another_customers_certificate_is_a_404_page_with_the_customers_top_bar(
    customer_client, other_customer
):
    theirs = make_certificate(other_customer)
    response = customer_client.get(reverse("certificates:detail", args=[theirs.pk]))
    text = page(response, 404, "Page not found")
    assert "Signed in as </span><strong>alice</strong>" in text


def test_a_csrf_failure_is_the_consoles_403_page_with_the_top_bar(customer):
    client = Client(enforce_csrf_checks=True)
    client.force_login(customer)
    response = client.post(reverse("purchase"), {"pay": ""})
    text = page(response, 403, "The form could not be sent")
    assert "Signed in as" in text


def test_an_unexpected_error_is_the_consoles_500_page(client, caplog):
    client.raise_request_exception = False
    with caplog.at_level(logging.ERROR, logger="django.request"):
        text = page(client.get("/test-errors/500/"), 500, "Something went wrong")
    assert "Server Error (500)" not in text
    assert "a bug" not in text
    # The error is logged with its traceback, for the operators.
    assert any(record.exc_info for record in caplog.records)


def test_the_500_page_renders_without_a_request_and_without_the_database(
    django_assert_num_queries,
):
    with django_assert_num_queries(0):
        text = render_to_string("500.html")
    assert TOP_BAR in text
    assert BACK in text


def test_the_lockout_page_stays_a_consoles_429(client, customer, settings):
    settings.AXES_FAILURE_LIMIT = 2
    for _ in range(2):
        client.post("/accounts/login/", {"username": "alice", "password": "wrong"})
    response = client.post("/accounts/login/", {"username": "alice", "password": "wrong"})
    assert response.status_code == 429
    text = response.content.decode()
    assert TOP_BAR in text
    assert "Too many failed sign-ins." in text


# --- OCSP ---------------------------------------------------------------------------------


@pytest.fixture
def ocsp_url_and_request(customer) -> tuple[str, bytes]:
    certificate = issue_real_certificate(customer)
    leaf, issuer = load_certificates(certificate.certificate_pem + certificate.chain_pem)[:2]
    return f"/pki/{certificate.authority.slug}/ocsp", ocsp_request(leaf, issuer)


def internal_error(response) -> None:
    assert response.status_code == 200
    assert response["Content-Type"] == "application/ocsp-response"
    assert response["Cache-Control"] == "no-store"
    answer = ocsp.load_der_ocsp_response(response.content)
    assert answer.response_status == ocsp.OCSPResponseStatus.INTERNAL_ERROR


def test_an_ocsp_responder_failure_is_an_ocsp_internal_error_and_is_logged(
    client, ocsp_url_and_request, monkeypatch, caplog
):
    url, body = ocsp_url_and_request
    # No answer signed ahead: the responder signs live, and that fails.
    OcspAnswer.objects.all().delete()

    def fails(**kwargs):
        raise RuntimeError("the CA key is unreadable")

    monkeypatch.setattr(services, "answer_ocsp", fails)
    client.raise_request_exception = False

    with caplog.at_level(logging.ERROR, logger="certificates.pki_views"):
        internal_error(client.post(url, body, content_type="application/ocsp-request"))
    (record,) = [r for r in caplog.records if r.name == "certificates.pki_views"]
    assert record.exc_info[1].args == ("the CA key is unreadable",)


def test_a_database_failure_in_ocsp_is_an_internal_error_for_get_too(
    client, ocsp_url_and_request, monkeypatch
):
    url, body = ocsp_url_and_request

    def database_down(*args, **kwargs):
        raise DatabaseError("connection refused")

    # Both lookups: the stored answer's and the CA's for the live answer.
    monkeypatch.setattr(selectors, "stored_ocsp_answer", database_down)
    monkeypatch.setattr(pki_views, "authority_or_404", database_down)
    client.raise_request_exception = False

    internal_error(client.post(url, body, content_type="application/ocsp-request"))
    internal_error(client.get(f"{url}/AAAA"))


def test_an_unknown_ca_stays_a_404(client):
    assert (
        client.post("/pki/nope/ocsp", b"", content_type="application/ocsp-request").status_code
        == 404
    )
