import zipfile
from decimal import Decimal

from playwright.sync_api import expect

from certificates.models import Application, Product
from certificates.pki.parsing import load_certificates, load_private_key, public_keys_match
from tests.browser.conftest import sign_in
from tests.factories import make_brand, make_user
from tests.queues import DATABASE_QUEUE, run_queued_checks


def test_purchase_apply_verify_and_download_a_dv_certificate(
    page, transactional_db, settings, dns_server
):
    settings.DV_NAMESERVERS = [dns_server.host]
    settings.DV_DNS_PORT = dns_server.port
    settings.DV_CHECK_TIMEOUT = 2.0
    make_user("grace", password="a-long-password")
    Product.objects.create(
        brand=make_brand("GeoTrust"),
        validation_type="DV",
        domain_scope="single",
        price_per_year=Decimal("99.00"),
    )
    sign_in(page, "grace", "a-long-password")

    page.locator("main").get_by_role("link", name="Purchase Certificate").click()
    page.get_by_role("button", name="Pay").click()
    page.wait_for_url("**/certificates/?status=pending_application")

    page.locator("#certificate-list").get_by_role("link", name="Apply").click()
    page.get_by_label("Domains").fill("shop.grace.example.com")
    page.get_by_label("Contact name").fill("Grace Hopper")
    page.get_by_label("Contact email").fill("grace@grace.example.com")
    page.get_by_label("Contact phone").fill("+1 555 0100")
    page.get_by_label("System-generated").check()
    page.get_by_label("Key algorithm").select_option("ecp256")
    page.get_by_label("DNS TXT record").check()
    page.get_by_role("button", name="Submit for review").click()

    expect(page.get_by_role("alert")).to_contain_text("submitted for validation")
    validation = page.locator(".validation")
    expect(validation).to_contain_text("_dnsauth.shop.grace.example.com")
    token = Application.objects.get().validation_token
    expect(validation).to_contain_text(token)

    dns_server.set_txt("_dnsauth.shop.grace.example.com", "not-yet")
    page.get_by_role("button", name="Verify").click()
    expect(validation).to_contain_text("not-yet")

    # This time the check waits on the queue, as with a busy worker: the page says so and
    # asks until the worker is done, then reloads by itself.
    settings.TASKS = DATABASE_QUEUE
    dns_server.set_txt("_dnsauth.shop.grace.example.com", token)
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("status")).to_contain_text("Checking...")
    run_queued_checks()
    expect(page.get_by_role("alert")).to_contain_text("the certificate is issued")

    with page.expect_download() as download:
        page.get_by_role("link", name="Nginx").click()
    bundle = zipfile.ZipFile(download.value.path())
    names = bundle.namelist()
    chain = load_certificates(bundle.read("shop.grace.example.com.pem"))
    key = load_private_key(bundle.read("shop.grace.example.com.key"))
    assert "shop.grace.example.com.pem" in names
    assert public_keys_match(chain[0], key)
    assert len(chain) == 2
    chain[0].verify_directly_issued_by(chain[1])
