"""A customer's deployment targets: add, edit, delete, forget the pinned host key."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from certificates.audit import record_event
from certificates.errors import ActionNotAllowed
from certificates.key_encryption import encrypt_private_key
from deployments import credentials
from deployments.credentials import CredentialChoice
from deployments.models import Target

# What the form cleans that is stored as it is, per kind; the rest is emptied.
_COMMON = ("name", "kind", "redeploy_automatically")
_VERIFY = ("verify_host", "verify_port", "verify_server_name")
_FIELDS = {
    Target.Kind.WEBHOOK: (*_COMMON, *_VERIFY, "webhook_url"),
    Target.Kind.SSH: (
        *_COMMON,
        *_VERIFY,
        "ssh_host",
        "ssh_port",
        "ssh_user",
        "chain_path",
        "chain_mode",
        "key_path",
        "key_mode",
        "reload_command",
    ),
    Target.Kind.KUBERNETES: (*_COMMON, "kubernetes_namespace", "kubernetes_secret_name"),
}
_BLANK = {
    "verify_host": "",
    "verify_port": None,
    "verify_server_name": "",
    "webhook_url": "",
    "ssh_host": "",
    "ssh_user": "",
    "chain_path": "",
    "key_path": "",
    "reload_command": "",
    "kubernetes_secret_name": "",
}


@dataclass
class SavedTarget:
    target: Target
    # Credentials made now, shown once on the page that follows: label -> value.
    generated_secret: str | None = None
    public_key: str | None = None
    changes: list[str] = field(default_factory=list)


def save_target(*, owner, target: Target | None, cleaned: Mapping[str, Any], actor) -> SavedTarget:
    """Add a target (`target` None) or change one of `owner`'s, from TargetForm's cleaned data.

    A generated webhook secret is returned to be shown once; SSH keys made here return
    their public half. Credentials are stored encrypted, never in the audit log.
    """
    kind = cleaned["kind"]
    with transaction.atomic():
        if target is None:
            target = Target(owner=owner)
            action = "deployment_target.create"
        else:
            target = Target.objects.select_for_update().get(pk=target.pk, owner=owner)
            action = "deployment_target.update"
        kind_changed = target.pk is not None and target.kind != kind
        for name, blank in _BLANK.items():
            setattr(target, name, blank)
        for name in _FIELDS[kind]:
            setattr(target, name, cleaned[name])
        saved = SavedTarget(target=target)
        _set_credentials(target, kind, cleaned, saved)
        if kind_changed and kind != Target.Kind.SSH:
            target.ssh_host_key = target.ssh_host_key_fingerprint = ""
        try:
            with transaction.atomic():
                target.save()
        except IntegrityError:
            raise ActionNotAllowed(_("You already have a target of this name.")) from None
        record_event(
            actor=actor,
            action=action,
            target=target,
            details={"kind": kind, "name": target.name},
        )
    return saved


def _set_credentials(target: Target, kind: str, cleaned, saved: SavedTarget) -> None:
    choice = CredentialChoice
    if kind == Target.Kind.WEBHOOK:
        target.ssh_private_key_encrypted = target.ssh_public_key = ""
        target.ssh_host_key = target.ssh_host_key_fingerprint = ""
        secret_choice = cleaned.get("webhook_secret_choice")
        if secret_choice == choice.KEEP and target.webhook_secret_encrypted:
            return
        if secret_choice == choice.PASTE:
            secret = cleaned["webhook_secret"]
        else:
            secret = saved.generated_secret = credentials.new_webhook_secret()
        target.webhook_secret_encrypted = encrypt_private_key(secret)
    elif kind == Target.Kind.SSH:
        target.webhook_secret_encrypted = ""
        key_choice = cleaned.get("ssh_key_choice")
        if key_choice == choice.KEEP and target.ssh_private_key_encrypted:
            return
        if key_choice == choice.PASTE:
            private, public = cleaned["ssh_key"]
        else:
            private, public = credentials.new_ssh_key()
            saved.public_key = public
        target.ssh_private_key_encrypted = encrypt_private_key(private)
        target.ssh_public_key = public
    else:
        target.webhook_secret_encrypted = ""
        target.ssh_private_key_encrypted = target.ssh_public_key = ""
        target.ssh_host_key = target.ssh_host_key_fingerprint = ""


def delete_target(*, target: Target, actor) -> None:
    """Delete a target: its jobs' steps stay in their history, named."""
    with transaction.atomic():
        locked = Target.objects.select_for_update().filter(pk=target.pk).first()
        if locked is None:
            return
        if locked.steps.filter(status__in=["queued", "running"]).exists():
            raise ActionNotAllowed(
                _("A deployment to this target is under way: delete it when it has finished.")
            )
        record_event(
            actor=actor,
            action="deployment_target.delete",
            target=locked,
            details={"kind": locked.kind, "name": locked.name},
        )
        locked.delete()


def forget_host_key(*, target: Target, actor) -> None:
    """Forget the pinned SSH host key: the next step pins the key the server shows then."""
    with transaction.atomic():
        locked = Target.objects.select_for_update().get(pk=target.pk)
        if not locked.ssh_host_key:
            return
        record_event(
            actor=actor,
            action="deployment_target.forget_host_key",
            target=locked,
            details={"fingerprint": locked.ssh_host_key_fingerprint},
        )
        locked.ssh_host_key = locked.ssh_host_key_fingerprint = ""
        locked.save(update_fields=["ssh_host_key", "ssh_host_key_fingerprint", "updated_at"])
