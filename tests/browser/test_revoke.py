from playwright.sync_api import expect

from certificates.models import RevocationRequest
from tests.browser.conftest import dialog_hidden, dialog_shown, sign_in
from tests.factories import make_user
from tests.issuance import issue_real_certificate


def test_revoke_a_dv_certificate_and_an_operator_completes_it(
    page, browser, live_server, transactional_db
):
    customer = make_user("frank", password="a-long-password")
    certificate = issue_real_certificate(customer, "DV", domain="shop.frank.example.com")
    make_user("olga", password="a-long-password", is_staff=True, is_superuser=True)
    sign_in(page, "frank", "a-long-password")

    row = page.locator(f'[data-certificate="{certificate.pk}"]')
    row.get_by_role("link", name="revoke").click()
    expect(page.get_by_role("heading", name="Revoke Certificate")).to_be_visible()
    expect(page.locator(".refund-terms")).to_contain_text("apply by")
    page.get_by_label("Superseded").check()
    page.get_by_role("button", name="Confirm").click()

    # Confirm only asks: the dialog's Cancel leaves everything as it was.
    dialog = page.get_by_role("dialog")
    dialog_shown(page)
    expect(dialog).to_contain_text("Reason: Superseded")
    assert not RevocationRequest.objects.exists()
    dialog.get_by_role("link", name="Cancel").click()
    dialog_hidden(page)
    assert not RevocationRequest.objects.exists()
    expect(page.get_by_role("heading", name="Revoke Certificate")).to_be_visible()

    # Confirm again; the dialog's OK sends the request.
    page.get_by_role("button", name="Confirm").click()
    dialog_shown(page)
    assert not RevocationRequest.objects.exists()
    dialog.get_by_role("button", name="OK").click()
    page.wait_for_url(f"**/certificates/{certificate.pk}/")
    expect(page.get_by_role("alert")).to_contain_text("Your revocation request was sent to the CA")
    assert RevocationRequest.objects.get().certificate_id == certificate.pk

    expect(page.locator("h1 .status")).to_have_text("Revoking")
    expect(page.locator(".revocation")).to_contain_text("Reason: Superseded")
    expect(page.get_by_role("heading", name="Installation & Download")).to_have_count(0)
    page.goto("/certificates/")
    expect(row.locator(".status")).to_have_text("Revoking")
    expect(row.get_by_role("link", name="revoke")).to_have_count(0)

    # The operator completes it in the admin, in a browser of their own.
    operator = browser.new_context(base_url=live_server.url)
    operator.set_default_timeout(10_000)
    admin = operator.new_page()
    admin.goto("/admin/login/")
    admin.get_by_label("Username").fill("olga")
    admin.get_by_label("Password").fill("a-long-password")
    admin.get_by_role("button", name="Log in").click()
    admin.goto("/admin/certificates/revocationrequest/")
    admin.get_by_role("checkbox", name="Select this object for an action").first.check()
    admin.locator("select[name=action]").select_option("complete")
    admin.get_by_role("button", name="Go").click()
    expect(admin.locator(".messagelist")).to_contain_text("completed, refund")
    operator.close()

    page.goto(f"/certificates/{certificate.pk}/")
    expect(page.locator("h1 .status")).to_have_text("Revoked")
    expect(page.locator(".revocation")).to_contain_text("Revoked on")
