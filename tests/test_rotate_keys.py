"""manage.py rotate_keys: after it, the old key can be removed and everything still works."""

import io
import re
import zipfile

import pytest
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import serialization
from cryptography.x509 import ocsp
from django.apps import apps
from django.core.management import ManagementUtility, call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from certificates import authority, key_encryption, key_rotation
from certificates.models import Certificate, CertificateAuthority
from certificates.pki.parsing import load_certificates
from tests.issuance import issue_real_certificate
from tests.test_expire_certificates import FakeTerminal
from tests.test_pki_views import ocsp_request, post_ocsp, revoke_for_real

pytestmark = pytest.mark.django_db

NEW = Fernet.generate_key().decode()


def rotate(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("rotate_keys", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def tokens() -> dict[str, str]:
    """Every stored key token, by table and id."""
    found = {}
    for model, column in key_rotation.ENCRYPTED_COLUMNS:
        for pk, token in model._base_manager.exclude(**{column: ""}).values_list("pk", column):
            found[f"{model._meta.model_name} {pk}"] = token
    return found


@pytest.fixture
def old_keys(settings) -> list[str]:
    """The keys everything below was encrypted with (the suite's one key)."""
    return list(settings.KEY_ENCRYPTION_KEYS)


@pytest.fixture
def issued(customer, old_keys) -> Certificate:
    """A certificate with a system-generated key, from a brand whose CAs exist."""
    return issue_real_certificate(customer, domain="shop.example.com")


def test_after_rotating_only_the_new_key_downloads_keys_and_signs_crls_and_ocsp(
    settings, customer_client, client, issued, old_keys
):
    revoked = issue_real_certificate(issued.owner, domain="gone.example.com")
    revoke_for_real(revoked)
    key_pem = key_encryption.decrypt_private_key(issued.private_key_encrypted)
    settings.KEY_ENCRYPTION_KEYS = [NEW, *old_keys]

    rotate()

    settings.KEY_ENCRYPTION_KEYS = [NEW]
    response = customer_client.get(reverse("certificates:download", args=[issued.pk, "nginx"]))
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    key_file = next(name for name in archive.namelist() if name.endswith(".key"))
    assert archive.read(key_file).decode().strip() == key_pem.strip()
    # A new CRL, so the issuing CA's key signs it now, and a fresh OCSP answer.
    CertificateAuthority.objects.update(crl_refresh_at=None)
    issuing_row = issued.authority
    crl = client.get(f"/pki/{issuing_row.slug}/crl.der")
    assert crl.status_code == 200
    assert client.get(f"/pki/{issuing_row.slug}/root-crl.der").status_code == 200
    leaf, issuer = load_certificates(issued.certificate_pem + issued.chain_pem)[:2]
    answer = post_ocsp(client, f"/pki/{issuing_row.slug}/ocsp", ocsp_request(leaf, issuer))
    assert answer.response_status == ocsp.OCSPResponseStatus.SUCCESSFUL
    assert answer.certificate_status == ocsp.OCSPCertStatus.GOOD
    loaded = authority.load(CertificateAuthority.objects.get(pk=issuing_row.pk))
    assert loaded.private_key_pem()  # the CA key itself reads back under the new key alone
    assert issuer.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ) == loaded.certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def test_without_rotating_the_old_keys_are_unreadable_with_the_new_key_alone(settings, issued):
    # The failure rotate_keys exists for: removing the old key before rotating.
    settings.KEY_ENCRYPTION_KEYS = [NEW]
    for token in tokens().values():
        with pytest.raises(key_encryption.KeyDecryptionError):
            key_encryption.decrypt_private_key(token)


def test_every_encrypted_column_is_rotated(settings, issued, old_keys):
    before = tokens()
    # The customer's key, and the brand's root and issuing CA keys.
    assert {name.split()[0] for name in before} == {"certificate", "certificateauthority"}
    assert len(before) == 3
    settings.KEY_ENCRYPTION_KEYS = [NEW, *old_keys]

    out, _ = rotate()

    after = tokens()
    assert after.keys() == before.keys()
    for name, token in after.items():
        assert token != before[name]
        assert Fernet(NEW).decrypt(token.encode()) == Fernet(old_keys[0]).decrypt(
            before[name].encode()
        )
    assert out.startswith("Re-encrypted 3 keys with the first key; 0 already were; in ")


def test_the_model_columns_holding_keys_are_the_ones_rotated():
    # A new encrypted column must be added to ENCRYPTED_COLUMNS too (or registered).
    encrypted = {
        (model, field.name)
        for app in ("certificates", "deployments")
        for model in apps.get_app_config(app).get_models()
        for field in model._meta.get_fields()
        if field.name.endswith("_encrypted")
    }
    assert encrypted == set(key_rotation.ENCRYPTED_COLUMNS)


def test_a_second_run_changes_nothing(settings, issued, old_keys):
    settings.KEY_ENCRYPTION_KEYS = [NEW, *old_keys]
    rotate()
    once = tokens()

    out, _ = rotate()

    assert tokens() == once
    assert out.startswith("Re-encrypted 0 keys with the first key; 3 already were; in ")


def test_keys_already_under_the_first_key_are_left_alone(settings, customer, old_keys):
    settings.KEY_ENCRYPTION_KEYS = [NEW, *old_keys]
    issue_real_certificate(customer)  # its key and its CAs' keys are made under NEW
    before = tokens()

    out, _ = rotate()

    assert tokens() == before
    assert "Re-encrypted 0 keys" in out


# manage.py closes every connection when it ends, as cron runs it; no test
# transaction may be open around it then (the pool would roll it back).
@pytest.mark.django_db(transaction=True)
def test_a_key_no_configured_key_decrypts_exits_1_naming_the_row(
    settings, issued, old_keys, capsys
):
    stranger = Fernet.generate_key().decode()
    lost = Certificate.objects.get(pk=issued.pk)
    lost.private_key_encrypted = Fernet(stranger).encrypt(b"a key").decode()
    lost.save(update_fields=["private_key_encrypted"])
    settings.KEY_ENCRYPTION_KEYS = [NEW, *old_keys]

    with pytest.raises(SystemExit) as exited:
        ManagementUtility(["manage.py", "rotate_keys"]).execute()

    assert exited.value.code == 1
    captured = capsys.readouterr()
    assert f"(certificate {issued.pk})" in captured.err
    assert "No key of KEY_ENCRYPTION_KEYS decrypts 1 stored key" in captured.err
    # The other keys (the CAs') were still rotated; no key material is printed.
    assert "Re-encrypted 2 keys" in captured.out
    for key in (stranger, NEW, *old_keys):
        assert key not in captured.out + captured.err
    assert tokens()[f"certificate {issued.pk}"] == lost.private_key_encrypted


def test_many_unreadable_rows_are_named_up_to_ten_and_kept(settings, customer):
    for _ in range(12):
        Certificate.objects.create(
            owner=customer, private_key_encrypted=Fernet(NEW).encrypt(b"k").decode()
        )
    before = tokens()
    with pytest.raises(CommandError, match=r"decrypts 12 stored keys \(certificate \d+, .* and 2"):
        rotate()
    assert tokens() == before


def test_goes_in_batches_and_a_killed_run_is_finished_by_the_next(
    settings, customer, old_keys, monkeypatch
):
    for domain in ("a.example.com", "b.example.com", "c.example.com"):
        issue_real_certificate(customer, domain=domain)
    before = tokens()
    assert len(before) == 5
    settings.KEY_ENCRYPTION_KEYS = [NEW, *old_keys]
    batches = []

    def killed(progress):
        batches.append(progress.checked)
        if len(batches) == 2:
            raise DatabaseError("connection lost")

    with pytest.raises(DatabaseError):
        key_rotation.rotate_keys(batch_size=2, on_batch=killed)

    # The two CA keys (one batch) and the first two certificates (the next) are done.
    rotated = {name for name, token in tokens().items() if token != before[name]}
    assert len(rotated) == 4
    result = key_rotation.rotate_keys(batch_size=2)
    assert (result.rotated, result.current) == (1, 4)
    assert all(token != before[name] for name, token in tokens().items())


def test_each_batch_reads_its_rows_locked_and_writes_them_in_one_update(settings, issued, old_keys):
    settings.KEY_ENCRYPTION_KEYS = [NEW, *old_keys]
    with CaptureQueriesContext(connection) as queries:
        rotate("--batch-size", "10")
    reads = [q["sql"] for q in queries if q["sql"].startswith("SELECT") and "LIMIT" in q["sql"]]
    updates = [q["sql"] for q in queries if q["sql"].startswith("UPDATE")]
    # Per table with keys: one batch with rows, then one read that finds none; per column
    # without any (the deployment targets' here), the one read that finds none.
    assert len(reads) == 2 * 2 + (len(key_rotation.ENCRYPTED_COLUMNS) - 2)
    assert len(updates) == 2
    if connection.features.has_select_for_update:
        assert all("FOR UPDATE" in sql for sql in reads)


def test_dry_run_counts_and_changes_nothing(settings, issued, old_keys):
    settings.KEY_ENCRYPTION_KEYS = [NEW, *old_keys]
    before = tokens()

    out, _ = rotate("--dry-run")

    assert tokens() == before
    assert out == (
        "Dry run: would re-encrypt 3 keys; 0 already under the first key; nothing was changed.\n"
    )


def test_dry_run_with_only_the_new_key_tells_whether_the_old_one_can_go(settings, issued, old_keys):
    settings.KEY_ENCRYPTION_KEYS = [NEW]
    with pytest.raises(CommandError, match="No key of KEY_ENCRYPTION_KEYS decrypts 3 stored keys"):
        rotate("--dry-run")
    settings.KEY_ENCRYPTION_KEYS = [NEW, *old_keys]
    rotate()
    settings.KEY_ENCRYPTION_KEYS = [NEW]
    out, _ = rotate("--dry-run")
    assert "would re-encrypt 0 keys; 3 already under the first key" in out


# manage.py closes every connection when it ends, as cron runs it; no test
# transaction may be open around it then (the pool would roll it back).
@pytest.mark.django_db(transaction=True)
def test_prints_a_one_line_summary_and_exits_zero(settings, issued, old_keys, capsys):
    settings.KEY_ENCRYPTION_KEYS = [NEW, *old_keys]

    ManagementUtility(["manage.py", "rotate_keys"]).execute()

    captured = capsys.readouterr()
    assert re.fullmatch(
        r"Re-encrypted 3 keys with the first key; 0 already were; in \d+\.\ds\.\n", captured.out
    )
    assert captured.err == ""


def test_shows_progress_only_on_a_terminal(settings, issued, old_keys):
    settings.KEY_ENCRYPTION_KEYS = [NEW, *old_keys]
    terminal = FakeTerminal()

    call_command("rotate_keys", "--batch-size", "2", stdout=io.StringIO(), stderr=terminal)

    assert terminal.getvalue() == ("\rChecking keys: 2 of 3\rChecking keys: 3 of 3\n")
    _, err = rotate()
    assert err == ""


def test_a_failure_says_how_far_it_got(settings, issued, old_keys, monkeypatch):
    settings.KEY_ENCRYPTION_KEYS = [NEW, *old_keys]
    real = key_rotation._rotate_batch
    calls = []

    def second_batch_fails(*args):
        calls.append(1)
        if len(calls) == 2:
            raise DatabaseError("connection lost")
        return real(*args)

    monkeypatch.setattr(key_rotation, "_rotate_batch", second_batch_fails)

    with pytest.raises(CommandError, match=r"Stopped after checking 2 keys: connection lost"):
        rotate("--batch-size", "2")


def test_batch_size_must_be_positive():
    with pytest.raises(CommandError, match="must be 1 or more"):
        rotate("--batch-size", "0")
