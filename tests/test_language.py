"""The console's language: the profile's, else the top bar's switch (its cookie), else
Accept-Language; the switch keeps the page and, signed in, the profile."""

import pytest
from django.conf import settings
from django.urls import reverse

from certificates.models import AuditEvent, CustomerSettings
from tests.factories import make_user

pytestmark = pytest.mark.django_db

OVERVIEW = reverse("certificates:overview")
ORDERS = reverse("orders")
SWITCH = reverse("set_language")
PROFILE = reverse("profile")


def language_of(response) -> str:
    return response.headers["Content-Language"]


def test_accept_language_zh_hans_gives_the_chinese_console(customer_client):
    response = customer_client.get(OVERVIEW, headers={"accept-language": "zh-hans"})
    assert language_of(response) == "zh-hans"
    assert '<html lang="zh-Hans">' in response.content.decode()
    assert "证书概览" in response.content.decode() or "SSL 证书" in response.content.decode()


def test_without_a_choice_the_console_is_english(customer_client):
    response = customer_client.get(OVERVIEW)
    assert language_of(response) == "en"
    assert '<html lang="en">' in response.content.decode()


def test_the_switch_keeps_the_page_and_the_profile_for_the_signed_in_customer(
    customer, customer_client
):
    response = customer_client.post(SWITCH, {"language": "zh-hans", "next": ORDERS})
    assert response.status_code == 302
    assert response.url == ORDERS
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"
    assert CustomerSettings.objects.get(customer=customer).language == "zh-hans"
    assert AuditEvent.objects.filter(action="account.profile").count() == 1
    # The next pages speak Chinese, whatever the browser asks for.
    page = customer_client.get(ORDERS, headers={"accept-language": "en"})
    assert language_of(page) == "zh-hans"


def test_the_switch_refuses_an_unknown_language_and_changes_nothing(customer, customer_client):
    response = customer_client.post(SWITCH, {"language": "xx", "next": ORDERS})
    assert response.status_code == 302
    assert not CustomerSettings.objects.filter(customer=customer, language="xx").exists()
    assert language_of(customer_client.get(ORDERS)) == "en"


def test_the_switch_works_signed_out_with_the_cookie_alone(client):
    login = reverse("login")
    response = client.post(SWITCH, {"language": "zh-hans", "next": login})
    assert response.url == login
    assert language_of(client.get(login)) == "zh-hans"


def test_the_switch_does_not_send_anyone_to_another_site(customer_client):
    response = customer_client.post(
        SWITCH, {"language": "zh-hans", "next": "https://evil.example/"}
    )
    assert response.status_code == 302
    assert "evil.example" not in response.url


def test_the_profile_language_beats_the_cookie_and_the_browser(client):
    alice = make_user("carol")
    CustomerSettings.objects.create(customer=alice, language="zh-hans")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(alice)
    page = client.get(OVERVIEW, headers={"accept-language": "en"})
    assert language_of(page) == "zh-hans"


def test_signing_in_brings_the_profile_language(client):
    dave = make_user("dave")
    dave.set_password("pw-for-dave-1")
    dave.save()
    CustomerSettings.objects.create(customer=dave, language="zh-hans")
    client.post(reverse("login"), {"username": "dave", "password": "pw-for-dave-1"})
    assert language_of(client.get(OVERVIEW)) == "zh-hans"


def test_the_profile_saves_the_language_and_the_next_page_speaks_it(customer, customer_client):
    response = customer_client.post(
        PROFILE,
        {"first_name": "", "last_name": "", "email": "alice@example.com", "language": "zh-hans"},
        follow=True,
    )
    assert CustomerSettings.objects.get(customer=customer).language == "zh-hans"
    assert language_of(response) == "zh-hans"
    # Signed out on this browser, the console stays in the chosen language.
    assert customer_client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"


def test_the_profile_refuses_an_unknown_language_on_its_field(customer, customer_client):
    response = customer_client.post(PROFILE, {"email": "alice@example.com", "language": "xx"})
    assert response.status_code == 200
    assert "language" in response.context["form"].errors
    assert not CustomerSettings.objects.filter(customer=customer, language="xx").exists()


def test_the_browsers_language_in_the_profile_gives_the_choice_back(customer, customer_client):
    CustomerSettings.objects.create(customer=customer, language="zh-hans")
    customer_client.post(PROFILE, {"email": "alice@example.com", "language": ""})
    assert CustomerSettings.objects.get(customer=customer).language == ""
    page = customer_client.get(OVERVIEW, headers={"accept-language": "en"})
    assert language_of(page) == "en"


def test_the_admin_follows_the_operators_language(operator_client):
    page = operator_client.get(reverse("admin:index"), headers={"accept-language": "zh-hans"})
    assert language_of(page) == "zh-hans"
    # Django's own admin catalogue: "Log out" is 注销 there.
    assert "注销" in page.content.decode()
