"""Deployment jobs: Deploy (which certificates may go where), the worker's step, Retry,
and the redeploy of a renewed certificate to the targets marked for it."""

import json
import logging
import uuid
from collections.abc import Iterable
from smtplib import SMTPException

from cryptography.hazmat.primitives.serialization import Encoding
from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from certificates.audit import record_event
from certificates.domain_checks import Resolver, connectable_address
from certificates.errors import ActionNotAllowed
from certificates.key_encryption import decrypt_private_key
from certificates.lifecycle import CertificateStatus
from certificates.models import Certificate
from certificates.pki.parsing import certificates_to_pem, load_certificates
from certificates.translation import language_of
from deployments import verification, webhook
from deployments.models import STEP_LOST_AFTER, DeploymentJob, DeploymentStep, Target

logger = logging.getLogger(__name__)

Status = DeploymentStep.Status


class DeploymentFailed(Exception):
    """A step's failure: `reason` in plain words, never key material."""

    def __init__(self, reason: str, *, host_key: str | None = None, fingerprint: str = ""):
        super().__init__(reason)
        self.reason = reason
        self.host_key = host_key
        self.fingerprint = fingerprint


def holds_key(certificate: Certificate) -> bool:
    """The console holds the key of certificates it generated the key of, and of uploads."""
    return bool(certificate.private_key_encrypted)


def deploy_refusal(certificate: Certificate) -> str | None:
    """Why this certificate cannot be deployed now, or None when it can."""
    if certificate.deleted_at is not None:
        return _("%(name)s was deleted.") % {"name": certificate}
    status = certificate.display_status
    if status in (CertificateStatus.REVOKING, CertificateStatus.REVOKED):
        return _("%(name)s is revoked or being revoked: it cannot be deployed.") % {
            "name": certificate
        }
    if status == CertificateStatus.EXPIRED:
        return _("%(name)s has expired: it cannot be deployed.") % {"name": certificate}
    if status != CertificateStatus.ISSUED or not certificate.certificate_pem:
        return _("%(name)s is not issued yet: only issued certificates can be deployed.") % {
            "name": certificate
        }
    return None


def target_refusal(certificate: Certificate, target: Target) -> str | None:
    """Why this certificate cannot go to this target, or None when it can."""
    if not target.is_deployable:
        return _(
            "%(target)s is a Kubernetes Secret: download its manifest and apply it yourself."
        ) % {"target": target}
    if target.takes_key and not holds_key(certificate):
        return _(
            "The console does not hold the private key of %(name)s (its CSR was made "
            "elsewhere), and %(target)s writes a key: deploy it to a target without a key path."
        ) % {"name": certificate, "target": target}
    return None


def deploy(
    *,
    owner,
    certificates: Iterable[Certificate],
    targets: Iterable[Target],
    actor,
    idempotency_key: uuid.UUID | None = None,
    trigger: str = DeploymentJob.Trigger.CONSOLE,
) -> DeploymentJob:
    """Deploy `owner`'s certificates to their targets: a job, a step per pair, each queued.

    The certificate rows are locked first, so parallel requests are judged one after the
    other: with the form's idempotency key a repeat returns the job made (`repeated` set),
    and without one a pair already queued or running is refused.
    """
    certificate_ids = sorted({certificate.pk for certificate in certificates})
    target_list = sorted({target.pk: target for target in targets}.values(), key=lambda t: t.pk)
    if not certificate_ids:
        raise ActionNotAllowed(_("Choose at least one certificate to deploy."))
    if not target_list:
        raise ActionNotAllowed(_("Choose at least one target to deploy to."))
    try:
        with transaction.atomic():
            locked = list(
                Certificate.objects.select_for_update()
                .filter(owner=owner, pk__in=certificate_ids)
                .order_by("pk")
            )
            if idempotency_key is not None:
                earlier = DeploymentJob.objects.filter(
                    owner=owner, idempotency_key=idempotency_key
                ).first()
                if earlier is not None:
                    earlier.repeated = True
                    return earlier
            if len(locked) != len(certificate_ids):
                raise ActionNotAllowed(_("One of these certificates is not yours."))
            if any(target.owner_id != owner.pk for target in target_list):
                raise ActionNotAllowed(_("One of these targets is not yours."))
            _check_pairs(locked, target_list)
            job = DeploymentJob.objects.create(
                owner=owner,
                created_by=actor if getattr(actor, "is_authenticated", False) else None,
                trigger=trigger,
                idempotency_key=idempotency_key,
            )
            steps = DeploymentStep.objects.bulk_create(
                DeploymentStep(
                    job=job, certificate=certificate, target=target, target_name=target.name
                )
                for certificate in locked
                for target in target_list
            )
            record_event(
                actor=actor,
                action="deployment.create",
                target=job,
                details={
                    "trigger": trigger,
                    "certificates": [c.pk for c in locked],
                    "targets": [t.pk for t in target_list],
                },
            )
            _enqueue_on_commit([step.pk for step in steps])
    except IntegrityError:
        # A parallel request with the same key committed its job first.
        earlier = DeploymentJob.objects.filter(owner=owner, idempotency_key=idempotency_key).first()
        if idempotency_key is None or earlier is None:
            raise
        earlier.repeated = True
        return earlier
    job.repeated = False
    return job


