"""Hostile PKCS#12 files and encrypted keys, built with pyasn1 from ones cryptography makes.

Each asks OpenSSL for a costly key derivation: a huge iteration count in the MAC, in an
encrypted part, in a private key, or in a private key hidden inside an encrypted part.
Also the plain material those are built from: PEM armour and legacy PKCS#12 encryption.
"""

from __future__ import annotations

import base64
import os

from cryptography.hazmat.primitives import hashes, padding, serialization
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.serialization import pkcs12
from pyasn1.codec.der import decoder, encoder
from pyasn1.type import univ
from pyasn1_alt_modules import rfc5652, rfc5958, rfc7292, rfc7914, rfc8018

HUGE = 2**31 - 1


def pem(label: str, der: bytes) -> bytes:
    body = base64.b64encode(der).decode()
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return "\n".join([f"-----BEGIN {label}-----", *lines, f"-----END {label}-----", ""]).encode()


def triple_des(rounds: int) -> serialization.KeySerializationEncryption:
    """PKCS#12 encryption as macOS and older Windows write it: 3DES, SHA-1 MAC."""
    return (
        serialization.PrivateFormat.PKCS12.encryption_builder()
        .kdf_rounds(rounds)
        .key_cert_algorithm(pkcs12.PBES.PBESv1SHA1And3KeyTripleDESCBC)
        .hmac_hash(hashes.SHA1())
        .build(b"secret")
    )


def _decode(data: bytes, spec):
    value, rest = decoder.decode(data, asn1Spec=spec)
    assert not rest
    return value


def _octets(value) -> bytes:
    return bytes(_decode(bytes(value), univ.OctetString()))


# --- Encrypted PKCS#8 keys --------------------------------------------------------------


def with_kdf(encrypted_key: bytes, kdf: univ.Sequence) -> bytes:
    """An EncryptedPrivateKeyInfo (PBES2) whose key derivation is replaced by `kdf`."""
    info = _decode(encrypted_key, rfc5958.EncryptedPrivateKeyInfo())
    info["encryptionAlgorithm"]["parameters"] = _replace_pbes2_kdf(
        bytes(info["encryptionAlgorithm"]["parameters"]), kdf
    )
    return encoder.encode(info)


def with_key_iterations(encrypted_key: bytes, iterations: int) -> bytes:
    """An EncryptedPrivateKeyInfo (PBES2, PBKDF2) asking for `iterations`."""
    info = _decode(encrypted_key, rfc5958.EncryptedPrivateKeyInfo())
    _set_iterations(info["encryptionAlgorithm"], iterations)
    return encoder.encode(info)


def pbkdf2(iterations: int, *, key_length: int | None = None) -> univ.Sequence:
    params = rfc8018.PBKDF2_params()
    params["salt"]["specified"] = os.urandom(16)
    params["iterationCount"] = iterations
    if key_length is not None:
        params["keyLength"] = key_length
    params["prf"]["algorithm"] = rfc8018.id_hmacWithSHA256
    params["prf"]["parameters"] = encoder.encode(univ.Null(""))
    return _algorithm(rfc8018.id_PBKDF2, params)


def scrypt(n: int, r: int, p: int) -> univ.Sequence:
    params = rfc7914.Scrypt_params()
    params["salt"] = os.urandom(16)
    params["costParameter"] = n
    params["blockSize"] = r
    params["parallelizationParameter"] = p
    return _algorithm(rfc7914.id_scrypt, params)


def _algorithm(oid, params) -> univ.Sequence:
    algorithm = rfc8018.AlgorithmIdentifier()
    algorithm["algorithm"] = oid
    algorithm["parameters"] = encoder.encode(params)
    return algorithm


def _replace_pbes2_kdf(parameters: bytes, kdf: univ.Sequence) -> bytes:
    params = _decode(parameters, rfc8018.PBES2_params())
    params["keyDerivationFunc"]["algorithm"] = kdf["algorithm"]
    params["keyDerivationFunc"]["parameters"] = kdf["parameters"]
    return encoder.encode(params)


def _set_iterations(algorithm: univ.Sequence, iterations: int) -> None:
    """Set the count of a PBES2 (PBKDF2) or PKCS#12 PBE AlgorithmIdentifier in place."""
    if algorithm["algorithm"] == rfc8018.id_PBES2:
        params = _decode(bytes(algorithm["parameters"]), rfc8018.PBES2_params())
        kdf = _decode(bytes(params["keyDerivationFunc"]["parameters"]), rfc8018.PBKDF2_params())
        kdf["iterationCount"] = iterations
        params["keyDerivationFunc"]["parameters"] = encoder.encode(kdf)
    else:
        params = _decode(bytes(algorithm["parameters"]), rfc7292.Pkcs_12PbeParams())
        params["iterations"] = iterations
    algorithm["parameters"] = encoder.encode(params)


# --- PKCS#12 ----------------------------------------------------------------------------


def with_mac_iterations(pfx: bytes, iterations: int) -> bytes:
    """The file with its MAC's iteration count rewritten (the MAC no longer verifies)."""
    value = _decode(pfx, rfc7292.PFX())
    value["macData"]["iterations"] = iterations
    return encoder.encode(value)


