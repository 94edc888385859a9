"""With Accept-Language: zh-hans every console page, dialog, form error and email of a
seeded customer reads in Chinese: its visible text (tags, scripts and styles stripped;
placeholder, title, aria-label, alt and the confirmation questions kept) has no English
word outside the allow-list of names, domains, brands and technical terms.

English that comes from Python code outside console/ (status and field labels, form
errors, the services' refusals: translated in the app catalogues) is listed as such; while
only such English is left, the walk is an expected failure that names every string.
Any English from a template fails the test outright.
"""

import ast
import re
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core import mail
from django.template import loader
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone, translation

import deployments.services
from certificates import services
from certificates.expiry_warnings import notify_expiring
from certificates.lifecycle import CertificateStatus as Status
from certificates.models import CustomerSettings
from console.signin import locked_out
from deployments.models import DeploymentJob, DeploymentStep, Target
from tests.browser.conftest import PASSWORD, world  # noqa: F401 (the seeded customer)
from tests.factories import make_certificate
from tests.issuance import issue_real_certificate

pytestmark = pytest.mark.django_db(transaction=True)

ZH = {"accept-language": "zh-hans"}
HTMX = {**ZH, "hx-request": "true"}

# Brands, products and technical terms that stay as they are in Chinese text (any case).
TERMS = (
    "SSL TLS DV OV EV CSR PEM DER PKCS API ACME JSON HTTP HTTPS URL DNS TXT CA CN CRL OCSP "
    "SHA RSA ECDSA EC ECC HMAC KID EAB JWK ID UTC Nginx Apache IIS Tomcat Bearer Authorization "
    "certbot acme sh lego cert manager Caddy Traefik kubectl Notepad zip http www com cn "
    "DigiCert GeoTrust GlobalSign vTrus CFCA Sectigo Let's Encrypt Browser Forum "
    "External Account Binding Local Issuing Root Web Webhook SSH OpenSSH SNI Kubernetes Secret "
    "KB sudo systemctl reload"
)
ALLOWED = {word.lower() for word in TERMS.split(" ")}
# Exactly as written: the seeded customer's own names and labels, and the PEM armour in
# capitals ("certificate" is an English word, CERTIFICATE a marker).
NAMES = (
    "alice Alice Liddell Li Wei Example Shop Ltd example shop uploaded deploy script web ci "
    "BEGIN END CERTIFICATE PRIVATE KEY REQUEST "
    # The switch names each language in itself; Django's own Chinese says "Email"地址.
    "English Email"
)
ALLOWED_EXACT = set(NAMES.split(" "))
# A run of Latin text: words joined by spaces, hyphens, apostrophes and a few signs.
LATIN_RUN = re.compile(r"[A-Za-z][A-Za-z0-9'’\-\s/&().,:;+#_=@*]*[A-Za-z0-9)]|[A-Za-z]")
WORD = re.compile(r"[A-Za-z]+(?:['’][A-Za-z]+)?")
# Identifiers, never words: domains, addresses, URLs, paths, serials, keys, tokens.
IDENTIFIER = re.compile(r"\S*(?:\d|@|://|\w\.\w|/|_|=|\w-\w*\d)\S*")
# A file name extension on its own, as in "或选择 .key 文件".
EXTENSION = re.compile(r"(?<![\w.])\.[a-z0-9]{2,5}\b")
HAN = re.compile(r"[\u4e00-\u9fff]")
SKIPPED_ELEMENTS = {"script", "style", "code", "pre", "textarea", "kbd", "samp", "template"}
KEPT_ATTRIBUTES = {
    "placeholder",
    "title",
    "aria-label",
    "alt",
    "data-confirm",
    "data-copied",
    "data-copy-failed",
}


class VisibleText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.skipping: list[str] = []
        self.texts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in SKIPPED_ELEMENTS or dict(attrs).get("lang", "zh").startswith("en"):
            # Code, and what is English on purpose: the switch to English says so in English.
            self.skipping.append(tag)
            return
        for name, value in attrs:
            if name in KEPT_ATTRIBUTES and value:
                self.texts.append(value)
            if (
                tag == "input"
                and name == "value"
                and value
                and dict(attrs).get("type")
                in (
                    "submit",
                    "button",
                )
            ):
                self.texts.append(value)

    def handle_endtag(self, tag):
        if self.skipping and self.skipping[-1] == tag:
            self.skipping.pop()

    def handle_data(self, data):
        if not self.skipping and data.strip():
            self.texts.append(data)


def visible_texts(html: str) -> list[str]:
    parser = VisibleText()
    parser.feed(html)
    return parser.texts


def english_runs(text: str) -> list[str]:
    """The runs of English words in a text, identifiers and allowed terms left out."""
    cleaned = EXTENSION.sub(" ", IDENTIFIER.sub(" ", text))
    runs = []
    for match in LATIN_RUN.finditer(cleaned):
        run = " ".join(match.group(0).split())
        if english_words(run):
            runs.append(run)
    return runs


