"""The console's language: the signed-in customer's profile language first, else the
django_language cookie (the top bar's switch), else Accept-Language (LocaleMiddleware).

The profile language is copied into the session at sign-in (and whenever the customer
changes it), so a page costs no query to find it.
"""

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.views import i18n
from django.views.decorators.http import require_POST

from certificates import selectors, services

SESSION_KEY = "console_language"


def known(language: str | None) -> bool:
    return language in dict(settings.LANGUAGES)


def remember(request: HttpRequest, language: str) -> None:
    """Keep the signed-in customer's language ("" for the browser's) in their session."""
    request.session[SESSION_KEY] = [request.user.pk, language]


def remember_at_sign_in(sender, request, user, **kwargs) -> None:
    """user_logged_in: the profile's language from now on, on this browser too."""
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_KEY] = [user.pk, selectors.profile_language(customer=user)]


def set_cookie(response: HttpResponse, language: str) -> None:
    if known(language):
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            language,
            max_age=settings.LANGUAGE_COOKIE_AGE,
            path=settings.LANGUAGE_COOKIE_PATH,
            domain=settings.LANGUAGE_COOKIE_DOMAIN,
            secure=settings.LANGUAGE_COOKIE_SECURE,
            httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
            samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        )


class ProfileLanguageMiddleware:
    """After LocaleMiddleware and AuthenticationMiddleware: a signed-in customer who chose
    a language in their profile gets it, whatever the cookie or the browser says."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            kept = request.session.get(SESSION_KEY)
            if not (isinstance(kept, list) and len(kept) == 2 and kept[0] == request.user.pk):
                # A session from before languages were kept: look it up once.
                language = selectors.profile_language(customer=request.user)
                remember(request, language)
            else:
                language = kept[1]
            if known(language):
                translation.activate(language)
                request.LANGUAGE_CODE = translation.get_language()
        return self.get_response(request)


@login_not_required
@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """The top bar's switch: Django's set_language (the cookie, back to the same page), and
    for a signed-in customer the profile's language, so it follows them to other browsers
    and to their emails."""
    response = i18n.set_language(request)
    language = request.POST.get("language", "")
    if known(language) and request.user.is_authenticated:
        services.set_language(customer=request.user, language=language)
        remember(request, language)
    return response
