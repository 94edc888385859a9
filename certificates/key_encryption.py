"""Encryption at rest for private keys (customers' keys and the CAs').

MultiFernet encrypts with the first of KEY_ENCRYPTION_KEYS and decrypts with any
of them, so a new key is rolled out by putting it first; `rotated` re-encrypts an
old token with it (manage.py rotate_keys does so for every stored key), after
which the old key can be removed.
"""

from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class KeyDecryptionError(Exception):
    """No configured key can decrypt this token (it was encrypted with a retired key)."""


@cache
def _fernets(keys: tuple[str, ...]) -> tuple[Fernet, ...]:
    return tuple(Fernet(key) for key in keys)


@cache
def _multi(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet(list(_fernets(keys)))


def _keys() -> tuple[str, ...]:
    return tuple(settings.KEY_ENCRYPTION_KEYS)


def encrypt_private_key(pem: str) -> str:
    return _multi(_keys()).encrypt(pem.encode()).decode()


def decrypt_private_key(token: str) -> str:
    try:
        return _multi(_keys()).decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise KeyDecryptionError("The private key cannot be decrypted with the keys set.") from exc


def rotate(token: str) -> str:
    """Re-encrypt `token` with the newest key, whichever configured key encrypted it."""
    try:
        return _multi(_keys()).rotate(token.encode()).decode()
    except InvalidToken as exc:
        raise KeyDecryptionError("The private key cannot be decrypted with the keys set.") from exc


def rotated(token: str) -> str | None:
    """`token` re-encrypted with the newest key, or None when the newest key already made it.

    Fernet has no key id in its tokens: the newest key alone either verifies the
    token or not. Leaving current tokens alone is what makes a second run of
    rotate_keys change nothing.
    """
    try:
        _fernets(_keys())[0].decrypt(token.encode())
    except InvalidToken:
        return rotate(token)
    return None
