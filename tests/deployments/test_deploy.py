"""Deploy: which certificates may go where, the Deploy form, 404s, manifests, redeploys."""

import base64
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from certificates import services as certificate_services
from certificates.errors import ActionNotAllowed
from certificates.key_encryption import decrypt_private_key
from certificates.lifecycle import CertificateStatus as Status
from certificates.models import AuditEvent, Certificate, CustomerSettings
from deployments import services
from deployments.models import DeploymentJob, DeploymentStep, Target
from tests.deployments.fixtures import (
    deploy_settings,
    issued,
    make_webhook_target,
    receiver,
    tls_server,
    webhook_target,
)
from tests.factories import make_certificate

# The fixtures this module uses, imported from tests/deployments/fixtures.py.
__all__ = ["deploy_settings", "issued", "receiver", "tls_server", "webhook_target"]

pytestmark = pytest.mark.django_db


@pytest.fixture
def ssh_target(customer):
    return Target.objects.create(
        owner=customer,
        name="nginx",
        kind=Target.Kind.SSH,
        verify_host="127.0.0.1",
        verify_port=443,
        ssh_host="127.0.0.1",
        ssh_user="deploy",
        chain_path="/etc/nginx/shop.pem",
        key_path="/etc/nginx/shop.key",
        reload_command="sudo systemctl reload nginx",
    )


@pytest.fixture
def kubernetes_target(customer):
    return Target.objects.create(
        owner=customer,
        name="cluster",
        kind=Target.Kind.KUBERNETES,
        kubernetes_namespace="shop",
        kubernetes_secret_name="shop-tls",
    )


@pytest.mark.parametrize(
    ("status", "days_left", "message"),
    [
        (Status.REVOKED, 100, "revoked"),
        (Status.REVOKING, 100, "revoked or being revoked"),
        (Status.EXPIRED, -1, "expired"),
        (Status.ISSUED, -1, "expired"),
        (Status.VALIDATING, None, "not issued yet"),
    ],
)
def test_deploy_is_refused_for_certificates_not_in_use(
    customer, webhook_target, status, days_left, message
):
    certificate = make_certificate(customer, status=status, days_left=days_left)
    with pytest.raises(ActionNotAllowed, match=message):
        services.deploy(
            owner=customer, certificates=[certificate], targets=[webhook_target], actor=customer
        )
    assert not DeploymentJob.objects.exists()


def test_a_certificate_whose_key_the_console_lacks_goes_only_to_targets_without_a_key(
    customer, rsa_leaf, ssh_target, webhook_target
):
    manual = make_certificate(customer, certificate_pem=rsa_leaf.cert_pem)
    with pytest.raises(ActionNotAllowed, match="does not hold the private key"):
        services.deploy(owner=customer, certificates=[manual], targets=[ssh_target], actor=customer)
    job = services.deploy(
        owner=customer, certificates=[manual], targets=[webhook_target], actor=customer
    )
    assert job.steps.count() == 1


def test_kubernetes_targets_are_downloaded_not_deployed(customer, issued, kubernetes_target):
    with pytest.raises(ActionNotAllowed, match="download its manifest"):
        services.deploy(
            owner=customer, certificates=[issued], targets=[kubernetes_target], actor=customer
        )


def test_the_details_page_offers_deploy_and_the_form_makes_one_job(
    customer_client,
    customer,
    issued,
    webhook_target,
    receiver,
    django_capture_on_commit_callbacks,
):
    details = customer_client.get(issued.get_absolute_url()).content.decode()
    deploy_url = f"{reverse('deployments:deploy')}?certificates={issued.pk}"
    assert deploy_url in details

    page = customer_client.get(deploy_url)
    assert page.status_code == 200
    key = page.context["form"]["idempotency_key"].value()
    data = {"certificates": [issued.pk], "targets": [webhook_target.pk], "idempotency_key": key}
    with django_capture_on_commit_callbacks(execute=True):
        first = customer_client.post(reverse("deployments:deploy"), data)
    again = customer_client.post(reverse("deployments:deploy"), data)

    job = DeploymentJob.objects.get()
    assert first["Location"] == again["Location"] == job.get_absolute_url()
    assert job.steps.get().status == DeploymentStep.Status.SUCCEEDED
    assert AuditEvent.objects.filter(action="deployment.create").count() == 1


def test_bulk_deploy_from_the_overview_several_certificates_to_one_target(
    customer_client, customer, webhook_target, rsa_leaf
):
    first = make_certificate(customer, certificate_pem=rsa_leaf.cert_pem)
    second = make_certificate(customer, certificate_pem=rsa_leaf.cert_pem)
    overview = customer_client.get(reverse("certificates:overview")).content.decode()
    assert 'form="bulk-deploy"' in overview
    key = "2b1f3c52-8a35-4a0e-9d1e-2f4f5d7f6b11"
    response = customer_client.post(
        reverse("deployments:deploy"),
        {
            "certificates": [first.pk, second.pk],
            "targets": [webhook_target.pk],
            "idempotency_key": key,
        },
    )
    assert response.status_code == 302
    job = DeploymentJob.objects.get()
    assert sorted(job.steps.values_list("certificate_id", flat=True)) == [first.pk, second.pk]


def test_a_pair_already_under_way_is_refused(customer, issued, webhook_target):
    services.deploy(owner=customer, certificates=[issued], targets=[webhook_target], actor=customer)
    with pytest.raises(ActionNotAllowed, match="already under way"):
        services.deploy(
            owner=customer, certificates=[issued], targets=[webhook_target], actor=customer
        )


