"""The partitioned CRL in the pure core: a serial's shard, the URL its certificate names,
and the shard's CRL with the issuingDistributionPoint that matches it."""

from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509

from certificates.pki.ca import crl_shard, crl_shard_url
from certificates.pki.parsing import certificates_to_pem
from certificates.pki.revocation import RevokedEntry, build_crl
from tests.pki_material import CA_BASE_URL, CA_SLUG

SHARDS = 4
REVOKED_AT = datetime(2026, 5, 1, 8, 0, 0, tzinfo=UTC)


def serial_in(shard: int, n: int = 1) -> int:
    """A CA-shaped serial (20 bytes) that falls in `shard` of SHARDS."""
    base = (1 << 158) | (n << 8)
    return base + (shard - base) % SHARDS


def crl_points(certificate: x509.Certificate) -> list[str]:
    points = certificate.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    return [name.value for point in points for name in point.full_name]


def shard_crl(issuer, shard: int, entries, *, number: int = 1) -> bytes:
    now = datetime.now(UTC)
    return build_crl(
        issuer,
        entries,
        crl_number=number,
        this_update=now,
        next_update=now + timedelta(days=1),
        distribution_point=crl_shard_url(CA_BASE_URL, CA_SLUG, shard),
    )


def test_a_serial_always_falls_in_the_same_shard_within_the_count():
    serials = [serial_in(shard, n) for n in range(1, 50) for shard in range(SHARDS)]
    assert [crl_shard(serial, SHARDS) for serial in serials] == [
        crl_shard(serial, SHARDS) for serial in serials
    ]
    assert {crl_shard(serial, SHARDS) for serial in serials} == set(range(SHARDS))
    assert crl_shard(0x0ABC, 1) == 0


def test_random_serials_spread_over_every_shard():
    from certificates.pki.ca import random_serial_number

    counts = [0] * 16
    for _ in range(1_600):
        counts[crl_shard(random_serial_number(), 16)] += 1
    assert min(counts) > 50


@pytest.mark.parametrize(("serial", "shards"), [(5, 0), (0, 16), (-3, 16)])
def test_a_shard_needs_a_positive_serial_and_count(serial, shards):
    with pytest.raises(ValueError):
        crl_shard(serial, shards)


def test_the_shard_url_is_under_the_ca():
    assert (
        crl_shard_url(CA_BASE_URL, CA_SLUG, 7) == "http://pki.example.test/pki/digicert/crl/7.der"
    )
    with pytest.raises(ValueError):
        crl_shard_url(CA_BASE_URL, CA_SLUG, -1)


def test_a_certificate_issued_with_shards_names_its_serials_shard(issue_leaf):
    serial = serial_in(3)
    leaf = issue_leaf(serial=serial, crl_shards=SHARDS)
    assert crl_points(leaf) == [crl_shard_url(CA_BASE_URL, CA_SLUG, 3)]
    # Without shards, the whole CRL, as before.
    assert crl_points(issue_leaf(serial=serial)) == [f"{CA_BASE_URL}/pki/{CA_SLUG}/crl.der"]


def test_a_shards_crl_has_a_critical_issuing_distribution_point_naming_its_url(local_issuing):
    crl = x509.load_der_x509_crl(shard_crl(local_issuing, 2, []))
    extension = crl.extensions.get_extension_for_class(x509.IssuingDistributionPoint)
    assert extension.critical
    assert extension.value.full_name == [
        x509.UniformResourceIdentifier(crl_shard_url(CA_BASE_URL, CA_SLUG, 2))
    ]
    assert extension.value.only_contains_user_certs
    assert not extension.value.indirect_crl
    assert crl.is_signature_valid(local_issuing.private_key.public_key())


def test_the_whole_crl_has_no_issuing_distribution_point(local_issuing):
    now = datetime.now(UTC)
    crl = x509.load_der_x509_crl(
        build_crl(local_issuing, [], crl_number=1, this_update=now, next_update=now + timedelta(1))
    )
    with pytest.raises(x509.ExtensionNotFound):
        crl.extensions.get_extension_for_class(x509.IssuingDistributionPoint)


# --- independent proof: openssl and pkilint -------------------------------------------------


def pkilint_crl_findings(der: bytes) -> list[str]:
    """Every finding (any severity) of pkilint's CRL lint, with the Baseline Requirements'
    profile (reason codes and validity), as `lint_crl lint -p BR -t CRL` runs it."""
    from pkilint import loader, pkix
    from pkilint.cabf import cabf_crl
    from pkilint.pkix import crl, extension, name

    crl_type = crl.CertificateRevocationListType.CRL
    validator = crl.create_pkix_crl_validator_container(
        [
            pkix.create_attribute_decoder(name.ATTRIBUTE_TYPE_MAPPINGS),
            pkix.create_extension_decoder(extension.EXTENSION_MAPPINGS),
        ],
        [
            crl.create_issuer_validator_container([]),
            crl.create_validity_validator_container(
                [cabf_crl.create_validity_period_validator(crl_type)]
            ),
            crl.create_extensions_validator_container([]),
            cabf_crl.CabfCrlReasonCodeAllowlistValidator(crl_type),
        ],
    )
    document = loader.RFC5280CertificateListDocumentLoader().load_der_document(der, "crl")
    results = validator.validate(document.root)
    assert results  # the lint really ran over the CRL's parts
    return [
        f"{description.finding.severity}: {description.finding.code} {description.message or ''}"
        for result in results
        for description in result.finding_descriptions
    ]


def test_pkilint_finds_nothing_in_shards_with_and_without_entries(local_issuing):
    entries = [
        RevokedEntry(serial=serial_in(1, n), revoked_at=REVOKED_AT, reason=n % 2)
        for n in range(1, 4)
    ]
    assert pkilint_crl_findings(shard_crl(local_issuing, 1, entries)) == []
    assert pkilint_crl_findings(shard_crl(local_issuing, 0, [])) == []


def test_openssl_checks_a_certificate_against_its_shard_only(
    openssl, local_root, local_issuing, issue_leaf
):
    revoked = issue_leaf(serial=serial_in(1, 1), crl_shards=SHARDS)
    good = issue_leaf(serial=serial_in(1, 2), crl_shards=SHARDS)
    elsewhere = issue_leaf(serial=serial_in(2, 3), crl_shards=SHARDS)
    entry = RevokedEntry(serial=revoked.serial_number, revoked_at=REVOKED_AT, reason=1)
    openssl.write("root.pem", local_root.certificate_pem)
    openssl.write("issuing.pem", local_issuing.certificate_pem)
    for name, leaf in (("revoked", revoked), ("good", good), ("elsewhere", elsewhere)):
        openssl.write(f"{name}.pem", certificates_to_pem([leaf]))
    openssl.write("shard.der", shard_crl(local_issuing, 1, [entry]))
    openssl.ok("crl", "-inform", "DER", "-in", "shard.der", "-out", "shard.pem")

    verify = ("verify", "-crl_check", "-CAfile", "root.pem", "-untrusted", "issuing.pem")
    verify += ("-CRLfile", "shard.pem")
    assert openssl.ok(*verify, "good.pem").strip() == "good.pem: OK"
    refused = openssl.run(*verify, "revoked.pem")
    assert refused.returncode != 0
    assert "certificate revoked" in refused.stdout
    # Another shard's certificate: its distribution point is not this CRL's scope.
    outside = openssl.run(*verify, "elsewhere.pem")
    assert outside.returncode != 0
    assert "different CRL scope" in outside.stdout
