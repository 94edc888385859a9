"""Password-based encryption of PKCS#12 files and PKCS#8 keys, read before any key is derived.

A password-protected file says how many iterations of password hashing open it, and
OpenSSL does as many as it says: a 1 KB PKCS#12 file asking for 2^31-1 kept a worker
busy for minutes. The functions here read every count of a file (with pyasn1) and refuse
the file when they add up to more than a bound, before OpenSSL or anything else derives a
key from the password.

In a PKCS#12 file a private key can sit inside an encrypted part, where its own count can
only be read once that part is decrypted. So this module decrypts those parts itself, each
one after its count has been checked against the bound, and reads what is inside too.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from Crypto.Cipher import ARC2
from cryptography.hazmat.decrepit.ciphers.algorithms import ARC4, TripleDES
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from pyasn1.codec.ber import decoder
from pyasn1.error import PyAsn1Error
from pyasn1.type import univ
from pyasn1_alt_modules import rfc5652, rfc5958, rfc7292, rfc7914, rfc8018

from certificates.pki.errors import ConversionError, TooManyIterationsError, WrongPasswordError
from certificates.pki.i18n import N_, Message

# The most iterations one file may ask for, added up over its MAC and every encrypted part.
# Exporters write about 2,000 to 10,000 per part today (OpenSSL 2,048, Windows 2,000, Java
# 10,000) and a few go to 100,000 or more; a million is well above all of them and still only
# seconds of work. The console passes its PKCS12_MAX_ITERATIONS setting.
DEFAULT_MAX_ITERATIONS = 1_000_000

# PKCS#12 PBE (RFC 7292 appendix C): cipher, key length and IV length.
_PKCS12_PBE = {
    rfc7292.pbeWithSHAAnd128BitRC4: ("rc4", 16, 0),
    rfc7292.pbeWithSHAAnd40BitRC4: ("rc4", 5, 0),
    rfc7292.pbeWithSHAAnd3_KeyTripleDES_CBC: ("3des", 24, 8),
    rfc7292.pbeWithSHAAnd2_KeyTripleDES_CBC: ("3des", 16, 8),
    rfc7292.pbeWithSHAAnd128BitRC2_CBC: ("rc2", 16, 8),
    rfc7292.pbeWithSHAAnd40BitRC2_CBC: ("rc2", 5, 8),
}
# PBES1 (RFC 8018 section 6.1): their counts are read, but only for keys that cryptography
# decrypts; PKCS#12 parts encrypted with them are refused.
_PBES1 = frozenset(
    {
        rfc8018.pbeWithMD2AndDES_CBC,
        rfc8018.pbeWithMD2AndRC2_CBC,
        rfc8018.pbeWithMD5AndDES_CBC,
        rfc8018.pbeWithMD5AndRC2_CBC,
        rfc8018.pbeWithSHA1AndDES_CBC,
        rfc8018.pbeWithSHA1AndRC2_CBC,
    }
)
# PBES2's ciphers: name and key length.
_PBES2_CIPHERS = {
    rfc8018.aes128_CBC_PAD: ("aes", 16),
    rfc8018.aes192_CBC_PAD: ("aes", 24),
    rfc8018.aes256_CBC_PAD: ("aes", 32),
    rfc8018.des_EDE3_CBC: ("3des", 24),
}
_PBKDF2_HASHES = {
    rfc8018.id_hmacWithSHA1: "sha1",
    rfc8018.id_hmacWithSHA224: "sha224",
    rfc8018.id_hmacWithSHA256: "sha256",
    rfc8018.id_hmacWithSHA384: "sha384",
    rfc8018.id_hmacWithSHA512: "sha512",
}
# No cipher or MAC needs a longer key; a longer one only multiplies PBKDF2's work.
_MAX_KEY_LENGTH = 64
# scrypt needs 128 * N * r bytes; OpenSSL allows 32 MB.
_SCRYPT_MAX_MEMORY = 32 * 1024 * 1024 + 1024 * 1024
# Safe contents inside safe contents: real files nest once at most.
_MAX_NESTING = 4

_DAMAGED = N_("The PKCS#12 (.pfx/.p12) file is damaged: its structure could not be read.")


@dataclass
class _Budget:
    limit: int
    spent: int = 0

    def spend(self, iterations: int, part: Message) -> None:
        """Count the iterations of one key derivation; called before that derivation.
        `part` names what the derivation protects (a noun, shown in the messages)."""
        if iterations < 1:
            raise ConversionError(
                N_("The %(part)s of this file has an invalid iteration count."), part=part
            )
        if iterations > self.limit:
            raise TooManyIterationsError(
                N_(
                    "The %(part)s of this file is protected with %(iterations)s iterations of "
                    "password hashing; the console accepts at most %(limit)s. Export it again "
                    "with the usual settings: OpenSSL, Windows and Java use 2,000 to 10,000 "
                    "iterations."
                ),
                part=part,
                iterations=format(iterations, ","),
                limit=format(self.limit, ","),
            )
        self.spent += iterations
        if self.spent > self.limit:
            raise TooManyIterationsError(
                N_(
                    "This file is protected with %(spent)s iterations of password hashing in "
                    "all; the console accepts at most %(limit)s. Export it again with the usual "
                    "settings: OpenSSL, Windows and Java use 2,000 to 10,000 iterations."
                ),
                spent=format(self.spent, ","),
                limit=format(self.limit, ","),
            )


class _NotThisPassword(Exception):
    """Decryption with one form of the password gave no valid plaintext."""


# --- Encrypted PKCS#8 keys --------------------------------------------------------------


def check_encrypted_private_key(der: bytes, *, max_iterations: int) -> None:
    """Refuse an EncryptedPrivateKeyInfo that asks for more than max_iterations.

    Raises TooManyIterationsError, or ConversionError for a damaged or unknown encryption.
    """
    info = _decode(
        der, rfc5958.EncryptedPrivateKeyInfo(), N_("The encrypted private key is damaged.")
    )
    _Budget(max_iterations).spend(
        _iterations(info["encryptionAlgorithm"]), Message(N_("private key"))
    )


# --- PKCS#12 ----------------------------------------------------------------------------


def inspect_pkcs12(data: bytes, password: bytes | None, *, max_iterations: int) -> list[bytes]:
    """Check every iteration count of a PKCS#12 file and return its private keys, decrypted.

    The keys come back as PKCS#8 DER (so the caller can check them before OpenSSL loads
    them). Raises TooManyIterationsError before any derivation the bound does not allow,
    WrongPasswordError, or ConversionError for a damaged file or an unknown encryption.
    """
    budget = _Budget(max_iterations)
    pfx = _decode(data, rfc7292.PFX())
    if pfx["macData"].isValue:
        budget.spend(_mac_iterations(pfx["macData"]), Message(N_("integrity check (MAC)")))
    if pfx["authSafe"]["contentType"] != rfc5652.id_data:
        # OpenSSL reads only password-integrity files, whose contents are "data"; it refuses
        # the others without deriving a key.
        return []
    contents = _decode(_octets(pfx["authSafe"]["content"]), rfc7292.AuthenticatedSafe())

    # First every count that can be read without a password, then the encrypted parts.
    parts: list[univ.Sequence] = []
    shrouded_keys: list[univ.Sequence] = []
    keys: list[bytes] = []
    for content in contents:
        if content["contentType"] == rfc5652.id_data:
            bags = _decode(_octets(content["content"]), rfc7292.SafeContents())
            _read_bags(bags, budget, shrouded_keys, keys)
        elif content["contentType"] == rfc5652.id_encryptedData:
            encrypted = _decode(bytes(content["content"]), rfc5652.EncryptedData())
            info = encrypted["encryptedContentInfo"]
            budget.spend(
                _iterations(info["contentEncryptionAlgorithm"]), Message(N_("encrypted part"))
            )
            parts.append(info)
    passwords = _password_forms(password)
    for info in parts:
        algorithm = info["contentEncryptionAlgorithm"]
        ciphertext = _octets_value(info["encryptedContent"])
        _, bags = _decrypt(algorithm, ciphertext, passwords, rfc7292.SafeContents())
        _read_bags(bags, budget, shrouded_keys, keys)
    for key in shrouded_keys:
        ciphertext = _octets_value(key["encryptedData"])
        plaintext, _ = _decrypt(
            key["encryptionAlgorithm"], ciphertext, passwords, rfc5958.PrivateKeyInfo()
        )
        keys.append(plaintext)
    return keys


def _password_forms(password: bytes | None) -> list[bytes | None]:
    # Without a password OpenSSL tries "none" and then the empty password, which differ
    # for the PKCS#12 key derivation.
    return [password] if password else [None, b""]


def _mac_iterations(mac_data: univ.Sequence) -> int:
    algorithm = mac_data["mac"]["digestAlgorithm"]
    if algorithm["algorithm"] == rfc8018.id_PBMAC1:
        # RFC 9579: the count is PBKDF2's, not the (ignored) one of the MacData.
        params = _decode(bytes(algorithm["parameters"]), rfc8018.PBMAC1_params())
        return _kdf_iterations(params["keyDerivationFunc"])
    return int(mac_data["iterations"])


def _read_bags(
    bags: univ.SequenceOf,
    budget: _Budget,
    shrouded_keys: list[univ.Sequence],
    keys: list[bytes],
    depth: int = 0,
) -> None:
    for bag in bags:
        kind = bag["bagId"]
        if kind == rfc7292.id_pkcs8ShroudedKeyBag:
            key = _decode(bytes(bag["bagValue"]), rfc5958.EncryptedPrivateKeyInfo())
            budget.spend(_iterations(key["encryptionAlgorithm"]), Message(N_("private key")))
            shrouded_keys.append(key)
        elif kind == rfc7292.id_keyBag:
            keys.append(bytes(bag["bagValue"]))
        elif kind == rfc7292.id_safeContentsBag:
            if depth >= _MAX_NESTING:
                raise ConversionError(_DAMAGED)
            nested = _decode(bytes(bag["bagValue"]), rfc7292.SafeContents())
            _read_bags(nested, budget, shrouded_keys, keys, depth + 1)


# --- Iteration counts -------------------------------------------------------------------


def _iterations(algorithm: univ.Sequence) -> int:
    """The iterations an encryption AlgorithmIdentifier asks for, read without deriving."""
    oid = algorithm["algorithm"]
    if oid in _PKCS12_PBE:
        return int(
            _decode(bytes(algorithm["parameters"]), rfc7292.Pkcs_12PbeParams())["iterations"]
        )
    if oid in _PBES1:
        params = _decode(bytes(algorithm["parameters"]), rfc8018.PBEParameter())
        return int(params["iterationCount"])
    if oid == rfc8018.id_PBES2:
        params = _decode(bytes(algorithm["parameters"]), rfc8018.PBES2_params())
        return _kdf_iterations(params["keyDerivationFunc"])
    raise _unknown_encryption(oid)


def _kdf_iterations(kdf: univ.Sequence) -> int:
    oid = kdf["algorithm"]
    if oid == rfc8018.id_PBKDF2:
        params = _decode(bytes(kdf["parameters"]), rfc8018.PBKDF2_params())
        _check_key_length(params["keyLength"])
        return int(params["iterationCount"])
    if oid == rfc7914.id_scrypt:
        params = _decode(bytes(kdf["parameters"]), rfc7914.Scrypt_params())
        _check_key_length(params["keyLength"])
        # scrypt's work grows with N * r * p, about as PBKDF2's with its iteration count.
        return (
            int(params["costParameter"])
            * int(params["blockSize"])
            * int(params["parallelizationParameter"])
        )
    raise _unknown_encryption(oid)


def _check_key_length(key_length: univ.Integer) -> None:
    if key_length.isValue and int(key_length) > _MAX_KEY_LENGTH:
        raise ConversionError(
            N_(
                "The file asks for a %(key_length)s-byte key from its password, which no cipher "
                "uses. Export it again with the usual settings."
            ),
            key_length=format(int(key_length), ","),
        )


def _unknown_encryption(oid: univ.ObjectIdentifier) -> ConversionError:
    return ConversionError(
        N_(
            "The file is encrypted with a method the converter does not read (%(oid)s). Export it "
            "again with AES encryption, the default of current OpenSSL, Windows and Java."
        ),
        oid=oid,
    )


# --- Decryption (only to read what an encrypted part holds) -----------------------------


def _decrypt(
    algorithm: univ.Sequence,
    ciphertext: bytes,
    passwords: list[bytes | None],
    spec: univ.Asn1Item,
) -> tuple[bytes, univ.Asn1Item]:
    """Decrypt and decode one part, trying each form of the password; its cost was counted."""
    for password in passwords:
        try:
            plaintext = _decrypt_once(algorithm, ciphertext, password)
        except _NotThisPassword:
            continue
        try:
            return plaintext, _decode(plaintext, spec)
        except ConversionError:
            continue  # the padding happened to look right
    raise WrongPasswordError()


def _decrypt_once(algorithm: univ.Sequence, ciphertext: bytes, password: bytes | None) -> bytes:
    oid = algorithm["algorithm"]
    if oid in _PKCS12_PBE:
        cipher, key_length, iv_length = _PKCS12_PBE[oid]
        params = _decode(bytes(algorithm["parameters"]), rfc7292.Pkcs_12PbeParams())
        salt, iterations = bytes(params["salt"]), int(params["iterations"])
        secret = _bmp_password(password)
        key = _pkcs12_kdf(secret, salt, 1, iterations, key_length)
        iv = _pkcs12_kdf(secret, salt, 2, iterations, iv_length) if iv_length else b""
        return _run_cipher(cipher, key, iv, ciphertext)
    if oid == rfc8018.id_PBES2:
        params = _decode(bytes(algorithm["parameters"]), rfc8018.PBES2_params())
        scheme = params["encryptionScheme"]
        if scheme["algorithm"] not in _PBES2_CIPHERS:
            raise _unknown_encryption(scheme["algorithm"])
        cipher, key_length = _PBES2_CIPHERS[scheme["algorithm"]]
        iv = _octets(scheme["parameters"])
        key = _pbes2_key(params["keyDerivationFunc"], password or b"", key_length)
        return _run_cipher(cipher, key, iv, ciphertext)
    raise _unknown_encryption(oid)


def _pbes2_key(kdf: univ.Sequence, password: bytes, key_length: int) -> bytes:
    oid = kdf["algorithm"]
    if oid == rfc8018.id_PBKDF2:
        params = _decode(bytes(kdf["parameters"]), rfc8018.PBKDF2_params())
        salt = params["salt"]
        prf = params["prf"]["algorithm"]
        if salt.getName() != "specified" or prf not in _PBKDF2_HASHES:
            raise _unknown_encryption(prf)
        _check_derived_length(params["keyLength"], key_length)
        return hashlib.pbkdf2_hmac(
            _PBKDF2_HASHES[prf],
            password,
            bytes(salt["specified"]),
            int(params["iterationCount"]),
            key_length,
        )
    if oid == rfc7914.id_scrypt:
        params = _decode(bytes(kdf["parameters"]), rfc7914.Scrypt_params())
        _check_derived_length(params["keyLength"], key_length)
        try:
            return hashlib.scrypt(
                password,
                salt=bytes(params["salt"]),
                n=int(params["costParameter"]),
                r=int(params["blockSize"]),
                p=int(params["parallelizationParameter"]),
                maxmem=_SCRYPT_MAX_MEMORY,
                dklen=key_length,
            )
        except (ValueError, OverflowError):
            raise ConversionError(_DAMAGED) from None
    raise _unknown_encryption(oid)


def _check_derived_length(key_length: univ.Integer, expected: int) -> None:
    # OpenSSL refuses a stated key length that is not the cipher's.
    if key_length.isValue and int(key_length) != expected:
        raise ConversionError(_DAMAGED)


def _bmp_password(password: bytes | None) -> bytes:
    """The password as the PKCS#12 key derivation takes it: UTF-16 with two zero bytes."""
    if password is None:
        return b""
    try:
        text = password.decode("utf-8")
    except UnicodeDecodeError:
        text = password.decode("latin-1")  # as OpenSSL does with a password not in UTF-8
    return text.encode("utf-16-be") + b"\x00\x00"


