"""Writes the audit log. Nothing in it is ever updated or deleted."""

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from types import MappingProxyType
from typing import Any

from django.db import models

from certificates.models import AuditEvent

# What every event written now adds about its actor (the API token that acted, ...).
_actor_details: ContextVar[Mapping[str, Any]] = ContextVar(
    "actor_details", default=MappingProxyType({})
)


@contextmanager
def actor_details(**details: Any) -> Iterator[None]:
    """Within this block, every event also records these details of who acted.

    The doors other than the console (the API) say so once here, and the services
    they call write the same events as for the console, with this added.
    """
    reset = _actor_details.set({**_actor_details.get(), **details})
    try:
        yield
    finally:
        _actor_details.reset(reset)


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
        details={**(details or {}), **_actor_details.get()},
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
