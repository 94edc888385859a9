"""Every URL pattern the project has, and a world of real objects to fill them in.

The URL matrix (tests/test_url_matrix.py) and the page scans (CSP, key leaks) walk
Django's resolver instead of a hand-kept list, so a URL added later is covered, or
its test fails for want of a rule.
"""

import base64
import re
from dataclasses import dataclass
from urllib.parse import quote

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp
from django.apps import apps
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.models import Session
from django.core import mail
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern, RoutePattern

from certificates import services
from certificates.models import Certificate
from certificates.pki.parsing import load_certificates
from deployments.models import DeploymentJob, DeploymentStep, Target
from tests.factories import make_user
from tests.issuance import issue_real_certificate

# A route's <converter:name> and a regex's (?P<name>...) group.
ROUTE_PARAMETER = re.compile(r"<(?:\w+:)?(\w+)>")
REGEX_GROUP = re.compile(r"\(\?P<(\w+)>[^)]*\)")
ADMIN_MODEL_ROUTE = re.compile(r"^admin/(\w+)/(\w+)/")


@dataclass(frozen=True)
class Endpoint:
    """One URL pattern: its full route (as Django joins it), name and pattern parts."""

    route: str
    name: str
    parts: tuple
    parameters: tuple[str, ...]

    def __str__(self) -> str:
        return self.name or self.route

    def url(self, samples: dict[str, str]) -> str:
        """The pattern filled in with sample values for its parameters."""
        path = ""
        for part in self.parts:
            if isinstance(part, RoutePattern):
                path += ROUTE_PARAMETER.sub(lambda m: samples[m.group(1)], str(part))
            else:
                regex = REGEX_GROUP.sub(lambda m: samples[m.group(1)], str(part))
                path += regex.lstrip("^").rstrip("$")
        return "/" + path


def endpoints() -> list[Endpoint]:
    """Every URL pattern of the project, admin and /pki/ included, walked recursively."""
    found: list[Endpoint] = []

    def walk(resolver: URLResolver, parts: tuple, namespace: str) -> None:
        for entry in resolver.url_patterns:
            here = (*parts, entry.pattern)
            if isinstance(entry, URLResolver):
                inner = namespace
                if entry.namespace:
                    inner = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
                walk(entry, here, inner)
            elif isinstance(entry, URLPattern):
                name = ""
                if entry.name:
                    name = f"{namespace}:{entry.name}" if namespace else entry.name
                route = "".join(str(part) for part in here)
                parameters = []
                for part in here:
                    if isinstance(part, RegexPattern):
                        parameters += REGEX_GROUP.findall(str(part))
                    else:
                        parameters += ROUTE_PARAMETER.findall(str(part))
                found.append(Endpoint(route, name, here, tuple(parameters)))

    walk(get_resolver(), (), "")
    return found


def ocsp_get_path(certificate: Certificate) -> str:
    """The base64 OCSP request that a GET appends to .../ocsp/ (RFC 6960 A.1)."""
    leaf, issuer = load_certificates(certificate.certificate_pem + certificate.chain_pem)[:2]
    request = ocsp.OCSPRequestBuilder().add_certificate(leaf, issuer, hashes.SHA1()).build()
    return quote(base64.b64encode(request.public_bytes(serialization.Encoding.DER)).decode())


