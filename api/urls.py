from django.contrib.auth.decorators import login_not_required
from django.urls import path

from api import views
from api.v1 import api

# The API authenticates by token, never by the sign-in session: none of its URLs
# sends anyone to the sign-in page (the docs and the description are public).
api_patterns, api_app_name, api_namespace = api.urls
for pattern in api_patterns:
    pattern.callback = login_not_required(pattern.callback)

urlpatterns = [
    path("v1/", (api_patterns, api_app_name, api_namespace)),
]

console_urlpatterns = [
    path("", views.tokens_page, name="api_tokens"),
    path("<int:pk>/revoke/", views.revoke_token, name="revoke_api_token"),
]
