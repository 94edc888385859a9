from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.factories import make_user, operators_group
from tests.issuance import submit_application


def test_an_operator_approves_an_ov_application_and_the_customer_sees_it_issued(
    page, browser, live_server, transactional_db
):
    customer = make_user("grace", password="a-long-password")
    certificate = submit_application(customer, "OV", domain="shop.grace.example.com")
    operator = make_user("olga", password="a-long-password", is_staff=True)
    operator.groups.add(operators_group())

    sign_in(page, "grace", "a-long-password")
    page.goto(f"/certificates/{certificate.pk}/")
    expect(page.locator("h1 .status")).to_have_text("Validating")

    # The operator, in a browser of their own, signs in at /admin/.
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(10_000)
    admin = context.new_page()
    admin.goto("/admin/")
    admin.get_by_label("Username").fill("olga")
    admin.get_by_label("Password").fill("a-long-password")
    admin.get_by_role("button", name="Log in").click()
    admin.wait_for_url("**/admin/")

    queues = admin.locator("#operator-queues")
    expect(queues).to_contain_text("Applications waiting for review 1")
    queues.get_by_role("link", name="Applications waiting for review").click()
    row = admin.locator("#result_list tbody tr", has_text="shop.grace.example.com")
    expect(row).to_contain_text("Example Shop Ltd (Hangzhou, CN)")
    expect(row).to_contain_text("OV")
    row.get_by_role("checkbox").check()
    admin.locator("select[name=action]").select_option("approve")
    admin.get_by_role("button", name="Go").click()

    expect(admin.locator(".messagelist")).to_contain_text("approved, issued with serial")
    expect(admin.locator("#result_list")).to_have_count(0)  # the queue is empty now
    context.close()

    page.reload()
    expect(page.locator("h1 .status")).to_have_text("Issued")
    expect(page.get_by_role("heading", name="Installation & Download")).to_be_visible()
