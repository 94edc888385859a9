import re

from playwright.sync_api import expect

from certificates.lifecycle import CertificateStatus as Status
from tests.browser.conftest import sign_in
from tests.factories import make_certificate, make_user


def test_customer_signs_in_sees_counters_and_switches_tabs_in_place(page, transactional_db):
    customer = make_user("carol", password="a-long-password")
    make_certificate(customer, status=Status.ISSUED, domain="shop.carol.example.com")
    make_certificate(
        customer, status=Status.CHECK_FAIL, days_left=None, domain="failed.carol.example.com"
    )
    make_certificate(customer, status=Status.ISSUED, days_left=-3, domain="old.carol.example.com")

    sign_in(page, "carol", "a-long-password")

    expect(page.locator('[data-counter="total"]')).to_have_text("3")
    expect(page.locator('[data-counter="issued"]')).to_have_text("1")
    expect(page.locator('[data-counter="check_fail"]')).to_have_text("1")
    expect(page.locator('[data-counter="expired"]')).to_have_text("1")
    rows = page.locator("#certificate-list tbody tr")
    expect(rows).to_have_count(3)

    # Anything set on window survives only if the page was not reloaded.
    page.evaluate("window.notReloaded = true")
    page.locator("#certificate-list").get_by_role("link", name="Check Fail").click()

    expect(page).to_have_url(re.compile(r"\?status=check_fail$"))
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("failed.carol.example.com")
    assert page.evaluate("window.notReloaded") is True

    page.go_back()
    expect(rows).to_have_count(3)
    assert page.evaluate("window.notReloaded") is True
