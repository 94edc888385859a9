import functools

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, JsonResponse
from django.urls import path, re_path
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from api import views
from api.problems import problem
from api.v1 import api


def in_the_asked_language(view):
    """Answer in the language the client asks for (Accept-Language), English otherwise."""

    @functools.wraps(view)
    def answer(request: HttpRequest, *args, **kwargs):
        with translation.override(translation.get_language_from_request(request)):
            return view(request, *args, **kwargs)

    return answer


# The API authenticates by token, never by the sign-in session: none of its URLs
# sends anyone to the sign-in page (the docs and the description are public).
api_patterns, api_app_name, api_namespace = api.urls
for pattern in api_patterns:
    pattern.callback = login_not_required(in_the_asked_language(pattern.callback))


@login_not_required
@csrf_exempt
@in_the_asked_language
def no_such_operation(request: HttpRequest, rest: str) -> JsonResponse:
    """Under /api/, a URL that names no operation is a problem document too, not a page."""
    return problem("not-found", _("There is no such API operation, or no such object."))


urlpatterns = [
    path("v1/", (api_patterns, api_app_name, api_namespace)),
    # [\s\S]: a URL with an encoded newline in it is no operation either.
    re_path(r"^(?P<rest>[\s\S]*)\Z", no_such_operation, name="api_not_found"),
]

console_urlpatterns = [
    path("", views.tokens_page, name="api_tokens"),
    path("<int:pk>/revoke/", views.revoke_token, name="revoke_api_token"),
]
