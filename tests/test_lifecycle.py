import threading

import pytest
from django.db import connection, connections

from certificates.lifecycle import (
    CERTIFICATE_TRANSITIONS,
    REVOCATION_TRANSITIONS,
    CertificateStatus,
    RevocationStatus,
    TransitionNotAllowed,
    transition,
)
from certificates.models import AuditEvent, Certificate, RevocationRequest
from tests.factories import make_certificate

ALL_CERTIFICATE_PAIRS = [(a, b) for a in CertificateStatus for b in CertificateStatus]
ALL_REVOCATION_PAIRS = [(a, b) for a in RevocationStatus for b in RevocationStatus]

# The oracle: the transitions the design allows, written out here rather than read
# from certificates.lifecycle, so a wrong entry there fails the tests below.
EXPECTED_CERTIFICATE_TRANSITIONS: dict[str, set[str]] = {
    # Submitting an application; withdrawing one before issuance.
    "pending_application": {"validating"},
    "validating": {"issued", "check_fail", "pending_application"},
    # A failed check or rejected review: corrected and resubmitted, or withdrawn.
    "check_fail": {"validating", "pending_application"},
    "issued": {"revoking", "expired"},
    # Completed; rejected or cancelled (issued again, or run out meanwhile).
    "revoking": {"revoked", "issued", "expired"},
    "revoked": set(),
    "expired": set(),
}
EXPECTED_REVOCATION_TRANSITIONS: dict[str, set[str]] = {
    # OV/EV requests wait for the emailed link; DV ones start with the CA.
    "awaiting_confirmation": {"pending", "cancelled"},
    "pending": {"completed", "rejected"},
    "completed": set(),
    "rejected": set(),
    "cancelled": set(),
}


def test_every_status_has_a_row_in_the_table():
    assert set(CERTIFICATE_TRANSITIONS) == set(CertificateStatus)
    assert set(REVOCATION_TRANSITIONS) == set(RevocationStatus)


def test_the_tables_are_the_ones_the_design_allows():
    assert {
        str(status): {str(target) for target in targets}
        for status, targets in CERTIFICATE_TRANSITIONS.items()
    } == EXPECTED_CERTIFICATE_TRANSITIONS
    assert {
        str(status): {str(target) for target in targets}
        for status, targets in REVOCATION_TRANSITIONS.items()
    } == EXPECTED_REVOCATION_TRANSITIONS


@pytest.mark.django_db
@pytest.mark.parametrize(("current", "target"), ALL_CERTIFICATE_PAIRS)
def test_certificate_transition_follows_the_table(customer, current, target):
    certificate = make_certificate(customer, status=current)

    if target in EXPECTED_CERTIFICATE_TRANSITIONS[current]:
        transition(certificate, target, actor=customer)
        assert Certificate.objects.get(pk=certificate.pk).status == target
        event = AuditEvent.objects.get()
        assert event.action == "certificate.status"
        assert event.actor == customer
        assert event.object_id == str(certificate.pk)
        assert event.details == {"from": current, "to": target}
    else:
        with pytest.raises(TransitionNotAllowed) as refused:
            transition(certificate, target, actor=customer)
        assert refused.value.message == (
            f"A certificate that is {current.label} cannot become {target.label}."
        )
        assert Certificate.objects.get(pk=certificate.pk).status == current
        assert certificate.status == current
        assert not AuditEvent.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(("current", "target"), ALL_REVOCATION_PAIRS)
def test_revocation_transition_follows_the_table(customer, current, target):
    request = RevocationRequest.objects.create(
        certificate=make_certificate(customer, status=CertificateStatus.REVOKING),
        requested_by=customer,
        reason=1,
        status=current,
    )

    if target in EXPECTED_REVOCATION_TRANSITIONS[current]:
        transition(request, target, actor=customer)
        assert RevocationRequest.objects.get(pk=request.pk).status == target
        assert AuditEvent.objects.get().action == "revocationrequest.status"
    else:
        with pytest.raises(TransitionNotAllowed):
            transition(request, target, actor=customer)
        assert RevocationRequest.objects.get(pk=request.pk).status == current
        assert not AuditEvent.objects.exists()


@pytest.mark.django_db
def test_transition_applies_other_changes_with_the_status(customer):
    certificate = make_certificate(customer, status=CertificateStatus.VALIDATING, days_left=None)

    transition(certificate, CertificateStatus.ISSUED, changes={"serial": "0A1B"})

    stored = Certificate.objects.get(pk=certificate.pk)
    assert (stored.status, stored.serial) == (CertificateStatus.ISSUED, "0A1B")
    assert AuditEvent.objects.get().actor_name == "system"


@pytest.mark.django_db
def test_transition_checks_the_stored_status_not_a_stale_copy(customer):
    certificate = make_certificate(customer, status=CertificateStatus.ISSUED)
    stale = Certificate.objects.get(pk=certificate.pk)
    transition(certificate, CertificateStatus.EXPIRED)

    with pytest.raises(TransitionNotAllowed):
        transition(stale, CertificateStatus.REVOKING)
    assert Certificate.objects.get(pk=certificate.pk).status == CertificateStatus.EXPIRED


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks need PostgreSQL (SQLite locks the file)"
)
def test_concurrent_transitions_of_one_certificate_let_only_one_win(customer):
    certificate = make_certificate(customer, status=CertificateStatus.ISSUED)
    barrier = threading.Barrier(2)
    outcomes = []

    def race():
        try:
            barrier.wait()
            transition(Certificate.objects.get(pk=certificate.pk), CertificateStatus.REVOKING)
            outcomes.append("moved")
        except TransitionNotAllowed:
            outcomes.append("refused")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=race) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["moved", "refused"]
    assert Certificate.objects.get(pk=certificate.pk).status == CertificateStatus.REVOKING
    assert AuditEvent.objects.count() == 1


def test_no_module_but_lifecycle_writes_a_status():
    """A guard for the rule: statuses change only through lifecycle.transition."""
    import pathlib
    import re

    root = pathlib.Path(__file__).resolve().parent.parent / "certificates"
    # Assigning to .status, or a bulk .update(status=...).
    writes = re.compile(r"\.status\s*=[^=]|\.update\([^)]*\bstatus\s*=")
    allowed = {"lifecycle.py", "models.py"}
    offenders = [
        f"{path.relative_to(root)}:{number}"
        for path in root.rglob("*.py")
        if path.name not in allowed and "migrations" not in path.parts
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if writes.search(line)
    ]
    assert offenders == []
