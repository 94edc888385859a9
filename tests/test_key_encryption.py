import pytest
from cryptography.fernet import Fernet

from certificates.key_encryption import (
    KeyDecryptionError,
    decrypt_private_key,
    encrypt_private_key,
    rotate,
)

PEM = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n"


def test_encrypted_key_reads_back_and_does_not_contain_the_key(settings):
    settings.KEY_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    token = encrypt_private_key(PEM)
    assert "PRIVATE KEY" not in token
    assert decrypt_private_key(token) == PEM


def test_keys_can_be_rotated(settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.KEY_ENCRYPTION_KEYS = [old]
    token = encrypt_private_key(PEM)

    settings.KEY_ENCRYPTION_KEYS = [new, old]
    assert decrypt_private_key(token) == PEM
    rotated = rotate(token)

    settings.KEY_ENCRYPTION_KEYS = [new]
    assert decrypt_private_key(rotated) == PEM
    with pytest.raises(KeyDecryptionError):
        decrypt_private_key(token)
