"""The deployment journey on the database queue, with two real workers (PostgreSQL)."""

import time

import pytest
from django.db import connection
from django_tasks_db.models import DBTaskResult

from deployments import services
from deployments.models import DeploymentStep
from tests.acme_server.support import WorkerThread
from tests.deployments.fixtures import (
    deploy_settings,
    issued,
    receiver,
    tls_server,
    webhook_target,
)
from tests.queues import DATABASE_QUEUE

# The fixtures this module uses, imported from tests/deployments/fixtures.py.
__all__ = ["deploy_settings", "issued", "receiver", "tls_server", "webhook_target"]

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="workers need PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]


def test_two_workers_run_a_queued_step_once_and_it_succeeds(
    settings, customer, issued, webhook_target, receiver
):
    settings.TASKS = DATABASE_QUEUE
    job = services.deploy(
        owner=customer, certificates=[issued], targets=[webhook_target], actor=customer
    )
    step = job.steps.get()
    assert DBTaskResult.objects.count() == 1
    workers = [WorkerThread(f"deploy-worker-{n}").start() for n in range(2)]
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            step.refresh_from_db()
            if not step.is_pending:
                break
            time.sleep(0.05)
    finally:
        for worker in workers:
            worker.stop()

    assert step.status == DeploymentStep.Status.SUCCEEDED, step.reason
    assert step.attempts == 1
    assert len(receiver.deliveries) == 1
