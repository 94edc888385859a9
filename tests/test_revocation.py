"""Revoking a certificate: the page, who may, email confirmation, the CA's decision, refunds."""

import html
import re
import threading
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.db import connection, connections
from django.urls import reverse

from certificates import services
from certificates.lifecycle import CertificateStatus as Status
from certificates.lifecycle import RevocationStatus
from certificates.models import AuditEvent, Certificate, Order, RevocationRequest
from tests.factories import make_certificate, make_user
from tests.issuance import issue_real_certificate

pytestmark = pytest.mark.django_db

# Friday 30 January 2026, 10:00 UTC: the refund deadline is Sunday 1 March, and the last
# day to apply that leaves the CA 5 business days is Sunday 22 February.
ISSUED_AT = datetime(2026, 1, 30, 10, 0, tzinfo=UTC)


def revoke_url(certificate) -> str:
    return reverse("certificates:revoke", args=[certificate.pk])


def refresh(obj):
    return type(obj).objects.get(pk=obj.pk)


def revoke(client, certificate, reason=4, *, follow=False, headers=None):
    """The revocation as sent by the "OK" of the dialog that "Confirm" opened."""
    return client.post(
        revoke_url(certificate), {"reason": reason, "ok": "1"}, follow=follow, headers=headers
    )


def confirmation_link(message) -> str:
    match = re.search(r"http://testserver(/revocations/confirm/[^/\s]+/)", message.body)
    assert match, message.body
    return match.group(1)


@pytest.fixture(autouse=True)
def _console_base_url(settings):
    settings.CONSOLE_BASE_URL = "http://testserver"
    settings.REVOCATION_HOLIDAYS = frozenset()


@pytest.fixture
def dv(customer):
    return issue_real_certificate(customer, "DV")


@pytest.fixture
def ov(customer):
    return issue_real_certificate(customer, "OV", contact_email="applicant@example.com")


# --- the Revoke Certificate page ----------------------------------------------------------


