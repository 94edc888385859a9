"""The OpenAPI description: valid OpenAPI 3.1, the docs under the console's CSP, and
schemathesis run over it against the app with both kinds of token."""

import pytest
import schemathesis
from django.contrib.staticfiles import finders
from django.test import Client
from hypothesis import HealthCheck, Phase
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

# The OpenAPI 3.1 meta-schema's validator, as schemathesis ships it.
from schemathesis.specs.openapi.definitions import OPENAPI_31_VALIDATOR

from api import tokens
from certificates.models import Certificate, Order
from console.wsgi import application
from tests.factories import make_product
from tests.issuance import issue_real_certificate

pytestmark = pytest.mark.django_db

PUBLIC_OPERATIONS = {"/api/v1/problems/{slug}"}


@pytest.fixture
def description() -> dict:
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json()


def test_the_description_is_valid_openapi_3_1(description):
    assert description["openapi"].startswith("3.1")
    OPENAPI_31_VALIDATOR.validate(description)


def test_every_operation_but_the_public_ones_needs_a_bearer_token(description):
    schemes = description["components"]["securitySchemes"]
    assert {scheme["scheme"] for scheme in schemes.values()} == {"bearer"}
    for path, operations in description["paths"].items():
        for method, operation in operations.items():
            if path in PUBLIC_OPERATIONS:
                assert not operation.get("security"), path
            else:
                assert operation["security"], (method, path)
                assert "401" in operation["responses"], (method, path)


def test_refusals_are_described_as_problem_documents(description):
    for operations in description["paths"].values():
        for operation in operations.values():
            for status, answer in operation["responses"].items():
                if int(status) >= 400:
                    assert list(answer["content"]) == ["application/problem+json"]


def test_the_docs_page_loads_its_vendored_assets_under_the_csp():
    client = Client()
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    csp = page["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    html = page.content.decode()
    for asset in ("ninja/swagger-ui-bundle.js", "ninja/swagger-ui-init.js", "ninja/swagger-ui.css"):
        assert f"/static/{asset}" in html
        # Shipped with the package, collected with the console's own static files.
        assert finders.find(asset), asset
    assert "cdn" not in html.lower()


# --- Schemathesis ------------------------------------------------------------------------

# Loaded through the app, as a client would; the requests go to the app too (WSGI).
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    ignored_auth,
]


@pytest.fixture
def api_world(customer):
    """Something for the generated requests to find: a product and an issued certificate."""
    make_product()
    issue_real_certificate(customer, "DV")


@pytest.fixture(params=["read", "write"])
def bearer(request, customer, settings) -> dict:
    settings.API_RATE_LIMIT = 100_000
    _, secret = tokens.create_api_token(owner=customer, label=request.param, scope=request.param)
    return {"Authorization": f"Bearer {secret}"}


# Through WSGI each request ends by giving its connection back (to the pool on
# PostgreSQL), which a test transaction around the requests would not survive.
@pytest.mark.django_db(transaction=True)
@schema.parametrize()
@hypothesis_settings(
    max_examples=8,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_schemathesis_finds_no_server_error_and_every_answer_matches(case, api_world, bearer):
    case.call_and_validate(headers=bearer, checks=CHECKS)


# --- Stateful: create, then read and delete what was created, by the links -------------


@schema.hook
def map_body(context, body):
    """A valid purchase: random bodies only ever get 422, and nothing would be created."""
    operation = context.operation
    if operation is None or operation.method.upper() != "POST":
        return body
    if operation.path == "/api/v1/orders":
        return {"brand": "digicert", "validation_type": "DV", "domain_scope": "single"}
    return body


@pytest.mark.django_db(transaction=True)
def test_schemathesis_follows_the_links_from_a_purchase(api_world, customer, settings):
    from hypothesis.stateful import run_state_machine_as_test

    settings.API_RATE_LIMIT = 100_000
    _, secret = tokens.create_api_token(owner=customer, label="stateful", scope="write")
    followed = []
    orders_before = set(Order.objects.values_list("pk", flat=True))

    class Workflow(schema.as_state_machine()):
        def get_call_kwargs(self, case):
            return {"headers": {"Authorization": f"Bearer {secret}"}}

        def teardown(self):
            # Each scenario starts from the same world, or hypothesis's replays of it
            # would find other objects and choose other steps.
            made = Order.objects.exclude(pk__in=orders_before)
            Certificate.objects.filter(order__in=made).delete()
            made.delete()
            super().teardown()

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            followed.append((case.operation.method.upper(), case.operation.path))
            # The token is put in here, over the header schemathesis made up, which its
            # ignored_auth check would take for a made-up token accepted.
            case.validate_response(
                response, checks=[check for check in CHECKS if check is not ignored_auth]
            )

    run_state_machine_as_test(
        Workflow,
        settings=hypothesis_settings(
            max_examples=15,
            stateful_step_count=4,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
    # Bought, then the order and its certificate read, and its deletion tried (refused:
    # it waits for its application), each through a link of the purchase's answer.
    assert ("POST", "/api/v1/orders") in followed
    assert {
        ("GET", "/api/v1/orders/{order_id}"),
        ("GET", "/api/v1/certificates/{certificate_id}"),
        ("DELETE", "/api/v1/certificates/{certificate_id}"),
    } & set(followed)
