"""axe-core on every console page: no serious or critical violations.

Each page is checked as a customer sees it, in the states that change what it shows,
and a screenshot of each is kept in test-artifacts/.
"""

import json

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.core import mail
from playwright.sync_api import expect

from certificates import services
from certificates.lifecycle import CertificateStatus as Status
from tests.browser.conftest import ARTIFACTS, dialog_shown, screenshot, sign_in
from tests.factories import make_certificate, make_user
from tests.issuance import issue_real_certificate
from tests.test_apply import pending

BLOCKING = {"serious", "critical"}
PASSWORD = "a-long-password"


@pytest.fixture(scope="module")
def axe() -> Axe:
    return Axe()


def violations(axe: Axe, page) -> list[str]:
    results = axe.run(page)
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} at "
        + "; ".join(
            f"{node['target']} {node['failureSummary']}".replace("\n", " ")
            for node in violation["nodes"][:5]
        )
        for violation in results.response["violations"]
        if violation["impact"] in BLOCKING
    ]


@pytest.fixture
def world(transactional_db, settings):
    settings.CONSOLE_BASE_URL = "http://testserver"
    customer = make_user("alice", password=PASSWORD, email="alice@example.com")
    issued = issue_real_certificate(customer, "DV", domain="shop.alice.example.com")
    ov = issue_real_certificate(
        customer, "OV", domain="ov.alice.example.com", contact_email="li@alice.example.com"
    )
    services.request_revocation(certificate=ov, reason=4, actor=customer)
    validating = pending(customer)
    services.save_application(
        certificate=validating,
        application=validating_application(validating),
        submit=True,
        actor=customer,
    )
    return {
        "customer": customer,
        "issued": issued,
        "revoking": ov,
        "validating": validating,
        "pending": pending(customer),
        "pending_ov": pending(customer, "OV"),
        "check_fail": make_certificate(customer, status=Status.CHECK_FAIL, days_left=None),
        "expired": make_certificate(customer, status=Status.EXPIRED, days_left=-3),
        "uploaded": make_certificate(customer, source="uploaded", name="shop-uploaded"),
        "link": mail.outbox[-1].body.split("http://testserver", 1)[1].split()[0],
    }


def validating_application(certificate):
    from certificates.models import Application

    return Application(
        domains="dns.alice.example.com",
        contact_name="Alice",
        contact_email="alice@example.com",
        contact_phone="+1 555 0100",
        csr_source=Application.CsrSource.SYSTEM,
        key_type=Application.KeyType.EC_P256,
        validation_method="dns",
    )


def test_every_console_page_passes_axe(page, world, axe, settings):
    failures: dict[str, list[str]] = {}

    def check(name: str) -> None:
        page.wait_for_load_state("networkidle")
        screenshot(page, name)
        found = violations(axe, page)
        if found:
            failures[name] = found

    page.goto("/accounts/login/")
    check("sign-in")
    sign_in(page, "alice", PASSWORD)
    check("overview")

    page.get_by_role("link", name="Upload Certificate").click()
    dialog_shown(page)
    check("upload-dialog")
    page.get_by_role("dialog").get_by_role("button", name="OK").click()
    expect(page.get_by_role("dialog").locator(".invalid-feedback").first).to_be_visible()
    check("upload-dialog-errors")
    page.keyboard.press("Escape")

    for state in ("issued", "validating", "pending", "check_fail", "expired", "uploaded"):
        page.goto(world[state].get_absolute_url())
        check(f"details-{state}")
    page.goto(world["revoking"].get_absolute_url())
    check("details-revoking")

    page.goto(f"/certificates/{world['pending'].pk}/apply/")
    check("apply-dv")
    page.get_by_role("button", name="Submit for review").click()
    expect(page.locator(".invalid-feedback").first).to_be_visible()
    check("apply-dv-errors")
    page.goto(f"/certificates/{world['pending_ov'].pk}/apply/")
    check("apply-ov")

    page.goto("/purchase/")
    check("purchase")

    page.goto(f"/certificates/{world['issued'].pk}/revoke/")
    check("revoke")

    page.goto("/tools/convert/")
    check("converter")

    page.goto(f"/certificates/{world['issued'].pk}/")
    page.locator("main").get_by_role("link", name="Delete").click()
    dialog_shown(page)
    check("delete-dialog")

    page.context.clear_cookies()
    page.goto(world["link"])
    check("confirm-revocation")
    page.goto("/key-compromise/")
    check("key-compromise")
    page.get_by_role("button", name="Report the key").click()
    expect(page.locator(".invalid-feedback").first).to_be_visible()
    check("key-compromise-errors")

    # Last, as it locks this address out: the sign-in page after too many failures.
    settings.AXES_FAILURE_LIMIT = 2
    for _ in range(2):
        page.goto("/accounts/login/")
        page.get_by_label("Username").fill("mallory")
        page.get_by_label("Password").fill("guess")
        page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("Too many failed sign-ins")
    check("sign-in-locked")

    # The whole report, for reading when this fails (pytest shortens long messages).
    (ARTIFACTS / "axe-violations.json").write_text(json.dumps(failures, indent=2))
    assert not failures, failures
