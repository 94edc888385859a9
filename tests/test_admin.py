"""The operators' console: the review queue, the revocation queue, orders and refunds, search.

Every decision is an admin action that calls the services; these tests drive the admin as
an operator of the Operators group would, and check what changed (and what did not).
"""

import html
import re
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
import time_machine
from cryptography.hazmat.primitives import serialization
from django.contrib.admin.models import LogEntry
from django.urls import reverse

from certificates import services
from certificates.lifecycle import CertificateStatus as Status
from certificates.lifecycle import RevocationStatus
from certificates.models import (
    Application,
    AuditEvent,
    Certificate,
    IssuedSerial,
    Order,
    Product,
    RevocationRequest,
)
from certificates.money import format_money
from certificates.pki import csr
from tests.admin_support import (
    change_url,
    changelist_url,
    messages_of,
    page_text,
    post_action,
    result_ids,
)
from tests.factories import make_brand, make_certificate
from tests.issuance import issue_real_certificate, submit_application

pytestmark = pytest.mark.django_db

ISSUED_AT = datetime(2026, 1, 30, 10, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _no_holidays(settings):
    settings.REVOCATION_HOLIDAYS = frozenset()


def refresh(obj):
    return type(obj).objects.get(pk=obj.pk)


def application_of(certificate: Certificate) -> Application:
    return Application.objects.get(certificate=certificate)


def snapshot(certificate: Certificate) -> tuple:
    """What an action on a certificate could change."""
    certificate = refresh(certificate)
    application = Application.objects.filter(certificate=certificate).first()
    return (
        certificate.status,
        certificate.serial,
        certificate.certificate_pem,
        application and application.rejection_reason,
        application and application.reviewed_at,
        IssuedSerial.objects.filter(certificate=certificate).count(),
    )


# --- the review queue ---------------------------------------------------------------------


def test_the_queue_lists_ov_and_ev_applications_waiting_for_review_oldest_first(
    customer, operator_client
):
    newer = submit_application(customer, "OV", domain="newer.example.com")
    older = submit_application(customer, "EV", domain="older.example.com")
    Application.objects.filter(certificate=older).update(
        submitted_at=refresh(newer).application.submitted_at - timedelta(hours=3)
    )
    dv = submit_application(customer, "DV", domain="dv.example.com")
    failed = submit_application(customer, "OV", domain="failed.example.com")
    services.reject_application(certificate=failed, reason="No such company.", actor=None)
    issued = issue_real_certificate(customer, "OV", domain="issued.example.com")

    queue = operator_client.get(changelist_url("application"))
    everything = operator_client.get(changelist_url("application") + "?queue=all")

    assert result_ids(queue) == [application_of(older).pk, application_of(newer).pk]
    assert set(result_ids(everything)) == {
        application_of(c).pk for c in (newer, older, dv, failed, issued)
    }


def test_the_queue_shows_customer_domains_type_organization_and_checks(customer, operator_client):
    certificate = submit_application(customer, "OV", domain="shop.example.com\nwww.example.com")
    dv = submit_application(customer, "DV", domain="dv.example.com")
    Application.objects.filter(certificate=dv).update(
        check_results={"dv.example.com": {"ok": False, "detail": "No TXT record found."}}
    )

    text = page_text(operator_client.get(changelist_url("application")))
    everything = page_text(operator_client.get(changelist_url("application") + "?queue=all"))

    assert "shop.example.com (+1)" in text
    assert "alice" in text
    assert "OV" in text
    assert "Example Shop Ltd (Hangzhou, CN)" in text
    assert "Validating" in text
    assert "dv.example.com" not in text
    assert "not found dv.example.com: No TXT record found." in everything
    assert certificate.pk


def test_approving_issues_the_certificate_and_the_audit_log_names_the_operator(
    customer, operator, operator_client
):
    certificate = submit_application(customer, "OV")

    response = post_action(operator_client, "application", "approve", [application_of(certificate)])

    certificate = refresh(certificate)
    assert certificate.status == Status.ISSUED
    assert certificate.certificate_pem.startswith("-----BEGIN CERTIFICATE-----")
    assert messages_of(response) == [
        f"{certificate} (#{certificate.pk}): approved, issued with serial {certificate.serial}."
    ]
    assert application_of(certificate).reviewed_by == operator
    event = AuditEvent.objects.get(action="certificate.status", details__to="issued")
    assert (event.actor, event.object_id) == (operator, str(certificate.pk))


def test_rejecting_asks_for_the_reason_then_fails_the_check_with_it(
    customer, customer_client, operator, operator_client
):
    certificate = submit_application(customer, "OV")
    application = application_of(certificate)

    form = post_action(operator_client, "application", "reject", [application])
    assert "Reason shown to the customer" in page_text(form)
    assert refresh(certificate).status == Status.VALIDATING

    response = post_action(
        operator_client, "application", "reject", [application], reason="The address is wrong."
    )

    assert "rejected (Check Fail)" in messages_of(response)[0]
    assert refresh(certificate).status == Status.CHECK_FAIL
    assert application_of(certificate).rejection_reason == "The address is wrong."
    apply_page = customer_client.get(reverse("certificates:apply", args=[certificate.pk]))
    assert "The address is wrong." in page_text(apply_page)
    event = AuditEvent.objects.get(action="certificate.status", details__to="check_fail")
    assert event.actor == operator
    assert event.details["reason"] == "The address is wrong."


def test_rejecting_without_a_reason_asks_again_and_changes_nothing(customer, operator_client):
    certificate = submit_application(customer, "OV")

    response = post_action(
        operator_client, "application", "reject", [application_of(certificate)], reason="  "
    )

    assert "This field is required." in page_text(response)
    assert refresh(certificate).status == Status.VALIDATING


def wrong_status_for_review(customer, kind: str) -> Certificate:
    """A certificate whose application is not waiting for an operator."""
    if kind == "dv":
        return submit_application(customer, "DV", domain="dv.example.com")
    if kind == "issued":
        return issue_real_certificate(customer, "OV", domain="issued.example.com")
    certificate = submit_application(customer, "OV", domain=f"{kind.replace('_', '-')}.example.com")
    if kind == "check_fail":
        services.reject_application(certificate=certificate, reason="Wrong address.", actor=None)
    elif kind == "withdrawn":
        services.withdraw_application(certificate=certificate, actor=customer)
    return refresh(certificate)


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("issued", "Only an application waiting for review can be approved"),
        ("check_fail", "this certificate is Check Fail"),
        ("withdrawn", "this certificate is Pending Application"),
        ("dv", "DV certificates are issued by their domain validation"),
    ],
)
def test_approving_an_application_not_waiting_is_refused_and_changes_nothing(
    customer, operator_client, kind, message
):
    certificate = wrong_status_for_review(customer, kind)
    before, events = snapshot(certificate), AuditEvent.objects.count()

    response = post_action(
        operator_client,
        "application",
        "approve",
        [application_of(certificate)],
        query="?queue=all",
    )

    [line] = messages_of(response)
    assert line.startswith(f"{certificate} (#{certificate.pk}): not approved: ")
    assert message in line
    assert snapshot(certificate) == before
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("issued", "A certificate that is Issued cannot become Check Fail."),
        ("check_fail", "A certificate that is Check Fail cannot become Check Fail."),
        ("withdrawn", "A certificate that is Pending Application cannot become Check Fail."),
    ],
)
def test_rejecting_an_application_not_waiting_is_refused_and_changes_nothing(
    customer, operator_client, kind, message
):
    certificate = wrong_status_for_review(customer, kind)
    before, events = snapshot(certificate), AuditEvent.objects.count()

    response = post_action(
        operator_client,
        "application",
        "reject",
        [application_of(certificate)],
        query="?queue=all",
        reason="Not real.",
    )

    assert messages_of(response) == [f"{certificate} (#{certificate.pk}): not rejected: {message}"]
    assert snapshot(certificate) == before
    assert AuditEvent.objects.count() == events


