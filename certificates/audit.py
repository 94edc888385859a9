"""Writes the audit log. Nothing in it is ever updated or deleted."""

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import models

from certificates.models import AuditEvent


def build_event(
    *,
    actor: Any,
    action: str,
    target: models.Model,
    details: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """An unsaved event, for callers that write many at once with bulk_create."""
    user = user_or_none(actor)
    return AuditEvent(
        actor=user,
        actor_name=user.get_username() if user else "system",
        action=action,
        object_type=target._meta.label,
        object_id=str(target.pk),
        object_repr=str(target)[:255],
        details=dict(details or {}),
    )


def record_events(events: Iterable[AuditEvent]) -> None:
    """Write events made with `build_event`, in one insert."""
    AuditEvent.objects.bulk_create(events)


def user_or_none(actor: Any) -> Any:
    """The signed-in user behind an action, or None for the system (batch jobs, the seed)."""
    return actor if getattr(actor, "is_authenticated", False) else None


def record_event(
    *,
    actor: Any,
    action: str,
    target: models.Model,
    details: Mapping[str, Any] | None = None,
) -> AuditEvent:
    event = build_event(actor=actor, action=action, target=target, details=details)
    event.save(force_insert=True)
    return event
