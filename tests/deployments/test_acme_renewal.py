"""An ACME renewal naming the certificate it `replaces` is redeployed where that one was."""

import pytest
from django.core import mail

from deployments.models import DeploymentJob, DeploymentStep
from tests.acme_server.support import acme_brand
from tests.acme_server.test_protocol import BASE, acme, csr_for, issued_through_acme
from tests.deployments.fixtures import (
    deploy_settings,
    issued,
    make_webhook_target,
    receiver,
    tls_server,
    webhook_target,
)

__all__ = [
    "acme",
    "acme_brand",
    "deploy_settings",
    "issued",
    "receiver",
    "tls_server",
    "webhook_target",
]

pytestmark = pytest.mark.django_db


def test_an_acme_renewal_is_redeployed_to_the_targets_marked_so(
    acme, customer, receiver, tls_server, django_capture_on_commit_callbacks
):
    from acme.client import _renewal_info_path_component

    from certificates.models import Certificate

    customer.email = "alice@example.com"
    customer.save()
    leaf, _ = issued_through_acme(acme)
    old = Certificate.objects.get(serial=format(leaf.serial_number, "X"))
    target = make_webhook_target(customer, receiver, tls_server, redeploy_automatically=True)
    # Deployed earlier (the receiver serves it; set up here rather than deployed).
    first = DeploymentJob.objects.create(owner=customer)
    DeploymentStep.objects.create(
        job=first,
        certificate=old,
        target=target,
        target_name=target.name,
        status=DeploymentStep.Status.SUCCEEDED,
    )
    receiver.stale = True  # an ACME certificate comes without its key: nothing to serve
    identifiers = [{"type": "dns", "value": "shop.example.com"}]
    replacing = {"identifiers": identifiers, "replaces": _renewal_info_path_component(leaf)}
    order = acme.post(BASE + "new-order", replacing).json()

    with django_capture_on_commit_callbacks(execute=True):
        acme.post(order["finalize"], {"csr": csr_for("shop.example.com")})

    new = Certificate.objects.exclude(pk=old.pk).get()
    renewal = DeploymentJob.objects.get(trigger=DeploymentJob.Trigger.RENEWAL)
    step = renewal.steps.get()
    assert (step.certificate, step.target) == (new, target)
    assert "private_key" not in receiver.deliveries[-1].body.decode()
    assert step.status == DeploymentStep.Status.FAILED
    assert mail.outbox[-1].to == ["alice@example.com"]