def test_approve_waits_until_every_name_passed_its_check_one_by_one_and_in_bulk(
    customer, operator_client
):
    checked = submit_application(customer, "OV", domain="checked.example.com")
    unchecked = submit_application(
        customer, "OV", domain="a.example.com\nb.example.com", prove_control=False
    )
    before = snapshot(unchecked)

    page = operator_client.get(change_url(application_of(unchecked)))
    assert "not checked yet a.example.com" in page_text(page)
    assert "not checked yet b.example.com" in page_text(page)
    single = post_action(operator_client, "application", "approve", [application_of(unchecked)])
    bulk = post_action(
        operator_client, "application", "approve", [application_of(c) for c in (checked, unchecked)]
    )

    refusal = "not approved: Approve waits until every domain passed its DNS record or file check"
    assert refusal in messages_of(single)[0]
    assert "not yet: a.example.com, b.example.com." in messages_of(single)[0]
    assert any(refusal in line for line in messages_of(bulk))
    assert snapshot(unchecked) == before
    assert refresh(checked).status == Status.ISSUED
    page = operator_client.get(change_url(application_of(checked)))
    assert "found checked.example.com" in page_text(page)


def test_bulk_approve_issues_the_waiting_ones_and_reports_the_others(customer, operator_client):
    waiting = [submit_application(customer, "OV", domain=f"w{i}.example.com") for i in range(2)]
    issued = wrong_status_for_review(customer, "issued")
    dv = wrong_status_for_review(customer, "dv")
    refused_before = [snapshot(issued), snapshot(dv)]

    response = post_action(
        operator_client,
        "application",
        "approve",
        [application_of(c) for c in (*waiting, issued, dv)],
        query="?queue=all",
    )

    lines = messages_of(response)
    assert lines[0] == "2 of 4 approved; 2 refused, each with its reason below."
    assert [refresh(c).status for c in waiting] == [Status.ISSUED, Status.ISSUED]
    assert [snapshot(issued), snapshot(dv)] == refused_before
    assert f"{issued} (#{issued.pk}): not approved: Only an application waiting" in lines[3]
    assert f"{dv} (#{dv.pk}): not approved: DV certificates are issued by" in lines[4]
    assert lines[1].startswith(f"{waiting[0]} (#{waiting[0].pk}): approved")


