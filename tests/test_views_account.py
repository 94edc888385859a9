"""Orders, the profile and password change, and the help and contact pages."""

import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from certificates import services
from certificates.lifecycle import CertificateStatus as Status
from certificates.models import AuditEvent, Certificate, CustomerSettings, Order
from tests.factories import make_certificate, make_order, make_product, make_user
from tests.issuance import issue_real_certificate

pytestmark = pytest.mark.django_db

ISSUED_AT = datetime(2026, 1, 30, 10, 0, tzinfo=UTC)

ORDERS = reverse("orders")
PROFILE = reverse("profile")


def order_url(order: Order) -> str:
    return reverse("order", args=[order.pk])


def page_text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def buy(customer, quantity=2, years=1) -> Order:
    return services.purchase(
        customer=customer, product=make_product(), domain_count=1, quantity=quantity, years=years
    )


# --- Orders -------------------------------------------------------------------------------


def test_the_orders_page_lists_each_order_with_its_amount_and_certificates(
    customer, customer_client
):
    order = buy(customer, quantity=3, years=2)
    response = customer_client.get(ORDERS)
    text = page_text(response)
    assert f"#{order.pk}" in text
    assert "DigiCert DV One domain" in text
    assert "2 years" in text
    assert "$600.00" in text  # 100 a year x 2 years x 3
    assert f"{timezone.localtime(order.paid_at):%Y-%m-%d %H:%M}" in text
    row = re.search(rf'<tr data-order="{order.pk}">(.*?)</tr>', response.content.decode(), re.S)
    assert row and "<td>3</td>" in row.group(1)


def test_the_orders_page_shows_only_the_customers_own_orders(customer, customer_client):
    mine = buy(customer)
    theirs = buy(make_user("bob"))
    html = customer_client.get(ORDERS).content.decode()
    assert f'data-order="{mine.pk}"' in html
    assert f'data-order="{theirs.pk}"' not in html


def test_the_orders_page_costs_the_same_queries_for_one_order_as_for_thirty(
    customer, customer_client, django_assert_max_num_queries
):
    buy(customer)
    with django_assert_max_num_queries(12) as one:
        customer_client.get(ORDERS)
    for _ in range(29):
        buy(customer)
    with django_assert_max_num_queries(len(one.captured_queries)):
        response = customer_client.get(ORDERS)
    assert len(response.context["page"].object_list) == 20


def test_another_customers_order_is_a_404(customer_client):
    theirs = buy(make_user("bob"))
    assert customer_client.get(order_url(theirs)).status_code == 404
    assert customer_client.get(reverse("order", args=[theirs.pk + 1000])).status_code == 404


def test_an_order_shows_its_certificates_and_the_refund_of_each_revocation(
    customer, customer_client, admin_client
):
    with time_machine.travel(ISSUED_AT, tick=False):
        certificate = issue_real_certificate(customer, "DV", domain="refund.example.com")
        revocation = services.request_revocation(certificate=certificate, reason=4, actor=customer)
        services.complete_revocation(revocation=revocation, actor=None)
    order = Order.objects.get(pk=certificate.order_id)

    response = customer_client.get(order_url(order))
    text = page_text(response)
    assert f"Order #{order.pk}" in text
    assert "refund.example.com" in text
    assert "Revoked" in text
    assert "2026-01-30 $300.00" in text  # the refund's date and amount, beside its certificate
    assert "Refunded $300.00" in text


def test_an_order_page_takes_a_bounded_number_of_queries(
    customer, customer_client, django_assert_max_num_queries
):
    order = buy(customer, quantity=10)
    for certificate in Certificate.objects.filter(order=order)[:3]:
        certificate.deleted_at = timezone.now()
        certificate.save()
    with django_assert_max_num_queries(12):
        response = customer_client.get(order_url(order))
    assert response.content.decode().count("data-certificate=") == 10
    assert page_text(response).count("(deleted") == 3


def test_a_deleted_certificate_is_named_but_not_linked(customer, customer_client):
    order = make_order(customer)
    gone = make_certificate(customer, order=order, status=Status.EXPIRED, days_left=-3)
    gone.deleted_at = timezone.now()
    gone.save()
    html = customer_client.get(order_url(order)).content.decode()
    assert gone.get_absolute_url() not in html
    assert "(deleted" in html


def test_the_details_page_links_to_its_order(customer, customer_client):
    order = buy(customer, quantity=1)
    certificate = Certificate.objects.get(order=order)
    html = customer_client.get(certificate.get_absolute_url()).content.decode()
    assert f'href="{order_url(order)}"' in html


def test_amounts_carry_the_configured_currency(customer, customer_client, settings):
    settings.CONSOLE_CURRENCY = "EUR"
    order = make_order(customer)
    Order.objects.filter(pk=order.pk).update(amount=Decimal("2990.00"))
    assert "€2,990.00" in page_text(customer_client.get(ORDERS))


# --- Profile ------------------------------------------------------------------------------


