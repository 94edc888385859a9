"""The ACME server's records in the operators' admin: readable, unchangeable, no secrets."""

import josepy as jose
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from acme_server.models import AcmeAccount, AcmeAuthorization, AcmeCredential, AcmeOrder
from acme_server.services import accounts, orders
from acme_server.states import advance
from tests.acme_server.support import acme_brand
from tests.admin_support import page_text

__all__ = ["acme_brand"]

pytestmark = pytest.mark.django_db

MODELS = ["acmecredential", "acmeaccount", "acmeorder", "acmeauthorization"]


def changelist(model: str) -> str:
    return reverse(f"admin:acme_server_{model}_changelist")


def add_orders(customer, brand, number: int) -> tuple[AcmeCredential, str, dict]:
    """`number` accounts, each bound by a credential of its own, with an order whose
    dns-01 challenge passed; the last credential's HMAC key and account key returned."""
    for n in range(number):
        credential, hmac_key = accounts.create_credential(owner=customer, label=f"host-{n}")
        key = jose.JWKEC(key=ec.generate_private_key(ec.SECP256R1()))
        jwk = key.public_key().to_json()
        account = AcmeAccount.objects.create(
            owner=customer,
            brand=brand,
            jwk=jwk,
            thumbprint=jose.b64encode(key.thumbprint()).decode(),
            credential=credential,
            contact=[f"mailto:ops{n}@example.com"],
        )
        payload = {"identifiers": [{"type": "dns", "value": f"h{n}.example.com"}]}
        order = orders.create_order(account=account, payload=payload)
        challenge = order.authorizations.get().challenges.get(type="dns-01")
        advance(challenge, "processing")
        orders.record_validation(challenge=challenge, ok=True, error=None)
    return credential, hmac_key, jwk


def test_operators_read_every_acme_record_and_no_secret(customer, operator_client, acme_brand):
    credential, hmac_key, jwk = add_orders(customer, acme_brand, 1)
    secrets = [hmac_key, credential.hmac_key_encrypted, jwk["x"], jwk["y"]]
    rows = [
        AcmeCredential.objects.get(pk=credential.pk),
        AcmeAccount.objects.get(),
        AcmeOrder.objects.get(),
        AcmeAuthorization.objects.get(),
    ]

    for model, row in zip(MODELS, rows, strict=True):
        listing = operator_client.get(changelist(model))
        detail = operator_client.get(reverse(f"admin:acme_server_{model}_change", args=[row.pk]))
        assert listing.status_code == detail.status_code == 200, model
        for response in (listing, detail):
            html = response.content.decode()
            assert not any(secret in html for secret in secrets), model
            # Read only: no save button, no delete or add link.
            assert 'name="_save"' not in html, model
            assert f"{model}/{row.pk}/delete/" not in html, model
            assert f"acme_server/{model}/add/" not in html, model
    order_page = page_text(
        operator_client.get(reverse("admin:acme_server_acmeorder_change", args=[rows[2].pk]))
    )
    assert "h0.example.com" in order_page and "Ready" in order_page
    account_page = reverse("admin:acme_server_acmeaccount_change", args=[rows[1].pk])
    assert rows[1].thumbprint in page_text(operator_client.get(account_page))


def test_customers_get_no_acme_admin_page(customer_client, customer, acme_brand):
    add_orders(customer, acme_brand, 1)
    for model in MODELS:
        assert customer_client.get(changelist(model)).status_code == 302


def test_each_acme_changelist_costs_the_same_queries_with_2_and_12_rows(
    customer, operator_client, acme_brand
):
    def queries() -> dict[str, int]:
        counts = {}
        for model in MODELS:
            with CaptureQueriesContext(connection) as captured:
                assert operator_client.get(changelist(model)).status_code == 200
            counts[model] = len(captured)
        return counts

    add_orders(customer, acme_brand, 2)
    small = queries()
    add_orders(customer, acme_brand, 10)

    assert queries() == small