def test_bulk_reject_fails_the_waiting_ones_and_reports_the_others(customer, operator_client):
    waiting = [submit_application(customer, "OV", domain=f"w{i}.example.com") for i in range(2)]
    issued = wrong_status_for_review(customer, "issued")
    before = snapshot(issued)
    rows = [application_of(c) for c in (*waiting, issued)]

    form = post_action(operator_client, "application", "reject", rows, query="?queue=all")
    for certificate in (*waiting, issued):
        assert str(certificate) in page_text(form)
    response = post_action(
        operator_client, "application", "reject", rows, query="?queue=all", reason="Not real."
    )

    lines = messages_of(response)
    assert lines[0] == "2 of 3 rejected; 1 refused, each with its reason below."
    assert [refresh(c).status for c in waiting] == [Status.CHECK_FAIL, Status.CHECK_FAIL]
    assert snapshot(issued) == before
    assert lines[-1].startswith(f"{issued} (#{issued.pk}): not rejected:")


def test_an_application_decided_meanwhile_is_reported_not_silently_dropped(
    customer, operator_client
):
    certificate = submit_application(customer, "OV")
    # Another operator approves it after this one's list was shown; the list opens on
    # the queue, which no longer holds it.
    services.approve_application(certificate=certificate, actor=None)

    response = post_action(operator_client, "application", "approve", [application_of(certificate)])

    [line] = messages_of(response)
    assert "not approved: Only an application waiting for review" in line


def test_the_review_page_shows_the_csr_and_offers_approve_and_reject(customer, operator_client):
    certificate = submit_application(
        customer, "OV", domain="shop.example.com\nwww.example.com", key_type="rsa2048"
    )

    response = operator_client.get(change_url(application_of(certificate)))

    text = page_text(response)
    assert "Subject: CN=shop.example.com" in text
    assert "Names: shop.example.com www.example.com" in text
    assert "Key: RSA 2048" in text
    assert "Signature: SHA256, valid" in text
    assert "-----BEGIN CERTIFICATE REQUEST-----" in text
    assert "Organization name: Example Shop Ltd" in text
    assert 'value="Approve and issue"' in response.content.decode()
    assert 'value="Reject (Check Fail)"' in response.content.decode()
    assert "PRIVATE KEY" not in response.content.decode()
    # Read-only: no form fields to edit and nothing to save.
    assert 'name="_save"' not in response.content.decode()
    assert operator_client.post(change_url(application_of(certificate)), {}).status_code == 403


