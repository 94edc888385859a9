"""The compromised-key list: keys no certificate is signed for again.

A key goes on the list when a certificate is revoked for key compromise, when
someone proves possession of it on the public key-compromise page, or when
ACME's revokeCert is signed with the certificate's own key. The key policy
checks every key against it, whoever the customer.
"""

from certificates.models import Certificate, CompromisedKey
from certificates.pki.parsing import KeyLike, public_key_sha256


def is_listed(key: KeyLike) -> bool:
    return CompromisedKey.objects.filter(public_key_sha256=public_key_sha256(key)).exists()


def add(*, key_sha256: str, source: str, certificate: Certificate | None = None) -> CompromisedKey:
    """List a key (by its SubjectPublicKeyInfo hash); listing it again changes nothing."""
    listed, _ = CompromisedKey.objects.get_or_create(
        public_key_sha256=key_sha256,
        defaults={"source": source, "certificate": certificate},
    )
    return listed
