"""Playwright against live_server, driving the system Chromium.

Without Chromium these tests skip, unless REQUIRE_BROWSER is set (as CI does),
in which case they fail: a browser suite that silently skips proves nothing.
"""

import os
from pathlib import Path

import pytest

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
