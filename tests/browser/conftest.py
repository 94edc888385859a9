"""Playwright against live_server, driving the system Chromium.

Without Chromium these tests skip, unless REQUIRE_BROWSER is set (as CI does),
in which case they fail: a browser suite that silently skips proves nothing.
"""

import os
from pathlib import Path

import pytest
from django.core import mail

from acme_server.models import AcmeAccount
from acme_server.services import accounts as acme_accounts
from api.tokens import create_api_token
from certificates import services
from certificates.lifecycle import CertificateStatus as Status
from tests.factories import make_certificate, make_user
from tests.issuance import issue_real_certificate
from tests.test_apply import pending

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
HERE = Path(__file__).resolve().parent
# Screenshots of the main pages, for people to look at (git-ignored).
ARTIFACTS = HERE.parent.parent / "test-artifacts"


def pytest_collection_modifyitems(items):
    for item in items:
        if HERE in Path(item.fspath).parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        message = f"Chromium not found at {CHROMIUM} (install Debian's chromium package)"
        if os.environ.get("REQUIRE_BROWSER"):
            pytest.fail(message)
        pytest.skip(message)
    # Playwright's sync API runs an event loop in this thread; the test's own
    # database calls are still plain synchronous ones.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


class CSPViolations:
    """Chromium's console reports of what the Content Security Policy refused, on every page."""

    def __init__(self, context) -> None:
        self.messages: list[str] = []
        context.on("page", self.watch)

    def watch(self, page) -> None:
        page.on("console", lambda message: self.record(page, message))

    def record(self, page, message) -> None:
        if "Content Security Policy" in message.text:
            source = message.location.get("url", "")
            self.messages.append(f"on {page.url}, from {source}: {message.text}")


def new_context(browser, live_server, **options):
    """A browser context on live_server whose pages must not break the CSP (see `page`)."""
    options.setdefault("viewport", {"width": 1400, "height": 900})
    context = browser.new_context(base_url=live_server.url, **options)
    context.set_default_timeout(10_000)
    context.csp_violations = CSPViolations(context)
    return context


@pytest.fixture
def page(browser, live_server):
    context = new_context(browser, live_server)
    page = context.new_page()
    yield page
    violations = context.csp_violations.messages
    context.close()
    # Every browser test doubles as a check that nothing inline was left for the CSP to block.
    assert not violations, violations


def sign_in(page, username: str, password: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/certificates/")


def screenshot(page, name: str) -> Path:
    """Keep a picture of the page in test-artifacts/<name>.png."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=path)
    return path


def dialog_shown(page) -> None:
    """Wait until the dialog has faded in and taken the focus (Escape works from then on)."""
    page.wait_for_function(
        "() => document.getElementById('dialog').classList.contains('show')"
        " && document.getElementById('dialog').contains(document.activeElement)"
    )


def dialog_hidden(page) -> None:
    """Wait until the dialog has faded out and console.js has emptied it."""
    page.wait_for_function(
        "() => !document.getElementById('dialog').classList.contains('show')"
        " && !document.getElementById('dialog-content').hasChildNodes()"
    )


PASSWORD = "a-long-password"


@pytest.fixture
def world(transactional_db, settings):
    settings.CONSOLE_BASE_URL = "http://testserver"
    customer = make_user("alice", password=PASSWORD, email="alice@example.com")
    issued = issue_real_certificate(customer, "DV", domain="shop.alice.example.com")
    ov = issue_real_certificate(
        customer, "OV", domain="ov.alice.example.com", contact_email="li@alice.example.com"
    )
    services.request_revocation(certificate=ov, reason=4, actor=customer)
    # The ACME and API tokens pages with something in their lists.
    credential, _ = acme_accounts.create_credential(owner=customer, label="web-1")
    AcmeAccount.objects.create(
        owner=customer,
        brand=issued.brand,
        jwk={},
        thumbprint="NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs",
        credential=credential,
        contact=["mailto:alice@example.com"],
    )
    create_api_token(owner=customer, label="deploy script", scope="read")
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
