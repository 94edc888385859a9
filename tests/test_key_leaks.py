"""Private keys never leave the console except in the customer's own download zips.

The main flows (upload, issue with a system-generated key, download) run through the
views with every log record kept, down to DEBUG and the SQL; then every response,
every log line and every admin page is searched for the keys.
"""

import io
import logging
import zipfile

import pytest
from cryptography.hazmat.primitives import serialization
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.views.debug import ExceptionReporter

from certificates import key_encryption, services
from certificates.forms import KEY_PLACEHOLDER
from certificates.lifecycle import CertificateStatus as Status
from certificates.models import Application, Certificate, Product
from certificates.pki.bundles import SERVER_TYPES
from tests.factories import make_brand, make_user
from tests.url_walk import ADMIN_MODEL_ROUTE, endpoints

pytestmark = pytest.mark.django_db


def key_fragments(pem: str) -> set[str]:
    """What would betray a key: its base64 body, whole or any full line, in any PEM form."""
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    fragments = set()
    for form in (serialization.PrivateFormat.PKCS8, serialization.PrivateFormat.TraditionalOpenSSL):
        text = key.private_bytes(
            serialization.Encoding.PEM, form, serialization.NoEncryption()
        ).decode()
        body = [line for line in text.splitlines() if line and not line.startswith("-----")]
        fragments.add("".join(body))
        fragments.update(line for line in body if len(line) == 64)
    return fragments


def leaks(text: str, fragments: set[str]) -> list[str]:
    # The key box's placeholder shows the markers of an empty key, as the original does.
    text = text.replace(KEY_PLACEHOLDER, "")
    found = ["PRIVATE KEY"] if "PRIVATE KEY" in text else []
    return found + [fragment[:16] + "..." for fragment in fragments if fragment in text]


