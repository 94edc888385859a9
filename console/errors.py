"""The CSRF failure page: the console's own, with the top bar of whoever is signed in.

Django's own view renders 403_csrf.html without the request, so the page could
not show who is signed in; the CSRF middleware has already logged the reason.
"""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return render(request, "403_csrf.html", status=403)
