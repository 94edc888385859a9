from playwright.sync_api import expect

from tests.browser.conftest import screenshot, sign_in
from tests.factories import make_certificate, make_user


def test_a_token_made_on_the_page_works_in_the_api_docs(page, transactional_db):
    """Make a token, paste it into the docs' Authorize dialog, call the API from the docs.

    The `page` fixture fails the test on any Content Security Policy report, so this
    also proves the vendored Swagger UI runs under the console's CSP.
    """
    customer = make_user("tina", password="a-long-password")
    make_certificate(customer, domain="docs.tina.example.com")
    sign_in(page, "tina", "a-long-password")
    page.get_by_role("link", name="API tokens").click()
    page.get_by_label("Label").fill("docs")
    page.get_by_label("Read", exact=True).check()
    page.get_by_role("button", name="Create token").click()
    secret = page.get_by_label("New API token", exact=True).input_value()
    assert secret.startswith("scc_")
    expect(page.locator("table")).to_contain_text("docs")
    screenshot(page, "api-tokens")
    page.reload()
    expect(page.get_by_label("New API token", exact=True)).to_have_count(0)

    page.goto("/api/v1/docs")
    # Swagger UI's bundle is large and the live server slow to send it: time to load.
    expect(page.locator(".swagger-ui .info .title")).to_contain_text(
        "SSL Certificates Console API", timeout=30_000
    )
    page.get_by_role("button", name="Authorize").first.click()
    page.locator(".auth-container input").first.fill(secret)
    page.locator("button.modal-btn.authorize").click()
    page.locator("button.btn-done").click()
    operation = page.locator("#operations-certificates-api_endpoints_list_certificates")
    operation.locator(".opblock-summary").click()
    operation.get_by_role("button", name="Try it out").click()
    operation.get_by_role("button", name="Execute").click()
    expect(
        operation.locator(".responses-table .response .response-col_status").first
    ).to_contain_text("200")
    expect(operation.locator(".responses-wrapper")).to_contain_text("docs.tina.example.com")
    screenshot(page, "api-docs")
