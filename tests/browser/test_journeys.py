"""End-to-end journeys not covered by the other browser tests.

Upload mistakes and deleting from the list; an OV revocation confirmed by the emailed
link, completed by an operator and published on the CRL; the overview's filters,
search and paging in place, with the back button; the dialogs' keyboard behaviour.
"""

import re

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from django.core import mail
from playwright.sync_api import expect

from certificates.lifecycle import CertificateStatus as Status
from certificates.models import Certificate
from tests.browser.conftest import (
    dialog_hidden,
    dialog_shown,
    new_context,
    screenshot,
    sign_in,
)
from tests.factories import make_brand, make_certificate, make_certificates, make_user
from tests.issuance import issue_real_certificate

PASSWORD = "a-long-password"


def mark_page(page) -> None:
    """Anything set on window survives only as long as the page is not reloaded."""
    page.evaluate("window.notReloaded = true")


def not_reloaded(page) -> bool:
    return page.evaluate("window.notReloaded") is True


def settled(page) -> None:
    """Wait until htmx has settled the last swap: only then does new content listen."""
    page.wait_for_function(
        "() => !document.querySelector("
        "'.htmx-request, .htmx-swapping, .htmx-settling, .htmx-added')"
    )


# --- upload mistakes and deleting ------------------------------------------------------------


def test_upload_mistakes_then_delete_from_the_list(
    page, transactional_db, tmp_path, ec_leaf, rsa_leaf, intermediate_ca
):
    customer = make_user("dave", password=PASSWORD)
    issued = make_certificate(customer, domain="kept.dave.example.com")
    sign_in(page, "dave", PASSWORD)
    mark_page(page)
    total = page.locator('[data-counter="total"]')
    expect(total).to_have_text("1")

    page.get_by_role("link", name="Upload Certificate").click()
    dialog = page.get_by_role("dialog")
    # A DER file: refused, pointing to the converter.
    der = tmp_path / "shop.crt"
    der.write_bytes(ec_leaf.cert.public_bytes(serialization.Encoding.DER))
    dialog.get_by_label("Certificate Name").fill("shop ec")
    dialog.get_by_label("or choose a .pem/.crt file").set_input_files(der)
    dialog.get_by_label("Certificate Key").fill(ec_leaf.key_pem)
    dialog.get_by_role("button", name="OK").click()
    expect(dialog.locator(".invalid-feedback").first).to_be_visible()
    expect(dialog).to_contain_text("Use only letters, digits")
    expect(dialog.locator("#id_certificate_error")).to_contain_text("converter")
    # The key the customer pasted is not sent back; they paste it again.
    expect(dialog.get_by_label("Certificate Key")).to_have_value("")
    expect(dialog).to_contain_text("is not shown again")
    settled(page)

    # An encrypted key: refused, saying so.
    encrypted = ec_leaf.key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"secret"),
    ).decode()
    dialog.get_by_label("Certificate Name").fill("shop-ec")
    dialog.get_by_label("Certificate File").fill(ec_leaf.cert_pem + intermediate_ca.cert_pem)
    dialog.get_by_label("Certificate Key").fill(encrypted)
    dialog.get_by_role("button", name="OK").click()
    expect(dialog.locator("#id_key_error")).to_contain_text("encrypted")
    screenshot(page, "upload-dialog-refused")
    settled(page)

    dialog.get_by_label("Certificate Key").fill(ec_leaf.key_pem)
    dialog.get_by_role("button", name="OK").click()
    expect(dialog).to_be_hidden()
    expect(total).to_have_text("2")
    uploaded = Certificate.objects.get(name="shop-ec")
    row = page.locator(f'[data-certificate="{uploaded.pk}"]')
    expect(row).to_contain_text("Uploaded")

    # Delete it from the list: the dialog, then the list and counters refresh in place.
    row.get_by_role("link", name="Delete").click()
    expect(dialog).to_contain_text("Delete shop-ec")
    screenshot(page, "delete-dialog")
    dialog.get_by_role("button", name="Delete").click()
    expect(dialog).to_be_hidden()
    expect(row).to_have_count(0)
    expect(total).to_have_text("1")
    expect(page.locator('[data-counter="issued"]')).to_have_text("1")
    assert not_reloaded(page)
    assert Certificate.objects.get(pk=uploaded.pk).deleted_at is not None

    # An issued, unexpired certificate is not deleted: the dialog says why.
    page.locator(f'[data-certificate="{issued.pk}"]').get_by_role("link", name="Delete").click()
    expect(dialog).to_contain_text("revoke")
    expect(dialog.get_by_role("button", name="Delete")).to_have_count(0)
    dialog_shown(page)
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(total).to_have_text("1")
    assert not_reloaded(page)


