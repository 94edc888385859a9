"""Each service refuses what is not allowed now by itself, whichever door calls it."""

from datetime import timedelta

import pytest
from django.utils import timezone

from certificates import services
from certificates.errors import ActionNotAllowed
from certificates.lifecycle import CertificateStatus as Status
from certificates.models import Application, AuditEvent, Certificate
from tests.factories import make_certificate


@pytest.mark.parametrize("status", [Status.VALIDATING, Status.ISSUED, Status.REVOKED])
@pytest.mark.parametrize("submit", [False, True])
def test_save_application_refuses_a_certificate_not_waiting_for_one(customer, status, submit):
    certificate = make_certificate(customer, status=status)
    application = Application(domains="shop.example.com", contact_email="a@example.com")
    with pytest.raises(ActionNotAllowed, match="not waiting for an application"):
        services.save_application(
            certificate=certificate, application=application, submit=submit, actor=customer
        )
    assert not Application.objects.filter(certificate=certificate).exists()
    certificate.refresh_from_db()
    assert certificate.status == status


@pytest.mark.parametrize(
    ("status", "days_left"),
    [(Status.PENDING_APPLICATION, None), (Status.EXPIRED, -3), (Status.ISSUED, -1)],
)
def test_set_expiry_warnings_refuses_a_certificate_that_is_not_issued(customer, status, days_left):
    certificate = make_certificate(customer, status=status, days_left=days_left)
    with pytest.raises(ActionNotAllowed, match="only be set for an issued certificate"):
        services.set_expiry_warnings(certificate=certificate, enabled=False, actor=customer)
    certificate.refresh_from_db()
    assert certificate.expiry_warnings_enabled is True
    assert not AuditEvent.objects.filter(action="certificate.expiry_warnings").exists()


def test_set_expiry_warnings_turns_them_off_for_an_issued_certificate(customer):
    certificate = make_certificate(customer, status=Status.ISSUED)
    services.set_expiry_warnings(certificate=certificate, enabled=False, actor=customer)
    certificate.refresh_from_db()
    assert certificate.expiry_warnings_enabled is False


def test_withdraw_refuses_with_the_same_error_type_as_every_refusal(customer):
    certificate = make_certificate(customer, status=Status.PENDING_APPLICATION)
    with pytest.raises(ActionNotAllowed, match="can be withdrawn"):
        services.withdraw_application(certificate=certificate, actor=customer)


def test_expiry_warnings_post_for_an_expired_certificate_says_why(customer_client, customer):
    certificate = make_certificate(customer, status=Status.EXPIRED, days_left=-2)
    response = customer_client.post(
        f"/certificates/{certificate.pk}/expiry-warnings/", {"enabled": ""}, follow=True
    )
    assert "only be set for an issued certificate" in response.content.decode()
    certificate.refresh_from_db()
    assert certificate.expiry_warnings_enabled is True


@pytest.mark.parametrize(
    ("status", "days_left", "left_after_end", "source"),
    [
        (Status.ISSUED, 20, timedelta(days=100), "console"),
        (Status.ISSUED, 20, timedelta(days=1), "console"),
        (Status.ISSUED, 20, timedelta(hours=23), "console"),
        (Status.ISSUED, 20, None, "console"),
        (Status.ISSUED, -1, timedelta(days=100), "console"),
        (Status.ISSUED, 20, timedelta(days=100), "uploaded"),
        (Status.EXPIRED, -1, timedelta(days=100), "console"),
        (Status.REVOKING, 20, timedelta(days=100), "console"),
    ],
)
def test_the_reissue_job_query_and_can_reissue_are_one_rule(
    customer, status, days_left, left_after_end, source
):
    certificate = make_certificate(customer, status=status, days_left=days_left, source=source)
    if left_after_end is not None:
        certificate.subscription_ends_at = certificate.not_after + left_after_end
        certificate.save(update_fields=["subscription_ends_at"])
    in_query = Certificate.objects.reissuable(timezone.now()).filter(pk=certificate.pk).exists()
    assert certificate.can_reissue is in_query
