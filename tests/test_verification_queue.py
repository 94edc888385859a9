"""Verify on the task queue: the click queues one check, the page shows "Checking..." and
asks until the worker is done, then reloads with what was found."""

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from certificates import services
from certificates.errors import ActionNotAllowed
from certificates.lifecycle import CertificateStatus as Status
from certificates.models import CHECK_GIVEN_UP_AFTER, Application, Certificate
from tests.factories import make_certificate
from tests.issuance import submit_application
from tests.queues import DATABASE_QUEUE, run_queued_checks

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def queued(settings):
    """The database queue with no worker: a Verify waits until the test runs its task."""
    settings.TASKS = DATABASE_QUEUE


@pytest.fixture
def certificate(customer, dns_server, dv_settings):
    certificate = submit_application(customer, "DV", prove_control=False)
    Application.objects.filter(certificate=certificate).update(validation_method="dns")
    token = Application.objects.get(certificate=certificate).validation_token
    dns_server.set_txt("_dnsauth.shop.example.com", token)
    return certificate


def verify(client, certificate):
    return client.post(reverse("certificates:verify", args=[certificate.pk]))


def poll(client, certificate, **headers):
    return client.get(reverse("certificates:verification", args=[certificate.pk]), **headers)


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_verify_queues_the_check_and_the_page_shows_checking(customer_client, certificate, queued):
    response = verify(customer_client, certificate)

    assert response.status_code == 302
    assert DBTaskResult.objects.count() == 1
    assert Certificate.objects.get(pk=certificate.pk).status == Status.VALIDATING
    page = customer_client.get(certificate.get_absolute_url()).content.decode()
    assert "Checking..." in page
    assert reverse("certificates:verification", args=[certificate.pk]) in page
    assert 'hx-trigger="every 1s"' in page


def test_a_second_verify_while_checking_queues_nothing(customer_client, certificate, queued):
    verify(customer_client, certificate)
    verify(customer_client, certificate)

    assert DBTaskResult.objects.count() == 1
    assert services.request_verification(certificate=certificate, actor=None) is False


def test_the_page_asks_until_the_worker_is_done_then_reloads_with_the_outcome(
    customer_client, certificate, queued
):
    verify(customer_client, certificate)

    waiting = poll(customer_client, certificate, **HTMX)
    assert waiting.status_code == 200
    assert "Checking..." in waiting.content.decode()
    assert "<html" not in waiting.content.decode()

    run_queued_checks()
    done = poll(customer_client, certificate, **HTMX)

    assert done.headers["HX-Refresh"] == "true"
    assert messages_of(done) == ["All domains are verified: the certificate is issued."]
    certificate.refresh_from_db()
    assert certificate.status == Status.ISSUED
    assert certificate.application.check_requested_at is None
    page = customer_client.get(certificate.get_absolute_url()).content.decode()
    assert "Checking..." not in page


def test_a_check_that_finds_nothing_says_so_and_verify_may_be_pressed_again(
    customer_client, certificate, dns_server, queued
):
    dns_server.clear()
    verify(customer_client, certificate)
    run_queued_checks()

    done = poll(customer_client, certificate)

    assert done.status_code == 302
    assert messages_of(done) == ["Not all domains could be verified yet: see what was found."]
    assert Certificate.objects.get(pk=certificate.pk).status == Status.VALIDATING
    verify(customer_client, certificate)
    assert DBTaskResult.objects.count() == 1


def test_a_check_no_worker_finished_is_given_up_and_may_be_asked_again(
    customer_client, certificate, queued
):
    verify(customer_client, certificate)
    DBTaskResult.objects.all().delete()  # the worker that took it stopped mid-check
    Application.objects.filter(certificate=certificate).update(
        check_requested_at=timezone.now() - CHECK_GIVEN_UP_AFTER - timedelta(seconds=1)
    )

    done = poll(customer_client, certificate)
    assert messages_of(done) == ["The check did not finish: press Verify to try again."]
    page = customer_client.get(certificate.get_absolute_url()).content.decode()
    assert "Checking..." not in page

    verify(customer_client, certificate)
    assert DBTaskResult.objects.count() == 1
    run_queued_checks()
    assert Certificate.objects.get(pk=certificate.pk).status == Status.ISSUED


def test_a_refusal_to_issue_is_kept_for_the_page(customer_client, certificate, dns_server, queued):
    dns_server.set_caa("example.com", '0 issue "letsencrypt.org"')
    verify(customer_client, certificate)
    run_queued_checks()

    done = poll(customer_client, certificate)

    [message] = messages_of(done)
    assert "The CAA records at example.com" in message
    assert Certificate.objects.get(pk=certificate.pk).status == Status.VALIDATING


def test_verify_of_a_certificate_not_in_validation_queues_nothing(customer, queued):
    certificate = make_certificate(customer)

    with pytest.raises(ActionNotAllowed):
        services.request_verification(certificate=certificate, actor=None)

    assert DBTaskResult.objects.count() == 0


def test_another_customers_check_is_not_found(client, other_customer, certificate):
    client.force_login(other_customer)
    assert poll(client, certificate).status_code == 404
    assert verify(client, certificate).status_code == 404
