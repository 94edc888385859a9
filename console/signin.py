"""Sign-in throttling hooks for django-axes (see the AXES_* settings).

The client's address is axes' own: ipware, configured from SIGNIN_TRUSTED_PROXIES.
"""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def locked_out(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict | None = None,
) -> HttpResponse:
    """The sign-in page saying why it refuses and for how long, with 429 Too Many Requests."""
    context = {
        "minutes": round(settings.AXES_COOLOFF_TIME.total_seconds() / 60),
        "failure_limit": settings.AXES_FAILURE_LIMIT,
    }
    return render(request, "registration/locked_out.html", context, status=429)


def rate_limit_key(group: str, request: HttpRequest) -> str:
    """What django-ratelimit counts by: the client's address, found as sign-in throttling
    finds it (so SIGNIN_TRUSTED_PROXIES applies to both)."""
    from axes.helpers import get_client_ip_address  # axes reads settings on import

    return get_client_ip_address(request) or ""