def _pkcs12_kdf(password: bytes, salt: bytes, purpose: int, iterations: int, length: int) -> bytes:
    """RFC 7292 appendix B.2 with SHA-1, the hash of every PKCS#12 PBE scheme."""
    block, digest_size = 64, 20

    def fill(data: bytes) -> bytes:
        size = block * -(-len(data) // block)
        return (data * (size // len(data) + 1))[:size] if data else b""

    diversifier = bytes([purpose]) * block
    state = bytearray(fill(salt) + fill(password))
    derived = b""
    while True:
        digest = hashlib.sha1(diversifier + state).digest()
        for _ in range(iterations - 1):
            digest = hashlib.sha1(digest).digest()
        derived += digest
        if len(derived) >= length:
            return derived[:length]
        increment = int.from_bytes((digest * -(-block // digest_size))[:block], "big") + 1
        for start in range(0, len(state), block):
            value = (int.from_bytes(state[start : start + block], "big") + increment) % (
                1 << (8 * block)
            )
            state[start : start + block] = value.to_bytes(block, "big")


def _run_cipher(cipher: str, key: bytes, iv: bytes, ciphertext: bytes) -> bytes:
    try:
        if cipher == "rc4":
            return Cipher(ARC4(key), mode=None).decryptor().update(ciphertext)
        if cipher == "rc2":
            # cryptography's RC2 takes only 128-bit keys; Java and old OpenSSL use 40-bit ones.
            decrypted = ARC2.new(key, ARC2.MODE_CBC, iv=iv, effective_keylen=len(key) * 8).decrypt(
                ciphertext
            )
            block_size = 64
        else:
            algorithm = algorithms.AES(key) if cipher == "aes" else TripleDES(key)
            decryptor = Cipher(algorithm, modes.CBC(iv)).decryptor()
            decrypted = decryptor.update(ciphertext) + decryptor.finalize()
            block_size = algorithm.block_size
        unpadder = padding.PKCS7(block_size).unpadder()
        return unpadder.update(decrypted) + unpadder.finalize()
    except ValueError:
        # A wrong key shows as bad padding (or, for a damaged file, a bad length).
        raise _NotThisPassword() from None


# --- ASN.1 ------------------------------------------------------------------------------


def _decode(data: bytes, spec: univ.Asn1Item, message: str = _DAMAGED) -> univ.Asn1Item:
    # BER, not DER: Windows and Java write indefinite lengths and chunked strings.
    try:
        value, _ = decoder.decode(data, asn1Spec=spec)
    except (PyAsn1Error, RecursionError, ValueError, TypeError):
        raise ConversionError(message) from None
    return value


def _octets(value: univ.Any) -> bytes:
    """The bytes of an OCTET STRING held in an ANY (or an explicitly tagged field)."""
    return bytes(_decode(bytes(value), univ.OctetString()))


def _octets_value(value: univ.OctetString) -> bytes:
    if not value.isValue:
        raise ConversionError(_DAMAGED)
    return bytes(value)
