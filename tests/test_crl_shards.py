"""The partitioned CRL: each certificate names its shard, each shard is served and
published on its own, and a revocation makes only its shard stale."""

import threading
from io import StringIO

import pytest
import time_machine
from cryptography import x509
from django.core.management import call_command
from django.db import connection, connections
from django.utils import timezone

from certificates import services
from certificates.models import CrlShard, IssuedSerial
from certificates.pki.ca import crl_shard
from tests.issuance import issue_real_certificate
from tests.pki.test_crl_shards import pkilint_crl_findings
from tests.test_pki_views import PKI, load_crl, revoke_for_real

pytestmark = pytest.mark.django_db

SHARDS = 4


@pytest.fixture(autouse=True)
def _four_shards(settings):
    settings.CRL_SHARDS = SHARDS


@pytest.fixture
def pki(customer):
    return PKI(customer)


def shard_of(certificate) -> int:
    return IssuedSerial.objects.get(serial=certificate.serial).crl_shard


def shard_url(certificate) -> str:
    return f"/pki/{certificate.authority.slug}/crl/{shard_of(certificate)}.der"


def crl_number(crl: x509.CertificateRevocationList) -> int:
    return crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number


def listed(crl: x509.CertificateRevocationList) -> set[str]:
    return {format(entry.serial_number, "X") for entry in crl}


def test_a_certificate_names_its_shard_and_the_shard_names_the_same_url(client, pki, settings):
    for certificate in (pki.good, pki.revoked):
        leaf = pki.leaf(certificate)
        shard = shard_of(certificate)
        assert shard == crl_shard(leaf.serial_number, SHARDS)
        points = leaf.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
        [url] = [name.value for point in points for name in point.full_name]
        assert url == f"{settings.PKI_BASE_URL}{shard_url(certificate)}"

        crl = load_crl(client.get(shard_url(certificate)))
        scope = crl.extensions.get_extension_for_class(x509.IssuingDistributionPoint)
        assert scope.critical
        assert [name.value for name in scope.value.full_name] == [url]


def test_a_shard_lists_the_revoked_serials_of_that_shard_only(client, pki):
    revoked_shard = shard_of(pki.revoked)
    for shard in range(SHARDS):
        crl = load_crl(client.get(f"/pki/{pki.issuing_row.slug}/crl/{shard}.der"))
        assert listed(crl) == ({pki.revoked.serial} if shard == revoked_shard else set())
        assert crl.is_signature_valid(pki.issuing.public_key())


def test_the_whole_crl_still_lists_every_revoked_serial(client, pki):
    assert listed(load_crl(client.get(pki.crl_url))) == {pki.revoked.serial}


def test_pkilint_finds_nothing_in_any_shard(client, pki):
    for shard in range(SHARDS):
        response = client.get(f"/pki/{pki.issuing_row.slug}/crl/{shard}.der")
        assert pkilint_crl_findings(response.content) == []


def test_openssl_checks_each_certificate_against_its_shard(client, pki, openssl):
    openssl.write("root.pem", pki.root_row.certificate_pem)
    openssl.write("issuing.pem", pki.issuing_row.certificate_pem)
    for name, certificate in (("good", pki.good), ("revoked", pki.revoked)):
        openssl.write(f"{name}.pem", certificate.certificate_pem)
        openssl.write(f"{name}-crl.der", client.get(shard_url(certificate)).content)
        openssl.ok("crl", "-inform", "DER", "-in", f"{name}-crl.der", "-out", f"{name}-crl.pem")
    verify = ("verify", "-crl_check", "-CAfile", "root.pem", "-untrusted", "issuing.pem")
    assert openssl.ok(*verify, "-CRLfile", "good-crl.pem", "good.pem").strip() == "good.pem: OK"
    refused = openssl.run(*verify, "-CRLfile", "revoked-crl.pem", "revoked.pem")
    assert refused.returncode != 0
    assert "certificate revoked" in refused.stdout


