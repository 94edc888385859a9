import pytest

from tests.factories import make_user
from tests.queues import IMMEDIATE_TASKS

# Certificates and keys made with cryptography, shared by the PKI core and the views' tests.
pytest_plugins = ["tests.pki_material", "tests.dns_server", "tests.http_server"]


@pytest.fixture
def customer(db):
    return make_user("alice")


@pytest.fixture
def other_customer(db):
    return make_user("bob")


@pytest.fixture
def customer_client(client, customer):
    client.force_login(customer)
    return client


@pytest.fixture(autouse=True)
def _tasks_run_when_queued(settings):
    """Queued work (Verify, ACME validation) runs at once, in the request's thread, through
    the Tasks API's immediate backend: the same task a worker runs. Tests of the queue itself
    and of real workers select DATABASE_QUEUE."""
    settings.TASKS = IMMEDIATE_TASKS


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def operator(db):
    """Staff in the Operators group (made by a migration), as seed_demo's operator is."""
    from django.contrib.auth.models import Group

    user = make_user("olga", is_staff=True)
    user.groups.add(Group.objects.get(name="Operators"))
    return user


@pytest.fixture
def operator_client(operator):
    """A browser of the operator's own, beside the customer's `client`."""
    from django.test import Client

    client = Client()
    client.force_login(operator)
    return client


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """Rate limits count in the cache: each test starts with none used. (The default cache
    is each process's memory in tests; a test that points it at Redis cleans up itself.)"""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the default language: a request leaves its language active on
    the thread (in production the next request's middleware sets its own)."""
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture
def dv_settings(settings, dns_server, http_server):
    """Domain checks against the loopback DNS and HTTP servers, quickly."""
    settings.DV_NAMESERVERS = [dns_server.host]
    settings.DV_DNS_PORT = dns_server.port
    settings.DV_HTTP_PORT = http_server.port
    settings.DV_CHECK_TIMEOUT = 1.0
    # The test servers listen on loopback, which the file check refuses unless allowed.
    settings.DV_ALLOWED_NETWORKS = ["127.0.0.0/8", "::1/128"]
    return settings


@pytest.fixture(autouse=True)
def _loopback_dns(settings, shared_dns_server):
    """Every test resolves through a loopback DNS server (CAA at issuance, domain checks):
    no record unless the test publishes one. Tests with their own `dns_server` point the
    settings at it instead."""
    settings.DV_NAMESERVERS = [shared_dns_server.host]
    settings.DV_DNS_PORT = shared_dns_server.port
    settings.DV_CHECK_TIMEOUT = 2.0
    yield shared_dns_server
    shared_dns_server.clear()
