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
