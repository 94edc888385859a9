"""ACME credentials and accounts: External Account Binding ties each account to a customer."""

import json
import re
import secrets
from collections.abc import Callable
from datetime import datetime
from typing import Any

import josepy as jose
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from acme_server.models import AcmeAccount, AcmeCredential
from acme_server.protocol import AcmeProblem, key_thumbprint, malformed
from acme_server.states import AccountStatus, advance
from certificates import key_encryption
from certificates.audit import record_event
from certificates.errors import ActionNotAllowed
from certificates.models import Brand

MAX_CONTACTS = 4
_MAILTO = re.compile(r"mailto:[^@\s,]{1,64}@[A-Za-z0-9.-]{1,253}")
EAB_ALGORITHMS = {"HS256", "HS384", "HS512"}


def _command_line_safe(make: Callable[[], str]) -> str:
    """A value that does not start with "-": clients read `--eab-kid -x...` as an option."""
    value = make()
    while value.startswith("-"):
        value = make()
    return value


def create_credential(
    *, owner, label: str = "", expires_at: datetime | None = None
) -> tuple[AcmeCredential, str]:
    """A new key identifier and HMAC key (base64url, no padding): the key is returned once."""
    hmac_key = _command_line_safe(lambda: jose.b64encode(secrets.token_bytes(32)).decode())
    credential = AcmeCredential.objects.create(
        owner=owner,
        kid=_command_line_safe(lambda: secrets.token_urlsafe(18)),
        hmac_key_encrypted=key_encryption.encrypt_private_key(hmac_key),
        label=label.strip()[:100],
        expires_at=expires_at,
    )
    record_event(actor=owner, action="acme_credential.create", target=credential)
    return credential, hmac_key


def revoke_credential(*, credential: AcmeCredential, actor) -> AcmeCredential:
    """No new account can be bound with it; accounts already bound stay."""
    with transaction.atomic():
        locked = AcmeCredential.objects.select_for_update().get(pk=credential.pk)
        if locked.revoked_at is not None:
            raise ActionNotAllowed(gettext("This credential was already revoked."))
        locked.revoked_at = timezone.now()
        locked.save(update_fields=["revoked_at"])
        record_event(actor=actor, action="acme_credential.revoke", target=locked)
    return locked


def register_account(
    *, brand: Brand, jwk: jose.JWK, payload: dict[str, Any], url: str
) -> tuple[AcmeAccount, bool]:
    """newAccount (RFC 8555 7.3): the account of this key, or a new one bound by EAB.

    Returns the account and whether it was made now. `url` is the newAccount URL, which
    the binding must name.
    """
    thumbprint = key_thumbprint(jwk)
    existing = AcmeAccount.objects.filter(thumbprint=thumbprint).first()
    if existing is not None:
        if existing.brand_id != brand.pk:
            raise malformed("This key has an account at another directory of this server.")
        return existing, False
    if payload.get("onlyReturnExisting") is True:
        raise AcmeProblem("accountDoesNotExist", "No account has this key.")
    contact = _contacts(payload.get("contact", []))
    credential = _bound_credential(payload.get("externalAccountBinding"), jwk=jwk, url=url)
    try:
        with transaction.atomic():
            account = AcmeAccount.objects.create(
                owner=credential.owner,
                credential=credential,
                brand=brand,
                jwk=jwk.public_key().to_partial_json(),
                thumbprint=thumbprint,
                contact=contact,
            )
            AcmeCredential.objects.filter(pk=credential.pk).update(last_used_at=timezone.now())
            record_event(
                actor=credential.owner,
                action="acme_account.create",
                target=account,
                details={"credential": credential.label or credential.kid},
            )
    except IntegrityError:
        # The same key registered by a parallel request: that account is this one.
        return AcmeAccount.objects.get(thumbprint=thumbprint), False
    return account, True


def update_account(*, account: AcmeAccount, payload: dict[str, Any]) -> AcmeAccount:
    """Change the contacts, or deactivate the account (RFC 8555 7.3.2, 7.3.6)."""
    if "status" in payload:
        if payload["status"] != AccountStatus.DEACTIVATED:
            raise malformed('An account\'s status can only be changed to "deactivated".')
        advance(account, AccountStatus.DEACTIVATED)
        record_event(actor=account.owner, action="acme_account.deactivate", target=account)
        return account
    if "contact" in payload:
        account.contact = _contacts(payload["contact"])
        account.save(update_fields=["contact"])
    return account


