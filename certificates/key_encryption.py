"""Encryption at rest for private keys (customers' keys and, later, the CA's).

MultiFernet encrypts with the first of KEY_ENCRYPTION_KEYS and decrypts with any
of them, so a new key is rolled out by putting it first and `rotate` re-encrypts
old tokens with it.
"""

from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class KeyDecryptionError(Exception):
    """No configured key can decrypt this token (it was encrypted with a retired key)."""


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in keys])


def _current() -> MultiFernet:
    return _fernet(tuple(settings.KEY_ENCRYPTION_KEYS))


def encrypt_private_key(pem: str) -> str:
    return _current().encrypt(pem.encode()).decode()


def decrypt_private_key(token: str) -> str:
    try:
        return _current().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise KeyDecryptionError("The private key cannot be decrypted with the keys set.") from exc


def rotate(token: str) -> str:
    """Re-encrypt `token` with the newest key."""
    return _current().rotate(token.encode()).decode()
