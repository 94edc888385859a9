"""The deployment tests' fixtures (imported by each module that uses them, named in its
__all__): fast deploy settings, an issued certificate, the loopback TLS server and webhook
receiver, a webhook target."""

import pytest

from deployments import services
from deployments.models import Target
from tests.deployments.servers import TLSServer, WebhookReceiver
from tests.issuance import issue_real_certificate

SECRET = "a-shared-secret-of-the-receiver-0123"


@pytest.fixture(autouse=True)
def deploy_settings(settings):
    """Deployments reach the tests' loopback servers, and give up quickly."""
    settings.DEPLOY_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    settings.DEPLOY_WEBHOOK_TIMEOUT = 2.0
    settings.DEPLOY_VERIFY_ATTEMPTS = 3
    settings.DEPLOY_VERIFY_INTERVAL = 0.05
    settings.DEPLOY_VERIFY_TIMEOUT = 1.0
    return settings


@pytest.fixture
def issued(customer):
    """A certificate the console issued, with a key it generated."""
    return issue_real_certificate(customer, "DV", domain="shop.example.com")


@pytest.fixture
def tls_server(tmp_path, rsa_leaf, intermediate_ca):
    """The customer's server, presenting an older certificate until a deployment lands."""
    server = TLSServer(tmp_path, rsa_leaf.cert_pem + intermediate_ca.cert_pem, rsa_leaf.key_pem)
    yield server
    server.stop()


@pytest.fixture
def receiver(tls_server):
    receiver = WebhookReceiver(secret=SECRET, tls=tls_server)
    yield receiver
    receiver.stop()


def make_webhook_target(owner, receiver, tls_server, **fields) -> Target:
    cleaned = {
        "name": fields.pop("name", "shop-web"),
        "kind": Target.Kind.WEBHOOK,
        "redeploy_automatically": fields.pop("redeploy_automatically", False),
        "verify_host": "127.0.0.1",
        "verify_port": tls_server.port,
        "verify_server_name": "shop.example.com",
        "webhook_url": receiver.url,
        "webhook_secret_choice": "paste",
        "webhook_secret": SECRET,
        **fields,
    }
    return services.save_target(owner=owner, target=None, cleaned=cleaned, actor=owner).target


@pytest.fixture
def webhook_target(customer, receiver, tls_server):
    return make_webhook_target(customer, receiver, tls_server)