def with_pbmac1(pfx: bytes, iterations: int) -> bytes:
    """The file with an RFC 9579 PBMAC1 MAC whose PBKDF2 asks for `iterations`."""
    value = _decode(pfx, rfc7292.PFX())
    params = rfc8018.PBMAC1_params()
    kdf = pbkdf2(iterations, key_length=32)
    params["keyDerivationFunc"]["algorithm"] = kdf["algorithm"]
    params["keyDerivationFunc"]["parameters"] = kdf["parameters"]
    params["messageAuthScheme"]["algorithm"] = rfc8018.id_hmacWithSHA256
    params["messageAuthScheme"]["parameters"] = encoder.encode(univ.Null(""))
    digest = value["macData"]["mac"]["digestAlgorithm"]
    digest["algorithm"] = rfc8018.id_PBMAC1
    digest["parameters"] = encoder.encode(params)
    value["macData"]["iterations"] = 1
    return encoder.encode(value)


def with_part_iterations(pfx: bytes, iterations: int, *, kind) -> bytes:
    """The file with every encrypted part (rfc5652.id_encryptedData) or every private key
    (rfc7292.id_pkcs8ShroudedKeyBag) outside encrypted parts asking for `iterations`."""
    value = _decode(pfx, rfc7292.PFX())
    contents = _decode(_octets(value["authSafe"]["content"]), rfc7292.AuthenticatedSafe())
    for content in contents:
        if content["contentType"] == rfc5652.id_encryptedData and kind == rfc5652.id_encryptedData:
            encrypted = _decode(bytes(content["content"]), rfc5652.EncryptedData())
            _set_iterations(
                encrypted["encryptedContentInfo"]["contentEncryptionAlgorithm"], iterations
            )
            content["content"] = encoder.encode(encrypted)
        elif content["contentType"] == rfc5652.id_data and kind == rfc7292.id_pkcs8ShroudedKeyBag:
            bags = _decode(_octets(content["content"]), rfc7292.SafeContents())
            for bag in bags:
                if bag["bagId"] == rfc7292.id_pkcs8ShroudedKeyBag:
                    bag["bagValue"] = with_key_iterations(bytes(bag["bagValue"]), iterations)
            content["content"] = encoder.encode(univ.OctetString(encoder.encode(bags)))
    value["authSafe"]["content"] = encoder.encode(univ.OctetString(encoder.encode(contents)))
    return encoder.encode(value)


def key_hidden_in_encrypted_part(
    encrypted_key: bytes, password: bytes, *, parts: int = 1, iterations: int = 2048
) -> bytes:
    """A PKCS#12 file without a MAC whose private key sits inside an encrypted part.

    Only a reader that decrypts the part sees the key's own iteration count; OpenSSL
    decrypts the part and then derives the key's key as often as that count says.
    """
    bag = rfc7292.SafeBag()
    bag["bagId"] = rfc7292.id_pkcs8ShroudedKeyBag
    bag["bagValue"] = encrypted_key
    bags = rfc7292.SafeContents()
    bags.append(bag)
    contents = rfc7292.AuthenticatedSafe()
    for _ in range(parts):
        contents.append(_encrypted_part(encoder.encode(bags), password, iterations))
    pfx = rfc7292.PFX()
    pfx["version"] = 3
    pfx["authSafe"]["contentType"] = rfc5652.id_data
    pfx["authSafe"]["content"] = encoder.encode(univ.OctetString(encoder.encode(contents)))
    return encoder.encode(pfx)


def _encrypted_part(plaintext: bytes, password: bytes, iterations: int) -> rfc5652.ContentInfo:
    """PBES2 (PBKDF2-SHA256, AES-256-CBC) encryption of `plaintext`, as OpenSSL 3 writes it."""
    import hashlib

    kdf = pbkdf2(iterations)
    kdf_params = _decode(bytes(kdf["parameters"]), rfc8018.PBKDF2_params())
    salt = bytes(kdf_params["salt"]["specified"])
    key = hashlib.pbkdf2_hmac("sha256", password, salt, iterations, 32)
    iv = os.urandom(16)
    padder = padding.PKCS7(128).padder()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    ciphertext = (
        encryptor.update(padder.update(plaintext) + padder.finalize()) + encryptor.finalize()
    )

    params = rfc8018.PBES2_params()
    params["keyDerivationFunc"]["algorithm"] = kdf["algorithm"]
    params["keyDerivationFunc"]["parameters"] = kdf["parameters"]
    params["encryptionScheme"]["algorithm"] = rfc8018.aes256_CBC_PAD
    params["encryptionScheme"]["parameters"] = encoder.encode(univ.OctetString(iv))
    encrypted = rfc5652.EncryptedData()
    encrypted["version"] = 0
    info = encrypted["encryptedContentInfo"]
    info["contentType"] = rfc5652.id_data
    info["contentEncryptionAlgorithm"]["algorithm"] = rfc8018.id_PBES2
    info["contentEncryptionAlgorithm"]["parameters"] = encoder.encode(params)
    info["encryptedContent"] = ciphertext
    content = rfc5652.ContentInfo()
    content["contentType"] = rfc5652.id_encryptedData
    content["content"] = encoder.encode(encrypted)
    return content
