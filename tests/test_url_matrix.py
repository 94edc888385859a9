"""Authorization on every URL the project has, walked from the resolver.

Each URL pattern needs a rule below, by name, by route, or by prefix (the admin):
a pattern without one fails `test_every_url_pattern_has_a_rule`, so a new page
cannot be added without saying who may use it.
"""

from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.http import HttpResponse
from django.urls import path, resolve

from console import urls as project_urls
from tests.url_walk import Endpoint, World, changed, endpoints, snapshot

pytestmark = pytest.mark.django_db

CUSTOMER, STAFF, PUBLIC = "customer", "staff", "public"
# The JSON API: a personal token only. A signed-in session is not one, so a browser
# (signed in or not) gets 401 from every operation; tests/api/ checks what tokens may do.
TOKEN = "token"
API_EXEMPT = (
    "the API authenticates by bearer token alone and no cookie stands for one, so a "
    "cross-site request cannot act as anybody"
)
OCSP_EXEMPT = (
    "OCSP clients POST DER requests with no session or token; the answer is signed and "
    "changes nothing"
)


@dataclass(frozen=True)
class Rule:
    """Who may use a URL and what it may do.

    access: "customer" (signed in), "staff" (operators, the admin), "token" (the API) or
    "public".
    methods: the methods its view takes; others are 405.
    ok: the status of a GET by someone allowed (None: anything but an error or sign-in).
    owned: its pk is a certificate (or an order) of the customer's, so another customer's
    is a 404.
    csrf_exempt: why it takes POSTs without a CSRF token (empty: it does not).
    get_writes: models a GET may add rows to, with the reason in a comment.
    """

    access: str
    methods: tuple[str, ...] = ("GET",)
    ok: int | None = 200
    owned: bool = False
    csrf_exempt: str = ""
    get_writes: frozenset[str] = field(default_factory=frozenset)


GET_POST = ("GET", "POST")
POST = ("POST",)
ACME_GET = ("GET", "HEAD")
ACME_EXEMPT = (
    "ACME requests are JWS signed by the account's key, with a single-use nonce and the URL "
    "in the signed header (RFC 8555 6.2); no browser session is involved"
)
# Every ACME answer carries a fresh nonce (RFC 8555 6.5), stored so any process accepts it.
NONCE = frozenset({"acme_server.AcmeNonce"})

