"""The console's ACME page: credentials shown once, revoked, accounts deactivated."""

import json
import re
from io import StringIO

import josepy as jose
import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from acme_server.models import AcmeAccount, AcmeCredential
from acme_server.services import accounts
from tests.acme_server.support import acme_brand

__all__ = ["acme_brand"]

pytestmark = pytest.mark.django_db

PAGE = "/acme-credentials/"


def test_a_new_credential_shows_its_hmac_key_once_and_keeps_it_encrypted(customer_client, customer):
    response = customer_client.post(PAGE, {"label": "web-1"})

    assert response.status_code == 200
    page = response.content.decode()
    hmac_key = re.search(r'id="shown-hmac" value="([^"]+)"', page).group(1)
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", hmac_key)  # 32 bytes, base64url, no padding
    assert "no-store" in response["Cache-Control"]
    credential = AcmeCredential.objects.get(owner=customer)
    assert credential.label == "web-1"
    assert re.fullmatch(r"[A-Za-z0-9_-]+", credential.kid)
    assert hmac_key not in credential.hmac_key_encrypted
    again = customer_client.get(PAGE).content.decode()
    assert credential.kid in again
    assert hmac_key not in again


def test_the_page_shows_the_directory_url_and_client_setup(customer_client, settings):
    settings.CONSOLE_BASE_URL = "https://certs.example.com"

    page = customer_client.get(PAGE).content.decode()

    assert "https://certs.example.com/acme/directory" in page
    for client in (
        "certbot register",
        "acme.sh --register-account",
        "lego --server",
        "ClusterIssuer",
    ):
        assert client in page


def test_an_expiry_in_the_past_is_refused_on_its_field(customer_client, customer):
    response = customer_client.post(PAGE, {"label": "old", "expires_on": "2020-01-01"})

    assert "Choose a day after today." in response.content.decode()
    assert not AcmeCredential.objects.filter(owner=customer).exists()


def test_revoking_a_credential_stops_new_bindings(customer_client, customer):
    credential, _ = accounts.create_credential(owner=customer, label="ci")

    response = customer_client.post(reverse("acme_revoke_credential", args=[credential.pk]))

    assert response.status_code == 302
    credential.refresh_from_db()
    assert credential.revoked_at is not None
    assert not AcmeCredential.objects.usable().filter(pk=credential.pk).exists()


def test_another_customers_credential_and_account_are_not_found(
    customer_client, other_customer, acme_brand
):
    credential, _ = accounts.create_credential(owner=other_customer)
    account = AcmeAccount.objects.create(
        owner=other_customer, brand=acme_brand, jwk={}, thumbprint="x", credential=credential
    )

    assert (
        customer_client.post(reverse("acme_revoke_credential", args=[credential.pk])).status_code
        == 404
    )
    assert (
        customer_client.post(reverse("acme_deactivate_account", args=[account.pk])).status_code
        == 404
    )
    credential.refresh_from_db()
    account.refresh_from_db()
    assert credential.revoked_at is None
    assert account.is_valid


def test_deactivating_an_account_from_the_console(customer_client, customer, acme_brand):
    account = AcmeAccount.objects.create(
        owner=customer, brand=acme_brand, jwk={}, thumbprint="y", credential=None
    )

    customer_client.post(reverse("acme_deactivate_account", args=[account.pk]))

    account.refresh_from_db()
    assert account.status == AcmeAccount.Status.DEACTIVATED


def test_create_acme_credential_prints_json_for_clients(customer, settings):
    settings.CONSOLE_BASE_URL = "https://certs.example.com"
    out = StringIO()

    call_command(
        "create_acme_credential", customer.username, "--label", "k8s", "--json", stdout=out
    )

    values = json.loads(out.getvalue())
    assert values["directory"] == "https://certs.example.com/acme/directory"
    assert len(jose.b64decode(values["hmac"])) == 32
    assert AcmeCredential.objects.get(kid=values["kid"]).label == "k8s"


def test_create_acme_credential_refuses_an_unknown_user(db):
    with pytest.raises(CommandError, match="No user is named 'nobody'"):
        call_command("create_acme_credential", "nobody", "--json")


def test_credentials_never_start_with_a_hyphen_that_clients_would_read_as_an_option(
    customer, monkeypatch
):
    # The first draw of each value starts with "-", as one in 64 does.
    kids, keys = iter(["-kid", "kid-ok"]), iter([b"-hmac", b"hmac-ok"])
    monkeypatch.setattr(accounts.secrets, "token_urlsafe", lambda n: next(kids))
    monkeypatch.setattr(accounts.jose, "b64encode", lambda raw: next(keys))

    credential, hmac_key = accounts.create_credential(owner=customer)

    assert (credential.kid, hmac_key) == ("kid-ok", "hmac-ok")
