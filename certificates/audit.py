"""Writes the audit log. Nothing in it is ever updated or deleted."""

from collections.abc import Mapping
from typing import Any

from django.db import models

from certificates.models import AuditEvent


def record_event(
    *,
    actor: Any,
    action: str,
    target: models.Model,
    details: Mapping[str, Any] | None = None,
) -> AuditEvent:
    is_user = actor is not None and getattr(actor, "is_authenticated", False)
    return AuditEvent.objects.create(
        actor=actor if is_user else None,
        actor_name=actor.get_username() if is_user else "system",
        action=action,
        object_type=target._meta.label,
        object_id=str(target.pk),
        object_repr=str(target)[:255],
        details=dict(details or {}),
    )
