import re
from decimal import Decimal

from playwright.sync_api import expect

from certificates.models import Order, Product
from tests.browser.conftest import sign_in
from tests.factories import make_brand, make_certificate, make_user


def test_customer_picks_options_sees_the_price_live_and_pays(page, transactional_db):
    customer = make_user("frank", password="a-long-password")
    make_certificate(customer, domain="shop.frank.example.com")
    digicert = make_brand("DigiCert")
    for validation_type, scope, price, extra in [
        ("DV", "single", "100.00", "0"),
        ("DV", "multiple", "200.00", "50.00"),
        ("EV", "single", "500.00", "0"),
    ]:
        Product.objects.create(
            brand=digicert,
            validation_type=validation_type,
            domain_scope=scope,
            price_per_year=Decimal(price),
            price_per_extra_domain=Decimal(extra),
        )
    sign_in(page, "frank", "a-long-password")
    expect(page.locator('[data-counter="pending_application"]')).to_have_text("0")

    page.locator("main").get_by_role("link", name="Purchase Certificate").click()
    page.wait_for_url("**/purchase/")
    total = page.locator('[data-price="total"]')
    expect(total).to_have_text("$100.00")
    count = page.get_by_label("Number of domains")
    expect(count).to_be_hidden()
    # Anything set on window survives only if the page was not reloaded.
    page.evaluate("window.notReloaded = true")

    page.get_by_label("Multiple domains").check()
    expect(count).to_be_visible()
    expect(total).to_have_text("$250.00")  # 200 + 1 extra domain x 50
    count.fill("4")
    expect(page.locator('[data-price="unit"]')).to_have_text("$350.00")
    page.get_by_label("Quantity").fill("3")
    page.get_by_label("2 years").check()
    expect(total).to_have_text("$2,100.00")  # 350 x 2 years x 3

    page.get_by_label("EV (extended validation)").check()
    expect(page.locator("#price")).to_contain_text("DigiCert does not sell EV multiple-domain")
    expect(page.get_by_role("button", name="Pay")).to_be_disabled()

    page.get_by_label("DV (domain validation)").check()
    expect(total).to_have_text("$2,100.00")
    assert page.evaluate("window.notReloaded") is True

    page.get_by_role("button", name="Pay").click()

    page.wait_for_url(re.compile(r"/certificates/\?status=pending_application$"))
    expect(page.get_by_role("alert")).to_contain_text("3 certificates await their application")
    expect(page.locator('[data-counter="pending_application"]')).to_have_text("3")
    expect(page.locator('[data-counter="total"]')).to_have_text("4")
    expect(page.locator("#certificate-list tbody tr")).to_have_count(3)
    order = Order.objects.get()
    assert (order.quantity, order.years, order.domain_count) == (3, 2, 4)
    assert order.amount == Decimal("2100.00")
