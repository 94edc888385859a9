"""Personal API tokens: made (shown once), looked up by their hash, revoked.

A token is `scc_` and 43 random url-safe characters; only its SHA-256 is kept.
"""

import hashlib
import secrets
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from api.models import ApiToken
from certificates.audit import record_event
from certificates.errors import ActionNotAllowed

TOKEN_PREFIX = "scc_"
# The longest token accepted for a look-up: a longer one is refused without hashing it.
MAX_TOKEN_LENGTH = 100
# last_used_at is written at most this often per token, not on every request.
LAST_USED_PRECISION = timedelta(minutes=1)


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_api_token(
    *, owner, label: str, scope: str, expires_at: datetime | None = None
) -> tuple[ApiToken, str]:
    """A new token and its secret, which is shown once and never stored."""
    label = label.strip()
    errors = {}
    if not label:
        errors["label"] = _("Give the token a label, e.g. the script or server that uses it.")
    elif len(label) > ApiToken._meta.get_field("label").max_length:
        errors["label"] = _("A label has at most 64 characters.")
    if scope not in ApiToken.Scope.values:
        errors["scope"] = _("Choose read or read-write.")
    if expires_at is not None and expires_at <= timezone.now():
        errors["expires_at"] = _("The expiry must be in the future.")
    if errors:
        raise ValidationError(errors)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        owner=owner,
        label=label,
        scope=scope,
        expires_at=expires_at,
        token_hash=hash_token(secret),
        prefix=secret[: len(TOKEN_PREFIX) + 4],
    )
    try:
        with transaction.atomic():
            token.save(force_insert=True)
            record_event(
                actor=owner,
                action="api_token.create",
                target=token,
                details={"label": label, "scope": scope},
            )
    except IntegrityError:
        raise ValidationError({"label": _("You already have a token with this label.")}) from None
    return token, secret


def revoke_api_token(*, token: ApiToken, actor) -> ApiToken:
    """From now on the token authenticates nothing; the row stays for the audit log."""
    with transaction.atomic():
        locked = ApiToken.objects.select_for_update().get(pk=token.pk)
        if locked.revoked_at is not None:
            raise ActionNotAllowed(_("This token was already revoked."))
        locked.revoked_at = timezone.now()
        locked.save(update_fields=["revoked_at"])
        record_event(
            actor=actor, action="api_token.revoke", target=locked, details={"label": locked.label}
        )
    return locked


def token_for(secret: str) -> ApiToken | None:
    """The live token with this secret, its owner loaded; None for anything else."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > MAX_TOKEN_LENGTH:
        return None
    now = timezone.now()
    token = (
        ApiToken.objects.select_related("owner")
        .filter(token_hash=hash_token(secret), revoked_at__isnull=True, owner__is_active=True)
        .first()
    )
    if token is None or token.is_expired:
        return None
    if token.last_used_at is None or token.last_used_at < now - LAST_USED_PRECISION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
