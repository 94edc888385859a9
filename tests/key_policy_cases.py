"""Keys the key policy refuses, one per case, with the words of its refusal.

Made for real (each can sign a CSR), so the same cases run through the pure check, the
apply form's manual CSR and the issuance gate.
"""

from __future__ import annotations

import functools
import math
import secrets
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from pyasn1.codec.der import decoder, encoder
from pyasn1.type import univ
from pyasn1_alt_modules import rfc2986

from certificates.pki.csr import build_csr
from tests.pki.crafted import pem


@dataclass(frozen=True)
class BadKey:
    name: str
    words: str

    def key(self):
        return _KEYS[self.name]()


def _is_probable_prime(number: int, rounds: int = 32) -> bool:
    if number < 4:
        return number in (2, 3)
    if number % 2 == 0:
        return False
    d, s = number - 1, 0
    while d % 2 == 0:
        d, s = d // 2, s + 1
    for _ in range(rounds):
        x = pow(secrets.randbelow(number - 3) + 2, d, number)
        if x in (1, number - 1):
            continue
        for _ in range(s - 1):
            x = pow(x, 2, number)
            if x == number - 1:
                break
        else:
            return False
    return True


def _next_prime(start: int) -> int:
    candidate = start | 1
    while not _is_probable_prime(candidate):
        candidate += 2
    return candidate


def rsa_key_from_primes(p: int, q: int, e: int = 65537) -> rsa.RSAPrivateKey:
    """An RSA key from two primes and an exponent (which must be invertible)."""
    d = pow(e, -1, math.lcm(p - 1, q - 1))
    public = rsa.RSAPublicNumbers(e, p * q)
    return rsa.RSAPrivateNumbers(
        p=p,
        q=q,
        d=d,
        dmp1=d % (p - 1),
        dmq1=d % (q - 1),
        iqmp=pow(q, -1, p),
        public_numbers=public,
    ).private_key(unsafe_skip_rsa_key_validation=True)


@functools.cache
def _fermat() -> rsa.RSAPrivateKey:
    # Two 1024-bit primes that share their top half: Fermat's method finds them at once.
    p = _next_prime((3 << 1022) | secrets.randbits(1022))
    return rsa_key_from_primes(p, _next_prime(p + 2))


@functools.cache
def _exponent(e: int) -> rsa.RSAPrivateKey:
    while True:
        p = _next_prime((3 << 1022) | secrets.randbits(1022))
        q = _next_prime((3 << 1022) | secrets.randbits(1022))
        if math.gcd(e, math.lcm(p - 1, q - 1)) == 1:
            return rsa_key_from_primes(p, q, e)


_KEYS = {
    "rsa_1024": functools.cache(lambda: rsa.generate_private_key(65537, 1024)),
    "rsa_2052_bits": functools.cache(lambda: rsa.generate_private_key(65537, 2052)),
    "rsa_exponent_3": functools.cache(lambda: rsa.generate_private_key(3, 2048)),
    "rsa_exponent_65539": lambda: _exponent(65539),
    "rsa_exponent_too_large": lambda: _exponent(2**256 + 1),
    "rsa_fermat": _fermat,
    "ec_p521": functools.cache(lambda: ec.generate_private_key(ec.SECP521R1())),
    "ec_secp256k1": functools.cache(lambda: ec.generate_private_key(ec.SECP256K1())),
}

BAD_KEYS = [
    BadKey("rsa_1024", "The RSA key is only 1024 bits"),
    BadKey("rsa_2052_bits", "not a whole number of bytes"),
    BadKey("rsa_exponent_3", "public exponent (3) is not safe"),
    BadKey("rsa_exponent_65539", "signs only keys with the exponent 65537"),
    BadKey("rsa_exponent_too_large", "must be odd and between 65537 and 2^256-1"),
    BadKey("rsa_fermat", "Fermat's factorization"),
    BadKey("ec_p521", "Mozilla's root store policy"),
    BadKey("ec_secp256k1", "The ECC curve secp256k1 is not supported"),
]


def sha1_csr_pem(key: rsa.RSAPrivateKey, domains: list[str]) -> str:
    """A valid CSR signed with SHA-1, which cryptography no longer makes: a SHA-256 one
    re-signed, its algorithm changed to sha1WithRSAEncryption."""
    der = build_csr(key, domains).public_bytes(serialization.Encoding.DER)
    request, _ = decoder.decode(der, asn1Spec=rfc2986.CertificationRequest())
    info = encoder.encode(request["certificationRequestInfo"])
    request["signatureAlgorithm"]["algorithm"] = univ.ObjectIdentifier("1.2.840.113549.1.1.5")
    signature = key.sign(info, padding.PKCS1v15(), hashes.SHA1())
    request["signature"] = univ.BitString.fromOctetString(signature)
    return pem("CERTIFICATE REQUEST", encoder.encode(request)).decode()