# --- OV revocation: emailed link, operator, CRL ----------------------------------------------


def test_ov_revocation_confirmed_by_email_completed_by_an_operator_and_on_the_crl(
    page, browser, live_server, transactional_db, settings
):
    settings.CONSOLE_BASE_URL = live_server.url
    customer = make_user("heidi", password=PASSWORD)
    certificate = issue_real_certificate(
        customer, "OV", domain="shop.heidi.example.com", contact_email="li@heidi.example.com"
    )
    make_user("olga", password=PASSWORD, is_staff=True, is_superuser=True)
    sign_in(page, "heidi", PASSWORD)

    page.locator(f'[data-certificate="{certificate.pk}"]').get_by_role(
        "link", name="revoke"
    ).click()
    expect(page.locator(".refund-terms")).to_contain_text("confirm the emailed link")
    screenshot(page, "revoke-ov")
    page.get_by_label("Key compromise").check()
    page.get_by_role("button", name="Confirm").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Reason: Key compromise")
    dialog.get_by_role("button", name="OK").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "We emailed a confirmation link to li@heidi.example.com"
    )
    expect(page.locator(".revocation")).to_contain_text("Awaiting")
    assert Certificate.objects.get(pk=certificate.pk).status == Status.REVOKING

    # The applicant opens the emailed link, signed in or not.
    (message,) = mail.outbox
    assert message.to == ["li@heidi.example.com"]
    link = re.search(rf"{re.escape(live_server.url)}(/revocations/confirm/\S+/)", message.body)
    applicant = new_context(browser, live_server)
    confirm = applicant.new_page()
    confirm.goto(link.group(1))
    expect(confirm.get_by_role("heading", name="Confirm the revocation")).to_be_visible()
    expect(confirm.locator("main")).to_contain_text("shop.heidi.example.com")
    confirm.get_by_role("button", name="Confirm the revocation").click()
    expect(confirm.get_by_role("status")).to_contain_text("Confirmed")
    screenshot(confirm, "confirm-revocation")
    # The link works once.
    confirm.goto(link.group(1))
    expect(confirm.get_by_role("alert")).to_be_visible()
    assert not applicant.csp_violations.messages
    applicant.close()

    # An operator completes it in the admin.
    operator = new_context(browser, live_server)
    admin = operator.new_page()
    admin.goto("/admin/login/")
    admin.get_by_label("Username").fill("olga")
    admin.get_by_label("Password").fill(PASSWORD)
    admin.get_by_role("button", name="Log in").click()
    admin.goto("/admin/certificates/revocationrequest/")
    expect(admin.locator("#result_list")).to_contain_text("shop.heidi.example.com")
    screenshot(admin, "admin-revocation-requests")
    admin.get_by_role("checkbox", name="Select this object for an action").first.check()
    admin.locator("select[name=action]").select_option("complete")
    admin.get_by_role("button", name="Go").click()
    expect(admin.locator(".messagelist")).to_contain_text("completed")
    assert not operator.csp_violations.messages, operator.csp_violations.messages
    operator.close()

    page.goto(certificate.get_absolute_url())
    expect(page.locator("h1 .status")).to_have_text("Revoked")

    # The CRL that TLS clients fetch lists the serial, with the reason.
    certificate.refresh_from_db()
    response = page.request.get(f"/pki/{certificate.authority.slug}/crl.der")
    assert response.ok
    crl = x509.load_der_x509_crl(response.body())
    entry = crl.get_revoked_certificate_by_serial_number(int(certificate.serial, 16))
    assert entry is not None
    reason = entry.extensions.get_extension_for_class(x509.CRLReason).value.reason
    assert reason == x509.ReasonFlags.key_compromise


# --- filters, search and paging in place; the back button ------------------------------------


