"""The Deployment page's targets: add, edit, delete, and what each form refuses."""

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from django.urls import reverse

from certificates.key_encryption import decrypt_private_key
from certificates.models import AuditEvent
from deployments import services
from deployments.models import Target

pytestmark = pytest.mark.django_db

WEBHOOK = {
    "name": "web",
    "kind": "webhook",
    "verify_at": "www.example.com:443",
    "webhook_url": "https://hooks.example.com/certificates",
    "webhook_secret_choice": "generate",
}
SSH = {
    "name": "nginx",
    "kind": "ssh",
    "verify_at": "www.example.com:443",
    "ssh_host": "web1.example.com",
    "ssh_port": "22",
    "ssh_user": "deploy",
    "ssh_key_choice": "generate",
    "chain_path": "/etc/nginx/certs/shop.pem",
    "chain_mode": "0644",
    "key_path": "/etc/nginx/certs/shop.key",
    "key_mode": "0600",
    "reload_command": "sudo systemctl reload nginx",
}


def test_the_navigation_leads_to_the_deployment_page(customer_client):
    page = customer_client.get(reverse("certificates:overview")).content.decode()
    assert f'href="{reverse("deployments:index")}"' in page
    assert customer_client.get(reverse("deployments:index")).status_code == 200


def test_a_webhook_target_gets_a_generated_secret_shown_once_and_stored_encrypted(
    customer_client, customer
):
    response = customer_client.post(reverse("deployments:add_target"), WEBHOOK)

    assert response.status_code == 200
    target = Target.objects.get(owner=customer)
    secret = decrypt_private_key(target.webhook_secret_encrypted)
    page = response.content.decode()
    assert secret in page and 'id="shown-once"' in page
    assert "no-store" in response["Cache-Control"]
    assert secret not in target.webhook_secret_encrypted
    again = customer_client.get(reverse("deployments:edit_target", args=[target.pk]))
    assert secret not in again.content.decode()
    assert (target.verify_host, target.verify_port) == ("www.example.com", 443)
    event = AuditEvent.objects.get(action="deployment_target.create")
    assert secret not in str(event.details)


def test_a_pasted_secret_is_kept_and_not_shown(customer_client, customer):
    data = {**WEBHOOK, "webhook_secret_choice": "paste", "webhook_secret": "x" * 24}
    response = customer_client.post(reverse("deployments:add_target"), data)
    assert response.status_code == 302
    target = Target.objects.get(owner=customer)
    assert decrypt_private_key(target.webhook_secret_encrypted) == "x" * 24


def test_editing_keeps_the_secret_unless_asked(customer_client, customer):
    customer_client.post(reverse("deployments:add_target"), WEBHOOK)
    target = Target.objects.get(owner=customer)
    before = decrypt_private_key(target.webhook_secret_encrypted)
    data = {**WEBHOOK, "name": "web-renamed", "webhook_secret_choice": "keep"}
    response = customer_client.post(reverse("deployments:edit_target", args=[target.pk]), data)
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.name == "web-renamed"
    assert decrypt_private_key(target.webhook_secret_encrypted) == before


def test_an_ssh_target_gets_an_ed25519_key_and_its_public_line_is_shown(customer_client, customer):
    response = customer_client.post(reverse("deployments:add_target"), SSH)

    target = Target.objects.get(owner=customer)
    private = serialization.load_ssh_private_key(
        decrypt_private_key(target.ssh_private_key_encrypted).encode(), password=None
    )
    assert isinstance(private, ed25519.Ed25519PrivateKey)
    assert target.ssh_public_key.startswith("ssh-ed25519 ")
    page = response.content.decode()
    assert target.ssh_public_key in page
    assert "PRIVATE KEY" not in page
    assert (target.chain_mode, target.key_mode) == (0o644, 0o600)


def test_a_pasted_ssh_key_is_checked(customer_client, customer):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    data = {**SSH, "ssh_key_choice": "paste", "ssh_private_key": pem}
    assert customer_client.post(reverse("deployments:add_target"), data).status_code == 302
    assert Target.objects.get(owner=customer).ssh_public_key.startswith("ssh-rsa ")


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"webhook_url": "ftp://example.com/x"}, "webhook_url", "Enter a valid URL."),
        ({"verify_at": "www.example.com"}, "verify_at", "Enter host:port"),
        ({"verify_at": "www.example.com:99999"}, "verify_at", "between 1 and 65535"),
        ({"verify_at": "bad_host!:443"}, "verify_at", "host name or an IP address"),
        ({"webhook_secret_choice": "paste", "webhook_secret": "short"}, "webhook_secret", "16"),
    ],
)
def test_webhook_form_errors_are_on_their_fields(customer_client, changes, field, message):
    response = customer_client.post(reverse("deployments:add_target"), {**WEBHOOK, **changes})
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert message in " ".join(errors[field])
    assert not Target.objects.exists()


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"chain_mode": "0999"}, "chain_mode", "octal"),
        ({"key_mode": "rw-"}, "key_mode", "octal"),
        ({"chain_path": "certs/shop.pem"}, "chain_path", "absolute path"),
        (
            {"ssh_key_choice": "paste", "ssh_private_key": "not a key"},
            "ssh_private_key",
            "not an SSH",
        ),
        ({"ssh_host": ""}, "ssh_host", "required"),
        ({"reload_command": ""}, "reload_command", "required"),
    ],
)
def test_ssh_form_errors_are_on_their_fields(customer_client, changes, field, message):
    response = customer_client.post(reverse("deployments:add_target"), {**SSH, **changes})
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert not Target.objects.exists()