def test_the_review_pages_buttons_decide_through_the_list_actions(customer, operator_client):
    approve = submit_application(customer, "OV", domain="a.example.com")
    reject = submit_application(customer, "OV", domain="r.example.com")

    # What the page's two forms post: the list's action, for this one application.
    approved = operator_client.post(
        changelist_url("application"),
        {"action": "approve", "_selected_action": application_of(approve).pk},
    )
    rejected = operator_client.post(
        changelist_url("application"),
        {
            "action": "reject",
            "_selected_action": application_of(reject).pk,
            "reason": "The registry has no such company.",
        },
    )

    assert approved.status_code == rejected.status_code == 302
    assert refresh(approve).status == Status.ISSUED
    assert refresh(reject).status == Status.CHECK_FAIL


def test_a_decided_application_page_offers_no_decision(customer, operator_client):
    certificate = issue_real_certificate(customer, "OV")
    response = operator_client.get(change_url(application_of(certificate)))
    assert "Approve and issue" not in response.content.decode()
    assert "Status: Issued" in page_text(response)


def test_a_key_stored_with_an_old_manual_csr_is_not_shown(customer, operator_client):
    certificate = submit_application(customer, "OV")
    application = application_of(certificate)
    key = csr.generate_private_key("ecp256")
    request = csr.build_csr(key, ["shop.example.com"])
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    # Stored as pasted, from before the apply form kept the CSR alone.
    Application.objects.filter(pk=application.pk).update(
        csr_source="manual",
        csr_pem=key_pem + request.public_bytes(serialization.Encoding.PEM).decode(),
    )

    response = operator_client.get(change_url(application))

    assert "Key: ECC P-256" in page_text(response)
    assert "PRIVATE KEY" not in response.content.decode()


# --- the revocation queue -----------------------------------------------------------------


def revocation_of(certificate: Certificate) -> RevocationRequest:
    return RevocationRequest.objects.get(certificate=certificate)


def pending_revocation(customer, domain: str, **kwargs) -> RevocationRequest:
    certificate = issue_real_certificate(customer, "DV", domain=domain, **kwargs)
    return services.request_revocation(certificate=certificate, reason=4, actor=customer)


def test_the_revocation_queue_puts_overdue_first_in_red_with_the_refund_consequence(
    customer, operator_client
):
    with time_machine.travel(ISSUED_AT, tick=False):
        on_time = pending_revocation(customer, "ontime.example.com")
        late = pending_revocation(customer, "late.example.com", amount=Decimal("120.00"))
    RevocationRequest.objects.filter(pk=late.pk).update(due_date=date(2026, 2, 2))

    with time_machine.travel(datetime(2026, 2, 4, 9, 0, tzinfo=UTC), tick=False):
        response = operator_client.get(changelist_url("revocationrequest"))
        overdue_only = operator_client.get(changelist_url("revocationrequest") + "?overdue=yes")

    content = response.content.decode()
    text = page_text(response)
    assert result_ids(response) == [late.pk, on_time.pk]
    assert result_ids(overdue_only) == [late.pk]
    assert content.count('class="overdue"') == 1
    assert "Feb. 2, 2026 (overdue)" in text
    assert "Full refund $120.00 if completed by 2026-03-01" in text
    assert "Full refund $300.00 if completed by 2026-03-01" in text
    assert "Jan. 30, 2026" in text  # issued on
    assert "Key compromise" in text
    assert "DV" in text
    assert 'style="' not in content.split('id="result_list"')[1].split("</table>")[0]


def test_the_refund_consequence_says_none_past_the_refund_deadline(customer, operator_client):
    with time_machine.travel(ISSUED_AT, tick=False):
        pending_revocation(customer, "late.example.com")
    with time_machine.travel(datetime(2026, 3, 2, 9, 0, tzinfo=UTC), tick=False):
        text = page_text(operator_client.get(changelist_url("revocationrequest")))
    assert "None: the refund deadline was 2026-03-01" in text


