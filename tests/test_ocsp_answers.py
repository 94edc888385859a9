"""OCSP answers signed ahead: stored at issuance, replaced at revocation, refreshed in time."""

import threading
from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from cryptography import x509
from cryptography.x509 import ocsp
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.utils import timezone

from certificates import services
from certificates.models import IssuedSerial, OcspAnswer
from certificates.tasks import refresh_ocsp_answers as refresh_task
from tests.issuance import issue_real_certificate
from tests.test_pki_views import revoke_for_real

pytestmark = pytest.mark.django_db


def stored_answer(certificate) -> ocsp.OCSPResponse:
    row = OcspAnswer.objects.get(authority=certificate.authority, serial=certificate.serial)
    return ocsp.load_der_ocsp_response(bytes(row.der))


def test_an_issued_certificate_has_a_stored_good_answer(customer):
    certificate = issue_real_certificate(customer)

    answer = stored_answer(certificate)
    assert answer.certificate_status == ocsp.OCSPCertStatus.GOOD
    assert answer.serial_number == int(certificate.serial, 16)
    assert answer.next_update_utc - answer.this_update_utc == timedelta(hours=12)
    row = OcspAnswer.objects.get(serial=certificate.serial)
    assert row.refresh_at == row.this_update + timedelta(hours=6)


def test_a_revoked_certificates_stored_answer_says_revoked_at_once(customer):
    certificate = issue_real_certificate(customer)
    revocation = revoke_for_real(certificate, reason=1)

    answer = stored_answer(certificate)
    assert answer.certificate_status == ocsp.OCSPCertStatus.REVOKED
    assert answer.revocation_time_utc == revocation.completed_at.replace(microsecond=0)
    assert answer.revocation_reason == x509.ReasonFlags.key_compromise


def test_a_completed_revocation_request_replaces_the_stored_answer(customer):
    certificate = issue_real_certificate(customer)
    request = services.request_revocation(certificate=certificate, reason=4, actor=customer)
    # Asked, not yet revoked: still good.
    assert stored_answer(certificate).certificate_status == ocsp.OCSPCertStatus.GOOD

    services.complete_revocation(revocation=request, actor=None)

    answer = stored_answer(certificate)
    assert answer.certificate_status == ocsp.OCSPCertStatus.REVOKED
    assert answer.revocation_reason == x509.ReasonFlags.superseded


def test_a_reissue_stores_an_answer_for_the_new_serial_and_revocation_revokes_both(customer):
    certificate = issue_real_certificate(customer)
    old = certificate.serial
    services.reissue_certificate(certificate=certificate, actor=customer)
    assert OcspAnswer.objects.filter(serial__in=[old, certificate.serial]).count() == 2

    revoke_for_real(certificate)

    statuses = {
        row.serial: ocsp.load_der_ocsp_response(bytes(row.der)).certificate_status
        for row in OcspAnswer.objects.filter(serial__in=[old, certificate.serial])
    }
    assert statuses == {
        old: ocsp.OCSPCertStatus.REVOKED,
        certificate.serial: ocsp.OCSPCertStatus.REVOKED,
    }


def test_refresh_signs_again_only_the_answers_past_half_their_validity(customer):
    stale = issue_real_certificate(customer, domain="stale.example.com")
    with time_machine.travel(timezone.now() + timedelta(hours=4)):
        fresh = issue_real_certificate(customer, domain="fresh.example.com")
    fresh_before = OcspAnswer.objects.get(serial=fresh.serial)
    stale_before = OcspAnswer.objects.get(serial=stale.serial)

    now = timezone.now() + timedelta(hours=7)
    assert services.refresh_ocsp_answers(now=now) == 1

    stale_after = OcspAnswer.objects.get(serial=stale.serial)
    assert stale_after.this_update == now.replace(microsecond=0)
    assert stale_after.next_update == now.replace(microsecond=0) + timedelta(hours=12)
    assert bytes(stale_after.der) != bytes(stale_before.der)
    assert stored_answer(stale).this_update_utc == now.replace(microsecond=0)
    unchanged = OcspAnswer.objects.get(serial=fresh.serial)
    assert bytes(unchanged.der) == bytes(fresh_before.der)
    # Refreshed, it is not due again.
    assert services.refresh_ocsp_answers(now=now) == 0


def test_refresh_keeps_a_revoked_answer_revoked(customer):
    certificate = issue_real_certificate(customer)
    revoke_for_real(certificate)

    assert services.refresh_ocsp_answers(now=timezone.now() + timedelta(hours=7)) == 1
    assert stored_answer(certificate).certificate_status == ocsp.OCSPCertStatus.REVOKED


def test_refresh_works_in_batches(customer):
    for number in range(3):
        issue_real_certificate(customer, domain=f"s{number}.example.com")

    now = timezone.now() + timedelta(hours=7)
    assert services.refresh_ocsp_answers(now=now, batch_size=2) == 3
    assert not OcspAnswer.objects.filter(refresh_at__lte=now).exists()
    with pytest.raises(ValueError):
        services.refresh_ocsp_answers(now=now, batch_size=0)


def test_refresh_leaves_expired_certificates_to_the_live_responder(customer):
    certificate = issue_real_certificate(customer)
    before = OcspAnswer.objects.get(serial=certificate.serial)
    ended = IssuedSerial.objects.get(serial=certificate.serial).not_after

    assert services.refresh_ocsp_answers(now=ended + timedelta(hours=1)) == 0
    assert bytes(OcspAnswer.objects.get(serial=certificate.serial).der) == bytes(before.der)


def test_the_command_prints_one_line(customer):
    issue_real_certificate(customer)
    output = StringIO()
    with time_machine.travel(timezone.now() + timedelta(hours=7)):
        call_command("refresh_ocsp_answers", "--dry-run", stdout=output)
        call_command("refresh_ocsp_answers", stdout=output)
        call_command("refresh_ocsp_answers", stdout=output)

    lines = output.getvalue().splitlines()
    assert lines[0] == "Dry run: would sign 1 OCSP answer again; nothing was changed."
    assert lines[1].startswith("Signed 1 OCSP answer again in ")
    assert lines[2].startswith("Signed 0 OCSP answers again in ")
    assert len(lines) == 3


def test_the_task_runs_the_command(customer, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    issue_real_certificate(customer)
    with time_machine.travel(timezone.now() + timedelta(hours=7)):
        result = refresh_task.enqueue()

    assert result.return_value.startswith("Signed 1 OCSP answer again in ")


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks need PostgreSQL (SQLite locks the file)"
)
@pytest.mark.django_db(transaction=True)
def test_refresh_skips_an_answer_a_revocation_is_replacing(customer):
    held = issue_real_certificate(customer, domain="held.example.com")
    free = issue_real_certificate(customer, domain="free.example.com")
    locked, release = threading.Event(), threading.Event()

    def revocation_in_progress():
        try:
            with transaction.atomic():
                OcspAnswer.objects.select_for_update().get(serial=held.serial)
                locked.set()
                release.wait(timeout=30)
        finally:
            connections.close_all()

    thread = threading.Thread(target=revocation_in_progress)
    thread.start()
    try:
        assert locked.wait(timeout=30)
        refreshed = services.refresh_ocsp_answers(now=timezone.now() + timedelta(hours=7))
    finally:
        release.set()
        thread.join()

    assert refreshed == 1
    stale = OcspAnswer.objects.get(serial=held.serial)
    assert stale.refresh_at < OcspAnswer.objects.get(serial=free.serial).refresh_at
