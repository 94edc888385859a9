"""The per-customer counts per status stay exact through every change that moves them."""

import contextlib
import threading
from collections import Counter
from datetime import UTC, timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from certificates import counters, services
from certificates.errors import ActionNotAllowed
from certificates.expiry import expire_due
from certificates.lifecycle import CertificateStatus as Status
from certificates.lifecycle import transition, transition_batch
from certificates.models import Certificate, CertificateCount, IssuedEndCount
from certificates.pki import parsing
from certificates.selectors import certificate_counters
from tests.factories import make_certificate, make_certificates, make_product, make_user
from tests.issuance import issue_real_certificate, submit_application
from tests.test_exactly_once import fire

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="races need PostgreSQL's row locks"
)


def recount(owner) -> dict[str, int]:
    """What the counts should say, counted the slow way."""
    live = Certificate.objects.filter(owner=owner, deleted_at__isnull=True)
    return dict(Counter(live.values_list("status", flat=True)))


def kept(owner) -> dict[str, int]:
    return {status: n for status, n in counters.stored_counts(owner).items() if n}


def assert_exact(*owners) -> None:
    for owner in owners:
        assert kept(owner) == recount(owner)
    assert counters.find_drift() == []


@pytest.mark.django_db
def test_a_purchase_counts_its_certificates_pending(customer):
    services.purchase(
        customer=customer, product=make_product(), domain_count=1, quantity=3, years=1
    )
    assert kept(customer) == {Status.PENDING_APPLICATION: 3}
    assert_exact(customer)


@pytest.mark.django_db
def test_an_upload_counts_issued_or_expired(customer, rsa_leaf, intermediate_ca):
    bundle = parsing.build_bundle(
        parsing.load_certificates(rsa_leaf.cert_pem + intermediate_ca.cert_pem),
        parsing.load_private_key(rsa_leaf.key_pem),
    )
    services.upload_certificate(owner=customer, name="shop", bundle=bundle)
    assert kept(customer) == {Status.ISSUED: 1}
    assert_exact(customer)


@pytest.mark.django_db
def test_every_step_of_a_certificates_life_moves_its_count(customer, operator):
    certificate = submit_application(customer, "OV")
    assert kept(customer) == {Status.VALIDATING: 1}

    services.reject_application(certificate=certificate, reason="No such company", actor=operator)
    assert kept(customer) == {Status.CHECK_FAIL: 1}
    services.withdraw_application(certificate=certificate, actor=customer)
    assert kept(customer) == {Status.PENDING_APPLICATION: 1}

    issued = issue_real_certificate(customer, "DV", domain="www.example.com")
    assert kept(customer) == {Status.PENDING_APPLICATION: 1, Status.ISSUED: 1}
    revocation = services.request_revocation(certificate=issued, reason=4, actor=customer)
    assert kept(customer) == {Status.PENDING_APPLICATION: 1, Status.REVOKING: 1}
    services.complete_revocation(revocation=revocation, actor=operator)
    assert kept(customer) == {Status.PENDING_APPLICATION: 1, Status.REVOKED: 1}

    services.delete_certificate(certificate=Certificate.objects.get(pk=issued.pk), actor=customer)
    assert kept(customer) == {Status.PENDING_APPLICATION: 1}
    assert_exact(customer)


@pytest.mark.django_db
def test_a_refused_transition_moves_no_count(customer):
    certificate = make_certificate(customer, status=Status.REVOKED)
    with pytest.raises(ActionNotAllowed):
        transition(certificate, Status.ISSUED)
    assert kept(customer) == {Status.REVOKED: 1}


