from django.urls import include, path

from acme_server import views

app_name = "acme"

per_brand = [
    path("directory", views.directory, name="directory"),
    path("new-nonce", views.new_nonce_view, name="new_nonce"),
    path("new-account", views.new_account, name="new_account"),
    path("acct/<str:account_id>", views.account, name="account"),
    path("acct/<str:account_id>/orders", views.account_orders, name="account_orders"),
    path("key-change", views.key_change, name="key_change"),
    path("new-order", views.new_order, name="new_order"),
    path("order/<str:order_id>", views.order, name="order"),
    path("order/<str:order_id>/finalize", views.finalize, name="finalize"),
    path("authz/<str:authz_id>", views.authorization, name="authorization"),
    path("chall/<str:challenge_id>", views.challenge, name="challenge"),
    path("cert/<str:order_id>", views.certificate, name="certificate"),
    path("revoke-cert", views.revoke_cert, name="revoke_cert"),
    path("renewal-info", views.renewal_info, name="renewal_info_base"),
    path("renewal-info/<str:cert_id>", views.renewal_info, name="renewal_info"),
]

urlpatterns = [
    # The default brand's directory; its links lead to the brand's own URLs below.
    path("directory", views.directory, name="default_directory"),
    path("<slug:brand>/", include(per_brand)),
]