def test_a_stored_shard_is_served_until_a_revocation_in_it(client, customer, pki):
    certificate = issue_real_certificate(customer, domain="later.example.com")
    url = shard_url(certificate)
    first = load_crl(client.get(url))
    assert crl_number(load_crl(client.get(url))) == crl_number(first)

    revoke_for_real(certificate)

    again = load_crl(client.get(url))
    assert crl_number(again) == crl_number(first) + 1
    assert certificate.serial in listed(again)


def test_a_revocation_makes_only_its_shard_stale(customer, pki):
    services.publish_crl_shards()
    assert not CrlShard.objects.filter(stale=True).exists()
    before = dict(CrlShard.objects.values_list("number", "crl_number"))
    certificate = issue_real_certificate(customer, domain="later.example.com")

    revoke_for_real(certificate)

    shard = shard_of(certificate)
    assert set(CrlShard.objects.filter(stale=True).values_list("number", flat=True)) == {shard}
    assert services.publish_crl_shards() == 1
    after = dict(CrlShard.objects.values_list("number", "crl_number"))
    assert after == {**before, shard: before[shard] + 1}
    crl = x509.load_der_x509_crl(bytes(CrlShard.objects.get(number=shard).der))
    assert certificate.serial in listed(crl)


def test_publishing_builds_missing_stale_and_half_expired_shards_only(pki, settings):
    assert services.publish_crl_shards() == SHARDS
    assert services.publish_crl_shards() == 0
    CrlShard.objects.filter(number=1).update(stale=True)
    assert services.publish_crl_shards() == 1
    later = timezone.now() + timezone.timedelta(hours=settings.PKI_CRL_VALIDITY_HOURS / 2 + 1)
    with time_machine.travel(later):
        assert services.publish_crl_shards() == SHARDS


def test_the_command_publishes_the_shards_due(pki):
    output = StringIO()
    call_command("publish_crl_shards", stdout=output)
    assert f"Published {SHARDS} CRL shards" in output.getvalue()
    assert CrlShard.objects.filter(stale=False).count() == SHARDS


def test_a_shard_past_the_count_or_of_an_unknown_ca_is_not_found(client, pki):
    assert client.get(f"/pki/{pki.issuing_row.slug}/crl/{SHARDS}.der").status_code == 404
    assert client.get("/pki/nope/crl/0.der").status_code == 404
    assert client.post(f"/pki/{pki.issuing_row.slug}/crl/0.der").status_code == 405


needs_row_locks = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks need PostgreSQL (SQLite locks the file)"
)


@needs_row_locks
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("state", ["stale", "never built"])
def test_parallel_downloads_of_a_shard_due_build_it_once(customer, state):
    pki = PKI(customer)
    url = shard_url(pki.revoked)
    shard = shard_of(pki.revoked)
    if state == "stale":
        services.current_crl_shard(issuer=pki.issuing_row, shard=shard)
        CrlShard.objects.filter(number=shard).update(stale=True)
    else:
        CrlShard.objects.filter(number=shard).delete()
    number = CrlShard.objects.filter(number=shard).values_list("crl_number", flat=True).first() or 0
    count = 4
    barrier = threading.Barrier(count)
    answers = []

    def download():
        from django.test import Client

        try:
            barrier.wait()
            answers.append(Client().get(url).content)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=download) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(answers) == count
    assert len(set(answers)) == 1
    assert CrlShard.objects.get(number=shard).crl_number == number + 1
    assert {crl_number(x509.load_der_x509_crl(answer)) for answer in answers} == {number + 1}


def test_the_migration_gives_serials_issued_before_their_shard(pki):
    import importlib

    from django.apps import apps

    migration = importlib.import_module("certificates.migrations.0022_crl_shards")
    IssuedSerial.objects.update(crl_shard=0)
    migration.assign_shards(apps, None)
    for serial, shard in IssuedSerial.objects.values_list("serial", "crl_shard"):
        assert shard == crl_shard(int(serial, 16), SHARDS)
