"""Deploy through a webhook, then the check that the server presents the certificate."""

import json

import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from django.urls import reverse

from certificates.errors import ActionNotAllowed
from certificates.models import AuditEvent
from deployments import services
from deployments.models import DeploymentJob, DeploymentStep
from deployments.services.jobs import leaf_fingerprint
from deployments.verification import fingerprint
from tests.deployments.fixtures import (
    SECRET,
    deploy_settings,
    issued,
    receiver,
    tls_server,
    webhook_target,
)

# The fixtures this module uses, imported from tests/deployments/fixtures.py.
__all__ = ["deploy_settings", "issued", "receiver", "tls_server", "webhook_target"]

pytestmark = pytest.mark.django_db


def deploy_now(customer, certificate, target, capture):
    with capture(execute=True):
        job = services.deploy(
            owner=customer, certificates=[certificate], targets=[target], actor=customer
        )
    return job.steps.get()


def test_a_webhook_deployment_lands_and_the_server_then_presents_it(
    customer, issued, webhook_target, receiver, django_capture_on_commit_callbacks
):
    step = deploy_now(customer, issued, webhook_target, django_capture_on_commit_callbacks)

    assert step.status == DeploymentStep.Status.SUCCEEDED, step.reason
    assert step.attempts == 1
    assert step.deployed_fingerprint == leaf_fingerprint(issued)
    [delivery] = receiver.deliveries
    assert delivery.verdict == "ok"
    payload = json.loads(delivery.body)
    assert payload["event"] == "certificate.deployed"
    assert payload["domains"] == ["shop.example.com"]
    assert payload["serial"] == issued.serial
    assert payload["certificate"].count("BEGIN CERTIFICATE") == 1
    assert payload["chain"].count("BEGIN CERTIFICATE") >= 1
    assert "PRIVATE KEY" in payload["private_key"]
    assert delivery.headers["X-Signature-256"].startswith("sha256=")


def test_the_signature_covers_the_timestamp_and_the_body(
    customer, issued, webhook_target, receiver, django_capture_on_commit_callbacks
):
    deploy_now(customer, issued, webhook_target, django_capture_on_commit_callbacks)
    [delivery] = receiver.deliveries
    headers = dict(delivery.headers)
    headers["X-Timestamp"] = str(int(headers["X-Timestamp"]) + 1)
    assert receiver.judge(headers, delivery.body) == "bad signature"
    assert receiver.judge(delivery.headers, delivery.body + b" ") == "bad signature"


def test_a_server_still_presenting_the_old_certificate_fails_the_step(
    customer, issued, webhook_target, receiver, rsa_leaf, django_capture_on_commit_callbacks
):
    receiver.stale = True
    step = deploy_now(customer, issued, webhook_target, django_capture_on_commit_callbacks)

    assert step.status == DeploymentStep.Status.FAILED
    old = leaf_fingerprint_of(rsa_leaf).lower()[:11]
    assert step.reason == f"the server presents a different certificate (SHA-256 {old}...)"


def leaf_fingerprint_of(issued) -> str:
    return fingerprint(issued.cert.public_bytes(Encoding.DER))


def test_http_500_from_the_webhook_is_the_reason(
    customer, issued, webhook_target, receiver, django_capture_on_commit_callbacks
):
    receiver.status = 500
    step = deploy_now(customer, issued, webhook_target, django_capture_on_commit_callbacks)
    assert step.status == DeploymentStep.Status.FAILED
    assert step.reason == "HTTP 500 from the webhook"


def test_a_wrong_secret_is_refused_by_the_receiver(
    customer, issued, webhook_target, receiver, django_capture_on_commit_callbacks
):
    receiver.secret = "another-secret-entirely-000"
    step = deploy_now(customer, issued, webhook_target, django_capture_on_commit_callbacks)
    assert step.reason == "HTTP 401 from the webhook"
    assert receiver.deliveries[0].verdict == "bad signature"


def test_a_refused_connection_is_said_in_plain_words(
    customer, issued, webhook_target, closed_port, django_capture_on_commit_callbacks
):
    webhook_target.webhook_url = f"http://127.0.0.1:{closed_port}/"
    webhook_target.save()
    step = deploy_now(customer, issued, webhook_target, django_capture_on_commit_callbacks)
    assert step.reason == "connection refused"