def page_text(response) -> str:
    """The text a reader sees: no tags, entities decoded, whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


def test_the_page_offers_the_rfc_5280_reasons_and_the_refund_dates(customer, customer_client):
    with time_machine.travel(ISSUED_AT, tick=False):
        certificate = issue_real_certificate(customer, "DV", amount=Decimal("300.00"))
    with time_machine.travel(datetime(2026, 2, 10, 9, 0, tzinfo=UTC), tick=False):
        response = customer_client.get(revoke_url(certificate))

    text = page_text(response)
    assert response.status_code == 200
    assert "Revoke Certificate" in text
    for reason in (
        "Unspecified",
        "Key compromise",
        "Affiliation changed",
        "Superseded",
        "Cessation of operation",
    ):
        assert reason in text
    assert "issued on 2026-01-30" in text
    assert "A full refund of $300.00" in text
    assert "by 2026-03-01 (Sunday)" in text
    assert "takes up to 5 business days, so apply by 2026-02-22 (Sunday)" in text
    assert "straight to the CA" in text
    assert "Confirm" in text


FULL_REFUND = "Full refund $300.00 if completed by 2026-03-01"
POSSIBLE = "you are refunded only if the CA completes the revocation by 2026-03-01"


@pytest.mark.parametrize(
    ("today", "holidays", "page_says", "admin_says"),
    [
        # Issued Friday 30 January 2026: the deadline is Sunday 1 March, apply by Sunday 22.
        ("2026-02-22", (), "so apply by 2026-02-22 (Sunday)", FULL_REFUND),
        ("2026-02-23", (), POSSIBLE, FULL_REFUND),  # the day after the last day to apply
        ("2026-02-28", (), POSSIBLE, FULL_REFUND),  # the day before the deadline
        ("2026-03-01", (), POSSIBLE, FULL_REFUND),  # the deadline itself
        ("2026-03-02", (), "No refund will be made.", "None: the refund deadline was 2026-03-01"),
        # A holiday on Friday 27 February: the last day to apply moves to Thursday 19.
        ("2026-02-19", ("2026-02-27",), "so apply by 2026-02-19 (Thursday)", FULL_REFUND),
        ("2026-02-20", ("2026-02-27",), POSSIBLE, FULL_REFUND),
    ],
)
def test_the_revoke_page_and_the_admin_agree_on_the_refund_on_each_day(
    customer, customer_client, admin_client, settings, today, holidays, page_says, admin_says
):
    settings.REVOCATION_HOLIDAYS = frozenset(date.fromisoformat(day) for day in holidays)
    with time_machine.travel(ISSUED_AT, tick=False):
        certificate = issue_real_certificate(customer, "DV", domain="page.example.com")
        queued = issue_real_certificate(customer, "DV", domain="queued.example.com")
    with time_machine.travel(datetime.fromisoformat(f"{today}T09:00:00+00:00"), tick=False):
        services.request_revocation(certificate=queued, reason=4, actor=customer)
        page = page_text(customer_client.get(revoke_url(certificate)))
        admin = page_text(
            admin_client.get(reverse("admin:certificates_revocationrequest_changelist"))
        )

    assert page_says in page
    assert admin_says in admin
    # "No refund" on the page exactly when completing today would refund nothing.
    assert ("No refund will be made." in page) is admin_says.startswith("None")


def test_the_page_says_no_refund_after_the_refund_window(customer, customer_client):
    with time_machine.travel(ISSUED_AT, tick=False):
        certificate = issue_real_certificate(customer, "DV")
    with time_machine.travel(datetime(2026, 3, 2, 9, 0, tzinfo=UTC), tick=False):
        text = page_text(customer_client.get(revoke_url(certificate)))

    assert "more than 30 days ago (refunds ended on 2026-03-01)" in text
    assert "No refund will be made." in text


def test_the_page_for_ov_says_the_link_must_be_confirmed_in_time(customer_client, ov):
    text = page_text(customer_client.get(revoke_url(ov)))
    assert "and confirm the emailed link by then" in text
    assert "We email a confirmation link to the applicant" in text


def test_a_reissue_does_not_start_the_refund_days_again(customer, customer_client):
    with time_machine.travel(ISSUED_AT, tick=False):
        certificate = issue_real_certificate(customer, "DV")
    with time_machine.travel(ISSUED_AT + timedelta(days=180), tick=False):
        services.reissue_certificate(certificate=certificate, actor=customer)
        text = page_text(customer_client.get(revoke_url(certificate)))

    assert refresh(certificate).not_before.date() == date(2026, 7, 29)
    assert "issued on 2026-01-30" in text
    assert "No refund will be made." in text


def test_the_dates_follow_the_settings(customer, customer_client, settings):
    settings.REVOCATION_REFUND_DAYS = 10
    settings.REVOCATION_CA_BUSINESS_DAYS = 2
    settings.REVOCATION_HOLIDAYS = frozenset({date(2026, 2, 9)})
    with time_machine.travel(ISSUED_AT, tick=False):
        certificate = issue_real_certificate(customer, "DV")
        text = page_text(customer_client.get(revoke_url(certificate)))
    # Deadline Monday 9 February, a holiday: Wednesday 4 + 2 business days is Friday 6.
    assert "by 2026-02-09 (Monday)" in text
    assert "apply by 2026-02-04 (Wednesday)" in text


# --- who may revoke -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"source": "uploaded"}, "Uploaded certificates can't be revoked"),
        ({"status": Status.PENDING_APPLICATION, "days_left": None}, "Pending Application"),
        ({"status": Status.VALIDATING, "days_left": None}, "Validating"),
        ({"status": Status.EXPIRED, "days_left": -3}, "Expired"),
        ({"status": Status.ISSUED, "days_left": -1}, "Expired"),  # ran out, batch job not run
        ({"status": Status.REVOKING}, "already under way"),
        ({"status": Status.REVOKED}, "Revoked"),
    ],
)
def test_only_issued_unexpired_console_certificates_can_be_revoked(
    customer, customer_client, dv, fields, message
):
    certificate = make_certificate(customer, authority=dv.authority, serial="0ABC", **fields)

    page = customer_client.get(certificate.get_absolute_url()).content.decode()
    listing = customer_client.get(reverse("certificates:overview")).content.decode()
    get = customer_client.get(revoke_url(certificate), follow=True)
    post = revoke(customer_client, certificate, follow=True)

    assert revoke_url(certificate) not in page
    assert revoke_url(certificate) not in listing
    for response in (get, post):
        assert response.redirect_chain[-1][0] == certificate.get_absolute_url()
        assert message in page_text(response)
    assert not RevocationRequest.objects.filter(certificate=certificate).exists()
    assert refresh(certificate).status == fields.get("status", Status.ISSUED)


def test_an_issued_console_certificate_offers_revoke(customer_client, dv):
    page = customer_client.get(dv.get_absolute_url()).content.decode()
    listing = customer_client.get(reverse("certificates:overview")).content.decode()
    assert revoke_url(dv) in page
    assert revoke_url(dv) in listing


def test_the_revoke_pages_need_sign_in(client, dv):
    for response in (
        client.get(revoke_url(dv)),
        revoke(client, dv),
        client.post(reverse("certificates:cancel_revocation", args=[dv.pk])),
    ):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    assert refresh(dv).status == Status.ISSUED


def test_another_customers_certificate_is_a_404(client, other_customer, dv):
    client.force_login(other_customer)
    assert client.get(revoke_url(dv)).status_code == 404
    assert revoke(client, dv).status_code == 404
    assert client.post(reverse("certificates:cancel_revocation", args=[dv.pk])).status_code == 404
    assert refresh(dv).status == Status.ISSUED


def test_a_reason_must_be_one_of_the_offered_codes(customer_client, dv):
    for reason in ("", "2", "6", "x"):
        response = revoke(customer_client, dv, reason=reason)
        assert response.status_code == 200
        assert response.context["form"].errors["reason"]
    assert refresh(dv).status == Status.ISSUED
    assert not RevocationRequest.objects.exists()


# --- DV: straight to the CA ---------------------------------------------------------------


def test_dv_goes_straight_to_the_ca_with_a_due_date_5_business_days_later(
    customer, customer_client
):
    with time_machine.travel(ISSUED_AT, tick=False):
        certificate = issue_real_certificate(customer, "DV")
    # Thursday 26 February: due Thursday 5 March, over the month end and a weekend.
    moment = datetime(2026, 2, 26, 15, 0, tzinfo=UTC)
    with time_machine.travel(moment, tick=False):
        response = revoke(customer_client, certificate, reason=4, follow=True)

    request = RevocationRequest.objects.get()
    assert (request.status, request.reason) == (RevocationStatus.PENDING, 4)
    assert request.submitted_to_ca_at == moment
    assert request.due_date == date(2026, 3, 5)
    assert request.requested_by == customer
    assert refresh(certificate).status == Status.REVOKING
    assert mail.outbox == []
    assert "It will be processed by 2026-03-05" in page_text(response)


def test_with_htmx_confirm_answers_with_the_ok_dialog_and_sends_nothing(customer_client, dv):
    response = customer_client.post(revoke_url(dv), {"reason": 4}, headers={"HX-Request": "true"})

    html = response.content.decode()
    assert response.status_code == 200
    assert 'class="modal-content"' in html
    assert f"Revoke {dv}?" in html
    assert "Reason: <strong>Superseded</strong>" in html
    assert '<input type="hidden" name="reason" value="4">' in html
    assert '<button type="submit" name="ok" value="1" class="btn btn-danger">OK</button>' in html
    assert "<html" not in html
    assert not RevocationRequest.objects.exists()
    assert refresh(dv).status == Status.ISSUED


def test_without_htmx_confirm_asks_on_the_page_and_sends_nothing(customer_client, dv):
    response = customer_client.post(revoke_url(dv), {"reason": 1})
    assert response.status_code == 200
    assert f"Revoke {dv}?" in page_text(response)
    assert not RevocationRequest.objects.exists()


def test_with_htmx_ok_sends_the_request_and_opens_the_details(customer_client, dv):
    response = revoke(customer_client, dv, headers={"HX-Request": "true"})
    assert response["HX-Redirect"] == dv.get_absolute_url()
    assert RevocationRequest.objects.get().certificate == dv
    details = page_text(customer_client.get(dv.get_absolute_url()))
    assert "Your revocation request was sent to the CA" in details


def test_with_htmx_a_form_error_goes_back_into_the_page(customer_client, dv):
    response = customer_client.post(revoke_url(dv), {}, headers={"HX-Request": "true"})
    assert response["HX-Retarget"] == "#revoke-form"
    assert response["HX-Reswap"] == "outerHTML"
    assert "Choose the reason" in response.content.decode()


def test_from_the_request_on_the_details_are_limited_and_nothing_downloads(customer_client, dv):
    revoke(customer_client, dv)

    response = customer_client.get(dv.get_absolute_url())
    html = response.content.decode()
    assert "Revoking" in html
    assert dv.serial in html
    assert dv.fingerprint_sha256 not in html
    assert "SHA-1 fingerprint" not in html
    assert "Installation &amp; Download" not in html
    assert reverse("certificates:download", args=[dv.pk, "nginx"]) not in html
    download = customer_client.get(reverse("certificates:download", args=[dv.pk, "nginx"]))
    assert download.status_code == 302
    listing = customer_client.get(reverse("certificates:overview") + "?status=revoking")
    assert "Revoking" in page_text(listing)
    assert dv.common_name in page_text(listing)


# --- OV/EV: confirmed by email ------------------------------------------------------------


def test_ov_waits_for_the_emailed_confirmation(customer_client, ov):
    response = revoke(customer_client, ov, follow=True)

    request = RevocationRequest.objects.get()
    assert request.status == RevocationStatus.AWAITING_CONFIRMATION
    assert request.confirmation_email == "applicant@example.com"
    assert request.confirmation_sent_at is not None
    assert request.submitted_to_ca_at is None and request.due_date is None
    assert refresh(ov).status == Status.REVOKING
    assert "We emailed a confirmation link to applicant@example.com" in page_text(response)
    [message] = mail.outbox
    assert message.to == ["applicant@example.com"]
    assert ov.serial in message.body
    assert "Superseded" in message.body
    assert "72 hours" in message.body


def test_the_link_shows_a_button_and_only_a_post_confirms(client, customer_client, ov):
    revoke(customer_client, ov)
    link = confirmation_link(mail.outbox[0])

    shown = client.get(link)  # the applicant need not be signed in
    assert shown.status_code == 200
    assert "Confirm the revocation" in page_text(shown)
    assert ov.serial in page_text(shown)
    assert RevocationRequest.objects.get().status == RevocationStatus.AWAITING_CONFIRMATION

    confirmed = client.post(link)
    assert confirmed.status_code == 200
    assert "Confirmed." in page_text(confirmed)
    request = RevocationRequest.objects.get()
    assert request.status == RevocationStatus.PENDING
    assert request.confirmed_at is not None
    assert request.submitted_to_ca_at == request.confirmed_at
    assert request.due_date is not None
    assert refresh(ov).status == Status.REVOKING


def test_a_used_link_is_refused(client, customer_client, ov):
    revoke(customer_client, ov)
    link = confirmation_link(mail.outbox[0])
    client.post(link)
    confirmed_at = RevocationRequest.objects.get().confirmed_at

    for response in (client.post(link), client.get(link)):
        assert response.status_code == 400
        assert "already been confirmed" in page_text(response)
    assert RevocationRequest.objects.get().confirmed_at == confirmed_at


def test_an_expired_link_is_refused_and_nothing_is_revoked(client, customer_client, ov):
    start = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        revoke(customer_client, ov)
    link = confirmation_link(mail.outbox[0])

    with time_machine.travel(start + timedelta(hours=71, minutes=59), tick=False):
        assert client.get(link).status_code == 200
    with time_machine.travel(start + timedelta(hours=72, minutes=1), tick=False):
        response = client.post(link)

    assert response.status_code == 400
    assert "This confirmation link has expired" in page_text(response)
    assert RevocationRequest.objects.get().status == RevocationStatus.AWAITING_CONFIRMATION


def test_the_link_validity_is_a_setting(client, customer_client, ov, settings):
    settings.REVOCATION_CONFIRMATION_HOURS = 1
    start = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        revoke(customer_client, ov)
    assert "valid for 1 hour, once" in mail.outbox[0].body
    with time_machine.travel(start + timedelta(minutes=61), tick=False):
        assert "expired" in page_text(client.post(confirmation_link(mail.outbox[0])))


@pytest.mark.parametrize(
    "tamper",
    [
        lambda token: token[:-1] + ("A" if token[-1] != "A" else "B"),  # the signature
        lambda token: "9" + token,  # another request's id
        lambda token: token.split(":", 1)[0],  # no signature at all
        lambda token: "garbage",
    ],
)
def test_a_tampered_link_is_refused(client, customer_client, ov, tamper):
    revoke(customer_client, ov)
    token = confirmation_link(mail.outbox[0]).split("/")[-2]

    response = client.post(reverse("confirm_revocation", args=[tamper(token)]))

    assert response.status_code == 400
    assert "This confirmation link is not valid" in page_text(response)
    assert RevocationRequest.objects.get().status == RevocationStatus.AWAITING_CONFIRMATION


def test_cancel_before_confirming_reinstates_the_certificate(client, customer_client, ov):
    revoke(customer_client, ov)
    link = confirmation_link(mail.outbox[0])

    response = customer_client.post(
        reverse("certificates:cancel_revocation", args=[ov.pk]), follow=True
    )

    assert "cancelled; nothing was revoked" in page_text(response)
    assert RevocationRequest.objects.get().status == RevocationStatus.CANCELLED
    assert refresh(ov).status == Status.ISSUED
    assert refresh(ov).can_download
    refused = client.post(link)
    assert "was cancelled" in page_text(refused)
    assert refresh(ov).status == Status.ISSUED
    # It can be revoked again, with a new link.
    revoke(customer_client, ov)
    assert RevocationRequest.objects.filter(status="awaiting_confirmation").count() == 1
    assert len(mail.outbox) == 2


def test_after_confirming_it_can_no_longer_be_cancelled(client, customer_client, ov):
    revoke(customer_client, ov)
    client.post(confirmation_link(mail.outbox[0]))

    response = customer_client.post(
        reverse("certificates:cancel_revocation", args=[ov.pk]), follow=True
    )

    assert "Only a revocation request still awaiting" in page_text(response)
    assert RevocationRequest.objects.get().status == RevocationStatus.PENDING
    assert refresh(ov).status == Status.REVOKING


def test_a_failed_email_leaves_nothing_behind(customer_client, ov, settings):
    settings.EMAIL_BACKEND = "tests.test_revocation.FailingEmailBackend"
    response = revoke(customer_client, ov)
    assert "could not be sent" in page_text(response)
    assert not RevocationRequest.objects.exists()
    assert refresh(ov).status == Status.ISSUED


class FailingEmailBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("no mail server")


# --- the CA: an operator completes or rejects in the admin --------------------------------


def admin_action(admin_client, action, requests, **data):
    return admin_client.post(
        reverse("admin:certificates_revocationrequest_changelist"),
        {"action": action, "_selected_action": [r.pk for r in requests], **data},
        follow=True,
    )


def test_completing_within_30_days_revokes_and_refunds_in_full(customer, admin_client):
    with time_machine.travel(ISSUED_AT, tick=False):
        certificate = issue_real_certificate(customer, "DV", amount=Decimal("300.00"))
        request = services.request_revocation(certificate=certificate, reason=4, actor=customer)
    # Sunday 1 March 2026: the 30th day after issuance.
    completed = datetime(2026, 3, 1, 20, 0, tzinfo=UTC)
    with time_machine.travel(completed, tick=False):
        response = admin_action(admin_client, "complete", [request])

    assert "completed, refund $300.00" in page_text(response)
    request, certificate = refresh(request), refresh(certificate)
    assert request.status == RevocationStatus.COMPLETED
    assert request.completed_at == completed
    assert request.processed_by.is_staff
    assert request.refund_amount == Decimal("300.00")
    assert certificate.status == Status.REVOKED
    order = Order.objects.get(pk=certificate.order_id)
    assert (order.refund_amount, order.refunded_at) == (Decimal("300.00"), completed)


def test_completing_after_30_days_revokes_without_a_refund(customer, admin_client):
    with time_machine.travel(ISSUED_AT, tick=False):
        certificate = issue_real_certificate(customer, "DV")
        request = services.request_revocation(certificate=certificate, reason=0, actor=customer)
    with time_machine.travel(datetime(2026, 3, 2, 0, 30, tzinfo=UTC), tick=False):
        admin_action(admin_client, "complete", [request])

    request = refresh(request)
    assert request.status == RevocationStatus.COMPLETED
    assert request.refund_amount == Decimal("0.00")
    assert refresh(certificate).status == Status.REVOKED
    order = Order.objects.get(pk=certificate.order_id)
    assert (order.refund_amount, order.refunded_at) == (Decimal("0.00"), None)


def test_a_refund_is_the_certificates_share_of_its_order(customer):
    certificate = issue_real_certificate(customer, "DV", amount=Decimal("100.00"), quantity=3)
    request = services.request_revocation(certificate=certificate, reason=0, actor=customer)
    services.complete_revocation(revocation=request, actor=None)
    assert Order.objects.get(pk=certificate.order_id).refund_amount == Decimal("33.33")


def test_the_customer_sees_the_completed_revocation(customer, customer_client, dv):
    request = services.request_revocation(certificate=dv, reason=5, actor=customer)
    services.complete_revocation(revocation=request, actor=None)

    text = page_text(customer_client.get(dv.get_absolute_url()))
    assert "Revoked on" in text
    assert "Reason: Cessation of operation" in text
    assert "Refund: $300.00" in text
    assert revoke_url(dv) not in text


def test_rejecting_returns_the_certificate_with_the_reason_shown(
    customer, customer_client, admin_client, dv
):
    request = services.request_revocation(certificate=dv, reason=4, actor=customer)

    form = admin_action(admin_client, "reject", [request])
    assert "Reason shown to the customer" in form.content.decode()
    assert refresh(request).status == RevocationStatus.PENDING
    response = admin_action(
        admin_client, "reject", [request], reason="The key was not compromised: see ticket 42."
    )

    assert "rejected" in page_text(response)
    request = refresh(request)
    assert request.status == RevocationStatus.REJECTED
    assert request.rejection_reason == "The key was not compromised: see ticket 42."
    assert request.refund_amount is None
    assert refresh(dv).status == Status.ISSUED
    details = page_text(customer_client.get(dv.get_absolute_url()))
    assert "The CA rejected the revocation request: The key was not compromised" in details
    assert revoke_url(dv) in customer_client.get(dv.get_absolute_url()).content.decode()


def test_an_unconfirmed_request_is_not_the_cas_to_decide(customer, admin_client, ov):
    request = services.request_revocation(certificate=ov, reason=4, actor=customer)

    response = admin_action(admin_client, "complete", [request])

    assert "cannot become Completed" in page_text(response)
    assert refresh(request).status == RevocationStatus.AWAITING_CONFIRMATION
    assert refresh(ov).status == Status.REVOKING


def test_completing_twice_revokes_once(customer, admin_client, dv):
    request = services.request_revocation(certificate=dv, reason=4, actor=customer)
    admin_action(admin_client, "complete", [request])

    response = admin_action(admin_client, "complete", [request])

    assert "cannot become Completed" in page_text(response)
    assert Order.objects.get(pk=dv.order_id).refund_amount == Decimal("300.00")
    assert (
        AuditEvent.objects.filter(action="certificate.status", details__to="revoked").count() == 1
    )


def test_the_admin_queue_lists_requests_with_the_ca_first_by_due_date(customer, admin_client):
    certificates = [
        issue_real_certificate(customer, "DV", domain=f"s{i}.example.com") for i in range(2)
    ]
    late = services.request_revocation(certificate=certificates[0], reason=4, actor=customer)
    RevocationRequest.objects.filter(pk=late.pk).update(due_date=date(2020, 1, 1))
    services.request_revocation(certificate=certificates[1], reason=4, actor=customer)

    response = admin_client.get(reverse("admin:certificates_revocationrequest_changelist"))

    rows = list(response.context["cl"].result_list)
    assert rows[0].pk == late.pk
    assert rows[0].is_overdue
    assert not rows[1].is_overdue


def test_a_revoked_certificate_can_be_deleted(customer, customer_client, dv):
    request = services.request_revocation(certificate=dv, reason=4, actor=customer)
    assert refresh(dv).delete_refusal  # not while being revoked
    services.complete_revocation(revocation=request, actor=None)

    response = customer_client.post(reverse("certificates:delete", args=[dv.pk]))

    assert response.status_code == 302
    assert refresh(dv).deleted_at is not None
    assert AuditEvent.objects.filter(action="certificate.delete").exists()


def test_each_step_is_in_the_audit_log(customer, client, customer_client, ov):
    revoke(customer_client, ov)
    client.post(confirmation_link(mail.outbox[0]))
    services.complete_revocation(revocation=RevocationRequest.objects.get(), actor=None)

    actions = list(AuditEvent.objects.order_by("id").values_list("action", "details"))
    revocation_steps = [
        (action, details.get("to"))
        for action, details in actions
        if action in ("revocation.request", "revocationrequest.status", "certificate.status")
    ]
    assert revocation_steps[-5:] == [
        ("certificate.status", "revoking"),
        ("revocation.request", None),
        ("revocationrequest.status", "pending"),
        ("revocationrequest.status", "completed"),
        ("certificate.status", "revoked"),
    ]


# --- races, on PostgreSQL -----------------------------------------------------------------

needs_row_locks = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks need PostgreSQL (SQLite locks the file)"
)


def race(target, count=2) -> list[str]:
    barrier = threading.Barrier(count)
    outcomes = []

    def run():
        try:
            barrier.wait()
            target()
            outcomes.append("done")
        except Exception as error:  # noqa: BLE001 - the outcome is what the test checks
            outcomes.append(type(error).__name__)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(outcomes)


@needs_row_locks
@pytest.mark.django_db(transaction=True)
def test_two_requests_at_once_make_one_revocation_request(customer):
    certificate = issue_real_certificate(customer, "DV")

    outcomes = race(
        lambda: services.request_revocation(
            certificate=Certificate.objects.get(pk=certificate.pk), reason=4, actor=customer
        )
    )

    assert outcomes == ["ActionNotAllowed", "done"]
    assert RevocationRequest.objects.count() == 1
    assert refresh(certificate).status == Status.REVOKING


@needs_row_locks
@pytest.mark.django_db(transaction=True)
def test_two_operators_completing_at_once_revoke_once(customer):
    certificate = issue_real_certificate(customer, "DV")
    request = services.request_revocation(certificate=certificate, reason=4, actor=customer)
    operators = [make_user(f"operator{i}", is_staff=True) for i in range(2)]
    turn = iter(operators)

    outcomes = race(
        lambda: services.complete_revocation(
            revocation=RevocationRequest.objects.get(pk=request.pk), actor=next(turn)
        )
    )

    assert outcomes == ["TransitionNotAllowed", "done"]
    assert refresh(request).status == RevocationStatus.COMPLETED
    assert refresh(certificate).status == Status.REVOKED
    assert Order.objects.get(pk=certificate.order_id).refund_amount == Decimal("300.00")
    assert (
        AuditEvent.objects.filter(action="certificate.status", details__to="revoked").count() == 1
    )