@pytest.mark.parametrize(
    ("completed_on", "refund", "shown"),
    [
        (date(2026, 2, 27), Decimal("120.00"), "Full refund $120.00 if completed by 2026-03-01"),
        (date(2026, 3, 2), Decimal("0.00"), "None: the refund deadline was 2026-03-01"),
    ],
)
def test_the_refund_the_queue_shows_is_the_refund_completing_makes(
    customer, operator_client, completed_on, refund, shown
):
    with time_machine.travel(ISSUED_AT, tick=False):
        certificate = issue_real_certificate(
            customer, "DV", domain="shop.example.com", amount=Decimal("120.00")
        )
    # A reissue does not start the refund days again, in the preview as in the refund.
    with time_machine.travel(ISSUED_AT + timedelta(days=20), tick=False):
        services.reissue_certificate(certificate=certificate, actor=None)
    with time_machine.travel(datetime.combine(completed_on, time(9), UTC), tick=False):
        revocation = services.request_revocation(
            certificate=refresh(certificate), reason=4, actor=customer
        )
        text = page_text(operator_client.get(changelist_url("revocationrequest")))
        post_action(operator_client, "revocationrequest", "complete", [revocation])

    assert shown in text
    assert refresh(revocation).refund_amount == refund


def test_completing_revokes_refunds_and_audits_the_operator(customer, operator, operator_client):
    revocation = pending_revocation(customer, "shop.example.com")

    response = post_action(operator_client, "revocationrequest", "complete", [revocation])

    assert messages_of(response) == [f"{revocation} (#{revocation.pk}): completed, refund $300.00."]
    assert refresh(revocation).status == RevocationStatus.COMPLETED
    assert refresh(revocation.certificate).status == Status.REVOKED
    assert Order.objects.get(pk=revocation.certificate.order_id).refund_amount == Decimal("300.00")
    events = AuditEvent.objects.filter(actor=operator).values_list("action", "details__to")
    assert set(events) == {
        ("revocationrequest.status", "completed"),
        ("certificate.status", "revoked"),
    }


@pytest.mark.parametrize("status", ["awaiting_confirmation", "completed", "rejected"])
@pytest.mark.parametrize("action", ["complete", "reject"])
def test_deciding_a_revocation_not_with_the_ca_is_refused_and_changes_nothing(
    customer, operator_client, status, action
):
    if status == "awaiting_confirmation":
        certificate = issue_real_certificate(customer, "OV", contact_email="a@example.com")
        revocation = services.request_revocation(certificate=certificate, reason=4, actor=customer)
    else:
        revocation = pending_revocation(customer, "shop.example.com")
        if status == "completed":
            services.complete_revocation(revocation=revocation, actor=None)
        else:
            services.reject_revocation(revocation=revocation, reason="No.", actor=None)
    revocation = refresh(revocation)
    certificate = refresh(revocation.certificate)
    order = Order.objects.get(pk=certificate.order_id)
    events = AuditEvent.objects.count()

    response = post_action(
        operator_client, "revocationrequest", action, [revocation], reason="Not now."
    )

    [line] = messages_of(response)
    done, target = ("completed", "Completed") if action == "complete" else ("rejected", "Rejected")
    assert line == (
        f"{revocation} (#{revocation.pk}): not {done}: A revocation request that is "
        f"{revocation.get_status_display()} cannot become {target}."
    )
    assert refresh(revocation).status == status
    assert refresh(certificate).status == certificate.status
    assert Order.objects.get(pk=order.pk).refund_amount == order.refund_amount
    assert AuditEvent.objects.count() == events


def test_bulk_complete_revokes_those_with_the_ca_and_reports_the_others(customer, operator_client):
    pending = [pending_revocation(customer, f"p{i}.example.com") for i in range(2)]
    done = pending_revocation(customer, "done.example.com")
    services.complete_revocation(revocation=done, actor=None)
    ov = issue_real_certificate(customer, "OV", domain="ov.example.com")
    unconfirmed = services.request_revocation(certificate=ov, reason=4, actor=customer)

    response = post_action(
        operator_client, "revocationrequest", "complete", [*pending, done, unconfirmed]
    )

    lines = messages_of(response)
    assert lines[0] == "2 of 4 completed; 2 refused, each with its reason below."
    assert [refresh(r).status for r in pending] == ["completed", "completed"]
    assert refresh(unconfirmed).status == RevocationStatus.AWAITING_CONFIRMATION
    assert refresh(ov).status == Status.REVOKING
    refused = [line for line in lines if "not completed" in line]
    assert len(refused) == 2
    assert any(line.startswith(f"{done} (#{done.pk})") for line in refused)
    assert any(line.startswith(f"{unconfirmed} (#{unconfirmed.pk})") for line in refused)
    # Each refund once: the completed one was not refunded twice.
    assert Order.objects.get(pk=done.certificate.order_id).refund_amount == Decimal("300.00")


