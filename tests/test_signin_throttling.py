"""Sign-in throttling (django-axes): repeated failures lock out an account or an address.

Attempts live in the database, so each test's transaction rolls them back: no test
sees another's failures.
"""

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from axes.models import AccessAttempt
from django.test import Client
from django.utils import timezone

from tests.factories import make_user

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
PASSWORD = "a-long-password"


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.AXES_FAILURE_LIMIT = 3
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)


@pytest.fixture
def alice(db):
    return make_user("alice", password=PASSWORD)


def sign_in(username: str, password: str, address: str = "192.0.2.1", path: str = LOGIN):
    return Client(REMOTE_ADDR=address).post(path, {"username": username, "password": password})


def signed_in(response) -> bool:
    return response.status_code == 302 and response["Location"] == "/certificates/"


def test_a_wrong_password_is_refused_on_the_sign_in_page(alice):
    response = sign_in("alice", "wrong")
    assert response.status_code == 200
    assert b"Please enter a correct username and password" in response.content


def test_failures_for_one_account_lock_it_out_from_every_address(alice):
    for number, address in enumerate(["192.0.2.1", "192.0.2.2"]):
        assert sign_in("alice", "wrong", address).status_code == 200, number
    response = sign_in("alice", "wrong", "192.0.2.3")

    assert response.status_code == 429
    text = response.content.decode()
    assert "Too many failed sign-ins." in text
    assert "locked for 15 minutes" in text
    assert "ask an operator to unlock it" in text
    # Even the right password, from a fresh address, waits out the lockout.
    assert sign_in("alice", PASSWORD, "198.51.100.7").status_code == 429
    # Others are not affected.
    make_user("bob", password=PASSWORD)
    assert signed_in(sign_in("bob", PASSWORD, "198.51.100.7"))


def test_failures_from_one_address_lock_it_out_for_every_account(alice):
    for username in ("carol", "dave", "erin"):
        sign_in(username, "guess", "203.0.113.9")

    assert sign_in("alice", PASSWORD, "203.0.113.9").status_code == 429
    assert signed_in(sign_in("alice", PASSWORD, "203.0.113.10"))


def test_the_lockout_ends_after_the_cool_off(alice):
    for _ in range(3):
        sign_in("alice", "wrong")
    assert sign_in("alice", PASSWORD).status_code == 429

    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        assert signed_in(sign_in("alice", PASSWORD))


def test_the_admin_sign_in_is_throttled_too(alice):
    for _ in range(3):
        sign_in("alice", "wrong", path="/admin/login/")
    assert sign_in("alice", PASSWORD).status_code == 429


def test_an_operator_unlocks_an_account_in_the_admin(alice, admin_client):
    for _ in range(3):
        sign_in("alice", "wrong")
    assert sign_in("alice", PASSWORD).status_code == 429

    listing = admin_client.get("/admin/axes/accessattempt/?locked_out=yes")
    assert listing.status_code == 200
    assert b"alice" in listing.content
    attempts = AccessAttempt.objects.filter(username="alice")
    response = admin_client.post(
        "/admin/axes/accessattempt/",
        {
            "action": "delete_selected",
            "_selected_action": [attempt.pk for attempt in attempts],
            "post": "yes",
        },
    )
    assert response.status_code == 302

    assert not AccessAttempt.objects.filter(username="alice").exists()
    assert signed_in(sign_in("alice", PASSWORD))


def test_the_password_is_never_stored_with_the_attempt(alice):
    sign_in("alice", "my-secret-guess")
    attempt = AccessAttempt.objects.get(username="alice")
    assert "my-secret-guess" not in attempt.post_data


def addresses_behind(proxies: int, *requests: dict[str, str]) -> list[str]:
    """The address axes throttles each request by, with SIGNIN_TRUSTED_PROXIES=`proxies`.

    In a fresh interpreter, so the settings read the variable as in production.
    """
    script = (
        "import json, sys, django; django.setup()\n"
        "from axes.helpers import get_client_ip_address\n"
        "from django.test import RequestFactory\n"
        "for meta in json.loads(sys.argv[1]):\n"
        "    print(get_client_ip_address(RequestFactory().post('/accounts/login/', **meta)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, json.dumps(requests)],
        cwd=Path(__file__).resolve().parent.parent,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "console.settings",
            "SIGNIN_TRUSTED_PROXIES": str(proxies),
        },
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_the_address_behind_trusted_proxies_is_the_one_they_were_given():
    request = {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "1.1.1.1, 203.0.113.5, 10.0.0.1"}
    direct = {"REMOTE_ADDR": "203.0.113.7"}
    assert addresses_behind(0, request, direct) == ["10.0.0.2", "203.0.113.7"]
    # The first entry is whatever the client sent: never trusted.
    assert addresses_behind(2, request) == ["203.0.113.5"]
    assert addresses_behind(1, request, direct) == ["10.0.0.1", "203.0.113.7"]
    # Fewer entries than proxies: the request did not come through them all, and
    # nothing in it can be trusted to name the client (axes then throttles all such
    # requests as one address).
    assert addresses_behind(5, request) == ["None"]


def test_batch_jobs_print_nothing_about_throttling_for_cron_to_mail():
    root = Path(__file__).resolve().parent.parent
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=root, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert "AXES" not in result.stderr + result.stdout
