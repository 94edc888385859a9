"""The targets' credentials, made and read without Django: webhook signing secrets and SSH
client keys (Ed25519, made here with cryptography; pasted ones are checked)."""

import enum
import secrets

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

# 32 random bytes, as URL-safe text: the shared secret of a webhook's HMAC-SHA256.
SECRET_BYTES = 32
MIN_PASTED_SECRET_LENGTH = 16
MAX_KEY_LENGTH = 16_384


class CredentialChoice(enum.StrEnum):
    """How a target's credential is set: made by the console, pasted, or left as it is."""

    GENERATE = "generate"
    PASTE = "paste"
    KEEP = "keep"


class CredentialError(ValueError):
    """A pasted credential that cannot be used; the message is for the customer."""


def new_webhook_secret() -> str:
    return secrets.token_urlsafe(SECRET_BYTES)


def check_webhook_secret(secret: str) -> str:
    secret = secret.strip()
    if len(secret) < MIN_PASTED_SECRET_LENGTH:
        raise CredentialError(
            f"A signing secret must be at least {MIN_PASTED_SECRET_LENGTH} characters long."
        )
    if any(ch.isspace() for ch in secret) or not secret.isprintable():
        raise CredentialError("A signing secret cannot contain spaces or control characters.")
    return secret


def new_ssh_key() -> tuple[str, str]:
    """A new Ed25519 client key: (private key in OpenSSH PEM, public key as an OpenSSH line)."""
    key = ed25519.Ed25519PrivateKey.generate()
    return _private_openssh(key), _public_line(key)


def read_ssh_key(text: str) -> tuple[str, str]:
    """A pasted client key (OpenSSH or PKCS#8/PEM, unencrypted; Ed25519, ECDSA or RSA of
    2048 bits or more), normalized: (private key in OpenSSH PEM, public OpenSSH line)."""
    data = text.strip().encode()
    if not data:
        raise CredentialError("Paste a private key, or let the console generate one.")
    if len(data) > MAX_KEY_LENGTH:
        raise CredentialError("This is too long to be an SSH private key.")
    try:
        if b"OPENSSH PRIVATE KEY" in data:
            key = serialization.load_ssh_private_key(data, password=None)
        else:
            key = serialization.load_pem_private_key(data, password=None)
    except TypeError:
        raise CredentialError(
            "This private key is protected by a passphrase: paste it unencrypted."
        ) from None
    except (ValueError, UnsupportedAlgorithm):
        raise CredentialError(
            "This is not an SSH private key (OpenSSH or PEM format) the console can read."
        ) from None
    if isinstance(key, rsa.RSAPrivateKey):
        if key.key_size < 2048:
            raise CredentialError("An RSA key must have at least 2048 bits.")
    elif not isinstance(key, ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey):
        raise CredentialError("Use an Ed25519, ECDSA or RSA key.")
    return _private_openssh(key), _public_line(key)


def _private_openssh(key) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    ).decode()


def _public_line(key) -> str:
    line = (
        key.public_key()
        .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        .decode()
    )
    return f"{line} ssl-certificates-console"