def test_filters_search_and_paging_update_the_list_in_place_and_back_restores_it(
    page, transactional_db, settings
):
    settings.CERTIFICATES_PAGE_SIZE = 5
    customer = make_user("ivan", password=PASSWORD)
    geotrust = make_brand("GeoTrust")
    make_certificates(customer, 12, brand=make_brand("DigiCert"))
    make_certificates(customer, 7, brand=geotrust)
    make_certificate(customer, brand=geotrust, domain="needle.ivan.example.com")
    make_certificates(customer, 3, status=Status.CHECK_FAIL, days_left=None)
    sign_in(page, "ivan", PASSWORD)
    mark_page(page)
    # A dialog opened and closed first: the page htmx keeps for the back button must not
    # carry the inline style Bootstrap gave it (the CSP would refuse it on the way back).
    page.get_by_role("link", name="Upload Certificate").click()
    dialog_shown(page)
    page.keyboard.press("Escape")
    dialog_hidden(page)
    rows = page.locator("#certificate-list tbody tr")
    summary = page.locator("#certificate-list .small.text-secondary").last
    expect(summary).to_have_text("23 certificates")
    expect(rows).to_have_count(5)

    page.get_by_label("Brand").select_option("geotrust")
    expect(page).to_have_url(re.compile(r"\?.*brand=geotrust"))
    expect(summary).to_have_text("8 certificates")
    settled(page)

    page.get_by_role("link", name="2", exact=True).click()
    expect(page).to_have_url(re.compile(r"brand=geotrust.*page=2|page=2.*brand=geotrust"))
    expect(rows).to_have_count(3)
    page_two = rows.all_inner_texts()
    settled(page)

    page.get_by_label("Search by certificate name or domain").fill("needle")
    page.get_by_label("Search by certificate name or domain").press("Enter")
    expect(page).to_have_url(re.compile(r"q=needle"))
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("needle.ivan.example.com")
    settled(page)

    page.get_by_label("Status").select_option("check_fail")
    expect(page).to_have_url(re.compile(r"status=check_fail"))
    expect(page.locator("#certificate-list")).to_contain_text("No certificates match.")
    assert not_reloaded(page)

    # Back, step by step, through the lists seen before: still the same page.
    page.go_back()
    expect(page).to_have_url(re.compile(r"q=needle"))
    expect(rows).to_have_count(1)
    page.go_back()
    expect(page).to_have_url(re.compile(r"page=2"))
    expect(rows).to_have_count(3)
    assert rows.all_inner_texts() == page_two
    expect(page.get_by_label("Brand")).to_have_value("geotrust")
    page.go_back()
    expect(summary).to_have_text("8 certificates")
    page.go_back()
    expect(summary).to_have_text("23 certificates")
    expect(page.get_by_label("Brand")).to_have_value("")
    assert not_reloaded(page)

    # The URL of a filtered list, opened afresh, shows the same list in full.
    page.goto("/certificates/?brand=geotrust&page=2")
    expect(rows).to_have_count(3)
    assert rows.all_inner_texts() == page_two
    screenshot(page, "overview-filtered")


# --- the dialogs and the keyboard -------------------------------------------------------------


def focus_is_in_dialog(page) -> bool:
    """Focus is in the dialog, never on the page behind it.

    Tab from the dialog's last field leaves the document for the browser's own controls
    (the dialog is the page's last element), which leaves the body focused; the next Tab
    comes back into the dialog. That is the trap: nothing behind the dialog is reached.
    """
    return page.evaluate(
        "document.getElementById('dialog').contains(document.activeElement)"
        " || document.activeElement === document.body"
    )


def focus_path(page, keys: list[str]) -> list[str]:
    """Press each key; where the focus went each time, as the element's text or name."""
    path = []
    for key in keys:
        page.keyboard.press(key)
        assert focus_is_in_dialog(page), (key, path)
        path.append(
            page.evaluate(
                "document.activeElement === document.body ? '(browser)'"
                " : document.activeElement.name || document.activeElement.textContent.trim()"
            )
        )
    return path


def test_dialogs_trap_focus_and_close_with_escape(page, transactional_db):
    customer = make_user("judy", password=PASSWORD)
    expired = make_certificate(customer, status=Status.EXPIRED, days_left=-3)
    sign_in(page, "judy", PASSWORD)
    dialog = page.get_by_role("dialog")

    opener = page.get_by_role("link", name="Upload Certificate")
    opener.click()
    expect(dialog.get_by_label("Certificate Name")).to_be_focused()
    dialog_shown(page)
    path = focus_path(page, ["Tab"] * 15 + ["Shift+Tab"] * 15)
    # Round and round the dialog's own controls, both ways.
    assert path.count("name") >= 2
    assert "OK" in path
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    # The closed dialog is emptied, so a stale form never shows again.
    expect(page.locator("#dialog-content")).to_be_empty()

    page.locator(f'[data-certificate="{expired.pk}"]').get_by_role("link", name="Delete").click()
    expect(dialog).to_contain_text("Delete certificate")
    dialog_shown(page)
    path = focus_path(page, ["Tab"] * 8)
    assert "Delete" in path
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    assert Certificate.objects.get(pk=expired.pk).deleted_at is None
