"""The operators' read-only view of deployment targets and jobs: no credential is shown."""

from django.contrib import admin

from certificates.admin.shared import ReadOnlyAdmin, ReadOnlyInline
from deployments.models import DeploymentJob, DeploymentStep, Target


@admin.register(Target)
class TargetAdmin(ReadOnlyAdmin):
    list_display = ["name", "owner", "kind", "redeploy_automatically", "created_at"]
    list_filter = ["kind", "redeploy_automatically"]
    search_fields = ["name", "owner__username", "webhook_url", "ssh_host"]
    # The encrypted credentials are left out on purpose (editable=False keeps them off forms).
    fields = [
        "owner",
        "name",
        "kind",
        "verify_host",
        "verify_port",
        "verify_server_name",
        "redeploy_automatically",
        "webhook_url",
        "ssh_host",
        "ssh_port",
        "ssh_user",
        "ssh_public_key",
        "ssh_host_key_fingerprint",
        "chain_path",
        "key_path",
        "reload_command",
        "kubernetes_namespace",
        "kubernetes_secret_name",
        "created_at",
    ]


class StepInline(ReadOnlyInline):
    model = DeploymentStep
    fields = ["certificate", "target_name", "status", "attempts", "reason", "finished_at"]
    readonly_fields = fields
    show_change_link = False


@admin.register(DeploymentJob)
class DeploymentJobAdmin(ReadOnlyAdmin):
    list_display = ["pk", "owner", "trigger", "created_at"]
    list_filter = ["trigger"]
    search_fields = ["owner__username"]
    fields = ["owner", "created_by", "trigger", "created_at"]
    inlines = [StepInline]