def _check_pairs(certificates: list[Certificate], targets: list[Target]) -> None:
    for certificate in certificates:
        refusal = deploy_refusal(certificate)
        if refusal:
            raise ActionNotAllowed(refusal)
        for target in targets:
            refusal = target_refusal(certificate, target)
            if refusal:
                raise ActionNotAllowed(refusal)
    under_way = (
        DeploymentStep.objects.filter(
            certificate__in=certificates,
            target__in=targets,
            status__in=[Status.QUEUED, Status.RUNNING],
        )
        .exclude(status=Status.RUNNING, started_at__lte=timezone.now() - STEP_LOST_AFTER)
        .select_related("certificate")
        .first()
    )
    if under_way is not None:
        raise ActionNotAllowed(
            _("A deployment of %(name)s to %(target)s is already under way (job %(job)s).")
            % {
                "name": under_way.certificate,
                "target": under_way.target_name,
                "job": under_way.job_id,
            }
        )


def _enqueue_on_commit(step_ids: list[int]) -> None:
    from deployments.tasks import run_deployment_step

    def enqueue() -> None:
        for step_id in step_ids:
            run_deployment_step.enqueue(step_id)

    transaction.on_commit(enqueue)


def retry_step(*, step: DeploymentStep, actor) -> DeploymentStep:
    """Queue a failed step again (its target's settings as they are now)."""
    with transaction.atomic():
        certificate = Certificate.objects.select_for_update().get(pk=step.certificate_id)
        locked = (
            DeploymentStep.objects.select_for_update(of=("self",))
            .select_related("target")
            .get(pk=step.pk)
        )
        if locked.status != Status.FAILED and not locked.is_lost:
            raise ActionNotAllowed(
                _("Only a failed step can be retried; this one is %(status)s.")
                % {"status": locked.get_status_display().lower()}
            )
        if locked.target is None:
            raise ActionNotAllowed(_("This step's target was deleted."))
        refusal = deploy_refusal(certificate) or target_refusal(certificate, locked.target)
        if refusal:
            raise ActionNotAllowed(refusal)
        locked.status = Status.QUEUED
        locked.reason = ""
        locked.started_at = locked.finished_at = None
        locked.save(update_fields=["status", "reason", "started_at", "finished_at"])
        record_event(
            actor=actor,
            action="deployment.retry",
            target=locked.job,
            details={"step": locked.pk, "attempts": locked.attempts},
        )
        _enqueue_on_commit([locked.pk])
    return locked


# The worker's half -----------------------------------------------------------------


def run_step(*, step_id: int) -> str | None:
    """Run one queued step, as the worker does: claim it (queued -> running, once), deploy
    through its target's transport, check the server presents the certificate, record
    the outcome. Three short transactions: nothing is locked while the network is used.
    Returns the step's status, or None when another worker claimed it."""
    with transaction.atomic():
        step = (
            DeploymentStep.objects.select_for_update(of=("self",))
            .select_related("certificate", "target", "job")
            .filter(pk=step_id)
            .first()
        )
        if step is None or step.status != Status.QUEUED:
            return None
        step.status = Status.RUNNING
        step.attempts += 1
        step.started_at = timezone.now()
        step.finished_at = None
        step.save(update_fields=["status", "attempts", "started_at", "finished_at"])
    certificate, target = step.certificate, step.target
    host_key = None
    try:
        if target is None:
            raise DeploymentFailed(_("the target was deleted"))
        refusal = deploy_refusal(certificate) or target_refusal(certificate, target)
        if refusal:
            raise DeploymentFailed(refusal)
        outcome = _transport(step, certificate, target)
        host_key = outcome.get("host_key")
    except DeploymentFailed as failure:
        return _finish(
            step,
            failed=failure.reason,
            host_key=failure.host_key,
            host_key_fingerprint=failure.fingerprint,
        )
    except Exception:
        logger.exception("Deployment step %s stopped on an unexpected error", step.pk)
        return _finish(step, failed=_("an unexpected error stopped the deployment"))
    return _finish(step, host_key=host_key, host_key_fingerprint=outcome.get("fingerprint", ""))