def test_another_customers_certificate_target_or_job_is_a_404(
    client, customer, other_customer, issued, webhook_target
):
    job = services.deploy(
        owner=customer, certificates=[issued], targets=[webhook_target], actor=customer
    )
    mine = make_certificate(other_customer)
    client.force_login(other_customer)
    deploy = reverse("deployments:deploy")
    assert client.get(f"{deploy}?certificates={issued.pk}").status_code == 404
    assert client.post(deploy, {"certificates": [issued.pk]}).status_code == 404
    their_target = {"certificates": [mine.pk], "targets": [webhook_target.pk]}
    assert client.post(deploy, their_target).status_code == 404
    assert client.get(reverse("deployments:job", args=[job.pk])).status_code == 404
    step = job.steps.get()
    assert client.post(reverse("deployments:retry_step", args=[step.pk])).status_code == 404
    manifest = reverse("deployments:kubernetes_manifest", args=[webhook_target.pk, issued.pk])
    assert client.get(manifest).status_code == 404
    assert DeploymentJob.objects.count() == 1


def test_the_kubernetes_manifest_holds_the_chain_and_the_key_and_is_not_stored(
    customer_client, customer, issued, kubernetes_target
):
    url = reverse("deployments:kubernetes_manifest", args=[kubernetes_target.pk, issued.pk])
    response = customer_client.get(url)

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    text = response.content.decode()
    assert "kind: Secret" in text and "type: kubernetes.io/tls" in text
    assert 'name: "shop-tls"' in text and 'namespace: "shop"' in text
    values = dict(
        line.strip().split(": ", 1) for line in text.splitlines() if line.startswith("  tls.")
    )
    chain = base64.b64decode(values["tls.crt"].strip('"')).decode()
    key = base64.b64decode(values["tls.key"].strip('"')).decode()
    assert chain.startswith(issued.certificate_pem.strip()[:64])
    assert chain.count("BEGIN CERTIFICATE") >= 2
    assert key == decrypt_private_key(issued.private_key_encrypted)
    event = AuditEvent.objects.get(action="deployment.kubernetes_manifest")
    assert event.details == {"target": kubernetes_target.pk, "with_key": True}


def test_the_manifest_is_refused_for_a_revoked_certificate(
    customer_client, customer, kubernetes_target
):
    revoked = make_certificate(customer, status=Status.REVOKED)
    url = reverse("deployments:kubernetes_manifest", args=[kubernetes_target.pk, revoked.pk])
    assert customer_client.get(url).status_code == 302


def reissue(certificate):
    Certificate.objects.filter(pk=certificate.pk).update(
        not_after=timezone.now() + timedelta(days=10)
    )
    certificate.refresh_from_db()
    certificate_services.reissue_certificate(certificate=certificate, actor=None)
    certificate.refresh_from_db()
    return certificate


def test_a_reissue_is_redeployed_to_the_targets_marked_so(
    customer, issued, receiver, tls_server, django_capture_on_commit_callbacks
):
    automatic = make_webhook_target(customer, receiver, tls_server, redeploy_automatically=True)
    with django_capture_on_commit_callbacks(execute=True):
        services.deploy(owner=customer, certificates=[issued], targets=[automatic], actor=customer)
    old_serial = issued.serial

    with django_capture_on_commit_callbacks(execute=True):
        reissued = reissue(issued)

    assert reissued.serial != old_serial
    renewal = DeploymentJob.objects.get(trigger=DeploymentJob.Trigger.RENEWAL)
    step = renewal.steps.get()
    assert step.status == DeploymentStep.Status.SUCCEEDED, step.reason
    assert receiver.deliveries[-1].verdict == "ok"
    assert f'"serial": "{reissued.serial}"' in receiver.deliveries[-1].body.decode()


def test_a_target_not_marked_gets_no_redeploy(
    customer, issued, webhook_target, receiver, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.deploy(
            owner=customer, certificates=[issued], targets=[webhook_target], actor=customer
        )
    with django_capture_on_commit_callbacks(execute=True):
        reissue(issued)
    assert not DeploymentJob.objects.filter(trigger=DeploymentJob.Trigger.RENEWAL).exists()


def test_a_failed_redeploy_emails_the_owner(
    customer, issued, receiver, tls_server, django_capture_on_commit_callbacks
):
    customer.email = "alice@example.com"
    customer.save()
    automatic = make_webhook_target(customer, receiver, tls_server, redeploy_automatically=True)
    with django_capture_on_commit_callbacks(execute=True):
        services.deploy(owner=customer, certificates=[issued], targets=[automatic], actor=customer)
    receiver.status = 500
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        reissue(issued)

    step = DeploymentJob.objects.get(trigger=DeploymentJob.Trigger.RENEWAL).steps.get()
    assert step.reason == "HTTP 500 from the webhook"
    [message] = mail.outbox
    assert message.to == ["alice@example.com"]
    assert "HTTP 500 from the webhook" in message.body
    assert "PRIVATE KEY" not in message.body


def test_a_failed_redeploy_email_is_in_the_owners_language(
    customer, issued, receiver, tls_server, django_capture_on_commit_callbacks
):
    customer.email = "alice@example.com"
    customer.save()
    CustomerSettings.objects.update_or_create(customer=customer, defaults={"language": "zh-hans"})
    automatic = make_webhook_target(customer, receiver, tls_server, redeploy_automatically=True)
    with django_capture_on_commit_callbacks(execute=True):
        services.deploy(owner=customer, certificates=[issued], targets=[automatic], actor=customer)
    receiver.status = 500
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        reissue(issued)

    [message] = mail.outbox
    assert "重新部署到 shop-web 失败" in message.subject
    assert "部署成功之前，您的服务器仍在使用之前的证书。" in message.body
