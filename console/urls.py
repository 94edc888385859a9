from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from acme_server import console_views as acme_console
from api.urls import console_urlpatterns as api_token_urls
from certificates import views as certificate_views
from console import health, language

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="certificates:overview"), name="home"),
    path("certificates/", include("certificates.urls")),
    path("tools/convert/", certificate_views.convert, name="convert"),
    path("purchase/", certificate_views.purchase, name="purchase"),
    path("orders/", certificate_views.orders, name="orders"),
    path("orders/<int:pk>/", certificate_views.order, name="order"),
    path("accounts/profile/", certificate_views.profile, name="profile"),
    path("accounts/password/", certificate_views.PasswordChange.as_view(), name="password_change"),
    path("help/", certificate_views.help_page, name="help"),
    path("help/contact/", certificate_views.contact, name="contact"),
    path(
        "revocations/confirm/<str:token>/",
        certificate_views.confirm_revocation,
        name="confirm_revocation",
    ),
    # Public: anyone holding a compromised key reports it by proving possession.
    path("key-compromise/", certificate_views.key_compromise, name="key_compromise"),
    # Public: the CA certificates, CRLs and OCSP at the URLs issued certificates name.
    path("pki/", include("certificates.pki_urls")),
    # The JSON API (token authentication) and the console page that makes its tokens.
    path("api/", include("api.urls")),
    path("api-tokens/", include(api_token_urls)),
    # Public: the ACME server (RFC 8555); its requests are signed with the account's key.
    path("acme/", include("acme_server.urls")),
    path("acme-credentials/", acme_console.credentials, name="acme_credentials"),
    path(
        "acme-credentials/<int:pk>/revoke/",
        acme_console.revoke_credential,
        name="acme_revoke_credential",
    ),
    path(
        "acme-credentials/accounts/<int:pk>/deactivate/",
        acme_console.deactivate_account,
        name="acme_deactivate_account",
    ),
    path(
        "acme-credentials/accounts/<int:pk>/expiry-warnings/",
        acme_console.account_expiry_warnings,
        name="acme_account_expiry_warnings",
    ),
    # The customer's deployment targets and jobs.
    path("deployments/", include("deployments.urls")),
    # The top bar's language switch (POST, back to the page it was on).
    path("i18n/setlang/", language.set_language, name="set_language"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    # Public, for load balancers: the process answers; it can serve (database, migrations).
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
]
