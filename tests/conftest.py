import pytest

from tests.factories import make_user

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
