"""No key or secret in the deployment pages, the admin or the logs (SQL included)."""

import pytest
from django.urls import reverse

from certificates.key_encryption import decrypt_private_key
from deployments.models import DeploymentJob, Target
from tests.deployments.fixtures import (
    SECRET,
    deploy_settings,
    issued,
    receiver,
    tls_server,
    webhook_target,
)
from tests.test_key_leaks import all_logs, key_fragments, leaks, log_text

__all__ = ["all_logs", "deploy_settings", "issued", "receiver", "tls_server", "webhook_target"]

pytestmark = pytest.mark.django_db


def test_a_deployment_leaves_no_key_or_secret_in_pages_admin_or_logs(
    all_logs,
    customer_client,
    admin_client,
    customer,
    issued,
    receiver,
    tls_server,
    django_capture_on_commit_callbacks,
):
    added = customer_client.post(
        reverse("deployments:add_target"),
        {
            "name": "web",
            "kind": "webhook",
            "verify_at": f"127.0.0.1:{tls_server.port}",
            "verify_server_name": "shop.example.com",
            "webhook_url": receiver.url,
            "webhook_secret_choice": "paste",
            "webhook_secret": SECRET,
        },
    )
    assert added.status_code == 302
    target = Target.objects.get()
    deploy_url = f"{reverse('deployments:deploy')}?certificates={issued.pk}"
    key = customer_client.get(deploy_url).context["form"]["idempotency_key"].value()
    with django_capture_on_commit_callbacks(execute=True):
        done = customer_client.post(
            reverse("deployments:deploy"),
            {"certificates": [issued.pk], "targets": [target.pk], "idempotency_key": key},
            follow=True,
        )
    job = DeploymentJob.objects.get()
    assert job.steps.get().status == "succeeded"
    assert "PRIVATE KEY" in receiver.deliveries[0].body.decode()  # it was sent, and searched

    pages = [
        done,
        customer_client.get(reverse("deployments:index")),
        customer_client.get(reverse("deployments:edit_target", args=[target.pk])),
        admin_client.get(reverse("admin:deployments_target_change", args=[target.pk])),
        admin_client.get(reverse("admin:deployments_deploymentjob_change", args=[job.pk])),
        admin_client.get(reverse("admin:deployments_deploymentjob_changelist")),
    ]
    fragments = key_fragments(decrypt_private_key(issued.private_key_encrypted))
    found = []
    for response in pages:
        assert response.status_code == 200
        body = response.content.decode()
        found += leaks(body, fragments)
        if SECRET in body:
            found.append("the webhook secret")
    logs = log_text(all_logs)
    assert "INSERT INTO" in logs  # the SQL was logged, and searched
    found += [f"logs: {leak}" for leak in leaks(logs, fragments)]
    if SECRET in logs:
        found.append("logs: the webhook secret")
    assert not found