def test_bulk_reject_returns_those_with_the_ca_and_reports_the_others(customer, operator_client):
    pending = [pending_revocation(customer, f"p{i}.example.com") for i in range(2)]
    done = pending_revocation(customer, "done.example.com")
    services.complete_revocation(revocation=done, actor=None)
    rows = [*pending, done]

    form = post_action(operator_client, "revocationrequest", "reject", rows)
    assert "Reason shown to the customer" in page_text(form)
    response = post_action(
        operator_client, "revocationrequest", "reject", rows, reason="Not confirmed by phone."
    )

    lines = messages_of(response)
    assert lines[0] == "2 of 3 rejected; 1 refused, each with its reason below."
    assert [refresh(r).status for r in pending] == ["rejected", "rejected"]
    assert [refresh(r.certificate).status for r in pending] == ["issued", "issued"]
    assert refresh(done).status == RevocationStatus.COMPLETED
    assert refresh(done.certificate).status == Status.REVOKED


def test_the_request_page_offers_complete_and_reject_while_with_the_ca(customer, operator_client):
    revocation = pending_revocation(customer, "shop.example.com")

    response = operator_client.get(change_url(revocation))
    assert 'value="Complete the revocation"' in response.content.decode()
    assert 'value="Reject the request"' in response.content.decode()
    assert "Full refund $300.00 if completed by" in page_text(response)

    services.complete_revocation(revocation=revocation, actor=None)
    response = operator_client.get(change_url(revocation))
    assert "Complete the revocation" not in response.content.decode()
    assert "Refunded $300.00" in page_text(response)


# --- orders and refunds -------------------------------------------------------------------


def test_orders_show_refunds_due_and_made_and_filter_by_refund(customer, operator_client):
    due = pending_revocation(customer, "due.example.com")
    made = pending_revocation(customer, "made.example.com", amount=Decimal("80.00"))
    services.complete_revocation(revocation=made, actor=None)
    quiet = issue_real_certificate(customer, "DV", domain="quiet.example.com")
    due_order, made_order = due.certificate.order, made.certificate.order

    text = page_text(operator_client.get(changelist_url("order")))
    made_only = operator_client.get(changelist_url("order") + "?refund=made")
    none = operator_client.get(changelist_url("order") + "?refund=none")
    with_ca = operator_client.get(changelist_url("order") + "?refund=with_ca")

    assert "300.00 (1 revocation with the CA)" in text
    assert "80.00" in text
    assert result_ids(made_only) == [made_order.pk]
    assert set(result_ids(none)) == {due_order.pk, quiet.order_id}
    assert result_ids(with_ca) == [due_order.pk]


def test_an_order_shows_its_certificates_read_only(customer, operator_client):
    certificate = issue_real_certificate(customer, "DV", domain="shop.example.com")

    response = operator_client.get(change_url(certificate.order))

    content = response.content.decode()
    assert response.status_code == 200
    assert "shop.example.com" in page_text(response)
    assert certificate.serial in content
    assert 'name="_save"' not in content
    inline = content.split('id="certificates-group"')[1].split("</fieldset>")[0]
    assert not re.search(r"<input(?![^>]*hidden)|<select|<textarea", inline)
    assert "PRIVATE KEY" not in content
    assert operator_client.post(change_url(certificate.order), {}).status_code == 403


def test_the_index_queues_count_what_their_lists_show(customer, operator_client):
    submit_application(customer, "OV", domain="waiting.example.com")
    pending_revocation(customer, "ontime.example.com")
    late = pending_revocation(customer, "late.example.com")
    RevocationRequest.objects.filter(pk=late.pk).update(due_date=date(2020, 1, 1))
    # A certificate with no order (as ACME's are) has no order for the orders' queue.
    orderless = pending_revocation(customer, "free.example.com")
    Certificate.objects.filter(pk=orderless.certificate_id).update(order=None)

    content = operator_client.get(reverse("admin:index")).content.decode()
    queues = content.split('id="operator-queues"')[1].split("</table>")[0]
    rows = re.findall(r'<a href="([^"]+)">([^<]+)</a></th>\s*<td[^>]*>(\d+)</td>', queues)

    counts = {label: int(count) for _, label, count in rows}
    assert counts == {
        "Applications waiting for review": 1,
        "Revocations with the CA": 3,
        "Revocations overdue": 1,
        "Orders with a revocation with the CA": 2,
    }
    for url, label, count in rows:
        assert len(result_ids(operator_client.get(html.unescape(url)))) == int(count), label