@pytest.mark.django_db
def test_batch_expiry_moves_each_owners_counts(customer, other_customer):
    make_certificates(customer, 3, status=Status.ISSUED, days_left=-1)
    make_certificates(other_customer, 2, status=Status.ISSUED, days_left=-1)
    make_certificates(other_customer, 1, status=Status.ISSUED, days_left=30)
    gone = make_certificate(customer, status=Status.ISSUED, days_left=-1, deleted_at=timezone.now())

    assert expire_due(now=timezone.now(), batch_size=2) == 6

    assert kept(customer) == {Status.EXPIRED: 3}
    assert kept(other_customer) == {Status.EXPIRED: 2, Status.ISSUED: 1}
    # A deleted certificate expires too, but was not counted and is still not.
    assert Certificate.objects.get(pk=gone.pk).status == Status.EXPIRED
    assert_exact(customer, other_customer)


@pytest.mark.django_db
def test_the_overview_counters_come_from_the_counts(customer):
    make_certificates(customer, 4, status=Status.ISSUED, days_left=100)
    # Changed behind the counts' back: the overview believes the counts.
    Certificate.objects.filter(owner=customer).update(deleted_at=timezone.now())
    assert certificate_counters(owner=customer)["total"] == 4


@pytest.mark.django_db
def test_check_command_finds_and_repairs_a_count_changed_behind_its_back(customer, capsys):
    make_certificates(customer, 5, status=Status.ISSUED)
    make_certificate(customer, status=Status.CHECK_FAIL, days_left=None)
    CertificateCount.objects.filter(owner=customer, status=Status.ISSUED).update(
        count=F("count") + 2
    )
    CertificateCount.objects.filter(owner=customer, status=Status.CHECK_FAIL).delete()

    with pytest.raises(CommandError, match="2 counts drifted; run with --repair"):
        call_command("check_counters")
    out = capsys.readouterr().out
    assert "alice (user" in out
    assert "Issued was 7, counted 5" in out
    assert "Check Fail was 0, counted 1" in out
    assert kept(customer) == {Status.ISSUED: 7}  # reported, not changed

    call_command("check_counters", "--repair")
    assert "Repaired 2 counts." in capsys.readouterr().out
    assert kept(customer) == {Status.ISSUED: 5, Status.CHECK_FAIL: 1}

    call_command("check_counters")
    assert "Every count matches the certificates." in capsys.readouterr().out


@pytest.mark.django_db
def test_check_command_finds_a_customer_with_counts_but_no_certificates(customer, capsys):
    CertificateCount.objects.create(owner=customer, status=Status.EXPIRED, count=3)
    call_command("check_counters", "--repair")
    assert "Expired was 3, counted 0" in capsys.readouterr().out
    assert kept(customer) == {}


def run_together(*actions) -> list[BaseException]:
    """Run each action in a thread of its own, started at once; the errors they raised."""
    barrier = threading.Barrier(len(actions))
    errors: list[BaseException] = []

    def run(action) -> None:
        try:
            barrier.wait()
            action()
        except BaseException as error:  # noqa: BLE001 - reported by the test
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(action,)) for action in actions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_batches_and_single_transitions_at_once_keep_counts_exact_and_never_deadlock():
    owners = [make_user(f"owner{n}") for n in range(3)]
    due, live = {}, {}
    for owner in owners:
        due[owner.pk] = make_certificates(owner, 12, status=Status.ISSUED, days_left=-1)
        live[owner.pk] = make_certificates(owner, 4, status=Status.ISSUED, days_left=60)
    now = timezone.now()

    def batch() -> None:
        expire_due(now=now, batch_size=5)

    def revoke_each(certificates) -> None:
        for certificate in certificates:
            transition(certificate, Status.REVOKING)

    def expire_by_hand(certificates) -> None:
        # Single transitions of the very rows the batches take, newest first.
        for certificate in reversed(certificates):
            with contextlib.suppress(ActionNotAllowed):  # a batch was first
                transition(certificate, Status.EXPIRED)

    errors = run_together(
        batch,
        batch,
        *(lambda c=live[owner.pk]: revoke_each(c) for owner in owners),
        *(lambda c=due[owner.pk]: expire_by_hand(c) for owner in owners),
    )

    assert errors == []
    for owner in owners:
        assert kept(owner) == {Status.EXPIRED: 12, Status.REVOKING: 4}
    assert_exact(*owners)


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_repair_while_certificates_change_leaves_no_drift(customer):
    certificates = make_certificates(customer, 20, status=Status.ISSUED, days_left=-1)
    CertificateCount.objects.filter(owner=customer).update(count=F("count") + 100)

    def change() -> None:
        for certificate in certificates[:10]:
            transition(certificate, Status.EXPIRED)
        transition_batch(Certificate.objects.filter(owner=customer), Status.EXPIRED, limit=5)

    def repair() -> None:
        counters.find_drift(repair=True)

    assert run_together(change, repair, repair) == []

    counters.find_drift(repair=True)  # the first repairs may have run before the last change
    assert_exact(customer)
    assert kept(customer) == {Status.EXPIRED: 15, Status.ISSUED: 5}


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_parallel_deletes_of_one_certificate_take_it_off_its_count_once(customer):
    certificate = make_certificate(customer, status=Status.EXPIRED, days_left=-3)
    make_certificate(customer, status=Status.EXPIRED, days_left=-3)

    statuses = fire(customer, reverse("certificates:delete", args=[certificate.pk]), {})

    assert all(status < 500 for status in statuses)
    assert kept(customer) == {Status.EXPIRED: 1}
    assert_exact(customer)


