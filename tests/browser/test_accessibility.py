"""axe-core on every console page: no serious or critical violations.

Each page is checked as a customer sees it, in the states that change what it shows,
and a screenshot of each is kept in test-artifacts/.
"""

import json

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from deployments.models import DeploymentJob, DeploymentStep, Target
from tests.browser.conftest import ARTIFACTS, PASSWORD, dialog_shown, screenshot, sign_in

BLOCKING = {"serious", "critical"}


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

    # Deployment: the page with a target and a job, a target's form and its errors,
    # Deploy, and a job with a failed step.
    target = Target.objects.create(
        owner=world["customer"],
        name="web",
        kind=Target.Kind.WEBHOOK,
        verify_host="www.example.com",
        verify_port=443,
        webhook_url="https://hooks.example.com/",
    )
    job = DeploymentJob.objects.create(owner=world["customer"])
    DeploymentStep.objects.create(
        job=job,
        certificate=world["issued"],
        target=target,
        target_name=target.name,
        status=DeploymentStep.Status.FAILED,
        reason="HTTP 500 from the webhook",
    )
    page.goto("/deployments/")
    check("deployments")
    page.goto("/deployments/targets/new/")
    check("deployment-target")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".invalid-feedback").first).to_be_visible()
    check("deployment-target-errors")
    page.goto(f"/deployments/deploy/?certificates={world['issued'].pk}")
    check("deploy")
    page.goto(f"/deployments/jobs/{job.pk}/")
    check("deployment-job")

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
