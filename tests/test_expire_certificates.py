import io
import re
import threading
from collections import Counter

import pytest
from django.core.management import ManagementUtility, call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from certificates import expiry
from certificates.expiry import expire_due
from certificates.lifecycle import CertificateStatus as Status
from certificates.models import AuditEvent, Certificate
from tests.factories import make_certificate, make_certificates, make_user

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="row locks and concurrent writers need PostgreSQL (SQLite locks the whole file)",
)


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def expire(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("expire_certificates", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def statuses() -> dict[int, str]:
    return dict(Certificate.objects.values_list("pk", "status"))


def audited_ids() -> Counter:
    return Counter(int(pk) for pk in AuditEvent.objects.values_list("object_id", flat=True))


@pytest.mark.django_db
def test_expire_certificates_moves_only_issued_certificates_past_their_end_date(customer):
    due = [
        make_certificate(customer, status=Status.ISSUED, days_left=-1),
        make_certificate(customer, status=Status.ISSUED, days_left=-300),
        make_certificate(customer, status=Status.ISSUED, days_left=-1, deleted_at=timezone.now()),
    ]
    untouched = [
        make_certificate(customer, status=Status.ISSUED, days_left=5),
        make_certificate(customer, status=Status.EXPIRED, days_left=-10),
        make_certificate(customer, status=Status.REVOKING, days_left=-1),
        make_certificate(customer, status=Status.REVOKED, days_left=-1),
        make_certificate(customer, status=Status.PENDING_APPLICATION, days_left=None),
    ]
    started = timezone.now()

    expire()

    after = statuses()
    assert {certificate.pk: after[certificate.pk] for certificate in due} == {
        certificate.pk: Status.EXPIRED for certificate in due
    }
    assert all(after[certificate.pk] == certificate.status for certificate in untouched)
    assert audited_ids() == Counter(certificate.pk for certificate in due)
    for event in AuditEvent.objects.all():
        assert event.action == "certificate.status"
        assert event.details == {"from": "issued", "to": "expired"}
        assert event.actor_name == "system"
    for certificate in Certificate.objects.filter(pk__in=[c.pk for c in due]):
        assert certificate.status_changed_at >= started


@pytest.mark.django_db
def test_expire_certificates_counts_a_certificate_ending_right_now_as_ended(customer):
    now = timezone.now()
    ending_now = make_certificate(customer, status=Status.ISSUED, not_after=now)

    assert expire_due(now=now) == 1
    assert Certificate.objects.get(pk=ending_now.pk).status == Status.EXPIRED


@pytest.mark.django_db
def test_expire_certificates_goes_in_batches_of_the_given_size(customer):
    make_certificates(customer, 5, status=Status.ISSUED, days_left=-1)
    totals = []

    expired = expire_due(now=timezone.now(), batch_size=2, on_batch=totals.append)

    assert expired == 5
    assert totals == [2, 4, 5]
    assert set(statuses().values()) == {Status.EXPIRED}
    assert audited_ids() == Counter({pk: 1 for pk in statuses()})


@pytest.mark.django_db
def test_each_batch_is_one_locking_read_one_update_two_count_upserts_and_one_insert(customer):
    make_certificates(customer, 5, status=Status.ISSUED, days_left=-1)

    with CaptureQueriesContext(connection) as queries:
        expire_due(now=timezone.now(), batch_size=2)

    selects = [q["sql"] for q in queries if q["sql"].startswith("SELECT")]
    assert len(selects) == 4  # three batches and the empty read that ends the run
    # Keyset pagination: each read starts after the last id seen, never at an OFFSET.
    assert all("LIMIT 2" in sql and "OFFSET" not in sql for sql in selects)
    assert all('"id" >' in sql for sql in selects)
    if connection.vendor == "postgresql":
        assert all(sql.endswith("FOR UPDATE SKIP LOCKED") for sql in selects)
    # Each batch does one read, one UPDATE, one upsert of the owners' counts
    # per status and one of their issued ones per end day, and one INSERT of
    # audit events.
    assert sum(q["sql"].startswith("UPDATE") for q in queries) == 3
    upserts = [q["sql"] for q in queries if "ON CONFLICT" in q["sql"]]
    assert sum("certificatecount" in sql for sql in upserts) == 3
    assert sum("issuedendcount" in sql for sql in upserts) == 3
    assert sum(q["sql"].startswith("INSERT") for q in queries) == 9


@pytest.mark.django_db
def test_expire_certificates_rerun_changes_nothing(customer):
    make_certificates(customer, 3, status=Status.ISSUED, days_left=-1)
    expire()
    before = list(Certificate.objects.values_list("pk", "status", "status_changed_at"))

    out, _ = expire()

    assert out.startswith("Expired 0 certificates in ")
    assert list(Certificate.objects.values_list("pk", "status", "status_changed_at")) == before
    assert AuditEvent.objects.count() == 3


@pytest.mark.django_db
def test_expire_certificates_leaves_an_already_expired_certificate_alone(customer):
    expired = make_certificate(customer, status=Status.EXPIRED, days_left=-3)

    out, _ = expire()

    assert out.startswith("Expired 0 certificates")
    stored = Certificate.objects.get(pk=expired.pk)
    assert stored.status_changed_at == expired.status_changed_at
    assert not AuditEvent.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_run_killed_after_its_first_batch_keeps_that_batch_and_a_rerun_finishes(customer):
    make_certificates(customer, 5, status=Status.ISSUED, days_left=-1)

    def killed(total: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        expire_due(now=timezone.now(), batch_size=2, on_batch=killed)
    assert Counter(statuses().values()) == {Status.EXPIRED: 2, Status.ISSUED: 3}

    assert expire_due(now=timezone.now(), batch_size=2) == 3
    assert set(statuses().values()) == {Status.EXPIRED}
    assert audited_ids() == Counter({pk: 1 for pk in statuses()})


@pytest.mark.django_db
def test_dry_run_reports_what_would_expire_and_changes_nothing(customer):
    due = make_certificates(customer, 2, status=Status.ISSUED, days_left=-1)
    make_certificate(customer, status=Status.ISSUED, days_left=10)
    before = statuses()

    out, _ = expire("--dry-run", "--verbosity", "2")

    assert statuses() == before
    assert not AuditEvent.objects.exists()
    assert out.splitlines()[-1] == "Dry run: would expire 2 certificates; nothing was changed."
    for certificate in due:
        assert f"would expire certificate {certificate.pk} " in out


# manage.py closes every connection when it ends, as cron runs it; no test
# transaction may be open around it then (the pool would roll it back).
@pytest.mark.django_db(transaction=True)
def test_expire_certificates_prints_a_one_line_summary_and_exits_zero(customer, capsys):
    make_certificates(customer, 3, status=Status.ISSUED, days_left=-1)

    # As manage.py runs it: a failure would end in SystemExit with a nonzero code.
    ManagementUtility(["manage.py", "expire_certificates"]).execute()

    captured = capsys.readouterr()
    assert re.fullmatch(r"Expired 3 certificates in \d+\.\ds\.\n", captured.out)
    assert captured.err == ""


@pytest.mark.django_db
def test_expire_certificates_failing_says_how_far_it_got(customer, monkeypatch):
    make_certificates(customer, 3, status=Status.ISSUED, days_left=-1)
    real_batch = expiry.transition_batch
    calls = []

    def second_batch_fails(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise DatabaseError("connection lost")
        return real_batch(*args, **kwargs)

    monkeypatch.setattr(expiry, "transition_batch", second_batch_fails)

    with pytest.raises(CommandError, match=r"Stopped after expiring 2 certificates: connection"):
        expire("--batch-size", "2")
    assert Counter(statuses().values()) == {Status.EXPIRED: 2, Status.ISSUED: 1}


# manage.py closes every connection when it ends, as cron runs it; no test
# transaction may be open around it then (the pool would roll it back).
@pytest.mark.django_db(transaction=True)
def test_expire_certificates_failing_exits_nonzero(customer, monkeypatch, capsys):
    make_certificates(customer, 1, status=Status.ISSUED, days_left=-1)

    def fails(*args, **kwargs):
        raise DatabaseError("connection lost")

    monkeypatch.setattr(expiry, "transition_batch", fails)

    with pytest.raises(SystemExit) as exited:
        ManagementUtility(["manage.py", "expire_certificates"]).execute()
    assert exited.value.code == 1
    assert "Run it again to finish" in capsys.readouterr().err


@pytest.mark.django_db
def test_expire_certificates_shows_progress_only_on_a_terminal(customer):
    make_certificates(customer, 3, status=Status.ISSUED, days_left=-1)
    terminal = FakeTerminal()

    call_command("expire_certificates", "--batch-size", "2", stdout=io.StringIO(), stderr=terminal)

    assert terminal.getvalue() == "\rExpiring: 2 of about 3\rExpiring: 3 of about 3\n"
    make_certificates(customer, 3, status=Status.ISSUED, days_left=-1)
    _, err = expire("--batch-size", "2")
    assert err == ""


@pytest.mark.django_db
def test_batch_size_must_be_positive():
    with pytest.raises(CommandError, match="must be 1 or more"):
        expire("--batch-size", "0")


def run_in_threads(target, count: int) -> list:
    """Run `target` in `count` threads started together, each on its own connection."""
    barrier = threading.Barrier(count)
    results, errors = [], []

    def run():
        try:
            barrier.wait()
            results.append(target())
        except Exception as error:  # reported by the test, not lost in the thread
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    return results


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_runs_never_expire_a_certificate_twice(customer):
    owners = [customer, make_user()]
    for owner in owners:
        make_certificates(owner, 150, status=Status.ISSUED, days_left=-1)
    make_certificates(customer, 20, status=Status.ISSUED, days_left=20)
    now = timezone.now()

    results = run_in_threads(lambda: expire_due(now=now, batch_size=7), 2)

    assert sum(results) == 300
    assert Counter(statuses().values()) == {Status.EXPIRED: 300, Status.ISSUED: 20}
    audited = audited_ids()
    assert len(audited) == 300
    assert set(audited.values()) == {1}


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_batch_locked_by_another_transaction_is_skipped_not_waited_on(customer):
    certificates = make_certificates(customer, 5, status=Status.ISSUED, days_left=-1)
    held = [certificate.pk for certificate in certificates[:2]]
    locked, release = threading.Event(), threading.Event()

    def hold_rows():
        try:
            with transaction.atomic():
                list(Certificate.objects.select_for_update().filter(pk__in=held))
                locked.set()
                release.wait(timeout=30)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_rows)
    holder.start()
    try:
        assert locked.wait(timeout=10)
        with connection.cursor() as cursor:
            # Were the run to wait on the held rows, this makes it fail instead of hang.
            cursor.execute("SET lock_timeout = '2s'")
        expired = expire_due(now=timezone.now(), batch_size=2)
    finally:
        release.set()
        holder.join(timeout=30)
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")

    assert expired == 3
    after = statuses()
    assert [after[pk] for pk in held] == [Status.ISSUED, Status.ISSUED]
    assert expire_due(now=timezone.now(), batch_size=2) == 2
    assert set(statuses().values()) == {Status.EXPIRED}