@pytest.mark.django_db
def test_will_expire_and_ended_come_from_the_end_dates_within_the_window(customer, settings):
    settings.CERTIFICATES_WILL_EXPIRE_DAYS = 30
    now = timezone.now()
    make_certificates(customer, 2, status=Status.ISSUED, days_left=-1)  # ran out, not expired yet
    make_certificates(customer, 3, status=Status.ISSUED, days_left=29)
    make_certificates(customer, 4, status=Status.ISSUED, days_left=31)
    make_certificates(customer, 1, status=Status.REVOKING, days_left=3)

    counts = certificate_counters(owner=customer, now=now)
    assert (counts["issued"], counts["will_expire"], counts["expired"]) == (7, 3, 2)

    later = certificate_counters(owner=customer, now=now + timedelta(days=2))
    assert (later["issued"], later["will_expire"], later["expired"]) == (7, 7, 2)


def day_counts(owner) -> dict:
    return {
        day: n
        for day, n in IssuedEndCount.objects.filter(owner=owner).values_list("ends_on", "count")
        if n
    }


@pytest.mark.django_db
def test_issued_certificates_are_counted_by_the_day_they_end(customer):
    [one, _] = make_certificates(customer, 2, status=Status.ISSUED, days_left=10)
    make_certificate(customer, status=Status.ISSUED, days_left=40)
    ten, forty = (
        (timezone.now() + timedelta(days=days, hours=1)).astimezone(UTC).date() for days in (10, 40)
    )
    assert day_counts(customer) == {ten: 2, forty: 1}

    transition(one, Status.REVOKING)
    assert day_counts(customer) == {ten: 1, forty: 1}
    assert_exact(customer)


@pytest.mark.django_db
def test_a_reissue_moves_the_certificate_to_its_new_end_day(customer):
    certificate = issue_real_certificate(customer, "DV", domain="reissue.example.com")
    before = day_counts(customer)
    with time_machine.travel(timezone.now() + timedelta(days=20)):
        services.reissue_certificate(certificate=certificate, actor=customer)
    after = day_counts(customer)

    assert sum(after.values()) == 1 and after != before
    assert list(after) == [Certificate.objects.get(pk=certificate.pk).not_after.date()]
    assert kept(customer) == {Status.ISSUED: 1}
    assert_exact(customer)


@pytest.mark.django_db
def test_check_command_repairs_a_day_count_changed_behind_its_back(customer, capsys):
    make_certificates(customer, 3, status=Status.ISSUED, days_left=10)
    IssuedEndCount.objects.filter(owner=customer).update(count=F("count") - 1)

    call_command("check_counters", "--repair")

    assert "issued ending" in capsys.readouterr().out
    assert sum(day_counts(customer).values()) == 3
    assert_exact(customer)