# --- search and filters -------------------------------------------------------------------


def test_search_finds_certificates_by_domain_customer_serial_and_fingerprint(
    customer, other_customer, operator_client
):
    ours = issue_real_certificate(customer, "DV", domain="shop.example.com")
    old_serial = ours.serial
    services.reissue_certificate(certificate=ours, actor=None)
    ours = refresh(ours)
    theirs = issue_real_certificate(other_customer, "DV", domain="blog.example.org")

    def search(model: str, term: str, **filters) -> list[int]:
        return result_ids(operator_client.get(changelist_url(model), {"q": term, **filters}))

    assert search("certificate", "shop.example.com") == [ours.pk]
    assert search("certificate", "bob") == [theirs.pk]
    assert search("certificate", ours.serial) == [ours.pk]
    assert search("certificate", old_serial) == [ours.pk]
    assert search("certificate", ours.fingerprint_sha256) == [ours.pk]
    assert search("order", "blog.example.org") == [theirs.order_id]
    assert theirs.order_id in search("order", str(theirs.order_id))
    assert search("application", "alice", queue="all") == [application_of(ours).pk]
    assert search("application", "alice") == []  # the queue: nothing of alice's waits
    revocation = services.request_revocation(certificate=theirs, reason=4, actor=other_customer)
    assert search("revocationrequest", theirs.serial) == [revocation.pk]
    assert search("revocationrequest", "bob") == [revocation.pk]


def test_certificates_filter_by_the_status_the_customer_sees(customer, operator_client):
    live = make_certificate(customer, status=Status.ISSUED, days_left=50)
    ran_out = make_certificate(customer, status=Status.ISSUED, days_left=-2)
    uploaded = make_certificate(customer, status=Status.ISSUED, source="uploaded", days_left=10)
    other_brand = make_certificate(customer, brand=make_brand("GeoTrust"), days_left=10)

    def listed(query: str) -> set[int]:
        return set(result_ids(operator_client.get(changelist_url("certificate") + query)))

    assert listed("?status=issued") == {live.pk, uploaded.pk, other_brand.pk}
    assert listed("?status=expired") == {ran_out.pk}
    assert listed("?source__exact=uploaded") == {uploaded.pk}
    assert listed(f"?brand__id__exact={other_brand.brand_id}") == {other_brand.pk}
    page = page_text(operator_client.get(changelist_url("certificate")))
    assert "Expired" in page  # a certificate past its end date never shows as issued


# --- brands and products: edited by operators, audited ------------------------------------


def test_operators_edit_brands_and_products_and_each_edit_is_audited(operator, operator_client):
    response = operator_client.post(
        reverse("admin:certificates_brand_add"),
        {
            "name": "Sectigo",
            "slug": "sectigo",
            "issuer_match": "Sectigo",
            "is_active": "on",
            "display_order": 9,
            "products-TOTAL_FORMS": 1,
            "products-INITIAL_FORMS": 0,
            "products-0-validation_type": "DV",
            "products-0-domain_scope": "single",
            "products-0-price_per_year": "50.00",
            "products-0-price_per_extra_domain": "0",
            "products-0-is_active": "on",
        },
    )
    assert response.status_code == 302
    product = Product.objects.get(brand__slug="sectigo")

    response = operator_client.post(
        change_url(product),
        {
            "brand": product.brand_id,
            "validation_type": "DV",
            "domain_scope": "single",
            "price_per_year": "55.00",
            "price_per_extra_domain": "0",
            "is_active": "on",
        },
    )

    assert response.status_code == 302
    assert refresh(product).price_per_year == Decimal("55.00")
    events = AuditEvent.objects.filter(actor=operator).order_by("id")
    assert [(e.action, e.object_repr) for e in events] == [
        ("brand.add", "Sectigo"),
        ("product.add", str(product)),
        ("product.change", str(product)),
    ]
    assert events.last().details == {"price_per_year": "55.00"}
    delete = reverse("admin:certificates_brand_delete", args=[product.brand_id])
    assert operator_client.get(delete).status_code == 403


# --- The same product: look, wording, order of the page ----------------------------------


