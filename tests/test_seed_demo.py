from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from certificates import services
from certificates.lifecycle import RevocationStatus
from certificates.models import AuditEvent, Certificate, Order, RevocationReason, RevocationRequest
from certificates.pki.parsing import load_certificates
from certificates.refunds import add_business_days
from certificates.selectors import certificate_counters, refund_on


@pytest.mark.django_db
def test_seed_demo_builds_the_demo_overview_and_is_idempotent(django_user_model, client, rf):
    call_command("seed_demo", stdout=StringIO())
    # Sign-in throttling (axes) authenticates only with the request it throttles.
    demo = authenticate(rf.post("/accounts/login/"), username="demo", password="demo")
    operator = authenticate(rf.post("/accounts/login/"), username="operator", password="operator")

    assert demo is not None and not demo.is_staff
    assert operator is not None and operator.is_staff
    assert not operator.is_superuser
    assert list(operator.groups.values_list("name", flat=True)) == ["Operators"]
    assert certificate_counters(owner=demo) == {
        "total": 901,
        "issued": 745,
        "pending_application": 74,
        "will_expire": 2,
        "check_fail": 50,
        "expired": 17,
    }
    assert set(Certificate.objects.values_list("status", flat=True)) >= {
        "validating",
        "revoking",
        "revoked",
    }
    assert Certificate.objects.values("brand").distinct().count() >= 4

    # Bought through the purchase service, in the past: each order paid (and its
    # "order.paid" event) when its certificate was made, before it was issued, for
    # a subscription of calendar years as the service counts them.
    paid = dict(
        AuditEvent.objects.filter(action="order.paid").values_list("object_id", "created_at")
    )
    for certificate in Certificate.objects.filter(owner=demo).select_related("order"):
        order = certificate.order
        assert order.quantity == 1
        assert order.paid_at == order.created_at == certificate.created_at == paid[str(order.pk)]
        assert certificate.subscription_ends_at == services.subscription_end(
            order.paid_at, order.years
        )
        assert certificate.not_before is None or order.paid_at < certificate.not_before
    assert Order.objects.filter(customer=demo).count() == 901

    # Issued and expired demo certificates are real ones signed by the brand's local CA.
    issued = Certificate.objects.filter(owner=demo, status="issued").select_related("authority")
    for certificate in (issued.first(), issued.last()):
        leaf = load_certificates(certificate.certificate_pem)[0]
        leaf.verify_directly_issued_by(load_certificates(certificate.authority.certificate_pem)[0])
        assert certificate.serial == format(leaf.serial_number, "X")
    client.force_login(demo)
    response = client.get(reverse("certificates:download", args=[issued.first().pk, "nginx"]))
    assert response["Content-Type"] == "application/zip"

    def row_counts():
        return [model.objects.count() for model in (Certificate, AuditEvent, django_user_model)]

    rows = row_counts()
    call_command("seed_demo", stdout=StringIO())
    assert row_counts() == rows


@pytest.mark.django_db
def test_seed_demo_revocations_have_their_own_past_dates(settings):
    call_command("seed_demo", stdout=StringIO())
    revocations = list(RevocationRequest.objects.select_related("certificate__order"))
    now = timezone.now()
    completed = [r for r in revocations if r.status == RevocationStatus.COMPLETED]
    under_way = [r for r in revocations if r.status == RevocationStatus.PENDING]
    assert len(completed) == 4 and len(under_way) == 3
    for revocation in revocations:
        asked_at = revocation.submitted_to_ca_at
        assert revocation.created_at == asked_at < now
        if revocation.reason == RevocationReason.KEY_COMPROMISE:
            assert revocation.due_date == timezone.localdate(asked_at + timedelta(hours=24))
        else:
            assert revocation.due_date == add_business_days(
                timezone.localdate(asked_at),
                settings.REVOCATION_CA_BUSINESS_DAYS,
                settings.REVOCATION_HOLIDAYS,
            )
    for revocation in completed:
        assert revocation.submitted_to_ca_at < revocation.completed_at < now
        # The refund is the one that completing on that past day brings.
        assert (
            revocation.refund_amount
            == refund_on(
                certificate=revocation.certificate,
                completed_on=timezone.localdate(revocation.completed_at),
            ).amount
        )
    # Spread over weeks, as a queue of real requests would be.
    assert len({revocation.due_date for revocation in revocations}) >= 4
