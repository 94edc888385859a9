from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from certificates import selectors, services
from certificates.lifecycle import CertificateStatus as Status
from certificates.models import AuditEvent, Brand, Certificate, Order, Product
from tests.factories import make_brand

PURCHASE = reverse("purchase")
PENDING = f"{reverse('certificates:overview')}?status=pending_application"
PRICE = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "price"}


def product(validation_type="DV", domain_scope="single", *, brand=None, price, extra="0"):
    return Product.objects.create(
        brand=brand or make_brand("DigiCert"),
        validation_type=validation_type,
        domain_scope=domain_scope,
        price_per_year=Decimal(price),
        price_per_extra_domain=Decimal(extra),
    )


@pytest.fixture
def products(db):
    """DigiCert sells DV in every scope, OV for one domain and EV; GeoTrust only DV."""
    return {
        "single": product(price="100.00"),
        "multiple": product("DV", "multiple", price="200.00", extra="50.00"),
        "wildcard": product("DV", "wildcard", price="400.00"),
        "ov": product("OV", "single", price="300.00"),
        "ev": product("EV", "single", price="500.00"),
        "geotrust": product(brand=make_brand("GeoTrust"), price="80.00"),
    }


def options(**changes) -> dict:
    """What the page posts when "Pay" is pressed: DigiCert DV, one domain, once, a year."""
    values = {
        "brand": "digicert",
        "validation_type": "DV",
        "domain_scope": "single",
        "domain_count": "2",
        "quantity": "1",
        "years": "1",
        "amount_shown": "100.00",
        "pay": "",
    }
    values.update(changes)
    return values


def nothing_bought() -> bool:
    return not (
        Order.objects.exists()
        or Certificate.objects.exists()
        or AuditEvent.objects.filter(action="order.paid").exists()
    )


# The price


def unsaved(domain_scope: str, price: str, extra: str = "0") -> Product:
    return Product(
        domain_scope=domain_scope,
        price_per_year=Decimal(price),
        price_per_extra_domain=Decimal(extra),
    )


def test_quote_for_one_domain_is_the_yearly_price_times_years_and_quantity():
    quote = selectors.quote(unsaved("single", "99.50"), domain_count=1, quantity=3, years=2)

    assert quote.unit_price == Decimal("99.50")
    assert quote.extra_domains == 0
    assert quote.amount == Decimal("597.00")  # 99.50 x 2 years x 3


def test_quote_for_multiple_domains_adds_each_domain_beyond_the_first():
    quote = selectors.quote(
        unsaved("multiple", "200.00", "45.50"), domain_count=5, quantity=2, years=2
    )

    assert quote.extra_domains == 4
    assert quote.extra_domains_price == Decimal("182.00")
    assert quote.unit_price == Decimal("382.00")  # 200 + 4 x 45.50
    assert quote.amount == Decimal("1528.00")  # 382 x 2 years x 2


def test_quote_for_a_wildcard_is_one_name_at_the_wildcard_price():
    quote = selectors.quote(
        unsaved("wildcard", "400.00", "10"), domain_count=1, quantity=1, years=1
    )

    assert quote.unit_price == Decimal("400.00")
    assert quote.amount == Decimal("400.00")


@pytest.mark.parametrize(
    ("scope", "count", "quantity", "years", "field"),
    [
        ("multiple", 1, 1, 1, "domain_count"),
        ("multiple", 251, 1, 1, "domain_count"),
        ("single", 2, 1, 1, "domain_count"),
        ("single", 1, 0, 1, "quantity"),
        ("single", 1, 101, 1, "quantity"),
        ("single", 1, 1, 3, "years"),
        ("single", 1, 1, 0, "years"),
    ],
)
def test_quote_refuses_what_cannot_be_bought(scope, count, quantity, years, field):
    with pytest.raises(ValidationError) as refused:
        selectors.quote(unsaved(scope, "100"), domain_count=count, quantity=quantity, years=years)
    assert list(refused.value.message_dict) == [field]


def test_the_page_opens_with_the_price_of_the_defaults(customer_client, products):
    response = customer_client.get(PURCHASE)

    html = response.content.decode()
    assert html.startswith("<!doctype html>")
    assert 'hx-trigger="change, input delay:300ms"' in html
    assert 'hx-target="#price"' in html
    assert '<strong data-price="total">$100.00</strong>' in html
    assert '<a class="nav-link active" href="/purchase/">Purchase Certificate</a>' in html


def test_the_live_price_is_the_fragment_on_an_htmx_request(customer_client, products):
    query = {
        "brand": "digicert",
        "validation_type": "DV",
        "domain_scope": "multiple",
        "domain_count": "4",
        "quantity": "10",
        "years": "2",
    }

    response = customer_client.get(PURCHASE, query, **PRICE)

    html = response.content.decode()
    assert html.lstrip().startswith('<section class="card price-card" id="price"')
    assert "<html" not in html
    assert 'name="quantity"' not in html
    assert '<dd data-price="extra">3 × $50.00 = $150.00</dd>' in html
    assert '<dd data-price="unit">$350.00</dd>' in html
    assert '<strong data-price="total">$7,000.00</strong>' in html  # 350 x 2 years x 10
    assert '<input type="hidden" name="amount_shown" value="7000.00">' in html
    assert "HX-Target" in response["Vary"]