def test_messages_show_domain_names_as_written_not_capitalised(customer, operator_client):
    certificate = submit_application(customer, "OV", domain="eval-ov.example.com")
    response = post_action(operator_client, "application", "approve", [application_of(certificate)])
    html = response.content.decode()
    assert f'<li class="success">eval-ov.example.com (#{certificate.pk}): approved' in html
    assert "Eval-ov" not in html


def test_the_review_page_puts_approve_and_reject_before_the_application(customer, operator_client):
    certificate = submit_application(customer, "OV")
    html = operator_client.get(change_url(application_of(certificate))).content.decode()
    assert html.index('value="Approve and issue"') < html.index("-----BEGIN CERTIFICATE REQUEST")
    assert html.index('value="Reject (Check Fail)"') < html.index("Organization name")


def test_the_reject_form_offers_cancel_back_to_the_list(customer, operator_client):
    certificate = submit_application(customer, "OV")
    form = post_action(operator_client, "application", "reject", [application_of(certificate)])
    assert f'<a class="cancel-link" href="{changelist_url("application")}">Cancel</a>' in (
        form.content.decode()
    )
    assert refresh(certificate).status == Status.VALIDATING


def test_field_labels_are_words_not_column_names(customer, operator_client):
    certificate = submit_application(customer, "OV")
    text = page_text(operator_client.get(change_url(application_of(certificate))))
    assert "CSR source" in text
    assert "Csr source" not in text
    certificate_page = page_text(operator_client.get(change_url(refresh(certificate))))
    assert "Csr" not in certificate_page and "Sha256" not in certificate_page


def test_the_admin_wears_the_consoles_top_bar_and_mark(operator_client):
    html = operator_client.get(reverse("admin:index")).content.decode()
    assert '<span class="console-mark" aria-hidden="true"></span>' in html
    assert '<link rel="icon" href="/static/favicon.svg"' in html
    assert 'href="/static/css/operators.css"' in html


def test_order_amounts_read_as_in_the_console(customer, operator_client):
    certificate = issue_real_certificate(customer, "DV", amount=Decimal("2990.00"))
    text = page_text(operator_client.get(changelist_url("order")))
    assert "$2,990.00" in text
    assert "2990.00" not in text
    order_page = page_text(operator_client.get(change_url(certificate.order)))
    assert "$2,990.00" in order_page


def test_each_decision_goes_into_the_admin_history_and_recent_actions_with_its_outcome(
    customer, operator, operator_client
):
    approved = application_of(submit_application(customer, "OV", domain="approve.example.com"))
    rejected = application_of(submit_application(customer, "OV", domain="reject.example.com"))
    completed = pending_revocation(customer, "complete.example.com")
    returned = pending_revocation(customer, "return.example.com")

    post_action(operator_client, "application", "approve", [approved])
    post_action(operator_client, "application", "reject", [rejected], reason="Wrong address.")
    post_action(operator_client, "revocationrequest", "complete", [completed])
    post_action(operator_client, "revocationrequest", "reject", [returned], reason="No call.")

    entries = {
        (entry.content_type.model, int(entry.object_id)): entry
        for entry in LogEntry.objects.filter(user=operator)
    }
    assert set(entries) == {
        ("application", approved.pk),
        ("application", rejected.pk),
        ("revocationrequest", completed.pk),
        ("revocationrequest", returned.pk),
    }
    assert all(entry.is_change() for entry in entries.values())
    messages = {key: entry.get_change_message() for key, entry in entries.items()}
    serial = refresh(approved.certificate).serial
    assert messages[("application", approved.pk)] == f"approved, issued with serial {serial}"
    assert messages[("application", rejected.pk)] == (
        "rejected (Check Fail), the customer sees the reason"
    )
    assert messages[("revocationrequest", completed.pk)] == (
        f"completed, refund {format_money(refresh(completed).refund_amount)}"
    )
    assert messages[("revocationrequest", returned.pk)] == (
        "rejected, the certificate is Issued again"
    )

    # The admin's index lists them under "Recent actions", newest first, as the decided rows.
    index = page_text(operator_client.get(reverse("admin:index")))
    recent = index[index.index("Recent actions") :]
    names = [str(row) for row in (returned, completed, rejected, approved)]
    assert [recent.index(name) for name in names] == sorted(recent.index(name) for name in names)
