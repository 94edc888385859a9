import pytest
from django.utils import timezone

from certificates.lifecycle import CERTIFICATE_TRANSITIONS, transition_batch
from certificates.lifecycle import CertificateStatus as Status
from certificates.models import AuditEvent, Certificate
from tests.factories import make_certificate

pytestmark = pytest.mark.django_db


def test_transition_batch_moves_only_what_the_table_allows(customer):
    certificates = {status: make_certificate(customer, status=status) for status in Status}
    started = timezone.now()

    moved = transition_batch(Certificate.objects.all(), Status.EXPIRED, limit=100)

    allowed = {s for s, targets in CERTIFICATE_TRANSITIONS.items() if Status.EXPIRED in targets}
    assert sorted(moved) == sorted(certificates[status].pk for status in allowed)
    for status, certificate in certificates.items():
        stored = Certificate.objects.get(pk=certificate.pk)
        if status in allowed:
            assert stored.status == Status.EXPIRED
            assert stored.status_changed_at >= started
        else:
            assert stored.status == status
            assert stored.status_changed_at < started


def test_transition_batch_writes_the_audit_events_transition_writes(customer):
    named = make_certificate(customer, status=Status.ISSUED, name="shop-cert")
    revoking = make_certificate(customer, status=Status.REVOKING, domain="a.example.com")

    transition_batch(Certificate.objects.all(), Status.EXPIRED, limit=100)

    events = {event.object_id: event for event in AuditEvent.objects.all()}
    assert set(events) == {str(named.pk), str(revoking.pk)}
    assert events[str(named.pk)].details == {"from": "issued", "to": "expired"}
    assert events[str(named.pk)].object_repr == "shop-cert"
    assert events[str(revoking.pk)].details == {"from": "revoking", "to": "expired"}
    assert events[str(revoking.pk)].object_repr == "a.example.com"
    for event in events.values():
        assert event.action == "certificate.status"
        assert event.object_type == "certificates.Certificate"
        assert (event.actor, event.actor_name) == (None, "system")


def test_transition_batch_takes_at_most_the_limit_lowest_ids_first(customer):
    ids = [make_certificate(customer, status=Status.ISSUED).pk for _ in range(5)]

    assert transition_batch(Certificate.objects.all(), Status.EXPIRED, limit=2) == ids[:2]
    assert transition_batch(Certificate.objects.all(), Status.EXPIRED, limit=2) == ids[2:4]
    assert AuditEvent.objects.count() == 4


def test_transition_batch_with_nothing_to_move_changes_nothing(customer):
    make_certificate(customer, status=Status.REVOKED)

    assert transition_batch(Certificate.objects.all(), Status.EXPIRED, limit=10) == []
    assert not AuditEvent.objects.exists()


def test_transition_batch_events_name_a_certificate_as_its_str_does(customer):
    from certificates.audit import actor_details

    bare = make_certificate(customer, status=Status.ISSUED, name="", common_name="")
    named = make_certificate(customer, status=Status.ISSUED, common_name="www.example.com")

    with actor_details(token="ci-deploy"):
        transition_batch(Certificate.objects.all(), Status.EXPIRED, limit=100)

    events = {event.object_id: event for event in AuditEvent.objects.all()}
    assert events[str(bare.pk)].object_repr == str(bare) == f"Certificate {bare.pk}"
    assert events[str(named.pk)].object_repr == str(named) == "www.example.com"
    assert events[str(bare.pk)].details == {"from": "issued", "to": "expired", "token": "ci-deploy"}