class World:
    """A customer with real certificates, another customer, an operator, and sample values.

    The customer's DV certificate is issued (it downloads, revokes, deletes); their OV
    certificate waits for its emailed revocation link; one sign-in has failed.
    """

    password = "a-long-password"

    def __init__(self) -> None:
        self.customer = make_user("alice", password=self.password, email="alice@example.com")
        self.other = make_user("bob", password=self.password)
        self.operator = make_user("olga", password=self.password, is_staff=True, is_superuser=True)
        self.certificate = issue_real_certificate(self.customer, "DV", domain="shop.example.com")
        self.ov = issue_real_certificate(
            self.customer, "OV", domain="ov.example.com", contact_email="li@example.com"
        )
        self.revocation = services.request_revocation(
            certificate=self.ov, reason=4, actor=self.customer
        )
        # A Kubernetes target (its manifest downloads), and a job with one failed step.
        self.target = Target.objects.create(
            owner=self.customer,
            name="cluster",
            kind=Target.Kind.KUBERNETES,
            kubernetes_secret_name="shop-tls",
        )
        self.job = DeploymentJob.objects.create(owner=self.customer, created_by=self.customer)
        self.step = DeploymentStep.objects.create(
            job=self.job,
            certificate=self.certificate,
            target=self.target,
            target_name=self.target.name,
            status=DeploymentStep.Status.FAILED,
            reason="connection refused",
        )
        mail.outbox.clear()
        Group.objects.create(name="operators")
        # A failed sign-in, so the throttling admin has a row to show.
        Client().post("/accounts/login/", {"username": "alice", "password": "wrong"})

    def samples(self, endpoint: Endpoint) -> dict[str, str]:
        """A value for each of the endpoint's parameters; a KeyError names a missing one."""
        values = {
            "pk": str(self.certificate.pk),
            "server_type": "nginx",
            "slug": self.certificate.authority.slug,
            "token": services.revocation_confirmation_token(self.revocation),
            "encoded": ocsp_get_path(self.certificate),
            "shard": "0",
            "app_label": "certificates",
            "url": "no-such-page/",
            "content_type_id": str(ContentType.objects.get_for_model(Certificate).pk),
            "id": str(self.customer.pk),
            # The API's parameters.
            "certificate_id": str(self.certificate.pk),
            "order_id": str(self.certificate.order_id),
            "rest": "no-such-operation",
            # ACME: the certificate's brand serves the default directory; no such objects.
            "brand": self.certificate.brand.slug,
            "account_id": "no-such-account",
            "authz_id": "no-such-authz",
            "challenge_id": "no-such-challenge",
            "cert_id": "no-such-certificate",
        }
        if endpoint.name.startswith("deployments:"):
            values["certificate_pk"] = str(self.certificate.pk)
            values["pk"] = str(
                {"deployments:job": self.job.pk, "deployments:retry_step": self.step.pk}.get(
                    endpoint.name, self.target.pk
                )
            )
        if endpoint.name == "api-v1:problem_type":
            values["slug"] = "not-allowed"
        model_route = ADMIN_MODEL_ROUTE.match(endpoint.route)
        if endpoint.name == "order":
            values["pk"] = str(self.certificate.order_id)
        if endpoint.name == "admin:view_on_site":
            values["object_id"] = str(self.certificate.pk)
        elif model_route and "object_id" in endpoint.parameters:
            model = apps.get_model(*model_route.groups())
            first = model._base_manager.order_by("pk").first()
            # A model with no row yet: the admin answers for a missing object.
            values["object_id"] = str(first.pk) if first else "0"
        return {name: values[name] for name in endpoint.parameters}

    def url(self, endpoint: Endpoint) -> str:
        return endpoint.url(self.samples(endpoint))

    def client_for(self, who: str, **options) -> Client:
        client = Client(**options)
        user = {"customer": self.customer, "other": self.other, "staff": self.operator}.get(who)
        if user is not None:
            client.force_login(user)
        return client


def snapshot() -> dict[str, object]:
    """Row counts of every model, and the statuses (and deletions) of rows that have them."""
    state: dict[str, object] = {}
    for model in apps.get_models():
        if model is Session:
            continue  # signing in and out is not a change of the console's state
        label = model._meta.label
        manager = model._base_manager
        state[f"{label} rows"] = manager.count()
        fields = {field.name for field in model._meta.concrete_fields}
        for field in ("status", "deleted_at", "is_active"):
            if field in fields:
                state[f"{label}.{field}"] = sorted(manager.values_list("pk", field))
    return state


def changed(before: dict, after: dict, allowed: frozenset[str] = frozenset()) -> list[str]:
    """What differs between two snapshots, less the models (labels) in `allowed`."""

    def model(key: str) -> str:
        return ".".join(key.split(" ")[0].split(".")[:2])

    return [key for key in before if before[key] != after[key] and model(key) not in allowed]
