"""The API's refusals as problem documents (RFC 9457), one stable type per kind of refusal.

Every refusal the services make (ActionNotAllowed, a ValidationError on fields),
every bad token or scope, a missing object and the rate limit are answered here,
as `application/problem+json`, with the messages the console shows.
"""

from dataclasses import dataclass

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.http import HttpRequest, JsonResponse
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from ninja import Schema

StrOrPromise = str | Promise

PROBLEM_CONTENT_TYPE = "application/problem+json"


@dataclass(frozen=True)
class ProblemType:
    status: int
    title: StrOrPromise
    description: StrOrPromise


# The one table of the API's problem types; `type` is /api/v1/problems/<slug>.
PROBLEM_TYPES: dict[str, ProblemType] = {
    "invalid-input": ProblemType(
        422,
        _("The request has invalid input"),
        _(
            "Some values are missing or wrong; `errors` names the field of each message "
            "(null for the request as a whole). Nothing was changed."
        ),
    ),
    "malformed-request": ProblemType(
        400,
        _("The request body is not JSON"),
        _("Send the body as JSON (`Content-Type: application/json`). Nothing was changed."),
    ),
    "not-allowed": ProblemType(
        409,
        _("This action is not allowed now"),
        _(
            "The object is not in a state that allows the action (the console refuses it with "
            "the same message). Nothing was changed."
        ),
    ),
    "not-found": ProblemType(
        404,
        _("Not found"),
        _("There is no such object in your account."),
    ),
    "unauthorized": ProblemType(
        401,
        _("A valid API token is needed"),
        _(
            "Send `Authorization: Bearer <token>` with a live token; sessions do not "
            "authenticate the API."
        ),
    ),
    "insufficient-scope": ProblemType(
        403,
        _("This token may only read"),
        _("The action changes something: it needs a read-write token."),
    ),
    "rate-limited": ProblemType(
        429,
        _("Too many requests"),
        _(
            "This token sent more requests than API_RATE_LIMIT allows; try again after "
            "`Retry-After` seconds."
        ),
    ),
}


class FieldError(Schema):
    field: str | None
    message: str


class Problem(Schema):
    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldError] | None = None


def type_uri(slug: str) -> str:
    return f"/api/v1/problems/{slug}"


def problem(
    slug: str, detail: str, *, errors: list[dict] | None = None, headers: dict | None = None
) -> JsonResponse:
    kind = PROBLEM_TYPES[slug]
    # Read in the request's language (the API follows Accept-Language).
    body = {
        "type": type_uri(slug),
        "title": str(kind.title),
        "status": kind.status,
        "detail": str(detail),
    }
    if errors is not None:
        body["errors"] = errors
    response = JsonResponse(body, status=kind.status, content_type=PROBLEM_CONTENT_TYPE)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def field_errors(error: ValidationError) -> list[dict]:
    """Each message of a ValidationError with its field (None for the whole request)."""
    if hasattr(error, "error_dict"):
        return [
            {"field": None if field == NON_FIELD_ERRORS else field, "message": message}
            for field, messages in error.message_dict.items()
            for message in messages
        ]
    return [{"field": None, "message": message} for message in error.messages]


def form_errors(form) -> list[dict]:
    """A bound form's errors, each on its field, as the console shows them."""
    return [
        {"field": None if field == NON_FIELD_ERRORS else field, "message": message}
        for field, messages in form.errors.items()
        for message in messages
    ]


def invalid(errors: list[dict]) -> JsonResponse:
    first = errors[0]["message"] if errors else gettext("The request is not valid.")
    return problem("invalid-input", first, errors=errors)


def schema_errors(request: HttpRequest, exc) -> JsonResponse:
    """Ninja's own validation (types, required fields, JSON): each error on its field."""
    errors = []
    for error in exc.errors:
        location = [str(part) for part in error.get("loc", ()) if part not in ("body", "payload")]
        where = location[1:] if location[:1] in (["query"], ["header"], ["path"]) else location
        errors.append({"field": ".".join(where) or None, "message": error.get("msg", "Invalid.")})
    return invalid(errors)