def test_the_profile_saves_name_email_and_the_expiry_warning_default(customer, customer_client):
    response = customer_client.post(
        PROFILE,
        {"first_name": "Alice", "last_name": "Liddell", "email": "alice@example.org"},
        follow=True,
    )
    assert "Your profile was saved." in page_text(response)
    customer.refresh_from_db()
    assert (customer.first_name, customer.last_name, customer.email) == (
        "Alice",
        "Liddell",
        "alice@example.org",
    )
    # The box was left unticked: new certificates start without warnings.
    assert CustomerSettings.objects.get(customer=customer).expiry_warnings_default is False
    event = AuditEvent.objects.get(action="account.profile")
    assert event.details["changed"] == [
        "first_name",
        "last_name",
        "email",
        "expiry_warnings_default",
    ]


def test_new_certificates_start_with_the_customers_expiry_warning_default(
    customer, customer_client
):
    assert all(c.expiry_warnings_enabled for c in Certificate.objects.filter(order=buy(customer)))
    customer_client.post(PROFILE, {"email": "alice@example.com"})
    assert not any(
        c.expiry_warnings_enabled for c in Certificate.objects.filter(order=buy(customer))
    )
    customer_client.post(PROFILE, {"email": "alice@example.com", "expiry_warnings_default": "on"})
    assert all(c.expiry_warnings_enabled for c in Certificate.objects.filter(order=buy(customer)))


def test_a_bad_email_is_refused_on_its_field_and_nothing_changes(customer, customer_client):
    customer.email = "alice@example.com"
    customer.save()
    response = customer_client.post(PROFILE, {"first_name": "Mallory", "email": "not-an-email"})
    assert response.status_code == 200
    assert response.context["form"].errors["email"] == ["Enter a valid email address."]
    customer.refresh_from_db()
    assert (customer.first_name, customer.email) == ("", "alice@example.com")
    assert not CustomerSettings.objects.exists()
    assert not AuditEvent.objects.filter(action="account.profile").exists()


def test_saving_the_same_profile_again_changes_and_audits_nothing(customer, customer_client):
    data = {"email": "alice@example.com", "expiry_warnings_default": "on"}
    customer_client.post(PROFILE, data)
    events = AuditEvent.objects.filter(action="account.profile").count()
    response = customer_client.post(PROFILE, data, follow=True)
    assert "Nothing changed." in page_text(response)
    assert AuditEvent.objects.filter(action="account.profile").count() == events


def test_the_profile_shows_the_current_values(customer, customer_client):
    customer.first_name, customer.email = "Alice", "alice@example.com"
    customer.save()
    html = customer_client.get(PROFILE).content.decode()
    assert 'value="Alice"' in html
    assert 'value="alice@example.com"' in html
    box = re.search(r'<input type="checkbox" name="expiry_warnings_default"[^>]*>', html)
    assert box and box.group(0).endswith(" checked>")  # on, by default


def test_the_password_change_needs_the_old_password_and_keeps_the_session(client):
    user = make_user("carol", password="an-old-password")
    client.force_login(user)
    url = reverse("password_change")
    wrong = client.post(
        url,
        {
            "old_password": "a-guess",
            "new_password1": "a-brand-new-passphrase",
            "new_password2": "a-brand-new-passphrase",
        },
    )
    assert wrong.context["form"].errors["old_password"]
    right = client.post(
        url,
        {
            "old_password": "an-old-password",
            "new_password1": "a-brand-new-passphrase",
            "new_password2": "a-brand-new-passphrase",
        },
        follow=True,
    )
    assert "Your password was changed." in page_text(right)
    user.refresh_from_db()
    assert user.check_password("a-brand-new-passphrase")
    assert client.get(PROFILE).status_code == 200  # still signed in


# --- Help and contact ---------------------------------------------------------------------


def test_the_overview_intro_links_to_the_help_and_contact_pages(customer_client):
    html = customer_client.get(reverse("certificates:overview")).content.decode()
    assert "After the certificate is purchased, the certificate information needs" in html
    assert f'<a href="{reverse("help")}">View details</a>' in html
    assert f'<a href="{reverse("contact")}">Personal service</a>' in html


def test_the_help_page_describes_the_flow_with_the_configured_windows(customer_client, settings):
    settings.REVOCATION_REFUND_DAYS = 14
    text = page_text(customer_client.get(reverse("help")))
    for step in ("1. Purchase", "Domain Validation (DV)", "Organization Validation (OV & EV)"):
        assert step in text.replace("&amp;", "&")
    assert "within 14 days of issuance" in text


def test_the_contact_page_gives_the_support_address_and_the_latest_orders(
    customer, customer_client, settings
):
    settings.CONSOLE_SUPPORT_EMAIL = "help@certs.example"
    order = buy(customer)
    theirs = buy(make_user("bob"))
    html = customer_client.get(reverse("contact")).content.decode()
    assert 'href="mailto:help@certs.example"' in html
    assert f'href="{order_url(order)}"' in html
    assert f'href="{order_url(theirs)}"' not in html