class Recorder:
    """A test client that keeps every response it gets."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.responses: list[tuple[str, object]] = []

    def get(self, url: str, **kwargs):
        response = self.client.get(url, **kwargs)
        self.responses.append((f"GET {url}", response))
        return response

    def post(self, url: str, data: dict | None = None, **kwargs):
        response = self.client.post(url, data or {}, **kwargs)
        self.responses.append((f"POST {url}", response))
        return response


@pytest.fixture
def dns(settings, dns_server):
    settings.DV_NAMESERVERS = [dns_server.host]
    settings.DV_DNS_PORT = dns_server.port
    settings.DV_CHECK_TIMEOUT = 1.0
    return dns_server


@pytest.fixture
def all_logs(caplog):
    """Every log record at DEBUG, the SQL included (Django logs it only when asked)."""
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="django")  # Django's own default is INFO
    connection.force_debug_cursor = True
    yield caplog
    connection.force_debug_cursor = False


def log_text(caplog) -> str:
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    return "\n".join(formatter.format(record) for record in caplog.records)


def upload_and_issue(browser: Recorder, ec_leaf, rsa_leaf, intermediate_ca, dns) -> Certificate:
    """Upload (a mistake, then right), buy, apply with a system key, verify, download all."""
    browser.get("/certificates/")
    browser.get("/certificates/upload/")
    bundle = ec_leaf.cert_pem + intermediate_ca.cert_pem
    wrong = browser.post(
        "/certificates/upload/",
        {"name": "shop-ec", "certificate": bundle, "key": rsa_leaf.key_pem},
    )
    assert "does not match" in wrong.content.decode()
    browser.post(
        "/certificates/upload/", {"name": "shop-ec", "certificate": bundle, "key": ec_leaf.key_pem}
    )
    uploaded = Certificate.objects.get(name="shop-ec")
    browser.get(uploaded.get_absolute_url())

    product = Product.objects.create(
        brand=make_brand("GeoTrust"), validation_type="DV", domain_scope="single", price_per_year=99
    )
    services.purchase(customer=uploaded.owner, product=product, domain_count=1, quantity=1, years=1)
    certificate = Certificate.objects.get(status=Status.PENDING_APPLICATION)
    browser.get(reverse("certificates:apply", args=[certificate.pk]))
    browser.post(
        reverse("certificates:apply", args=[certificate.pk]),
        {
            "domains": "shop.example.com",
            "contact_name": "Li Wei",
            "contact_email": "li@example.com",
            "contact_phone": "+86 571 0000 0000",
            "csr_source": "system",
            "key_type": "ecp256",
            "validation_method": "dns",
            "action": "submit",
        },
    )
    dns.set_txt("_dnsauth.shop.example.com", Application.objects.get().validation_token)
    browser.post(reverse("certificates:verify", args=[certificate.pk]), follow=True)
    certificate.refresh_from_db()
    assert certificate.status == Status.ISSUED
    browser.get(certificate.get_absolute_url())
    browser.get("/certificates/?q=shop")
    return certificate


def test_no_response_log_or_admin_page_holds_a_private_key(
    all_logs, dns, ec_leaf, rsa_leaf, intermediate_ca
):
    make_user("alice", password="a-long-password")
    make_user("olga", password="a-long-password", is_staff=True, is_superuser=True)
    customer_client = Client()
    assert (
        customer_client.post(
            "/accounts/login/", {"username": "alice", "password": "a-long-password"}
        ).status_code
        == 302
    )
    browser = Recorder(customer_client)
    certificate = upload_and_issue(browser, ec_leaf, rsa_leaf, intermediate_ca, dns)
    system_key = key_encryption.decrypt_private_key(certificate.private_key_encrypted)
    fragments = key_fragments(ec_leaf.key_pem) | key_fragments(rsa_leaf.key_pem)
    fragments |= key_fragments(system_key)

    downloads = {}
    for server_type in SERVER_TYPES:
        url = reverse("certificates:download", args=[certificate.pk, server_type])
        response = customer_client.get(url)
        assert response.status_code == 200, server_type
        assert response["Cache-Control"] == "no-store", server_type
        downloads[server_type] = zipfile.ZipFile(io.BytesIO(response.content))
    # The zips do hold the key (so the search below looks for the right thing).
    nginx = downloads["nginx"]
    key_file = next(name for name in nginx.namelist() if name.endswith(".key"))
    assert leaks(nginx.read(key_file).decode(), fragments)

    # Operators: every admin page, for every row of every model the admin has.
    operator = Recorder(Client())
    operator.client.post("/admin/login/", {"username": "olga", "password": "a-long-password"})
    for endpoint in endpoints():
        if not endpoint.route.startswith("admin/") or "object_id" in endpoint.parameters:
            continue
        if not endpoint.parameters:
            operator.get(endpoint.url({}))
    from django.apps import apps

    for endpoint in endpoints():
        model_route = ADMIN_MODEL_ROUTE.match(endpoint.route)
        if not (model_route and endpoint.parameters == ("object_id",)):
            continue
        for pk in apps.get_model(*model_route.groups())._base_manager.values_list("pk", flat=True):
            operator.get(endpoint.url({"object_id": str(pk)}), follow=True)
    assert len(operator.responses) > 30

    found = []
    for request, response in browser.responses + operator.responses:
        body = response.content.decode(errors="replace")
        found += [(request, leak) for leak in leaks(body, fragments)]
        # Nor the key as it is stored, encrypted.
        for row in Certificate.objects.exclude(private_key_encrypted=""):
            if row.private_key_encrypted in body:
                found.append((request, "encrypted key"))
    logs = log_text(all_logs)
    assert "INSERT INTO" in logs  # the SQL was logged, and searched
    found += [("logs", leak) for leak in leaks(logs, fragments)]
    assert not found


def test_an_upload_that_fails_does_not_send_the_key_back(customer_client, ec_leaf, rsa_leaf):
    response = customer_client.post(
        "/certificates/upload/",
        {"name": "shop", "certificate": ec_leaf.cert_pem, "key": rsa_leaf.key_pem},
    )
    text = response.content.decode()
    assert "does not match" in text
    assert not leaks(text, {rsa_leaf.key_pem.splitlines()[1]})
    assert "is not shown again: paste or choose it once more" in text
    # What the customer pasted that is not secret stays, so only the key is typed again.
    assert ec_leaf.cert_pem.splitlines()[1] in text


def test_a_server_error_report_hides_the_key(customer_client, monkeypatch, all_logs, ec_leaf):
    def broken(**kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(services, "upload_certificate", broken)
    customer_client.raise_request_exception = False
    response = customer_client.post(
        "/certificates/upload/",
        {"name": "shop", "certificate": ec_leaf.cert_pem, "key": ec_leaf.key_pem},
    )
    assert response.status_code == 500
    assert "PRIVATE KEY" not in response.content.decode()
    record = next(record for record in all_logs.records if record.name == "django.request")
    assert "PRIVATE KEY" not in log_text(all_logs)
    # What an error email to the ADMINS (or the debug page) would show of the request.
    report = ExceptionReporter(record.request, *record.exc_info, is_email=True)
    assert "the database went away" in report.get_traceback_text()
    assert "PRIVATE KEY" not in report.get_traceback_text()
    assert "PRIVATE KEY" not in report.get_traceback_html()


def test_the_converter_shows_a_pfx_key_once_and_never_cached(customer_client, rsa_leaf, rsa_key):
    from cryptography.hazmat.primitives.serialization import pkcs12

    pfx = pkcs12.serialize_key_and_certificates(
        b"shop",
        rsa_key,
        rsa_leaf.cert,
        None,
        serialization.BestAvailableEncryption(b"secret"),
    )
    upload = io.BytesIO(pfx)
    upload.name = "shop.pfx"
    response = customer_client.post("/tools/convert/", {"file": upload, "password": "secret"})
    assert "PRIVATE KEY" in response.content.decode()  # the converter's purpose
    assert "no-store" in response["Cache-Control"]
    prefill = customer_client.post(
        "/certificates/upload/",
        {"prefill": "1", "certificate": rsa_leaf.cert_pem, "key": rsa_leaf.key_pem},
    )
    assert "PRIVATE KEY" in prefill.content.decode()
    assert "no-store" in prefill["Cache-Control"]