def _finish(
    step: DeploymentStep,
    *,
    failed: str | None = None,
    host_key: str | None = None,
    host_key_fingerprint: str = "",
) -> str:
    with transaction.atomic():
        locked = DeploymentStep.objects.select_for_update().get(pk=step.pk)
        locked.status = Status.FAILED if failed else Status.SUCCEEDED
        locked.reason = failed or ""
        locked.finished_at = timezone.now()
        if not failed:
            locked.deployed_fingerprint = leaf_fingerprint(step.certificate)
        locked.save(update_fields=["status", "reason", "finished_at", "deployed_fingerprint"])
        if host_key and step.target_id:
            _pin_host_key(step.target_id, host_key, host_key_fingerprint)
        record_event(
            actor=None,
            action="deployment.step_failed" if failed else "deployment.step_succeeded",
            target=step.job,
            details={"step": locked.pk, "target": locked.target_name, "reason": locked.reason},
        )
        if failed and step.job.trigger == DeploymentJob.Trigger.RENEWAL:
            transaction.on_commit(lambda: _tell_owner_of_failure(locked))
    return locked.status


def _pin_host_key(target_id: int, host_key: str, fingerprint: str) -> None:
    """Trust on first use: the first host key seen is pinned; a pinned one is never replaced
    here (only "Forget host key" drops it)."""
    target = Target.objects.select_for_update().filter(pk=target_id).first()
    if target is None or target.ssh_host_key:
        return
    target.ssh_host_key = host_key
    target.ssh_host_key_fingerprint = fingerprint
    target.save(update_fields=["ssh_host_key", "ssh_host_key_fingerprint", "updated_at"])


def _tell_owner_of_failure(step: DeploymentStep) -> None:
    step = DeploymentStep.objects.select_related("job__owner", "certificate").get(pk=step.pk)
    owner = step.job.owner
    if not owner.email:
        return
    context = {"step": step, "base_url": settings.CONSOLE_BASE_URL}
    with translation.override(language_of(owner)):
        subject = render_to_string("emails/deployment_failed_subject.txt", context)
        body = render_to_string("emails/deployment_failed.txt", context)
    try:
        send_mail(" ".join(subject.split()), body, None, [owner.email])
    except (OSError, SMTPException):
        logger.exception("Could not tell user %s of a failed redeployment", owner.pk)


def _resolver() -> Resolver:
    return Resolver(
        nameservers=tuple(settings.DV_NAMESERVERS),
        port=settings.DV_DNS_PORT,
        timeout=settings.DV_CHECK_TIMEOUT,
    )


def _address(host: str) -> str:
    address, problem = connectable_address(
        host, resolver=_resolver(), allowed_networks=settings.DEPLOY_ALLOWED_NETWORKS
    )
    if address is None:
        raise DeploymentFailed(problem)
    return address


def _verifier(step: DeploymentStep, certificate: Certificate, target: Target):
    def verify() -> None:
        endpoint = verification.Endpoint(
            address=_address(target.verify_host),
            port=target.verify_port,
            server_name=target.server_name,
            shown_as=target.verify_at,
        )
        verification.check_presented(
            endpoint,
            expected_fingerprint=leaf_fingerprint(certificate),
            attempts=settings.DEPLOY_VERIFY_ATTEMPTS,
            interval=settings.DEPLOY_VERIFY_INTERVAL,
            timeout=settings.DEPLOY_VERIFY_TIMEOUT,
        )

    return verify


def leaf_fingerprint(certificate: Certificate) -> str:
    """The SHA-256 fingerprint of the certificate as deployed (its PEM, not a stored copy)."""
    leaf = load_certificates(certificate.certificate_pem)[0]
    return verification.fingerprint(leaf.public_bytes(Encoding.DER))


def _transport(step: DeploymentStep, certificate: Certificate, target: Target) -> dict:
    verify = _verifier(step, certificate, target)
    key_pem = (
        decrypt_private_key(certificate.private_key_encrypted) if holds_key(certificate) else None
    )
    if target.kind == Target.Kind.WEBHOOK:
        _post_webhook(step, certificate, target, key_pem)
        try:
            verify()
        except (verification.VerificationFailed, DeploymentFailed) as failure:
            raise DeploymentFailed(str(failure)) from None
        return {}
    if target.kind == Target.Kind.SSH:
        return _deploy_over_ssh(certificate, target, key_pem if target.key_path else None, verify)
    raise DeploymentFailed(_("this kind of target is not deployed by the console"))