def english_words(text: str) -> list[str]:
    return [
        word
        for word in WORD.findall(text)
        if len(word) > 1 and word not in ALLOWED_EXACT and word.lower() not in ALLOWED
    ]


def clean(text: str) -> str:
    """Text as the check compares it: identifiers out, then its words only."""
    return " ".join(WORD.findall(IDENTIFIER.sub(" ", text)))


def literal_parts(node) -> list[str] | None:
    """The fixed parts of a string literal or f-string, split at its placeholders."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return re.split(r"%\(\w+\)[sd]|%[sd]|\{\w*\}", node.value)
    if isinstance(node, ast.JoinedStr):
        return [value.value if isinstance(value, ast.Constant) else "\0" for value in node.values]
    return None


def python_literals() -> list[tuple[str, re.Pattern]]:
    """Every string literal of the apps' Python code (outside console/), as a pattern in
    which its placeholders match anything."""
    root = Path(settings.BASE_DIR)
    patterns = []
    for app in ("certificates", "api", "acme_server", "deployments"):
        for path in (root / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                parts = literal_parts(node)
                if parts is None:
                    continue
                pieces = [clean(part) for part in "".join(parts).split("\0")]
                pieces = [piece for piece in pieces if piece]
                text = " ".join(pieces)
                if not english_words(text):
                    continue
                pattern = r"\b" + r"\b.*?\b".join(map(re.escape, pieces)) + r"\b"
                patterns.append((text, re.compile(pattern)))
    return patterns


LITERALS: list[tuple[str, re.Pattern]] = []


def from_python(run: str) -> bool:
    """Whether an English run is made of strings of the apps' Python code (a status label,
    a product's name built from its labels): what is left once they are taken out is
    allowed terms only."""
    if not LITERALS:
        # Longest first, so a sentence is taken out whole before its words.
        LITERALS.extend(sorted(python_literals(), key=lambda item: -len(item[0])))
    rest = clean(run)
    for _text, pattern in LITERALS:
        if pattern.search(rest):
            rest = pattern.sub(" ", rest)
            if not english_words(rest):
                return True
    return False


def check(found: dict, where: str, html: str) -> None:
    for text in visible_texts(html):
        for run in english_runs(text):
            found.setdefault(where, []).append(run)


def deployment_pages(world) -> dict[str, str]:  # noqa: F811
    """A webhook target, an SSH one and a job with a step done and one waiting: name -> URL."""
    customer, issued = world["customer"], world["issued"]
    saved = deployments.services.save_target(
        owner=customer,
        target=None,
        cleaned={
            "name": "shop-web",
            "kind": Target.Kind.WEBHOOK,
            "redeploy_automatically": True,
            "verify_host": "shop.alice.example.com",
            "verify_port": 443,
            "verify_server_name": "shop.alice.example.com",
            "webhook_url": "https://hooks.alice.example.com/deploy",
            "webhook_secret_choice": "paste",
            "webhook_secret": "a-secret-the-receiver-knows",
        },
        actor=customer,
    )
    job = DeploymentJob.objects.create(owner=customer, created_by=customer)
    for status in (DeploymentStep.Status.SUCCEEDED, DeploymentStep.Status.QUEUED):
        DeploymentStep.objects.create(
            job=job,
            certificate=issued,
            target=saved.target,
            target_name=saved.target.name,
            status=status,
            attempts=1,
        )
    return {
        "deployments": reverse("deployments:index"),
        "deployment-target": reverse("deployments:edit_target", args=[saved.target.pk]),
        "deployment-new-target": reverse("deployments:add_target"),
        "deploy": reverse("deployments:deploy") + f"?certificates={issued.pk}",
        "deployment-job": job.get_absolute_url(),
    }


def walk(world) -> dict[str, str]:  # noqa: F811
    """Every console page and dialog of the seeded customer, in Chinese: name -> HTML."""
    customer = world["customer"]
    client = Client(headers=ZH)
    pages = {"login": client.get(reverse("login"))}
    pages["login-error"] = client.post(reverse("login"), {"username": "alice", "password": "x"})
    pages["key-compromise"] = client.get(reverse("key_compromise"))
    pages["confirm-revocation"] = client.get(world["link"])
    pages["csrf-failure"] = Client(headers=ZH, enforce_csrf_checks=True).post(reverse("login"))
    client.force_login(customer)
    get = {
        "overview": "/certificates/",
        "not-found": "/certificates/999999/",
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
        "revoke": f"/certificates/{world['issued'].pk}/revoke/",
    }
    for status in ("issued", "pending_application", "check_fail", "expired", "revoking"):
        get[f"overview-{status}"] = f"/certificates/?status={status}"
    for state in ("issued", "validating", "pending", "check_fail", "expired", "uploaded"):
        get[f"details-{state}"] = world[state].get_absolute_url()
    get["details-revoking"] = world["revoking"].get_absolute_url()
    get.update(deployment_pages(world))
    for name, url in get.items():
        pages[name] = client.get(url)
    # The dialogs, as htmx loads them.
    pages["upload-dialog"] = client.get(reverse("certificates:upload"), headers=HTMX)
    pages["delete-dialog"] = client.get(
        reverse("certificates:delete", args=[world["expired"].pk]), headers=HTMX
    )
    pages["delete-refused-dialog"] = client.get(
        reverse("certificates:delete", args=[world["issued"].pk]), headers=HTMX
    )
    revoke = reverse("certificates:revoke", args=[world["issued"].pk])
    pages["revoke-dialog"] = client.post(revoke, {"reason": "4"}, headers=HTMX)
    # Form errors.
    pages["revoke-error"] = client.post(revoke, {}, headers=HTMX)
    pages["upload-error"] = client.post(reverse("certificates:upload"), {}, headers=HTMX)
    pages["apply-error"] = client.post(
        reverse("certificates:apply", args=[world["pending"].pk]), {"action": "submit"}
    )
    pages["profile-error"] = client.post(reverse("profile"), {"email": "not an address"})
    pages["purchase-error"] = client.post(reverse("purchase"), {"pay": "1"})
    pages["converter-error"] = client.post(reverse("convert"), {})
    pages["deployment-target-error"] = client.post(
        reverse("deployments:add_target"), {"kind": "ssh", "ssh_port": "x"}
    )
    pages["key-compromise-error"] = Client(headers=ZH).post(reverse("key_compromise"), {})
    # The secrets shown once.
    pages["acme-shown-once"] = client.post(reverse("acme_credentials"), {"label": "ci"})
    pages["api-token-shown-once"] = client.post(
        reverse("api_tokens"), {"label": "ci", "scope": "read"}
    )
    found = {name: response.content.decode() for name, response in pages.items()}
    # The pages rendered with no view of their own: the sign-in lockout and the server error.
    request = RequestFactory().get(reverse("login"))
    request.user = AnonymousUser()
    with translation.override("zh-hans"):
        found["locked-out"] = locked_out(request).content.decode()
        found["server-error"] = loader.render_to_string("500.html")
    return found


def emails(world) -> dict[str, str]:  # noqa: F811
    """The emails a Chinese-reading customer gets, subject and bodies: name -> text."""
    customer = world["customer"]
    CustomerSettings.objects.update_or_create(customer=customer, defaults={"language": "zh-hans"})
    mail.outbox.clear()
    with translation.override("zh-hans"):
        ov = issue_real_certificate(customer, "OV", domain="ov2.alice.example.com")
        services.request_revocation(certificate=ov, reason=4, actor=customer)
        make_certificate(
            customer, status=Status.ISSUED, not_after=timezone.now() + timedelta(days=6, hours=12)
        )
        notify_expiring(thresholds=(30, 15, 7, 1))
    found = {}
    for index, message in enumerate(mail.outbox):
        found[f"email-{index}-subject"] = message.subject
        found[f"email-{index}-text"] = message.body
        for content, _ in getattr(message, "alternatives", []):
            found[f"email-{index}-html"] = content
    assert len(mail.outbox) >= 2
    return found


def test_every_page_dialog_form_error_and_email_reads_in_chinese(world):  # noqa: F811
    found: dict[str, list[str]] = {}
    pages = walk(world)
    # Each page was really rendered, in Chinese (a blank or failed page would pass unseen).
    assert not [name for name, html in pages.items() if not HAN.search(html)]
    for name, html in pages.items():
        check(found, name, html)
    for name, text in emails(world).items():
        if name.endswith("-html"):
            check(found, name, text)
        else:
            # Plain text: every line is visible.
            check(found, name, "<p>" + text.replace("<", "&lt;") + "</p>")
    assert not found, "English left in Chinese pages:\n" + "\n".join(
        f"  {where}: {sorted(set(runs))}" for where, runs in sorted(found.items())
    )


@pytest.mark.parametrize(
    ("text", "english"),
    [
        ("证书概览", []),
        ("DigiCert DV SSL · 域名型(DV)", []),
        ("shop.alice.example.com 已签发", []),
        ("序列号 4F2A9C", []),
        ("Pending Application", ["Pending Application"]),
        ("原因：Superseded", ["Superseded"]),
        ("Nginx、Apache、Tomcat 和 IIS", []),
    ],
)
def test_the_check_tells_english_words_from_names_and_technical_terms(text, english):
    assert english_runs(text) == english


def test_the_visible_text_keeps_attributes_and_leaves_out_scripts_and_code():
    html = (
        '<p title="Hint">可见</p><script>var English = 1;</script><style>.x{}</style>'
        '<input placeholder="Search"><code>openssl req</code><img alt="Logo">'
    )
    assert visible_texts(html) == ["Hint", "可见", "Search", "Logo"]
