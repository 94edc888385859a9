from django.urls import path

from certificates import views

app_name = "certificates"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("upload/", views.upload, name="upload"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/apply/", views.apply, name="apply"),
    path("<int:pk>/withdraw/", views.withdraw, name="withdraw"),
    path("<int:pk>/verify/", views.verify, name="verify"),
    path("<int:pk>/verification/", views.verification, name="verification"),
    path("<int:pk>/reissue/", views.reissue, name="reissue"),
    path("<int:pk>/download/<slug:server_type>/", views.download, name="download"),
    path("<int:pk>/delete/", views.delete, name="delete"),
    path("<int:pk>/expiry-warnings/", views.expiry_warnings, name="expiry_warnings"),
    path("<int:pk>/revoke/", views.revoke, name="revoke"),
    path("<int:pk>/revocation/cancel/", views.cancel_revocation, name="cancel_revocation"),
]