def test_a_loopback_webhook_is_refused_without_the_allowed_networks(
    customer, issued, webhook_target, receiver, settings, django_capture_on_commit_callbacks
):
    settings.DEPLOY_ALLOWED_NETWORKS = []
    step = deploy_now(customer, issued, webhook_target, django_capture_on_commit_callbacks)
    assert step.status == DeploymentStep.Status.FAILED
    assert "not public" in step.reason
    assert receiver.deliveries == []


def test_retry_queues_a_failed_step_again_and_it_can_succeed(
    customer_client,
    customer,
    issued,
    webhook_target,
    receiver,
    django_capture_on_commit_callbacks,
):
    receiver.status = 500
    step = deploy_now(customer, issued, webhook_target, django_capture_on_commit_callbacks)
    assert step.status == DeploymentStep.Status.FAILED
    receiver.status = 200

    with django_capture_on_commit_callbacks(execute=True):
        response = customer_client.post(reverse("deployments:retry_step", args=[step.pk]))

    assert response.status_code == 302
    step.refresh_from_db()
    assert step.status == DeploymentStep.Status.SUCCEEDED
    assert step.attempts == 2
    assert AuditEvent.objects.filter(action="deployment.retry").count() == 1


def test_a_step_that_succeeded_cannot_be_retried(
    customer, issued, webhook_target, receiver, django_capture_on_commit_callbacks
):
    step = deploy_now(customer, issued, webhook_target, django_capture_on_commit_callbacks)
    with pytest.raises(ActionNotAllowed, match="Only a failed step"):
        services.retry_step(step=step, actor=customer)


def test_a_step_is_claimed_once(customer, issued, webhook_target, receiver):
    job = services.deploy(
        owner=customer, certificates=[issued], targets=[webhook_target], actor=customer
    )
    step = job.steps.get()
    assert services.run_step(step_id=step.pk) == DeploymentStep.Status.SUCCEEDED
    assert services.run_step(step_id=step.pk) is None
    assert len(receiver.deliveries) == 1


def test_the_job_page_shows_progress_and_polls_only_while_under_way(
    customer_client, customer, issued, webhook_target, receiver
):
    job = services.deploy(
        owner=customer, certificates=[issued], targets=[webhook_target], actor=customer
    )
    page = customer_client.get(reverse("deployments:job", args=[job.pk])).content.decode()
    assert 'hx-trigger="every 2s"' in page
    assert "Queued" in page

    services.run_step(step_id=job.steps.get().pk)
    fragment = customer_client.get(
        reverse("deployments:job", args=[job.pk]),
        headers={"HX-Request": "true", "HX-Target": "steps"},
    ).content.decode()
    assert "every 2s" not in fragment
    assert "Succeeded" in fragment
    assert "<html" not in fragment


def test_no_secret_or_key_in_the_job_page_or_the_target_page(
    customer_client,
    customer,
    issued,
    webhook_target,
    receiver,
    django_capture_on_commit_callbacks,
):
    job = deploy_now(customer, issued, webhook_target, django_capture_on_commit_callbacks).job
    pages = [
        customer_client.get(reverse("deployments:job", args=[job.pk])),
        customer_client.get(reverse("deployments:edit_target", args=[webhook_target.pk])),
        customer_client.get(reverse("deployments:index")),
    ]
    for page in pages:
        text = page.content.decode()
        assert SECRET not in text
        assert "PRIVATE KEY" not in text
        assert webhook_target.webhook_secret_encrypted not in text
    events = AuditEvent.objects.filter(action__startswith="deployment")
    assert SECRET not in json.dumps(list(events.values_list("details", flat=True)))
    assert DeploymentJob.objects.count() == 1


def test_a_step_whose_worker_stopped_can_be_retried_and_is_no_longer_polled(
    customer_client, customer, issued, webhook_target, receiver
):
    from datetime import timedelta

    from django.utils import timezone

    job = services.deploy(
        owner=customer, certificates=[issued], targets=[webhook_target], actor=customer
    )
    step = job.steps.get()
    DeploymentStep.objects.filter(pk=step.pk).update(
        status=DeploymentStep.Status.RUNNING, started_at=timezone.now() - timedelta(hours=1)
    )
    page = customer_client.get(reverse("deployments:job", args=[job.pk])).content.decode()
    assert "every 2s" not in page
    assert "The worker stopped during this step" in page

    step.refresh_from_db()
    services.retry_step(step=step, actor=customer)
    step.refresh_from_db()
    assert step.status == DeploymentStep.Status.QUEUED