def webhook_payload(certificate: Certificate, key_pem: str | None) -> dict:
    leaf, *intermediates = load_certificates(
        certificate.certificate_pem + "\n" + certificate.chain_pem
    )
    payload = {
        "event": webhook.EVENT,
        "name": str(certificate),
        "domains": certificate.domain_list,
        "not_before": certificate.not_before.isoformat() if certificate.not_before else None,
        "not_after": certificate.not_after.isoformat() if certificate.not_after else None,
        "serial": certificate.serial,
        "certificate": certificates_to_pem([leaf]),
        "chain": certificates_to_pem(intermediates) if intermediates else "",
    }
    if key_pem is not None:
        payload["private_key"] = key_pem
    return payload


def _post_webhook(step, certificate, target, key_pem) -> None:
    from urllib.parse import urlsplit

    host = urlsplit(target.webhook_url).hostname or ""
    address = _address(host)
    body = json.dumps(webhook_payload(certificate, key_pem)).encode()
    try:
        webhook.post(
            url=target.webhook_url,
            address=address,
            body=body,
            secret=decrypt_private_key(target.webhook_secret_encrypted),
            timeout=settings.DEPLOY_WEBHOOK_TIMEOUT,
            max_response=settings.DEPLOY_WEBHOOK_MAX_RESPONSE,
            delivery=f"{step.pk}-{step.attempts}",
        )
    except webhook.WebhookFailure as failure:
        raise DeploymentFailed(failure.reason) from None


def full_chain_pem(certificate: Certificate) -> str:
    """The leaf and its intermediates, as servers want them in one file."""
    return certificates_to_pem(
        load_certificates(certificate.certificate_pem + "\n" + certificate.chain_pem)
    )


def _deploy_over_ssh(certificate, target, key_pem, verify) -> dict:
    # Here, not at the top: asyncssh takes as long to import as the URLconf, and only the
    # worker's SSH steps need it.
    from deployments import ssh

    ssh_target = ssh.SshTarget(
        address=_address(target.ssh_host),
        port=target.ssh_port,
        username=target.ssh_user,
        client_key_pem=decrypt_private_key(target.ssh_private_key_encrypted),
        pinned_host_key=target.ssh_host_key or None,
        chain_path=target.chain_path,
        chain_mode=target.chain_mode,
        key_path=target.key_path or None,
        key_mode=target.key_mode,
        reload_command=target.reload_command,
        timeout=settings.DEPLOY_SSH_TIMEOUT,
    )
    try:
        outcome = ssh.deploy_over_ssh(
            ssh_target, chain_pem=full_chain_pem(certificate), key_pem=key_pem, verify=verify
        )
    except ssh.SshFailure as failure:
        host_key = failure.host_key
        raise DeploymentFailed(
            failure.reason,
            host_key=host_key,
            fingerprint=ssh.host_key_fingerprint(host_key) if host_key else "",
        ) from None
    return {"host_key": outcome.host_key, "fingerprint": outcome.fingerprint}


# Redeploy after renewal ---------------------------------------------------------------


def redeploy_replacement(
    *, replaced: Certificate, replacement: Certificate
) -> DeploymentJob | None:
    """Deploy a reissued or renewed certificate to the targets marked "redeploy
    automatically" that its predecessor (the same row, for a reissue) was deployed to.

    Targets the new certificate cannot go to (a key path, for a certificate whose key the
    console does not hold) get a failed step with the reason, and the owner an email."""
    targets = list(
        Target.objects.filter(
            owner=replacement.owner,
            redeploy_automatically=True,
            steps__certificate=replaced,
            steps__status=Status.SUCCEEDED,
        ).distinct()
    )
    if not targets or deploy_refusal(replacement):
        return None
    accepted = [t for t in targets if target_refusal(replacement, t) is None]
    refused = [t for t in targets if t not in accepted]
    job = None
    if accepted:
        try:
            job = deploy(
                owner=replacement.owner,
                certificates=[replacement],
                targets=accepted,
                actor=None,
                trigger=DeploymentJob.Trigger.RENEWAL,
            )
        except ActionNotAllowed as refusal:
            logger.info("Redeploy of certificate %s not made: %s", replacement.pk, refusal.message)
            return None
    if refused:
        with transaction.atomic():
            if job is None:
                job = DeploymentJob.objects.create(
                    owner=replacement.owner, trigger=DeploymentJob.Trigger.RENEWAL
                )
                record_event(
                    actor=None,
                    action="deployment.create",
                    target=job,
                    details={
                        "trigger": job.trigger,
                        "certificates": [replacement.pk],
                        "targets": [t.pk for t in refused],
                    },
                )
            for target in refused:
                step = DeploymentStep.objects.create(
                    job=job,
                    certificate=replacement,
                    target=target,
                    target_name=target.name,
                    status=Status.FAILED,
                    reason=target_refusal(replacement, target),
                    finished_at=timezone.now(),
                )
                transaction.on_commit(lambda step=step: _tell_owner_of_failure(step))
    return job
