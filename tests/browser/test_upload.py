from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.factories import make_certificate, make_user


def test_customer_uploads_a_certificate_through_the_dialog(
    page, transactional_db, ec_leaf, rsa_leaf, intermediate_ca
):
    customer = make_user("dave", password="a-long-password")
    make_certificate(customer, domain="existing.dave.example.com")
    sign_in(page, "dave", "a-long-password")
    expect(page.locator('[data-counter="total"]')).to_have_text("1")
    page.evaluate("window.notReloaded = true")

    page.get_by_role("link", name="Upload Certificate").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("uploaded certificates do not support downloading!")
    dialog.get_by_label("Certificate Name").fill("shop-ec")
    dialog.get_by_label("Certificate File").fill(ec_leaf.cert_pem + intermediate_ca.cert_pem)
    dialog.get_by_label("Certificate Key").fill(rsa_leaf.key_pem)  # not this certificate's key
    dialog.get_by_role("button", name="OK").click()

    expect(dialog.locator(".invalid-feedback")).to_contain_text("does not match")
    expect(page.locator('[data-counter="total"]')).to_have_text("1")

    dialog.get_by_label("Certificate Key").fill(ec_leaf.key_pem)
    dialog.get_by_role("button", name="OK").click()

    expect(dialog).to_be_hidden()
    expect(page.locator('[data-counter="total"]')).to_have_text("2")
    expect(page.locator('[data-counter="issued"]')).to_have_text("2")
    expect(page.locator("#certificate-list")).to_contain_text("shop-ec")
    expect(page.locator("#certificate-list")).to_contain_text("ec.example.com")
    assert page.evaluate("window.notReloaded") is True


def test_dialog_closes_with_escape(page, transactional_db):
    make_user("erin", password="a-long-password")
    sign_in(page, "erin", "a-long-password")

    page.get_by_role("link", name="Upload Certificate").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_label("Certificate Name")).to_be_focused()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
