"""The JSON API, version 1, at /api/v1/: its OpenAPI description, docs and refusals."""

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, AuthorizationError, HttpError
from ninja.errors import ValidationError as SchemaValidationError
from ninja.openapi.docs import Swagger

from api.auth import RateLimited
from api.endpoints import router
from api.problems import PROBLEM_CONTENT_TYPE, field_errors, invalid, problem, schema_errors
from certificates.errors import ActionNotAllowed


def _links(parameter: str, value: str, *operations: str) -> dict:
    return {
        name: {"operationId": f"api_endpoints_{name}", "parameters": {parameter: value}}
        for name in operations
    }


# OpenAPI links (what a created object's id opens next), by operation and status.
LINKS = {
    ("api_endpoints_upload_certificate", "201"): _links(
        "certificate_id",
        "$response.body#/id",
        "certificate_details",
        "certificate_events",
        "delete_certificate",
    ),
    ("api_endpoints_purchase", "201"): {
        **_links("order_id", "$response.body#/id", "order"),
        **_links(
            "certificate_id",
            "$response.body#/certificates/0",
            "certificate_details",
            "delete_certificate",
        ),
    },
}


class ConsoleAPI(NinjaAPI):
    def get_openapi_schema(self, *args, **kwargs):
        """Refusals are documented as what they are (application/problem+json), and what a
        new object's id leads to as OpenAPI links."""
        schema = super().get_openapi_schema(*args, **kwargs)
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                for status, answer in operation.get("responses", {}).items():
                    content = answer.get("content", {})
                    if int(status) >= 400 and "application/json" in content:
                        content[PROBLEM_CONTENT_TYPE] = content.pop("application/json")
                    links = LINKS.get((operation.get("operationId"), status))
                    if links:
                        answer["links"] = links
        return schema


api = ConsoleAPI(
    title="SSL Certificates Console API",
    version="1",
    description=(
        "Every console action through the same services. Authenticate with a personal API "
        "token (`Authorization: Bearer <token>`); refusals are RFC 9457 problem documents."
    ),
    urls_namespace="api-v1",
    docs=Swagger(settings={"persistAuthorization": False}),
)
api.add_router("/", router)


@api.exception_handler(ActionNotAllowed)
def not_allowed(request: HttpRequest, exc: ActionNotAllowed):
    return problem("not-allowed", exc.message)


@api.exception_handler(ValidationError)
def validation_error(request: HttpRequest, exc: ValidationError):
    return invalid(field_errors(exc))


@api.exception_handler(SchemaValidationError)
def schema_validation_error(request: HttpRequest, exc: SchemaValidationError):
    return schema_errors(request, exc)


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Http404):
    message = str(exc) if exc.args and "matches the given query" not in str(exc) else ""
    return problem("not-found", message or _("There is no such object in your account."))


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError):
    # Ninja's own refusals: the only one that reaches here is a body it cannot parse.
    return problem("malformed-request", exc.message)


@api.exception_handler(AuthenticationError)
def unauthorized(request: HttpRequest, exc: AuthenticationError):
    return problem(
        "unauthorized",
        _("Send a live API token as `Authorization: Bearer <token>`."),
        headers={"WWW-Authenticate": 'Bearer realm="api"'},
    )


@api.exception_handler(AuthorizationError)
def insufficient_scope(request: HttpRequest, exc: AuthorizationError):
    return problem(
        "insufficient-scope",
        exc.message,
        headers={"WWW-Authenticate": 'Bearer realm="api", error="insufficient_scope"'},
    )


@api.exception_handler(RateLimited)
def rate_limited(request: HttpRequest, exc: RateLimited):
    return problem(
        "rate-limited",
        _("Too many requests with this token: try again in %(seconds)s seconds.")
        % {"seconds": exc.retry_after},
        headers={"Retry-After": str(exc.retry_after)},
    )
