"""Sign-in throttling hooks for django-axes (see the AXES_* settings)."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def client_ip(request: HttpRequest) -> str:
    """REMOTE_ADDR, or behind SIGNIN_TRUSTED_PROXIES proxies the address they were given.

    Each proxy appends the address it was reached from to X-Forwarded-For, so only the
    last N entries are trustworthy; anything before them the client may have made up.
    """
    proxies = settings.SIGNIN_TRUSTED_PROXIES
    if proxies:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        addresses = [address.strip() for address in forwarded if address.strip()]
        if len(addresses) >= proxies:
            return addresses[-proxies]
    return request.META.get("REMOTE_ADDR", "")


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
