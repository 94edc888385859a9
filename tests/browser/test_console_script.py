"""What static/js/console.js does in the browser: history, paging, messages, copy, confirm."""

import re

from playwright.sync_api import expect

from certificates.lifecycle import CertificateStatus as Status
from certificates.models import Certificate
from tests.browser.conftest import PASSWORD, dialog_hidden, dialog_shown, sign_in
from tests.factories import make_certificate, make_certificates, make_user
from tests.test_apply import pending


def test_back_and_forward_after_in_place_tabs_raise_no_script_error(page, transactional_db):
    customer = make_user("erin", password=PASSWORD)
    make_certificate(customer, status=Status.ISSUED, domain="shop.erin.example.com")
    make_certificate(customer, status=Status.EXPIRED, days_left=-3, domain="old.erin.example.com")
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(page, "erin", PASSWORD)

    rows = page.locator("#certificate-list tbody tr")
    page.locator("#certificate-list").get_by_role("link", name="Expired").click()
    expect(rows).to_have_count(1)
    page.go_back()
    expect(rows).to_have_count(2)
    page.go_forward()
    expect(rows).to_have_count(1)
    page.go_back()
    expect(rows).to_have_count(2)
    assert not errors, errors


def test_paging_brings_the_top_of_the_list_back_into_view(page, transactional_db):
    customer = make_user("erin", password=PASSWORD)
    make_certificates(customer, 45)
    sign_in(page, "erin", PASSWORD)

    page.get_by_role("link", name="Older").click()
    expect(page).to_have_url(re.compile(r"after=\d+-\d+"))
    expect(page.locator("#certificate-list tbody tr")).to_have_count(20)
    top = page.evaluate("document.getElementById('certificate-list').getBoundingClientRect().top")
    assert 0 <= top < page.viewport_size["height"] / 2


def test_an_upload_and_a_delete_from_the_list_say_what_was_done(page, transactional_db):
    customer = make_user("erin", password=PASSWORD)
    uploaded = make_certificate(customer, source="uploaded", name="old-upload")
    sign_in(page, "erin", PASSWORD)

    page.locator(f'[data-certificate="{uploaded.pk}"]').get_by_role("link", name="Delete").click()
    dialog_shown(page)
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    dialog_hidden(page)
    expect(page.locator("#messages")).to_contain_text("Certificate old-upload was deleted.")
    expect(page.locator(f'[data-certificate="{uploaded.pk}"]')).to_have_count(0)


def test_copy_buttons_put_the_value_on_the_clipboard(page, transactional_db):
    customer = make_user("erin", password=PASSWORD)
    certificate = make_certificate(
        customer, status=Status.VALIDATING, days_left=None, domain="dns.erin.example.com"
    )
    from certificates.models import Application

    Application.objects.create(
        certificate=certificate,
        domains="dns.erin.example.com",
        contact_name="Erin",
        contact_email="erin@example.com",
        contact_phone="+1 555 0100",
        validation_method="dns",
        validation_token="token-to-copy-123",
    )
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    sign_in(page, "erin", PASSWORD)
    page.goto(certificate.get_absolute_url())

    button = page.get_by_role("button", name="Copy record value for _dnsauth.dns.erin.example.com")
    button.click()
    expect(button).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == "token-to-copy-123"
    page.get_by_role("button", name="Copy record name _dnsauth.dns.erin.example.com").click()
    assert page.evaluate("navigator.clipboard.readText()") == "_dnsauth.dns.erin.example.com"


def test_a_secret_shown_once_is_copied_whole_by_its_copy_button(page, transactional_db):
    make_user("erin", password=PASSWORD)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    sign_in(page, "erin", PASSWORD)
    page.goto("/acme-credentials/")
    page.get_by_label("Label").fill("web-1")
    page.get_by_role("button", name="Create credentials").click()

    hmac_key = page.get_by_label("HMAC key", exact=True).input_value()
    button = page.get_by_role("button", name="Copy HMAC key")
    button.click()
    expect(button).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == hmac_key
    page.get_by_role("button", name="Copy Key identifier (kid)").click()
    kid = page.get_by_label("Key identifier (kid)", exact=True).input_value()
    assert page.evaluate("navigator.clipboard.readText()") == kid


def test_withdraw_asks_first_and_dismissing_changes_nothing(page, transactional_db):
    customer = make_user("erin", password=PASSWORD)
    certificate = make_certificate(customer, status=Status.VALIDATING, days_left=None)
    sign_in(page, "erin", PASSWORD)
    page.goto(certificate.get_absolute_url())

    questions: list[str] = []

    def dismiss(dialog):
        questions.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    page.get_by_role("button", name="Withdraw application").click()
    expect(page.get_by_role("button", name="Withdraw application")).to_be_visible()
    assert questions and questions[0].startswith("Withdraw this application?")
    assert Certificate.objects.get(pk=certificate.pk).status == Status.VALIDATING

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Withdraw application").click()
    expect(page.get_by_role("alert")).to_contain_text("The application was withdrawn")
    assert Certificate.objects.get(pk=certificate.pk).status == Status.PENDING_APPLICATION


def test_a_pending_row_is_told_apart_by_its_order(page, transactional_db):
    customer = make_user("erin", password=PASSWORD)
    first, second = pending(customer), pending(customer, "OV")
    sign_in(page, "erin", PASSWORD)
    for certificate in (first, second):
        row = page.locator(f'[data-certificate="{certificate.pk}"]')
        expect(row).to_contain_text(f"Order #{certificate.order_id}")


def test_a_deployment_targets_form_shows_the_settings_of_the_kind_chosen(page, transactional_db):
    make_user("erin", password=PASSWORD)
    sign_in(page, "erin", PASSWORD)
    page.goto("/deployments/targets/new/")
    webhook_url, ssh_host = page.get_by_label("Webhook URL"), page.get_by_label("SSH host")
    expect(webhook_url).to_be_visible()
    expect(ssh_host).to_be_visible()

    page.get_by_label("Kind").select_option("ssh")
    expect(webhook_url).to_be_hidden()
    expect(ssh_host).to_be_visible()
    expect(page.get_by_label("Verify at (host:port)")).to_be_visible()

    page.get_by_label("Kind").select_option("kubernetes")
    expect(ssh_host).to_be_hidden()
    expect(page.get_by_label("Verify at (host:port)")).to_be_hidden()
    expect(page.get_by_label("Secret name")).to_be_visible()