def deactivate_account(*, account: AcmeAccount, actor) -> AcmeAccount:
    """The console's button: the account's key can no longer do anything."""
    if not advance(account, AccountStatus.DEACTIVATED):
        raise ActionNotAllowed(gettext("This account was already deactivated."))
    record_event(actor=actor, action="acme_account.deactivate", target=account)
    return account


def set_expiry_warnings(*, account: AcmeAccount, enabled: bool, actor) -> AcmeAccount:
    """Whether the certificates of this account get expiry warnings (its client renews them)."""
    with transaction.atomic():
        changed = AcmeAccount.objects.filter(pk=account.pk).exclude(expiry_warnings=enabled)
        if changed.update(expiry_warnings=enabled):
            record_event(
                actor=actor,
                action="acme_account.expiry_warnings",
                target=account,
                details={"enabled": enabled},
            )
    account.expiry_warnings = enabled
    return account


def _contacts(value: Any) -> list[str]:
    if not isinstance(value, list) or len(value) > MAX_CONTACTS:
        raise malformed(f"contact must be a list of at most {MAX_CONTACTS} mailto: URLs.")
    for contact in value:
        if not isinstance(contact, str) or not contact.startswith("mailto:"):
            raise AcmeProblem("unsupportedContact", "Only mailto: contacts are supported.")
        if not _MAILTO.fullmatch(contact):
            raise AcmeProblem("invalidContact", f"{contact[:80]!r} is not an email address.")
    return value


def _bound_credential(binding: Any, *, jwk: jose.JWK, url: str) -> AcmeCredential:
    """The credential whose HMAC key signed the binding of `jwk` (RFC 8555 7.3.4)."""
    if binding is None:
        raise AcmeProblem(
            "externalAccountRequired",
            "This server needs External Account Binding: create ACME credentials in the "
            "console and give the client their key identifier and HMAC key.",
        )
    try:
        eab = jose.JWS.from_json(binding)
        header = json.loads(eab.signature.protected)
        bound_key = jose.JWK.from_json(json.loads(eab.payload))
    except Exception:
        raise malformed("externalAccountBinding is not a valid JWS.") from None
    if not isinstance(header, dict) or header.get("alg") not in EAB_ALGORITHMS:
        raise malformed("externalAccountBinding must be signed with HS256, HS384 or HS512.")
    if "nonce" in header or header.get("url") != url:
        raise malformed("externalAccountBinding must name the newAccount URL and no nonce.")
    if bound_key.public_key() != jwk.public_key():
        raise malformed("externalAccountBinding binds another key than the one signing.")
    kid = header.get("kid")
    credential = (
        AcmeCredential.objects.usable().select_related("owner").filter(kid=kid).first()
        if isinstance(kid, str)
        else None
    )
    if credential is None:
        raise AcmeProblem(
            "unauthorized",
            "The binding's key identifier is unknown, expired or revoked.",
            status=401,
        )
    hmac_key = key_encryption.decrypt_private_key(credential.hmac_key_encrypted)
    try:
        verified = eab.verify(jose.JWKOct(key=jose.b64decode(hmac_key)))
    except Exception:
        verified = False
    if not verified:
        raise AcmeProblem("unauthorized", "The binding's HMAC does not verify.", status=401)
    return credential


def change_key(*, account: AcmeAccount, new_key: jose.JWK, inner: dict[str, Any], kid: str):
    """keyChange (RFC 8555 7.3.5): the account's key becomes `new_key`, which signed the
    inner request naming this account and its current key. A key another account has is
    refused with that account's URL (409)."""
    if inner.get("account") != kid:
        raise malformed("The inner payload must name this account.")
    try:
        old_key = jose.JWK.from_json(inner.get("oldKey"))
    except Exception:
        raise malformed("The inner payload's oldKey is not a key.") from None
    if old_key.public_key() != jose.JWK.from_json(account.jwk).public_key():
        raise malformed("oldKey is not the account's current key.")
    thumbprint = key_thumbprint(new_key)
    with transaction.atomic():
        taken = AcmeAccount.objects.filter(thumbprint=thumbprint).exclude(pk=account.pk).first()
        if taken is not None:
            raise AcmeProblem("malformed", "Another account has that key.", status=409)
        try:
            with transaction.atomic():
                AcmeAccount.objects.filter(pk=account.pk).update(
                    jwk=new_key.public_key().to_partial_json(), thumbprint=thumbprint
                )
        except IntegrityError:
            raise AcmeProblem("malformed", "Another account has that key.", status=409) from None
        record_event(actor=account.owner, action="acme_account.key_change", target=account)
    account.refresh_from_db()
    return account