def test_the_same_url_without_htmx_is_the_whole_page_with_those_options(customer_client, products):
    response = customer_client.get(PURCHASE, {"domain_scope": "wildcard", "years": "2"})

    html = response.content.decode()
    assert html.startswith("<!doctype html>")
    assert 'value="wildcard"  id="id_domain_scope_2" required checked' in html
    assert '<strong data-price="total">$800.00</strong>' in html


def test_the_live_price_says_why_a_combination_cannot_be_bought(customer_client, products):
    query = {"validation_type": "EV", "domain_scope": "wildcard"}

    response = customer_client.get(PURCHASE, query, **PRICE)

    html = response.content.decode()
    assert "the CA/Browser Forum forbids it" in html
    assert 'data-price="total"' not in html
    assert '<button type="submit" name="pay" class="btn btn-primary w-100" disabled>' in html


def test_only_active_brands_are_offered(customer_client, products):
    Brand.objects.filter(slug="geotrust").update(is_active=False)

    form = customer_client.get(PURCHASE).context["form"]

    assert form.fields["brand"].choices == [("digicert", "DigiCert")]


# Paying


def test_paying_records_the_order_and_its_pending_certificates(customer_client, customer, products):
    before = datetime.now(UTC)
    response = customer_client.post(
        PURCHASE,
        options(
            domain_scope="multiple", domain_count="3", quantity="4", years="2", amount_shown="2400"
        ),
    )

    assert response.status_code == 302
    assert response["Location"] == PENDING
    order = Order.objects.get()
    assert order.customer == customer
    assert order.product == products["multiple"]
    assert (order.quantity, order.years, order.domain_count) == (4, 2, 3)
    assert order.unit_price == Decimal("300.00")  # 200 + 2 x 50
    assert order.amount == Decimal("2400.00")  # 300 x 2 years x 4
    assert before <= order.paid_at <= datetime.now(UTC)

    certificates = Certificate.objects.filter(order=order)
    assert certificates.count() == 4
    for certificate in certificates:
        assert certificate.owner == customer
        assert certificate.status == Status.PENDING_APPLICATION
        assert certificate.brand.slug == "digicert"
        assert (certificate.validation_type, certificate.domain_scope) == ("DV", "multiple")
        assert certificate.domain_count == 3
        assert certificate.subscription_ends_at == order.paid_at.replace(
            year=order.paid_at.year + 2
        )
        assert certificate.not_after is None

    event = AuditEvent.objects.get(action="order.paid")
    assert event.actor == customer
    assert (event.object_type, event.object_id) == ("certificates.Order", str(order.pk))
    assert event.details["amount"] == "2400.00"
    assert sorted(event.details["certificates"]) == sorted(c.pk for c in certificates)

    messages = [str(m) for m in get_messages(response.wsgi_request)]
    assert messages == [f"Order {order.pk} is paid: 4 certificates await their application."]


def test_the_overview_then_counts_the_pending_certificates(customer_client, products):
    customer_client.post(PURCHASE, options(quantity="3", amount_shown="300.00"))

    response = customer_client.get(PENDING)

    counters = {tab.label: n for tab, n in response.context["counters"]}
    assert counters["Pending Application"] == 3
    assert len(response.context["page"].object_list) == 3
    assert "3 certificates await their application." in response.content.decode()


def test_one_certificate_is_told_in_the_singular(customer_client, products):
    response = customer_client.post(PURCHASE, options(), follow=True)
    assert "1 certificate awaits its application." in response.content.decode()


