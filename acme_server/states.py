"""The statuses of ACME orders, authorizations and challenges (RFC 8555 7.1.6), and the
only way to change them.

As in certificates.lifecycle: one table of allowed moves per object, and `advance`, the
one place an ACME status is written, under a row lock against the status the database
holds. The certificate an order becomes changes status through certificates.lifecycle
(and is audited there); these protocol states are not audited one by one.
"""

from collections.abc import Mapping
from typing import Any

from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class OrderStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    READY = "ready", _("Ready")
    PROCESSING = "processing", _("Processing")
    VALID = "valid", _("Valid")
    INVALID = "invalid", _("Invalid")


class AuthorizationStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    VALID = "valid", _("Valid")
    INVALID = "invalid", _("Invalid")
    DEACTIVATED = "deactivated", _("Deactivated")
    EXPIRED = "expired", _("Expired")
    REVOKED = "revoked", _("Revoked")


class ChallengeStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    PROCESSING = "processing", _("Processing")
    VALID = "valid", _("Valid")
    INVALID = "invalid", _("Invalid")


class AccountStatus(models.TextChoices):
    VALID = "valid", _("Valid")
    DEACTIVATED = "deactivated", _("Deactivated")


_O, _A, _C = OrderStatus, AuthorizationStatus, ChallengeStatus
ORDER_TRANSITIONS: Mapping[str, frozenset[str]] = {
    _O.PENDING: frozenset({_O.READY, _O.INVALID}),
    _O.READY: frozenset({_O.PROCESSING, _O.INVALID}),
    _O.PROCESSING: frozenset({_O.VALID, _O.INVALID}),
    _O.VALID: frozenset(),
    _O.INVALID: frozenset(),
}
AUTHORIZATION_TRANSITIONS: Mapping[str, frozenset[str]] = {
    _A.PENDING: frozenset({_A.VALID, _A.INVALID, _A.DEACTIVATED, _A.EXPIRED}),
    _A.VALID: frozenset({_A.DEACTIVATED, _A.EXPIRED, _A.REVOKED}),
    _A.INVALID: frozenset(),
    _A.DEACTIVATED: frozenset(),
    _A.EXPIRED: frozenset(),
    _A.REVOKED: frozenset(),
}
CHALLENGE_TRANSITIONS: Mapping[str, frozenset[str]] = {
    _C.PENDING: frozenset({_C.PROCESSING, _C.INVALID}),
    _C.PROCESSING: frozenset({_C.VALID, _C.INVALID}),
    _C.VALID: frozenset(),
    _C.INVALID: frozenset(),
}

ACCOUNT_TRANSITIONS: Mapping[str, frozenset[str]] = {
    AccountStatus.VALID: frozenset({AccountStatus.DEACTIVATED}),
    AccountStatus.DEACTIVATED: frozenset(),
}

_TABLES: Mapping[str, Mapping[str, frozenset[str]]] = {
    "acme_server.AcmeAccount": ACCOUNT_TRANSITIONS,
    "acme_server.AcmeOrder": ORDER_TRANSITIONS,
    "acme_server.AcmeAuthorization": AUTHORIZATION_TRANSITIONS,
    "acme_server.AcmeChallenge": CHALLENGE_TRANSITIONS,
}


def advance(obj: models.Model, to: str, *, changes: Mapping[str, Any] | None = None) -> bool:
    """Move `obj` to status `to` (with other field `changes`) if the table allows it from
    the status the locked row holds; False, and nothing changed, if it does not.

    A refusal is not an error here: two requests or workers racing to move one object
    both call this, and the one that comes second simply finds it moved.
    """
    table = _TABLES[obj._meta.label]
    with transaction.atomic():
        locked = type(obj)._default_manager.select_for_update().get(pk=obj.pk)
        if to not in table[locked.status]:
            for name in ("status", *(changes or {})):
                setattr(obj, name, getattr(locked, name))
            return False
        fields = {**(changes or {}), "status": to, "status_changed_at": timezone.now()}
        for name, value in fields.items():
            setattr(locked, name, value)
            setattr(obj, name, value)
        locked.save(update_fields=list(fields))
    return True
