import pytest

from certificates import compromised_keys
from certificates.models import CompromisedKey
from certificates.pki.parsing import load_certificates, public_key_sha256
from tests.factories import make_user
from tests.issuance import issue_real_certificate

pytestmark = pytest.mark.django_db


def test_issued_certificate_records_its_public_key_hash():
    certificate = issue_real_certificate(make_user())

    leaf = load_certificates(certificate.certificate_pem)[0]
    assert certificate.public_key_sha256 == public_key_sha256(leaf.public_key())


def test_listed_key_is_found_by_any_form_of_the_key():
    certificate = issue_real_certificate(make_user())
    leaf = load_certificates(certificate.certificate_pem)[0]
    assert not compromised_keys.is_listed(leaf)

    compromised_keys.add(
        key_sha256=certificate.public_key_sha256,
        source=CompromisedKey.Source.REVOCATION,
        certificate=certificate,
    )

    assert compromised_keys.is_listed(leaf)
    assert compromised_keys.is_listed(leaf.public_key())


def test_listing_a_key_twice_keeps_one_entry():
    for _ in range(2):
        compromised_keys.add(key_sha256="ab" * 32, source=CompromisedKey.Source.REPORT)

    assert CompromisedKey.objects.count() == 1
