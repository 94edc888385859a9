"""The whole journey in Chinese: the top bar's switch on the sign-in page, then purchase,
apply, Verify and download, with a screenshot of each page in test-artifacts/ (zh-*.png).

Fields are found by their names: their labels are the app catalogues' (the certificates
app), the buttons and links by the console's own Chinese words (docs/glossary.md).
"""

import zipfile
from decimal import Decimal

from playwright.sync_api import expect

from certificates.models import Application, CustomerSettings, Product
from certificates.pki.parsing import load_certificates, load_private_key, public_keys_match
from tests.browser.conftest import PASSWORD, new_context, screenshot, world  # noqa: F401
from tests.factories import make_brand, make_user


def test_purchase_apply_verify_and_download_in_chinese(
    page, transactional_db, settings, dns_server
):
    settings.DV_NAMESERVERS = [dns_server.host]
    settings.DV_DNS_PORT = dns_server.port
    settings.DV_CHECK_TIMEOUT = 2.0
    grace = make_user("grace", password=PASSWORD)
    Product.objects.create(
        brand=make_brand("GeoTrust"),
        validation_type="DV",
        domain_scope="single",
        price_per_year=Decimal("99.00"),
    )

    page.goto("/accounts/login/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_role("button", name="中文").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    expect(page.get_by_role("heading", name="登录")).to_be_visible()
    screenshot(page, "zh-login")
    page.locator("[name=username]").fill("grace")
    page.locator("[name=password]").fill(PASSWORD)
    page.locator("main").get_by_role("button", name="登录").click()
    page.wait_for_url("**/certificates/")
    expect(page.get_by_role("heading", name="SSL 证书")).to_be_visible()
    # Chosen before signing in: the cookie; the switch signed in keeps it in the profile.
    screenshot(page, "zh-overview-empty")

    page.locator("main").get_by_role("link", name="购买证书").click()
    page.wait_for_url("**/purchase/")
    # The amount as the Chinese locale writes dollars (US$99.00).
    expect(page.locator('[data-price="total"]')).to_contain_text("99.00")
    screenshot(page, "zh-purchase")
    page.get_by_role("button", name="支付").click()
    page.wait_for_url("**/certificates/?status=pending_application")
    expect(page.locator('[data-counter="pending_application"]')).to_have_text("1")
    screenshot(page, "zh-overview-pending")

    page.locator("#certificate-list").get_by_role("link", name="申请", exact=True).click()
    expect(page.get_by_role("heading", name="填写申请信息")).to_be_visible()
    page.locator("[name=domains]").fill("shop.grace.example.com")
    page.locator("[name=contact_name]").fill("Grace Hopper")
    page.locator("[name=contact_email]").fill("grace@grace.example.com")
    page.locator("[name=contact_phone]").fill("+1 555 0100")
    page.locator("[name=csr_source][value=system]").check()
    page.locator("[name=key_type]").select_option("ecp256")
    page.locator("[name=validation_method][value=dns]").check()
    screenshot(page, "zh-apply")
    page.get_by_role("button", name="提交审核").click()

    validation = page.locator(".validation")
    expect(validation.get_by_role("heading", name="域名验证")).to_be_visible()
    expect(validation).to_contain_text("_dnsauth.shop.grace.example.com")
    screenshot(page, "zh-validation")
    dns_server.set_txt(
        "_dnsauth.shop.grace.example.com", Application.objects.get().validation_token
    )
    page.get_by_role("button", name="验证").click()

    download_heading = page.get_by_role("heading", name="安装与下载")
    expect(download_heading).to_be_visible()
    screenshot(page, "zh-details-issued")
    with page.expect_download() as download:
        page.get_by_role("link", name="Nginx").click()
    bundle = zipfile.ZipFile(download.value.path())
    chain = load_certificates(bundle.read("shop.grace.example.com.pem"))
    key = load_private_key(bundle.read("shop.grace.example.com.key"))
    assert public_keys_match(chain[0], key)

    # The switch, signed in: English again, on the same page, kept in the profile.
    url = page.url
    page.get_by_role("button", name="English").click()
    page.wait_for_url(url)
    expect(page.get_by_role("heading", name="Installation & Download")).to_be_visible()
    assert CustomerSettings.objects.get(customer=grace).language == "en"


def test_the_overview_in_chinese_for_the_readme(browser, live_server, world):  # noqa: F811
    context = new_context(
        browser, live_server, viewport={"width": 1440, "height": 900}, locale="zh-CN"
    )
    page = context.new_page()
    page.goto("/accounts/login/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    page.locator("[name=username]").fill("alice")
    page.locator("[name=password]").fill(PASSWORD)
    page.locator("main").get_by_role("button", name="登录").click()
    page.wait_for_url("**/certificates/")
    expect(page.get_by_role("heading", name="SSL 证书")).to_be_visible()
    screenshot(page, "zh-overview")
    page.goto(world["issued"].get_absolute_url())
    screenshot(page, "zh-details")
    page.goto(f"/certificates/{world['issued'].pk}/revoke/")
    screenshot(page, "zh-revoke")
    context.close()