RULES: dict[str, Rule] = {
    "home": Rule(CUSTOMER, ok=302),
    "certificates:overview": Rule(CUSTOMER),
    "certificates:upload": Rule(CUSTOMER, GET_POST),
    "certificates:detail": Rule(CUSTOMER, owned=True),
    # An issued certificate is not waiting for an application: back to its details.
    "certificates:apply": Rule(CUSTOMER, GET_POST, ok=302, owned=True),
    "certificates:withdraw": Rule(CUSTOMER, POST, owned=True),
    "certificates:verify": Rule(CUSTOMER, POST, owned=True),
    # Asked by the page while Verify checks; with no check running, back to the details.
    "certificates:verification": Rule(CUSTOMER, ok=302, owned=True),
    "certificates:reissue": Rule(CUSTOMER, POST, owned=True),
    # Every download is written to the audit log: that row is the point, not a change.
    "certificates:download": Rule(
        CUSTOMER, owned=True, get_writes=frozenset({"certificates.AuditEvent"})
    ),
    "certificates:delete": Rule(CUSTOMER, GET_POST, owned=True),
    "certificates:expiry_warnings": Rule(CUSTOMER, POST, owned=True),
    "certificates:revoke": Rule(CUSTOMER, GET_POST, owned=True),
    "certificates:cancel_revocation": Rule(CUSTOMER, POST, owned=True),
    "convert": Rule(CUSTOMER, GET_POST),
    "purchase": Rule(CUSTOMER, GET_POST),
    "orders": Rule(CUSTOMER),
    # Its pk is an order of the customer's (tests/url_walk.py gives it one).
    "order": Rule(CUSTOMER, owned=True),
    "profile": Rule(CUSTOMER, GET_POST),
    "password_change": Rule(CUSTOMER, GET_POST),
    "help": Rule(CUSTOMER),
    "contact": Rule(CUSTOMER),
    # The emailed link: the signed token authorizes, the applicant may have no sign-in.
    "confirm_revocation": Rule(PUBLIC, GET_POST),
    # Whoever holds a compromised key reports it: the CSR signed by it is the proof.
    "key_compromise": Rule(PUBLIC, GET_POST),
    "pki:crl": Rule(PUBLIC),
    # A shard nobody asked for yet is built and kept on its first download.
    "pki:crl_shard": Rule(PUBLIC, get_writes=frozenset({"certificates.CrlShard"})),
    "pki:root_crl": Rule(PUBLIC),
    "pki:ca_certificate": Rule(PUBLIC),
    "pki:root_certificate": Rule(PUBLIC),
    "pki:ocsp": Rule(PUBLIC, GET_POST, csrf_exempt=OCSP_EXEMPT),
    "pki/<slug:slug>/ocsp/": Rule(PUBLIC, GET_POST, csrf_exempt=OCSP_EXEMPT),
    "pki:ocsp_get": Rule(PUBLIC, GET_POST, csrf_exempt=OCSP_EXEMPT),
    "login": Rule(PUBLIC, GET_POST),
    # The language switch: on every page, signed in or not; back to the page it was on.
    "set_language": Rule(PUBLIC, POST, ok=302),
    "logout": Rule(CUSTOMER, POST),
    "admin:login": Rule(PUBLIC, GET_POST),
    # Load balancers' probes: plain text, no session, nothing written.
    "healthz": Rule(PUBLIC),
    "readyz": Rule(PUBLIC),
    # Personal API tokens: the token page and its revoke button (tests/api/ checks owners).
    "api_tokens": Rule(CUSTOMER, GET_POST),
    "revoke_api_token": Rule(CUSTOMER, POST),
    # The API's description and docs are public: they describe, they reveal nothing.
    "api-v1:openapi-json": Rule(PUBLIC),
    "api-v1:openapi-view": Rule(PUBLIC),
    "api-v1:problem_type": Rule(PUBLIC, csrf_exempt=API_EXEMPT),
    # Ninja's root, only there to name the API's base URL: nothing is at it.
    "api-v1:api-root": Rule(PUBLIC, GET_POST, ok=404),
    # Any other URL under /api/: a 404 problem document, not the console's page.
    "api_not_found": Rule(PUBLIC, GET_POST, ok=404, csrf_exempt=API_EXEMPT),
    "acme_credentials": Rule(CUSTOMER, GET_POST),
    "acme_revoke_credential": Rule(CUSTOMER, POST),
    "acme_deactivate_account": Rule(CUSTOMER, POST),
    "acme_account_expiry_warnings": Rule(CUSTOMER, POST),
    # Deployment: its pks are the customer's target, job and step (tests/url_walk.py).
    "deployments:index": Rule(CUSTOMER),
    "deployments:add_target": Rule(CUSTOMER, GET_POST),
    "deployments:edit_target": Rule(CUSTOMER, GET_POST, owned=True),
    "deployments:delete_target": Rule(CUSTOMER, POST, owned=True),
    "deployments:forget_host_key": Rule(CUSTOMER, POST, owned=True),
    # The manifest holds the key: every download is in the audit log.
    "deployments:kubernetes_manifest": Rule(
        CUSTOMER, owned=True, get_writes=frozenset({"certificates.AuditEvent"})
    ),
    # With no certificate chosen, back to the overview to choose some.
    "deployments:deploy": Rule(CUSTOMER, GET_POST, ok=302),
    "deployments:job": Rule(CUSTOMER, owned=True),
    "deployments:retry_step": Rule(CUSTOMER, POST, owned=True),
    "acme:default_directory": Rule(PUBLIC, ACME_GET, csrf_exempt=ACME_EXEMPT, get_writes=NONCE),
    "acme:directory": Rule(PUBLIC, ACME_GET, csrf_exempt=ACME_EXEMPT, get_writes=NONCE),
    "acme:new_nonce": Rule(PUBLIC, ACME_GET, ok=204, csrf_exempt=ACME_EXEMPT, get_writes=NONCE),
    # No certificate has these identifiers: a problem document, not found.
    "acme:renewal_info_base": Rule(PUBLIC, ok=404, csrf_exempt=ACME_EXEMPT, get_writes=NONCE),
    "acme:renewal_info": Rule(PUBLIC, ok=404, csrf_exempt=ACME_EXEMPT, get_writes=NONCE),
    **{
        f"acme:{name}": Rule(PUBLIC, POST, csrf_exempt=ACME_EXEMPT, get_writes=NONCE)
        for name in (
            "new_account",
            "account",
            "account_orders",
            "key_change",
            "new_order",
            "order",
            "finalize",
            "authorization",
            "challenge",
            "certificate",
            "revoke_cert",
        )
    },
}