def test_the_subscription_of_a_leap_day_purchase_ends_on_28_february():
    paid = datetime(2028, 2, 29, 12, 0, tzinfo=UTC)
    assert services.subscription_end(paid, 1) == datetime(2029, 2, 28, 12, 0, tzinfo=UTC)
    assert services.subscription_end(paid, 2) == datetime(2030, 2, 28, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"validation_type": "EV", "domain_scope": "wildcard"},
            "domain_scope",
            "EV certificates cannot be wildcards: the CA/Browser Forum forbids it.",
        ),
        (
            {"validation_type": "OV", "domain_scope": "wildcard"},
            "domain_scope",
            "DigiCert does not sell OV wildcard certificates.",
        ),
        (
            {"brand": "geotrust", "validation_type": "EV"},
            "validation_type",
            "GeoTrust does not sell EV certificates.",
        ),
        (
            {"domain_scope": "multiple", "domain_count": "1"},
            "domain_count",
            "A multiple-domain certificate covers 2 to 250 domains.",
        ),
        (
            {"domain_scope": "multiple", "domain_count": "251"},
            "domain_count",
            "A multiple-domain certificate covers 2 to 250 domains.",
        ),
        (
            {"domain_scope": "multiple", "domain_count": ""},
            "domain_count",
            "Enter the number of domains.",
        ),
        ({"quantity": "0"}, "quantity", "Buy 1 to 100 certificates at a time."),
        ({"quantity": "101"}, "quantity", "Buy 1 to 100 certificates at a time."),
        ({"quantity": "two"}, "quantity", "Enter a whole number."),
        ({"years": "3"}, "years", "A certificate is bought for 1 or 2 years, never more."),
        ({"brand": "nobody"}, "brand", "Choose one of the brands on sale."),
    ],
)
def test_impossible_purchases_are_refused_on_their_field(
    customer_client, products, changes, field, message
):
    response = customer_client.post(PURCHASE, options(**changes))

    assert response.status_code == 200
    assert response.context["form"].errors == {field: [message]}
    assert message in response.content.decode()
    assert nothing_bought()


def test_a_withdrawn_product_cannot_be_bought(customer_client, products):
    Product.objects.filter(pk=products["single"].pk).update(is_active=False)

    response = customer_client.post(PURCHASE, options())

    assert "DigiCert does not sell DV single-domain certificates." in response.content.decode()
    assert nothing_bought()


def test_a_changed_price_is_shown_again_not_charged(customer_client, products):
    Product.objects.filter(pk=products["single"].pk).update(price_per_year=Decimal("120.00"))

    response = customer_client.post(PURCHASE, options(amount_shown="100.00"))

    html = response.content.decode()
    assert response.status_code == 200
    assert "The price has changed" in html
    assert '<input type="hidden" name="amount_shown" value="120.00">' in html
    assert nothing_bought()

    paid = customer_client.post(PURCHASE, options(amount_shown="120.00"))
    assert paid.status_code == 302
    assert Order.objects.get().amount == Decimal("120.00")


def test_enter_in_a_field_updates_the_price_and_does_not_pay(customer_client, products):
    values = options(quantity="5")
    del values["pay"]
    values["update"] = ""

    response = customer_client.post(PURCHASE, values)

    assert response.status_code == 200
    assert '<strong data-price="total">$500.00</strong>' in response.content.decode()
    assert nothing_bought()


def test_the_service_refuses_what_the_form_would(customer, products):
    with pytest.raises(ValidationError):
        services.purchase(
            customer=customer, product=products["multiple"], domain_count=300, quantity=1, years=1
        )
    with pytest.raises(ValidationError):
        services.purchase(
            customer=customer, product=products["single"], domain_count=1, quantity=1, years=3
        )
    Brand.objects.filter(slug="digicert").update(is_active=False)
    with pytest.raises(ValidationError, match="no longer on sale"):
        services.purchase(
            customer=customer, product=products["single"], domain_count=1, quantity=1, years=1
        )
    assert nothing_bought()


def test_the_service_inserts_the_certificates_together(customer, products):
    with CaptureQueriesContext(connection) as queries:
        services.purchase(
            customer=customer, product=products["single"], domain_count=1, quantity=100, years=1
        )

    inserts = [q["sql"] for q in queries if q["sql"].startswith('INSERT INTO "certificates_cert')]
    # One statement, or a few where SQLite's limit on parameters splits the batch.
    assert 1 <= len(inserts) <= 4
    assert Certificate.objects.count() == 100


# Access and cost


def test_anonymous_is_sent_to_sign_in(client, products):
    for response in (client.get(PURCHASE), client.post(PURCHASE, options())):
        assert response.status_code == 302
        assert response["Location"] == f"{reverse('login')}?next={PURCHASE}"
    assert nothing_bought()


def test_the_overview_offers_purchase(customer_client):
    html = customer_client.get(reverse("certificates:overview")).content.decode()
    assert 'href="/purchase/">Purchase Certificate</a>' in html
    assert html.count(">Purchase Certificate</a>") == 2  # the navigation and the button


def page_queries(client, **headers) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(
            PURCHASE, {"domain_scope": "multiple", "domain_count": "3"}, **headers
        )
    assert response.status_code == 200
    assert 'data-price="total"' in response.content.decode()
    return len(queries)


def test_query_count_does_not_grow_with_brands_and_products(customer_client, products):
    few = page_queries(customer_client)
    few_live = page_queries(customer_client, **PRICE)

    for number in range(30):
        brand = Brand.objects.create(name=f"Brand {number}", slug=f"brand-{number}")
        for validation_type in ("DV", "OV"):
            for scope in ("single", "multiple", "wildcard"):
                product(validation_type, scope, brand=brand, price="10.00")

    assert page_queries(customer_client) == few
    assert page_queries(customer_client, **PRICE) == few_live
