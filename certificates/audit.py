"""Writes the audit log. Nothing in it is ever updated or deleted."""

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from types import MappingProxyType
from typing import Any

from django.db import connection, models

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


def record_status_events(
    *,
    model: type[models.Model],
    ids: Sequence[int],
    actor: Any,
    details: Mapping[str, Any],
    created_at: datetime,
) -> None:
    """The "<model>.status" events of a batch of certificates that moved alike, in one
    INSERT ... SELECT from their rows: the events build_event would make, without a model
    instance per row (lifecycle.transition_batch moves thousands at once).

    Certificates only: object_repr is Certificate.__str__ (its name, else its common
    name, else "Certificate <id>") in SQL.
    """
    from certificates.models import Certificate

    if model is not Certificate:
        raise ValueError(f"Batch status events are for certificates, not {model._meta.label}.")
    if not ids:
        return
    user = user_or_none(actor)
    quote = connection.ops.quote_name
    target, events = quote(model._meta.db_table), quote(AuditEvent._meta.db_table)
    columns = ", ".join(
        quote(column)
        for column in (
            "created_at",
            "actor_id",
            "actor_name",
            "action",
            "object_type",
            "object_id",
            "object_repr",
            "details",
        )
    )
    repr_sql = (
        "SUBSTR(COALESCE(NULLIF(name, ''), NULLIF(common_name, ''), "
        "'Certificate ' || CAST(id AS TEXT)), 1, 255)"
    )
    if connection.vendor == "postgresql":
        details_sql, where, id_params = "CAST(%s AS jsonb)", "id = ANY(%s)", [list(ids)]
    else:
        details_sql, where, id_params = "%s", f"id IN ({', '.join(['%s'] * len(ids))})", ids
    field = AuditEvent._meta.get_field("details")
    details_json = json.dumps({**details, **_actor_details.get()}, cls=field.encoder)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {events} ({columns}) "
            f"SELECT %s, %s, %s, %s, %s, CAST(id AS TEXT), {repr_sql}, {details_sql} "
            f"FROM {target} WHERE {where} ORDER BY id",
            [
                connection.ops.adapt_datetimefield_value(created_at),
                user.pk if user else None,
                user.get_username() if user else "system",
                f"{model._meta.model_name}.status",
                model._meta.label,
                details_json,
                *id_params,
            ],
        )


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
