"""Headers and cookies: the CSP with no inline code, frame denial, HSTS and secure cookies.

Production settings are loaded in a fresh interpreter, as `manage.py check --deploy` and
the WSGI server would load them.
"""

import json
import os
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from tests.url_walk import World, endpoints

ROOT = Path(__file__).resolve().parent.parent


class InlineCode(HTMLParser):
    """Finds what a CSP without 'unsafe-inline' would block: inline scripts and styles."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        names = dict(attrs)
        # A JSON data block (the API docs' settings) is never run, so the CSP allows it.
        is_data = names.get("type") == "application/json"
        if tag == "script" and not names.get("src") and not is_data:
            self.found.append("<script> without src")
        if tag == "style":
            self.found.append("<style>")
        for name, value in attrs:
            if name == "style" or name.startswith("on"):
                self.found.append(f"<{tag} {name}=...>")
            if name in {"href", "src", "action"} and (value or "").startswith("javascript:"):
                self.found.append(f"<{tag} {name}=javascript:...>")


def inline_code(html: str) -> list[str]:
    parser = InlineCode()
    parser.feed(html)
    return parser.found


def test_the_scanner_finds_inline_code():
    assert inline_code('<p style="color: red" onclick="x()"><script>x()</script><style>')
    assert not inline_code('<script src="/static/js/console.js" defer></script>')


def policy(response) -> dict[str, list[str]]:
    directives = [part.split() for part in response["Content-Security-Policy"].split(";")]
    return {parts[0]: parts[1:] for parts in directives if parts}


@pytest.mark.django_db
def test_every_page_has_the_headers_and_no_inline_code(settings):
    """Every URL the walk finds, as whoever may see it: console, /pki/ and every admin page."""
    settings.CONSOLE_BASE_URL = "http://testserver"
    world = World()
    clients = [world.client_for("customer"), world.client_for("staff"), world.client_for("")]
    problems = []
    pages = 0
    for endpoint in endpoints():
        url = world.url(endpoint)
        for client in clients:
            response = client.get(url)
            if response.status_code >= 300 or "text/html" not in response.get("Content-Type", ""):
                continue
            pages += 1
            problems += [(url, found) for found in inline_code(response.content.decode())]
            csp = policy(response)
            for directive in ("script-src", "style-src", "default-src"):
                if csp.get(directive) != ["'self'"]:
                    problems.append((url, directive, csp.get(directive)))
            for header, value in {
                "X-Frame-Options": "DENY",
                "X-Content-Type-Options": "nosniff",
                "Referrer-Policy": "same-origin",
                "Cross-Origin-Opener-Policy": "same-origin",
            }.items():
                if response.get(header) != value:
                    problems.append((url, header, response.get(header)))
    assert pages > 40
    assert not problems


def test_the_policy_allows_nothing_inline_nor_eval(client):
    response = client.get("/accounts/login/")
    csp = policy(response)
    assert "unsafe" not in response["Content-Security-Policy"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["base-uri"] == ["'none'"]
    assert csp["form-action"] == ["'self'"]
    # Bootstrap's form controls are data: SVGs in its CSS; nothing else is.
    assert csp["img-src"] == ["'self'", "data:"]


def test_htmx_is_told_not_to_evaluate_code(client):
    html = client.get("/accounts/login/").content.decode()
    config = html.split('name="htmx-config" content=\'')[1].split("'")[0]
    assert json.loads(config)["allowEval"] is False
    # Settling a swap copies the listed attributes with setAttribute, which the CSP refuses
    # for style (a resized text box has one).
    assert "style" not in json.loads(config)["attributesToSettle"]
    assert "{#" not in html and "#}" not in html


@pytest.mark.django_db
def test_the_csrf_failure_page_is_ours_without_inline_style():
    from django.test import Client

    response = Client(enforce_csrf_checks=True).post("/accounts/login/", {})
    assert response.status_code == 403
    assert b"The form could not be sent" in response.content
    assert not inline_code(response.content.decode())


def test_cookies_are_http_only(client, db):
    response = client.get("/accounts/login/")
    assert response.cookies["csrftoken"]["httponly"]
    from django.conf import settings

    assert settings.SESSION_COOKIE_HTTPONLY


# --- production settings, in a fresh interpreter ---------------------------------------------


def production_env(**extra: str) -> dict[str, str]:
    # The browser tests allow Django's sync calls from Playwright's event loop in this
    # process's environment; production never does.
    ignored = {"SECRET_KEY", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {k: v for k, v in os.environ.items() if k not in ignored}
    env.update(
        DJANGO_SETTINGS_MODULE="console.settings",
        DEBUG="false",
        SECRET_KEY="production-" + Fernet.generate_key().decode(),
        KEY_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        ALLOWED_HOSTS="certs.example.com",
        **extra,
    )
    return env


def run(args: list[str], **extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        args, cwd=ROOT, env=production_env(**extra), capture_output=True, text=True, timeout=120
    )


def test_check_deploy_reports_nothing_with_production_settings():
    result = run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


PRODUCTION_REQUESTS = """
import django, json
django.setup()
from django.conf import settings
from django.http import HttpResponse
from django.middleware.security import SecurityMiddleware
from django.test import RequestFactory

def answer(path, secure):
    request = RequestFactory().get(path, secure=secure, HTTP_HOST="certs.example.com")
    response = SecurityMiddleware(lambda request: HttpResponse("ok"))(request)
    return {"status": response.status_code, "location": response.get("Location"),
            "hsts": response.get("Strict-Transport-Security")}

print(json.dumps({
    "session_secure": settings.SESSION_COOKIE_SECURE,
    "session_httponly": settings.SESSION_COOKIE_HTTPONLY,
    "csrf_secure": settings.CSRF_COOKIE_SECURE,
    "csrf_httponly": settings.CSRF_COOKIE_HTTPONLY,
    "https_page": answer("/certificates/", True),
    "http_page": answer("/certificates/", False),
    "http_crl": answer("/pki/digicert/crl.der", False),
    "http_probes": [answer(path, False)["status"] for path in ("/healthz", "/readyz")],
}))
"""


def test_production_sends_hsts_redirects_to_https_and_keeps_cookies_secure():
    result = run([sys.executable, "-c", PRODUCTION_REQUESTS])
    assert result.returncode == 0, result.stderr
    facts = json.loads(result.stdout.strip().splitlines()[-1])
    assert facts["session_secure"] and facts["session_httponly"]
    assert facts["csrf_secure"] and facts["csrf_httponly"]
    assert facts["https_page"]["hsts"] == "max-age=31536000; includeSubDomains; preload"
    assert facts["http_page"]["status"] == 301
    assert facts["http_page"]["location"] == "https://certs.example.com/certificates/"
    # CRLs and OCSP stay on plain http, where TLS clients fetch them.
    assert facts["http_crl"]["status"] == 200
    # So do the load balancers' probes, sent to the console's own port.
    assert facts["http_probes"] == [200, 200]
