"""Every parser of untrusted input answers a damaged or crafted input within a second.

Valid files of each kind the console reads (PEM certificates, chains and keys for the
upload, DER, PKCS#7, PKCS#12 and encrypted keys for the converter, CSRs for the
application) are mutated, and each mutation is given to the parser that reads that kind:
it must accept it or refuse it with the PKI core's error (PKIError), never raise anything
else, and answer in under a second.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs7, pkcs12
from cryptography.x509.oid import NameOID
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from certificates.pki import csr
from certificates.pki.convert import convert_to_pem
from certificates.pki.errors import PKIError
from certificates.pki.parsing import load_private_key, parse_bundle
from tests.pki import crafted
from tests.pki.crafted import pem

SECOND = 1.0


@dataclass(frozen=True)
class Target:
    seed: bytes  # DER or other binary form
    read: Callable[[bytes], object]
    pem_label: str | None = None  # wrap the mutated bytes in this PEM block first
    seed_accepted: bool = True  # False where the unmutated seed is refused by design


def der(key, private_format, encryption=None) -> bytes:
    return key.private_bytes(
        serialization.Encoding.DER, private_format, encryption or serialization.NoEncryption()
    )


class Targets(dict):
    def __repr__(self) -> str:
        return "targets"  # Hypothesis shows the arguments of a failing example


@pytest.fixture(scope="module")
def targets(ec_leaf, rsa_leaf, intermediate_ca, root_ca, rsa_key) -> Targets:
    chain_pem = (intermediate_ca.cert_pem + root_ca.cert_pem).encode()
    leaf_pem = ec_leaf.cert_pem.encode()
    secret = serialization.BestAvailableEncryption(b"secret")
    encrypted_key = der(ec_leaf.key, serialization.PrivateFormat.PKCS8, secret)
    request = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "www.example.com")]))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("www.example.com")]), False)
        .sign(ec_leaf.key, hashes.SHA256())
    )

    def convert(password: str | None = "secret") -> Callable[[bytes], object]:
        return lambda data: convert_to_pem(data, password)

    return Targets(
        {
            "upload: leaf of a chain": Target(
                ec_leaf.cert.public_bytes(serialization.Encoding.DER),
                lambda text: parse_bundle(text + chain_pem, ec_leaf.key_pem),
                "CERTIFICATE",
            ),
            "upload: intermediate of a chain": Target(
                intermediate_ca.cert.public_bytes(serialization.Encoding.DER),
                lambda text: parse_bundle(leaf_pem + text, ec_leaf.key_pem),
                "CERTIFICATE",
            ),
            "upload: PKCS#8 EC key": Target(
                der(ec_leaf.key, serialization.PrivateFormat.PKCS8), load_private_key, "PRIVATE KEY"
            ),
            "upload: PKCS#1 RSA key": Target(
                der(rsa_key, serialization.PrivateFormat.TraditionalOpenSSL),
                load_private_key,
                "RSA PRIVATE KEY",
            ),
            "upload: encrypted key": Target(
                encrypted_key, load_private_key, "ENCRYPTED PRIVATE KEY", seed_accepted=False
            ),
            "converter: DER certificate": Target(
                rsa_leaf.cert.public_bytes(serialization.Encoding.DER), convert(None)
            ),
            "converter: DER key": Target(
                der(ec_leaf.key, serialization.PrivateFormat.PKCS8), convert()
            ),
            "converter: encrypted DER key": Target(encrypted_key, convert()),
            "converter: encrypted PEM key": Target(
                encrypted_key, convert(), "ENCRYPTED PRIVATE KEY"
            ),
            "converter: PKCS#7": Target(
                pkcs7.serialize_certificates(
                    [ec_leaf.cert, intermediate_ca.cert], serialization.Encoding.DER
                ),
                convert(None),
            ),
            "converter: PKCS#12 (AES)": Target(
                pkcs12.serialize_key_and_certificates(
                    b"shop", ec_leaf.key, ec_leaf.cert, [intermediate_ca.cert], secret
                ),
                convert(),
            ),
            "converter: PKCS#12 (AES) without its password": Target(
                pkcs12.serialize_key_and_certificates(
                    b"shop", ec_leaf.key, ec_leaf.cert, None, secret
                ),
                convert(None),
                seed_accepted=False,
            ),
            "converter: PKCS#12 (3DES)": Target(
                pkcs12.serialize_key_and_certificates(
                    b"shop", ec_leaf.key, ec_leaf.cert, None, crafted.triple_des(2048)
                ),
                convert(),
            ),
            "converter: PKCS#12 with the key in an encrypted part": Target(
                crafted.key_hidden_in_encrypted_part(encrypted_key, b"secret"), convert()
            ),
            "application: CSR": Target(
                request.public_bytes(serialization.Encoding.DER),
                lambda text: csr.check_csr(csr.load_csr(text), ["www.example.com"]),
                "CERTIFICATE REQUEST",
            ),
        }
    )


@st.composite
def mutations(draw, seed: bytes) -> bytes:
    """The seed with a few bytes changed, cut, inserted or repeated, or integers maxed."""
    data = bytearray(seed)
    if draw(st.integers(0, 20)) == 0:
        return draw(st.binary(max_size=2048))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        edit = draw(st.sampled_from(["set", "cut", "insert", "repeat", "max-integer"]))
        if edit == "set" and data:
            data[at] = draw(st.integers(0, 255))
        elif edit == "cut":
            del data[at : at + draw(st.integers(1, 64))]
        elif edit == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif edit == "repeat":
            data[at:at] = data[at : at + draw(st.integers(1, 64))] * draw(st.integers(1, 8))
        elif edit == "max-integer":
            # The largest value an INTEGER (an iteration count, an exponent) can hold in its
            # own length, so that every length byte stays valid.
            starts = [i for i in range(len(data) - 1) if data[i] == 0x02 and 1 <= data[i + 1] <= 4]
            if starts:
                start = draw(st.sampled_from(starts))
                size = data[start + 1]
                data[start + 2 : start + 2 + size] = b"\x7f" + b"\xff" * (size - 1)
    return bytes(data)


TARGETS = [
    "upload: leaf of a chain",
    "upload: intermediate of a chain",
    "upload: PKCS#8 EC key",
    "upload: PKCS#1 RSA key",
    "upload: encrypted key",
    "converter: DER certificate",
    "converter: DER key",
    "converter: encrypted DER key",
    "converter: encrypted PEM key",
    "converter: PKCS#7",
    "converter: PKCS#12 (AES)",
    "converter: PKCS#12 (AES) without its password",
    "converter: PKCS#12 (3DES)",
    "converter: PKCS#12 with the key in an encrypted part",
    "application: CSR",
]


def test_every_target_is_fuzzed(targets):
    assert sorted(targets) == sorted(TARGETS)


def test_the_seeds_themselves_are_accepted(targets):
    for target in targets.values():
        data = pem(target.pem_label, target.seed) if target.pem_label else target.seed
        if target.seed_accepted:
            target.read(data)
        else:
            with pytest.raises(PKIError):
                target.read(data)


@pytest.mark.parametrize("name", TARGETS)
@settings(
    max_examples=40,
    deadline=None,
    # The same examples on every run, so that CI is not flaky; raise max_examples and
    # remove derandomize locally to search further (600 per target found nothing more).
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_each_mutated_input_is_answered_within_a_second(targets, name, data):
    target = targets[name]
    mutated = data.draw(mutations(target.seed))
    if target.pem_label:
        mutated = pem(target.pem_label, mutated)
    start = time.perf_counter()
    with contextlib.suppress(PKIError):
        target.read(mutated)
    elapsed = time.perf_counter() - start
    assert elapsed < SECOND, f"{name}: {elapsed:.2f} s"
