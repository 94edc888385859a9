"""Deployment targets (a customer's own servers, load balancers and clusters) and the jobs
that put certificates onto them, one step per certificate and target."""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from certificates.models import Certificate


class Target(models.Model):
    """Where a customer's certificates go: a webhook, an SSH server, a Kubernetes Secret.

    Credentials (the webhook's signing secret, the SSH client key) are encrypted with
    KEY_ENCRYPTION_KEYS (certificates.key_encryption) and never shown again; the SSH key's
    public half and the pinned host key are public and shown.
    """

    class Kind(models.TextChoices):
        WEBHOOK = "webhook", _("Webhook")
        SSH = "ssh", _("SSH")
        KUBERNETES = "kubernetes", _("Kubernetes Secret")

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="deployment_targets"
    )
    name = models.CharField(_("name"), max_length=63)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    # The TLS endpoint that should present the certificate afterwards (not for Kubernetes).
    verify_host = models.CharField(_("verify at host"), max_length=255, blank=True)
    verify_port = models.PositiveIntegerField(_("verify at port"), null=True, blank=True)
    verify_server_name = models.CharField(_("SNI name"), max_length=255, blank=True)
    redeploy_automatically = models.BooleanField(_("redeploy automatically"), default=False)

    webhook_url = models.URLField(_("webhook URL"), max_length=2000, blank=True)
    webhook_secret_encrypted = models.TextField(blank=True, editable=False)

    ssh_host = models.CharField(_("SSH host"), max_length=255, blank=True)
    ssh_port = models.PositiveIntegerField(_("SSH port"), default=22)
    ssh_user = models.CharField(_("SSH user"), max_length=64, blank=True)
    ssh_private_key_encrypted = models.TextField(blank=True, editable=False)
    ssh_public_key = models.TextField(_("SSH public key"), blank=True, editable=False)
    ssh_host_key = models.TextField(_("pinned host key"), blank=True, editable=False)
    ssh_host_key_fingerprint = models.CharField(
        _("host key fingerprint"), max_length=100, blank=True, editable=False
    )
    chain_path = models.CharField(_("chain path"), max_length=1000, blank=True)
    chain_mode = models.PositiveIntegerField(_("chain file mode"), default=0o644)
    key_path = models.CharField(_("key path"), max_length=1000, blank=True)
    key_mode = models.PositiveIntegerField(_("key file mode"), default=0o600)
    reload_command = models.CharField(_("reload command"), max_length=1000, blank=True)

    kubernetes_namespace = models.CharField(
        _("namespace"), max_length=63, blank=True, default="default"
    )
    kubernetes_secret_name = models.CharField(_("Secret name"), max_length=253, blank=True)

    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("deployment target")
        verbose_name_plural = _("deployment targets")
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="unique_target_name_per_owner")
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("deployments:edit_target", args=[self.pk])

    @property
    def verify_at(self) -> str:
        if not self.verify_host:
            return ""
        host = f"[{self.verify_host}]" if ":" in self.verify_host else self.verify_host
        return f"{host}:{self.verify_port}"

    @property
    def server_name(self) -> str:
        """The SNI name the check asks for: the one set, else the verify-at host."""
        return self.verify_server_name or self.verify_host

    @property
    def is_deployable(self) -> bool:
        """Webhooks and SSH servers are deployed to by the worker; a Kubernetes Secret is
        downloaded and applied by the customer."""
        return self.kind in (self.Kind.WEBHOOK, self.Kind.SSH)

    @property
    def takes_key(self) -> bool:
        """Whether a deployment here needs the private key: an SSH target with a key path.

        A webhook gets the key only when the console holds it; without one it still gets
        the certificate and chain."""
        return self.kind == self.Kind.SSH and bool(self.key_path)

    @property
    def chain_mode_octal(self) -> str:
        return f"{self.chain_mode:04o}"

    @property
    def key_mode_octal(self) -> str:
        return f"{self.key_mode:04o}"


class DeploymentJob(models.Model):
    """One Deploy: certificates to targets, a step for each pair."""

    class Trigger(models.TextChoices):
        CONSOLE = "console", _("Deploy in the console")
        RENEWAL = "renewal", _("Redeploy after renewal")

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="deployment_jobs"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    trigger = models.CharField(max_length=10, choices=Trigger.choices, default=Trigger.CONSOLE)
    # The Deploy form's one-time token: parallel clicks of one form make one job.
    idempotency_key = models.UUIDField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("deployment job")
        verbose_name_plural = _("deployment jobs")
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="unique_deployment_job_idempotency_key",
            )
        ]

    def __str__(self) -> str:
        return f"Deployment job {self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("deployments:job", args=[self.pk])


# A step still running after this long lost its worker (a step ends within its bounds:
# DEPLOY_SSH_TIMEOUT or the webhook's, plus the check's attempts): it may be retried.
STEP_LOST_AFTER = timedelta(minutes=10)


class DeploymentStep(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    job = models.ForeignKey(DeploymentJob, on_delete=models.CASCADE, related_name="steps")
    certificate = models.ForeignKey(
        Certificate, on_delete=models.CASCADE, related_name="deployment_steps"
    )
    # A deleted target leaves its steps in the job's history, named.
    target = models.ForeignKey(
        Target, on_delete=models.SET_NULL, null=True, blank=True, related_name="steps"
    )
    target_name = models.CharField(max_length=63)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    # Why it failed, in plain words for the customer; never key material.
    reason = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    deployed_fingerprint = models.CharField(max_length=95, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("deployment step")
        verbose_name_plural = _("deployment steps")
        indexes = [models.Index(fields=["target", "status"], name="deploy_step_target_status")]

    def __str__(self) -> str:
        return f"{self.certificate} → {self.target_name}"

    @property
    def is_lost(self) -> bool:
        """Running for longer than any step takes: its worker stopped mid-step."""
        return (
            self.status == self.Status.RUNNING
            and self.started_at is not None
            and self.started_at <= timezone.now() - STEP_LOST_AFTER
        )

    @property
    def is_pending(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING) and not self.is_lost

    @property
    def can_retry(self) -> bool:
        return self.target_id is not None and (self.status == self.Status.FAILED or self.is_lost)
