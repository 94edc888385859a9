"""Every console page from a 360 px phone to a 1440 px desktop.

At each width no page scrolls sideways, and every visible button and link can be hit
(the element at its centre is itself); at 390 and 1440 px axe finds no serious or
critical violation; the menu button, Upload Certificate and Sign out work; a screenshot
of each page at each width is kept in test-artifacts/.
"""

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from certificates.lifecycle import CertificateStatus as Status
from tests.browser.conftest import (
    PASSWORD,
    dialog_hidden,
    dialog_shown,
    new_context,
    screenshot,
    sign_in,
)
from tests.browser.test_accessibility import violations
from tests.factories import make_certificate

WIDTHS = (360, 390, 768, 1440)
# axe at a phone's width and a desktop's (it takes a second or two a page).
AXE_WIDTHS = (390, 1440)
# Below this width the navigation folds behind the menu button (static/css/console.css).
MENU_BELOW = 768

# One evaluation per page: whether it scrolls sideways, and which visible controls are
# covered by something else at their centre (after scrolling each into view).
LAYOUT_PROBLEMS = """
(scope) => {
  const root = document.querySelector(scope) || document;
  const problems = [];
  const width = window.innerWidth;
  if (document.scrollingElement.scrollWidth > width) {
    problems.push(`scrolls sideways: ${document.scrollingElement.scrollWidth} > ${width}`);
  }
  for (const element of root.querySelectorAll("a[href], button, input[type=submit]")) {
    const style = getComputedStyle(element);
    const hidden = "[hidden], .visually-hidden, .visually-hidden-focusable";
    if (element.closest(hidden) || style.visibility === "hidden") continue;
    if (!element.getClientRects().length || element.offsetWidth === 0) continue;
    // Instant: Bootstrap makes scrolling smooth, which would move the page after measuring.
    element.scrollIntoView({ block: "center", inline: "center", behavior: "instant" });
    const box = element.getBoundingClientRect();
    if (box.right > width + 1 || box.left < -1) {
      problems.push(`off screen: ${element.outerHTML.slice(0, 80)}`);
      continue;
    }
    // A link that wraps onto two lines is hit on its first line's piece.
    const piece = element.getClientRects()[0];
    const x = piece.left + piece.width / 2;
    const hit = document.elementFromPoint(x, piece.top + piece.height / 2);
    if (!hit || !(hit === element || element.contains(hit))) {
      const cover = hit && hit.outerHTML.slice(0, 60);
      problems.push(`covered: ${element.outerHTML.slice(0, 80)} by ${cover}`);
    }
  }
  window.scrollTo({ top: 0, left: 0, behavior: "instant" });
  return problems;
}
"""


@pytest.fixture(scope="module")
def axe() -> Axe:
    return Axe()


def check_page(page, name: str, width: int, failures: dict, scope: str = "body") -> None:
    page.wait_for_load_state("networkidle")
    found = page.evaluate(LAYOUT_PROBLEMS, scope)
    screenshot(page, f"responsive-{name}-{width}")
    if width in AXE_WIDTHS:
        found += violations(page.axe, page)
    if found:
        failures[f"{name} at {width}px"] = found


def open_menu_if_folded(page, width: int) -> None:
    menu = page.get_by_role("button", name="Menu")
    if width < MENU_BELOW:
        expect(menu).to_be_visible()
        expect(page.locator("#sidebar")).to_be_hidden()
    else:
        expect(menu).to_be_hidden()
        expect(page.locator("#sidebar")).to_be_visible()


