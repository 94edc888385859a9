"""The key policy of every certificate the CA signs, case by case (certificates.pki.csr)."""

import re

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from certificates.pki.csr import (
    build_csr,
    check_csr,
    check_subscriber_key,
    fermat_factor,
    load_csr,
)
from certificates.pki.errors import CSRSignedWithSHA1Error, PKIError
from tests.key_policy_cases import BAD_KEYS, BadKey, sha1_csr_pem


@pytest.mark.parametrize("case", BAD_KEYS, ids=lambda case: case.name)
def test_each_refused_key_gets_its_own_message(case: BadKey):
    with pytest.raises(PKIError, match=re.escape(case.words)):
        check_subscriber_key(case.key().public_key())


def test_every_refusal_has_different_words():
    messages = set()
    for case in BAD_KEYS:
        with pytest.raises(PKIError) as refused:
            check_subscriber_key(case.key().public_key())
        messages.add(refused.value.message)
    assert len(messages) == len(BAD_KEYS)


@pytest.mark.parametrize(
    "key",
    [
        rsa.generate_private_key(65537, 2048),
        rsa.generate_private_key(65537, 3072),
        ec.generate_private_key(ec.SECP256R1()),
        ec.generate_private_key(ec.SECP384R1()),
    ],
    ids=["rsa2048", "rsa3072", "p256", "p384"],
)
def test_the_keys_the_console_offers_pass(key):
    check_subscriber_key(key.public_key())


def test_fermat_finds_close_primes_and_not_ordinary_ones():
    broken = next(case for case in BAD_KEYS if case.name == "rsa_fermat").key()
    numbers = broken.private_numbers()
    assert fermat_factor(numbers.public_numbers.n) == tuple(sorted((numbers.p, numbers.q)))
    ordinary = rsa.generate_private_key(65537, 2048)
    assert fermat_factor(ordinary.public_key().public_numbers().n) is None


def test_a_csr_signed_with_sha1_is_refused_as_such_not_as_damaged(rsa_key):
    csr = load_csr(sha1_csr_pem(rsa_key, ["www.example.com"]))
    with pytest.raises(CSRSignedWithSHA1Error, match="signed with SHA-1"):
        check_csr(csr, ["www.example.com"])


def test_a_csr_signed_with_sha256_passes(rsa_key):
    check_csr(build_csr(rsa_key, ["www.example.com"]), ["www.example.com"])