# The API's operations, by the methods of their path (each path's view takes them all).
API_PATH_METHODS = {
    ("GET",): ["counters", "download", "certificate_events", "events", "products", "order"],
    GET_POST: [
        "list_certificates",
        "upload_certificate",
        "verify",
        "validation",
        "purchase",
        "orders",
    ],
    ("GET", "DELETE"): ["certificate_details", "delete_certificate"],
    ("PUT",): ["apply", "expiry_warnings"],
    POST: ["withdraw", "reissue"],
    ("POST", "DELETE"): ["revoke", "cancel_revocation"],
}
RULES.update(
    {
        f"api-v1:{name}": Rule(TOKEN, methods, ok=401, csrf_exempt=API_EXEMPT)
        for methods, names in API_PATH_METHODS.items()
        for name in names
    }
)

# Everything else under /admin/ is for operators, whatever the admin grows.
PREFIX_RULES: list[tuple[str, Rule]] = [
    ("admin/", Rule(STAFF, GET_POST, ok=None)),
]


def rule_for(endpoint: Endpoint) -> Rule | None:
    for key in (endpoint.name, endpoint.route):
        if key and key in RULES:
            return RULES[key]
    for prefix, rule in PREFIX_RULES:
        if endpoint.route.startswith(prefix):
            return rule
    return None


@pytest.fixture
def world(db, settings) -> World:
    settings.CONSOLE_BASE_URL = "http://testserver"
    return World()


def covered() -> list[tuple[Endpoint, Rule]]:
    return [(endpoint, rule_for(endpoint)) for endpoint in endpoints()]


def signs_in_at(response, login_path: str) -> bool:
    return response.status_code == 302 and urlsplit(response["Location"]).path == login_path


def test_every_url_pattern_has_a_rule():
    missing = [str(endpoint) for endpoint, rule in covered() if rule is None]
    assert not missing, f"URL patterns without an authorization rule in RULES: {missing}"
    keys = {key for endpoint in endpoints() for key in (endpoint.name, endpoint.route)}
    stale = sorted(set(RULES) - keys)
    assert not stale, f"rules for URLs that no longer exist: {stale}"


def test_a_url_added_without_a_rule_is_caught(settings):
    settings.ROOT_URLCONF = __name__  # the project's URLs and one more, below
    new = [endpoint for endpoint, rule in covered() if rule is None]
    assert [endpoint.route for endpoint in new] == ["certificates/<int:pk>/export/"]


def test_the_walk_finds_every_kind_of_url(world):
    found = {str(endpoint) for endpoint in endpoints()}
    assert {"certificates:detail", "pki:ocsp_get", "confirm_revocation", "admin:index"} <= found
    assert "admin:axes_accessattempt_changelist" in found
    # Each filled-in URL resolves back to its own pattern (Django drops inner ^ anchors).
    for endpoint in endpoints():
        match = resolve(world.url(endpoint))
        assert match.route.replace("^", "") == endpoint.route.replace("^", ""), endpoint