@pytest.mark.parametrize("width", WIDTHS)
def test_every_console_page_fits_the_screen_and_its_controls_can_be_hit(
    browser, live_server, world, width, axe
):
    # Long text: a 63-character name and long domains, as customers have them.
    make_certificate(
        world["customer"],
        source="uploaded",
        name="a" * 63,
        domain="*.humongous-cloud-provider-for-long-names.example.com.cn",
    )
    context = new_context(browser, live_server, viewport={"width": width, "height": 800})
    page = context.new_page()
    page.axe = axe
    failures: dict[str, list[str]] = {}
    sign_in(page, "alice", PASSWORD)

    open_menu_if_folded(page, width)
    check_page(page, "overview", width, failures)
    for status in ("issued", "pending_application", "check_fail", "expired", "revoking"):
        page.goto(f"/certificates/?status={status}")
        check_page(page, f"overview-{status}", width, failures)

    page.goto("/certificates/")
    page.get_by_role("link", name="Upload Certificate").click()
    dialog_shown(page)
    check_page(page, "upload-dialog", width, failures, scope="#dialog")
    page.keyboard.press("Escape")
    dialog_hidden(page)

    for state in ("issued", "validating", "pending", "check_fail", "expired", "uploaded"):
        page.goto(world[state].get_absolute_url())
        check_page(page, f"details-{state}", width, failures)
    page.goto(world["revoking"].get_absolute_url())
    check_page(page, "details-revoking", width, failures)

    pages = {
        "apply": f"/certificates/{world['pending'].pk}/apply/",
        "apply-ov": f"/certificates/{world['pending_ov'].pk}/apply/",
        "purchase": "/purchase/",
        "converter": "/tools/convert/",
        "orders": "/orders/",
        "order": f"/orders/{world['issued'].order_id}/",
        "profile": "/accounts/profile/",
        "password": "/accounts/password/",
        "help": "/help/",
        "contact": "/help/contact/",
        "acme": "/acme-credentials/",
        "api-tokens": "/api-tokens/",
    }
    for name, url in pages.items():
        page.goto(url)
        check_page(page, name, width, failures)

    # Each with the secret it has just made, shown once.
    page.goto("/acme-credentials/")
    page.get_by_role("button", name="Create credentials").click()
    expect(page.get_by_label("HMAC key", exact=True)).to_be_visible()
    check_page(page, "acme-shown-once", width, failures)
    page.goto("/api-tokens/")
    page.get_by_label("Label").fill("ci")
    page.get_by_label("Read", exact=True).check()
    page.get_by_role("button", name="Create token").click()
    expect(page.get_by_label("New API token", exact=True)).to_be_visible()
    check_page(page, "api-token-shown-once", width, failures)

    page.goto(f"/certificates/{world['issued'].pk}/revoke/")
    check_page(page, "revoke", width, failures)
    page.get_by_label("Superseded").check()
    page.get_by_role("button", name="Confirm").click()
    dialog_shown(page)
    check_page(page, "revoke-dialog", width, failures, scope="#dialog")
    page.keyboard.press("Escape")
    dialog_hidden(page)

    page.goto(f"/certificates/{world['issued'].pk}/")
    page.locator("main").get_by_role("link", name="Delete").click()
    dialog_shown(page)
    check_page(page, "delete-dialog", width, failures, scope="#dialog")

    violations = context.csp_violations.messages
    context.close()
    assert not failures, failures
    assert not violations, violations


@pytest.mark.parametrize("width", (360, 390))
def test_on_a_phone_the_menu_opens_and_sign_out_and_upload_work(
    browser,
    live_server,
    world,
    width,
):
    context = new_context(browser, live_server, viewport={"width": width, "height": 800})
    page = context.new_page()
    sign_in(page, "alice", PASSWORD)

    page.get_by_role("button", name="Menu").click()
    nav = page.get_by_role("navigation", name="Console")
    expect(nav).to_be_visible()
    nav.get_by_role("link", name="Orders").click()
    page.wait_for_url("**/orders/")
    expect(page.get_by_role("heading", name="Orders")).to_be_visible()
    expect(nav).to_be_hidden()  # a new page starts folded again

    page.goto("/certificates/")
    page.get_by_role("link", name="Upload Certificate").click()
    dialog_shown(page)
    box = page.locator("#dialog .modal-content").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= width
    page.keyboard.press("Escape")
    dialog_hidden(page)
    # The focus is back on what opened the dialog.
    assert page.evaluate("document.activeElement.textContent.trim()") == "Upload Certificate"

    # The list reads as stacked cards: each cell says which column it is.
    row = page.locator(f'[data-certificate="{world["issued"].pk}"]')
    expect(row.locator('td[data-label="Expires"]')).to_be_visible()
    assert row.bounding_box()["width"] <= width

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/accounts/login/**")
    context.close()


def test_a_long_name_is_cut_with_an_ellipsis_and_whole_on_hover_and_details(page, transactional_db):
    from tests.factories import make_user

    customer = make_user("dora", password=PASSWORD)
    name = "n" * 63
    certificate = make_certificate(customer, source="uploaded", name=name, status=Status.ISSUED)
    sign_in(page, "dora", PASSWORD)
    cell = page.locator(f'[data-certificate="{certificate.pk}"] .cert-name')
    expect(cell).to_have_attribute("title", name)
    assert cell.evaluate("element => element.scrollWidth > element.clientWidth")  # cut
    # Dates stay on one line.
    expires = page.locator(f'[data-certificate="{certificate.pk}"] td[data-label="Expires"]')
    assert expires.evaluate("element => getComputedStyle(element).whiteSpace") == "nowrap"
    page.goto(certificate.get_absolute_url())
    expect(page.locator(".details")).to_contain_text(name)
