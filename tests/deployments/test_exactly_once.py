"""Parallel Deploy and Retry clicks have one effect (PostgreSQL, as tests/test_exactly_once.py)."""

import pytest
from django.db import connection
from django.urls import reverse

from certificates.models import AuditEvent
from deployments import services
from deployments.models import DeploymentJob, DeploymentStep, Target
from tests.factories import make_certificate
from tests.queues import DATABASE_QUEUE
from tests.test_exactly_once import N, assert_once, fire

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="races need PostgreSQL's row locks"
    ),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def target(customer):
    # Queued, not run: the worker is not what these tests race.
    return Target.objects.create(
        owner=customer,
        name="web",
        kind=Target.Kind.WEBHOOK,
        verify_host="127.0.0.1",
        verify_port=443,
        webhook_url="http://127.0.0.1:9/",
    )


def test_parallel_deploy_clicks_of_one_form_make_one_job(settings, customer, target, rsa_leaf):
    settings.TASKS = DATABASE_QUEUE
    certificate = make_certificate(customer, certificate_pem=rsa_leaf.cert_pem)
    data = {
        "certificates": [certificate.pk],
        "targets": [target.pk],
        "idempotency_key": "5b1f3c52-8a35-4a0e-9d1e-2f4f5d7f6b11",
    }
    statuses = fire(customer, reverse("deployments:deploy"), data)
    assert_once(statuses, lambda: DeploymentJob.objects.count())
    assert DeploymentStep.objects.count() == 1
    assert AuditEvent.objects.filter(action="deployment.create").count() == 1


def test_parallel_deploys_without_a_key_queue_the_pair_once(settings, customer, target, rsa_leaf):
    settings.TASKS = DATABASE_QUEUE
    certificate = make_certificate(customer, certificate_pem=rsa_leaf.cert_pem)
    data = {"certificates": [certificate.pk], "targets": [target.pk]}
    statuses = fire(customer, reverse("deployments:deploy"), data)
    assert_once(statuses, lambda: DeploymentJob.objects.count())
    assert len(statuses) == N


def test_parallel_retries_queue_a_failed_step_once(settings, customer, target, rsa_leaf):
    settings.TASKS = DATABASE_QUEUE
    certificate = make_certificate(customer, certificate_pem=rsa_leaf.cert_pem)
    job = services.deploy(
        owner=customer, certificates=[certificate], targets=[target], actor=customer
    )
    step = job.steps.get()
    DeploymentStep.objects.filter(pk=step.pk).update(
        status=DeploymentStep.Status.FAILED, reason="connection refused"
    )
    statuses = fire(customer, reverse("deployments:retry_step", args=[step.pk]), {})
    assert_once(statuses, lambda: AuditEvent.objects.filter(action="deployment.retry").count())
    step.refresh_from_db()
    assert step.status == DeploymentStep.Status.QUEUED