def test_a_name_is_used_once_per_customer(customer_client, customer, other_customer):
    data = {**WEBHOOK, "webhook_secret_choice": "paste", "webhook_secret": "y" * 20}
    customer_client.post(reverse("deployments:add_target"), data)
    response = customer_client.post(reverse("deployments:add_target"), data)
    assert "already have a target" in " ".join(response.context["form"].errors["name"])
    assert Target.objects.count() == 1


def test_another_customers_target_is_a_404(client, customer, other_customer):
    target = Target.objects.create(
        owner=customer, name="k8s", kind="kubernetes", kubernetes_secret_name="shop-tls"
    )
    client.force_login(other_customer)
    for name in ("edit_target", "delete_target", "forget_host_key"):
        url = reverse(f"deployments:{name}", args=[target.pk])
        assert client.post(url, {**WEBHOOK}).status_code == 404
    assert Target.objects.filter(pk=target.pk, name="k8s").exists()


def test_delete_and_forget_host_key(customer_client, customer):
    target = Target.objects.create(
        owner=customer,
        name="nginx",
        kind="ssh",
        ssh_host="web1.example.com",
        ssh_host_key="ssh-ed25519 AAAA",
        ssh_host_key_fingerprint="SHA256:abc",
    )
    customer_client.post(reverse("deployments:forget_host_key", args=[target.pk]))
    target.refresh_from_db()
    assert target.ssh_host_key == "" and target.ssh_host_key_fingerprint == ""
    customer_client.post(reverse("deployments:delete_target", args=[target.pk]))
    assert not Target.objects.exists()
    assert AuditEvent.objects.filter(action="deployment_target.delete").count() == 1


def test_the_admin_shows_no_credential(admin_client, customer):
    saved = services.save_target(
        owner=customer,
        target=None,
        cleaned={
            "name": "web",
            "kind": "webhook",
            "redeploy_automatically": False,
            "verify_host": "www.example.com",
            "verify_port": 443,
            "verify_server_name": "",
            "webhook_url": "https://hooks.example.com/",
            "webhook_secret_choice": "generate",
        },
        actor=customer,
    )
    page = admin_client.get(
        reverse("admin:deployments_target_change", args=[saved.target.pk])
    ).content.decode()
    assert saved.generated_secret not in page
    assert saved.target.webhook_secret_encrypted not in page
    assert "hooks.example.com" in page


def test_rotate_keys_re_encrypts_the_targets_credentials(settings, customer):
    from cryptography.fernet import Fernet

    from certificates.key_rotation import rotate_keys

    saved = services.save_target(
        owner=customer,
        target=None,
        cleaned={**_SSH_CLEANED, "ssh_key_choice": "generate"},
        actor=customer,
    )
    before = saved.target.ssh_private_key_encrypted
    new = Fernet.generate_key().decode()
    settings.KEY_ENCRYPTION_KEYS = [new, *settings.KEY_ENCRYPTION_KEYS]

    rotate_keys()

    saved.target.refresh_from_db()
    assert saved.target.ssh_private_key_encrypted != before
    Fernet(new).decrypt(saved.target.ssh_private_key_encrypted.encode())


_SSH_CLEANED = {
    "name": "nginx",
    "kind": "ssh",
    "redeploy_automatically": False,
    "verify_host": "www.example.com",
    "verify_port": 443,
    "verify_server_name": "",
    "ssh_host": "web1.example.com",
    "ssh_port": 22,
    "ssh_user": "deploy",
    "chain_path": "/etc/nginx/shop.pem",
    "chain_mode": 0o644,
    "key_path": "",
    "key_mode": 0o600,
    "reload_command": "sudo systemctl reload nginx",
}


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("www.example.com:443", ("www.example.com", 443)),
        ("WWW.Example.COM:8443", ("www.example.com", 8443)),
        ("[2001:db8::1]:443", ("2001:db8::1", 443)),
        ("192.0.2.10:443", ("192.0.2.10", 443)),
        ("bücher.example:443", ("xn--bcher-kva.example", 443)),
    ],
)
def test_verify_at_reads_host_and_port(text, parsed):
    from deployments.forms import parse_host_port

    assert parse_host_port(text) == parsed
