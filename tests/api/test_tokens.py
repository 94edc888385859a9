"""Personal API tokens: made on the console page or by the command, shown once, kept hashed."""

import hashlib
import json

import pytest
from django.core.management import ManagementUtility, call_command
from django.urls import reverse

from api import tokens
from api.models import ApiToken
from certificates.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_the_page_shows_a_new_token_once_and_keeps_its_hash(customer_client, customer):
    response = customer_client.post(
        reverse("api_tokens"), {"label": "ci-deploy", "scope": "write", "expires_at": ""}
    )
    assert response.status_code == 200
    secret = response.context["secret"]
    assert secret.startswith("scc_") and secret.encode() in response.content
    assert "no-store" in response["Cache-Control"]
    token = ApiToken.objects.get()
    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert (token.owner, token.label, token.scope) == (customer, "ci-deploy", "write")
    # Shown once: the list shows the label and prefix, never the token again.
    again = customer_client.get(reverse("api_tokens"))
    assert b"ci-deploy" in again.content and token.prefix.encode() in again.content
    assert secret.encode() not in again.content
    assert AuditEvent.objects.filter(action="api_token.create").count() == 1


def test_the_page_refuses_a_duplicate_label_and_a_past_expiry(customer_client, customer):
    tokens.create_api_token(owner=customer, label="ci", scope="read")
    response = customer_client.post(reverse("api_tokens"), {"label": "ci", "scope": "read"})
    assert response.context["form"].errors["label"] == ["You already have a token with this label."]
    past = customer_client.post(
        reverse("api_tokens"), {"label": "old", "scope": "read", "expires_at": "2020-01-01"}
    )
    assert past.context["form"].errors["expires_at"] == ["The expiry must be in the future."]
    assert past.context["secret"] is None
    assert ApiToken.objects.count() == 1


def test_an_expiry_date_ends_the_token_that_day(customer_client, customer):
    customer_client.post(
        reverse("api_tokens"), {"label": "short", "scope": "read", "expires_at": "2099-05-01"}
    )
    assert ApiToken.objects.get().expires_at.isoformat() == "2099-05-01T00:00:00+00:00"


def test_revoking_stops_the_token_and_only_the_owner_can(client, customer, other_customer):
    token, secret = tokens.create_api_token(owner=customer, label="ci", scope="read")
    client.force_login(other_customer)
    assert client.post(reverse("revoke_api_token", args=[token.pk])).status_code == 404
    client.force_login(customer)
    response = client.post(reverse("revoke_api_token", args=[token.pk]), follow=True)
    assert b"was revoked" in response.content
    assert tokens.token_for(secret) is None
    again = client.post(reverse("revoke_api_token", args=[token.pk]), follow=True)
    assert b"already revoked" in again.content
    assert AuditEvent.objects.filter(action="api_token.revoke").count() == 1


def test_the_page_lists_only_the_customers_own_tokens(customer_client, customer, other_customer):
    tokens.create_api_token(owner=other_customer, label="bobs-token", scope="read")
    tokens.create_api_token(owner=customer, label="alices-token", scope="read")
    page = customer_client.get(reverse("api_tokens"))
    assert b"alices-token" in page.content and b"bobs-token" not in page.content


def test_the_command_prints_a_working_token_as_json(customer, capsys):
    call_command("create_api_token", "alice", "--scope", "write", "--label", "deploy", "--json")
    printed = json.loads(capsys.readouterr().out)
    token = tokens.token_for(printed["token"])
    assert (token.owner, token.scope, token.label) == (customer, "write", "deploy")


def test_the_command_refuses_an_unknown_user_and_a_taken_label(customer):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="no user 'nobody'"):
        call_command("create_api_token", "nobody", "--json")
    call_command("create_api_token", "alice", "--label", "ci", "--json")
    with pytest.raises(CommandError, match="already have a token with this label"):
        call_command("create_api_token", "alice", "--label", "ci", "--json")


# manage.py closes every connection when it ends; no test transaction may be open then.
@pytest.mark.django_db(transaction=True)
def test_the_command_runs_as_manage_py_runs_it(customer, capsys):
    ManagementUtility(["manage.py", "create_api_token", "alice", "--json"]).execute()
    printed = json.loads(capsys.readouterr().out)
    assert set(printed) >= {"token"}
    assert tokens.token_for(printed["token"]).owner == customer