def test_anonymous_is_sent_to_sign_in_except_on_public_urls(world):
    client = world.client_for("anonymous")
    wrong = []
    for endpoint, rule in covered():
        url = world.url(endpoint)
        response = client.get(url)
        if rule.access == CUSTOMER:
            good = signs_in_at(response, "/accounts/login/")
            good = good and parse_qs(urlsplit(response["Location"]).query)["next"] == [url]
        elif rule.access == STAFF:
            # The admin's own pages send to its sign-in, its model pages to the console's.
            good = signs_in_at(response, "/admin/login/") or signs_in_at(
                response, "/accounts/login/"
            )
        else:
            expected = rule.ok if "GET" in rule.methods else 405
            good = response.status_code == expected
        if not good:
            wrong.append((str(endpoint), url, response.status_code, response.get("Location")))
    assert not wrong


def test_a_customer_gets_no_admin(world):
    client = world.client_for("customer")
    before = snapshot()
    wrong = []
    for endpoint, rule in covered():
        if rule.access != STAFF:
            continue
        url = world.url(endpoint)
        for response in (client.get(url), client.post(url, {"action": "delete_selected"})):
            # The admin sends non-staff users to its sign-in; from its sign-out, to its
            # index, which does the same (checked on its own row of the walk).
            if not (signs_in_at(response, "/admin/login/") or signs_in_at(response, "/admin/")):
                method = response.request["REQUEST_METHOD"]
                wrong.append((str(endpoint), method, response.status_code))
    assert not wrong
    assert not changed(before, snapshot())


def test_another_customers_certificates_are_404(world):
    client = world.client_for("other")
    before = snapshot()
    wrong = []
    owned = [(endpoint, rule) for endpoint, rule in covered() if rule.owned]
    assert len(owned) >= 10
    for endpoint, rule in owned:
        url = world.url(endpoint)
        for method in ("GET", "POST"):
            response = client.generic(method, url, "reason=1")
            expected = 404 if method in rule.methods else 405
            if response.status_code != expected:
                wrong.append((str(endpoint), method, response.status_code))
    assert not wrong
    assert not changed(before, snapshot())


def who_may(rule: Rule) -> str:
    # The API is tried with a signed-in session, which must not authenticate it.
    return {CUSTOMER: "customer", STAFF: "staff", PUBLIC: "anonymous", TOKEN: "customer"}[
        rule.access
    ]


def test_every_post_without_a_csrf_token_is_refused(world):
    clients = {
        who: world.client_for(who, enforce_csrf_checks=True)
        for who in ("customer", "staff", "anonymous")
    }
    before = snapshot()
    wrong = []
    for endpoint, rule in covered():
        client = clients[who_may(rule)]
        url = world.url(endpoint)
        response = client.post(url, {"reason": "1", "action": "delete_selected"})
        refused = response.status_code == 403 and b"The form could not be sent" in response.content
        if refused == bool(rule.csrf_exempt):
            wrong.append((str(endpoint), response.status_code))
    assert not wrong
    # The exempt ACME endpoints refuse these unsigned bodies, each answer with a new nonce.
    assert not changed(before, snapshot(), NONCE)


def test_get_never_changes_state_and_works_for_who_may(world):
    clients = {who: world.client_for(who) for who in ("customer", "staff", "anonymous")}
    wrong = []
    for endpoint, rule in covered():
        client = clients[who_may(rule)]
        url = world.url(endpoint)
        before = snapshot()
        response = client.get(url)
        changes = changed(before, snapshot(), rule.get_writes)
        if changes:
            wrong.append((str(endpoint), "changed", changes))
        if "GET" not in rule.methods:
            expected_ok = response.status_code == 405
        elif rule.ok is None:
            expected_ok = response.status_code < 500 and not signs_in_at(response, "/admin/login/")
        else:
            expected_ok = response.status_code == rule.ok
        if not expected_ok:
            wrong.append((str(endpoint), url, response.status_code))
    assert not wrong


def test_the_sign_in_url_is_the_one_the_rules_expect():
    assert resolve("/accounts/login/").url_name == settings.LOGIN_URL


# For test_a_url_added_without_a_rule_is_caught: the project's URLs plus a new page.
urlpatterns = [
    *project_urls.urlpatterns,
    path("certificates/<int:pk>/export/", lambda request, pk: HttpResponse(), name="export"),
]
